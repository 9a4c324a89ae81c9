"""A build that fails in any way — a crash midway, a full disk, a killed process, a rival build —
leaves the published index untouched and loadable; a corrupt index is refused, never served."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.index import staged_files
from knowledge.index.bm25 import BM25Index
from knowledge.index.builder import build_index
from knowledge.index.embedding import Embedder
from knowledge.index.store import IndexStore, IndexStoreError
from knowledge.retrieval.index_data import NoIndexError
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings
from tests.support import ROOT, run_cli, settings_env


@pytest.fixture
def published(kb_copy: Settings, embedder: Embedder) -> tuple[Settings, str]:
    """The knowledge base copy with one version published (no gate: speed)."""
    report = build_index(kb_copy, embedder=embedder, gate=False)
    return kb_copy, report.version


def _still_serving(settings: Settings, version: str, embedder: Embedder) -> None:
    store = IndexStore(settings.index_dir)
    assert store.current_version() == version
    assert store.verify() == version
    assert not list(store.versions.glob(".staging-*")), "a half-written version was left behind"
    result = Retriever.from_published_index(settings, embedder).run("开办企业需要什么材料")
    assert result.guide_id == "company-setup"


def test_a_crash_midway_publishes_nothing(published: tuple[Settings, str], embedder: Embedder,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings, version = published

    def crash(*_args: object) -> None:
        raise RuntimeError("simulated crash while writing the lexical index")

    monkeypatch.setattr(BM25Index, "save", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(settings, embedder=embedder, gate=False)
    _still_serving(settings, version, embedder)


def test_a_full_disk_publishes_nothing(published: tuple[Settings, str], embedder: Embedder,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings, version = published

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(staged_files, "write_jsonl", full)
    with pytest.raises(OSError, match="No space left"):
        build_index(settings, embedder=embedder, gate=False)
    _still_serving(settings, version, embedder)


def _limit_file_size() -> None:
    # A real write failure in a real process: files may not grow past 64 KB (EFBIG, like a full disk).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_the_admin_is_told_when_writing_fails(published: tuple[Settings, str], embedder: Embedder) -> None:
    settings, version = published  # every vector is cached: only the new version's files are written
    done = subprocess.run([sys.executable, str(ROOT / "index_builder.py"), "build", "--no-gate"], cwd=ROOT,
                          env=settings_env(settings), capture_output=True, text=True, timeout=600, preexec_fn=_limit_file_size)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "构建失败" in done.stderr and "继续服务" in done.stderr
    _still_serving(settings, version, embedder)


def test_a_killed_build_leaves_the_published_index_and_the_next_build_cleans_up(
        published: tuple[Settings, str], embedder: Embedder) -> None:
    settings, version = published
    store = IndexStore(settings.index_dir)
    build = subprocess.Popen([sys.executable, str(ROOT / "index_builder.py"), "build"], cwd=ROOT,
                             env=settings_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(store.versions.glob(".staging-*")) and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert build.poll() is None, "the build finished before it could be killed"
    build.send_signal(signal.SIGKILL)  # killed while writing its version (the eval gate runs in there)
    build.wait()
    assert store.current_version() == version and store.verify() == version
    again = run_cli(settings, "build", "--no-gate")
    assert again.returncode == 0, again.stderr
    assert store.current_version() != version
    _still_serving(settings, store.current_version(), embedder)


def test_a_build_waits_for_the_lock_and_two_builds_are_serialized(published: tuple[Settings, str], embedder: Embedder) -> None:
    settings, version = published
    store = IndexStore(settings.index_dir)

    def start_build() -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(ROOT / "index_builder.py"), "build", "--no-gate"], cwd=ROOT,
                                env=settings_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    with store.lock():  # as a running build or rollback holds it
        builds = [start_build(), start_build()]
        time.sleep(20)  # long enough to reach the lock: nothing may be written meanwhile
        assert all(build.poll() is None for build in builds), "a build did not wait for the lock"
        assert store.current_version() == version
        assert not list(store.versions.glob(".staging-*"))
    for build in builds:
        _out, err = build.communicate(timeout=600)
        assert build.returncode == 0, err
    history = store.history()
    first, second = history[-2], history[-1]
    # One after the other: the second publish followed the first one, never raced it.
    assert (first["previous"], second["previous"]) == (version, first["version"])
    _still_serving(settings, second["version"], embedder)


@pytest.mark.parametrize("damage", ["truncate", "delete", "garbage"])
def test_a_corrupt_index_is_refused_with_a_clear_message(published: tuple[Settings, str], embedder: Embedder,
                                                          damage: str) -> None:
    settings, version = published
    target = settings.index_dir / "versions" / version / "dense.faiss"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:1000])
    elif damage == "delete":
        target.unlink()
    else:
        target.write_bytes(os.urandom(target.stat().st_size))
    with pytest.raises(IndexStoreError, match=r"dense\.faiss"):
        IndexStore(settings.index_dir).verify()
    with pytest.raises(NoIndexError, match=r"index_builder\.py build"):
        Retriever.from_published_index(settings, embedder)


def test_an_answering_process_says_why_nothing_serves(kb_copy: Settings, embedder: Embedder) -> None:
    """What the action server and the desk's search log when they cannot load the published index: nothing published,
    CURRENT gone while versions are kept, or CURRENT naming a version whose folder is gone; each with what to do."""
    with pytest.raises(NoIndexError, match="还没有发布任何索引"):
        Retriever.from_published_index(kb_copy, embedder)
    first = build_index(kb_copy, embedder=embedder, gate=False).version
    (kb_copy.index_dir / "CURRENT").unlink()
    with pytest.raises(NoIndexError) as gone:
        Retriever.from_published_index(kb_copy, embedder)
    assert "CURRENT 不存在" in str(gone.value) and f"rollback {first}" in str(gone.value)
    assert "还没有发布任何索引" not in str(gone.value)
    IndexStore(kb_copy.index_dir).rollback(first)
    (kb_copy.guides_dir / "water-connection.md").write_text(
        (kb_copy.guides_dir / "water-connection.md").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    second = build_index(kb_copy, embedder=embedder, gate=False).version
    shutil.rmtree(kb_copy.index_dir / "versions" / second)
    with pytest.raises(NoIndexError) as deleted:
        Retriever.from_published_index(kb_copy, embedder)
    assert f"指向索引版本 {second}" in str(deleted.value) and f"保留的版本：{first}" in str(deleted.value)
    assert "还没有发布任何索引" not in str(deleted.value)


def _start_action_server(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**settings_env(settings), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "actions.server", "--port", "1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_action_server_refuses_to_start_on_a_corrupt_index(published: tuple[Settings, str]) -> None:
    settings, version = published
    chunks = settings.index_dir / "versions" / version / "chunks.jsonl"
    chunks.write_text(chunks.read_text(encoding="utf-8")[:-200], encoding="utf-8")
    done = _start_action_server(settings)
    assert done.returncode == 1
    assert "chunks.jsonl" in done.stderr and "已损坏" in done.stderr and "Traceback" not in done.stderr


def test_the_action_server_refuses_to_start_without_an_index(tmp_path: Path, kb_copy: Settings) -> None:
    done = _start_action_server(kb_copy.replace(index_dir=tmp_path / "nothing-here"))
    assert done.returncode == 1
    assert "还没有发布任何索引" in done.stderr and "Traceback" not in done.stderr
