"""Building, versioning, atomic publish, rollback, and a broken guide that publishes nothing."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest

from knowledge.index.builder import BuildError, BuildReport, build_index
from knowledge.index.embedding import Embedder
from knowledge.index.store import IndexStore, IndexStoreError
from knowledge.retrieval.retriever import ANSWER, Retriever
from knowledge.settings import Settings
from tests.support import guide_text, write_guide


def test_bundled_build_publishes_a_complete_version(bundled: tuple[Settings, BuildReport]) -> None:
    settings, report = bundled
    store = IndexStore(settings.index_dir)
    assert store.current_version() == report.version
    manifest = store.manifest(report.version)
    assert manifest["counts"]["guides"] == 36 and manifest["counts"]["documents"] == 2
    assert manifest["embedding"]["dimension"] == 512
    assert manifest["eval"]["metrics"]["top1"] >= 0.95
    calibration = manifest["calibration"]  # confirm_at reads the scope model, answer_at the known one
    assert 0 < calibration["confirm_at"] <= calibration["scope_at"] < 1 and 0 < calibration["answer_at"] < 1
    assert any(name.endswith("company-setup.md") for name in manifest["sources"])
    assert all(len(checksum) == 64 for checksum in manifest["sources"].values())
    folder = settings.index_dir / "versions" / report.version
    for name in ("chunks.jsonl", "guides.json", "dense.faiss", "bm25_weights.npz", "user_words.json", "calibration.json"):
        assert (folder / name).is_file()


def test_unchanged_chunks_are_not_embedded_again(kb_copy: Settings, embedder: Embedder) -> None:
    first = build_index(kb_copy, embedder=embedder, gate=False)
    path = kb_copy.guides_dir / "water-connection.md"
    marker = uuid.uuid4().hex[:8]  # new text every run: the embedding cache is shared between runs
    path.write_text(path.read_text(encoding="utf-8").replace("装表通水", f"装表通水（{marker}）", 1), encoding="utf-8")
    second = build_index(kb_copy, embedder=embedder, gate=False)
    assert second.version != first.version
    assert 0 < second.embedded <= 3  # only the edited section's chunk(s)


def test_broken_guide_publishes_nothing_and_old_index_keeps_serving(kb_copy: Settings, embedder: Embedder) -> None:
    good = build_index(kb_copy, embedder=embedder, gate=False)
    broken = kb_copy.guides_dir / "water-connection.md"
    broken.write_text(broken.read_text(encoding="utf-8").replace("updated: ", "updated: 2026-02-30 #", 1), encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build_index(kb_copy, embedder=embedder, gate=False)
    messages = [str(problem) for problem in caught.value.problems if problem.is_error]
    assert any("water-connection.md:" in message and "日期" in message for message in messages)
    store = IndexStore(kb_copy.index_dir)
    assert store.current_version() == good.version
    assert store.list_versions() == [good.version]  # nothing half-written left behind
    retriever = Retriever.from_published_index(kb_copy, embedder)
    assert retriever.run("装自来水水表要带啥材料").guide_id == "water-connection"


def test_new_guide_becomes_answerable_and_reload_switches(kb_copy: Settings, embedder: Embedder) -> None:
    build_index(kb_copy, embedder=embedder, gate=False)
    retriever = Retriever.from_published_index(kb_copy, embedder)
    old_version = retriever.version
    assert retriever.run("养蜂场备案要什么材料").guide_id != "beekeeping-filing"
    text = guide_text("beekeeping-filing", title="养蜂场备案登记", alias="蜂场备案").replace("测试事项", "养蜂场备案")
    write_guide(kb_copy.guides_dir, "beekeeping-filing", text=text)
    build_index(kb_copy, embedder=embedder, gate=False)
    assert retriever.reload() is True
    assert retriever.version != old_version
    result = retriever.run("养蜂场备案要什么材料")
    assert result.decision == ANSWER and result.guide_id == "beekeeping-filing"
    assert "《测试申请表》原件1份" in dict(result.sections)["申请材料"]


def test_rollback_restores_the_previous_version(kb_copy: Settings, embedder: Embedder) -> None:
    first = build_index(kb_copy, embedder=embedder, gate=False)
    write_guide(kb_copy.guides_dir, "test-item")
    second = build_index(kb_copy, embedder=embedder, gate=False)
    store = IndexStore(kb_copy.index_dir)
    assert store.current_version() == second.version
    assert store.rollback() == first.version
    assert store.current_version() == first.version
    assert "test-item" not in json.loads((store.current_folder() / "guides.json").read_text(encoding="utf-8"))
    assert store.rollback(second.version) == second.version
    with pytest.raises(IndexStoreError):
        store.rollback("19990101-000000-000000")
    assert [entry["action"] for entry in store.history()] == ["publish", "publish", "rollback", "rollback"]


def test_readers_never_see_a_missing_or_partial_pointer(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    for name in ("v1", "v2"):
        folder = tmp_path / "versions" / name
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}", encoding="utf-8")
    store.publish("v1")
    seen: set[str | None] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(store.current_version())

    reader = threading.Thread(target=read)
    reader.start()
    for index in range(300):
        store.publish("v2" if index % 2 else "v1")
    stop.set()
    reader.join()
    assert seen <= {"v1", "v2"}


def test_publish_refuses_an_incomplete_version(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    (tmp_path / "versions" / "half").mkdir(parents=True)
    with pytest.raises(IndexStoreError):
        store.publish("half")
    assert store.current_version() is None
