"""The versioned index folders (knowledge/index/store.py), on small hand-made versions: staging
and finalizing, publishing through the atomic CURRENT pointer, the history, rollback, checksum
verification of corrupt versions, pruning, and the writers' lock."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from knowledge.index import store as store_module
from knowledge.index.store import IndexStore, IndexStoreError, file_checksums, file_sha256, hash_ahead, served_sha256

pytestmark = pytest.mark.unit

REPAIR = r"index_builder\.py build.*index_builder\.py rollback"


@pytest.fixture
def store(tmp_path: Path) -> IndexStore:
    return IndexStore(tmp_path / "index")


def make_version(store: IndexStore, version: str, content: str = "chunk") -> Path:
    """A complete version, staged and finalized the way the builder does it."""
    staging = store.staging_folder(version)
    (staging / "chunks.jsonl").write_text(json.dumps({"id": content}, ensure_ascii=False) + "\n", encoding="utf-8")
    (staging / "dense.faiss").write_bytes(hashlib.sha256(content.encode()).digest() * 8)
    manifest = {"version": version, "files": file_checksums(staging)}
    (staging / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return store.finalize(staging, version)


# --- before the first build -------------------------------------------------------------------

def test_an_empty_store_has_nothing_published(store: IndexStore) -> None:
    assert store.current_version() is None and store.current_folder() is None
    assert store.list_versions() == [] and store.history() == []
    with pytest.raises(IndexStoreError, match=r"还没有发布任何索引.*index_builder\.py build"):
        store.verify()


def test_an_empty_current_file_means_nothing_published(store: IndexStore) -> None:
    store.root.mkdir(parents=True)
    (store.root / "CURRENT").write_text("\n", encoding="utf-8")
    assert store.current_version() is None and store.current_folder() is None


# --- staging and versions ---------------------------------------------------------------------

def test_a_staged_version_is_invisible_until_finalized(store: IndexStore) -> None:
    staging = store.staging_folder("v1")
    (staging / "manifest.json").write_text("{}", encoding="utf-8")
    assert store.list_versions() == []
    with pytest.raises(IndexStoreError):
        store.publish("v1")  # not under its final name yet
    final = store.finalize(staging, "v1")
    assert final == store.versions / "v1" and (final / "manifest.json").is_file() and not staging.exists()
    assert store.list_versions() == ["v1"]


def test_a_version_cannot_be_staged_twice(store: IndexStore) -> None:
    store.staging_folder("v1")
    with pytest.raises(FileExistsError):
        store.staging_folder("v1")


def test_a_discarded_staging_folder_is_gone(store: IndexStore) -> None:
    staging = store.staging_folder("v1")
    (staging / "dense.faiss").write_bytes(b"half written")
    store.discard(staging)
    assert not staging.exists() and store.list_versions() == []


def test_versions_are_listed_in_name_order_without_hidden_folders_or_files(store: IndexStore) -> None:
    for name in ("20261121-101500-bbbbbb", "20261120-090000-aaaaaa", "20261122-000000-cccccc"):
        make_version(store, name)
    store.staging_folder("20261123-000000-dddddd")
    (store.versions / "notes.txt").write_text("not a version", encoding="utf-8")
    assert store.list_versions() == ["20261120-090000-aaaaaa", "20261121-101500-bbbbbb", "20261122-000000-cccccc"]


def test_new_version_names_sort_by_time_and_do_not_collide() -> None:
    names = [IndexStore.new_version_name() for _ in range(50)]
    assert all(re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", name) for name in names)
    assert len(set(names)) == 50
    assert names[0][:15] <= names[-1][:15]


def test_the_manifest_is_read_back(store: IndexStore) -> None:
    make_version(store, "v1")
    manifest = store.manifest("v1")
    assert manifest["version"] == "v1" and set(manifest["files"]) == {"chunks.jsonl", "dense.faiss"}


# --- publishing -------------------------------------------------------------------------------

def test_publish_points_current_at_the_version_and_records_it(store: IndexStore) -> None:
    make_version(store, "v1")
    make_version(store, "v2")
    store.publish("v1")
    store.publish("v2")
    assert store.current_version() == "v2"
    assert (store.root / "CURRENT").read_text(encoding="utf-8") == "v2\n"
    assert store.current_folder() == store.versions / "v2"
    history = store.history()
    assert [(e["action"], e["version"], e["previous"]) for e in history] == [("publish", "v1", None), ("publish", "v2", "v1")]
    assert all("accepted" not in entry and entry["time"] for entry in history)
    assert not list(store.root.glob(".CURRENT*")), "a temporary pointer file was left behind"


def test_publishing_despite_the_gate_records_the_admins_reason(store: IndexStore) -> None:
    make_version(store, "v1")
    store.publish("v1", accepted="新增指南，评测集尚未更新")
    [entry] = store.history()
    assert entry["accepted"] == "新增指南，评测集尚未更新"
    assert "新增指南" in (store.root / "history.jsonl").read_text(encoding="utf-8")  # readable, not \\u-escaped


@pytest.mark.parametrize("version", ["missing", "no-manifest"])
def test_publish_refuses_a_missing_or_incomplete_version(store: IndexStore, version: str) -> None:
    make_version(store, "v1")
    store.publish("v1")
    (store.versions / "no-manifest").mkdir()
    with pytest.raises(IndexStoreError, match=f"{version} 不存在或不完整"):
        store.publish(version)
    assert store.current_version() == "v1" and len(store.history()) == 1


def test_damaged_history_lines_are_skipped_and_counted(store: IndexStore) -> None:
    # One bad line made history() raise: `list`, `rollback` and a build's prune ended with a traceback.
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    path = store.root / "history.jsonl"
    first, second, third = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(first + b'{"time": "2026-12-05T10:0\n' + second + b"\xff\xfe\n\n" + third + b'"publish"\n')
    entries, damaged = store.read_history()
    assert [e["version"] for e in entries] == ["v1", "v2", "v3"] and damaged == 3
    assert store.history() == entries
    assert store.rollback() == "v2" and store.prune() == []


def test_a_publish_after_a_line_cut_short_starts_a_new_line(store: IndexStore) -> None:
    make_version(store, "v1")
    make_version(store, "v2")
    store.publish("v1")
    with open(store.root / "history.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-12-05T10:00:00", "act')  # a crash mid-write
    store.publish("v2")
    assert [e["version"] for e in store.history()] == ["v1", "v2"] and store.read_history()[1] == 1


# --- verification -----------------------------------------------------------------------------

def test_verify_accepts_an_intact_version(store: IndexStore) -> None:
    make_version(store, "v1")
    make_version(store, "v2")
    store.publish("v2")
    assert store.verify() == "v2"  # the published one by default
    assert store.verify("v1") == "v1"


def test_verify_reports_a_changed_file_by_name(store: IndexStore) -> None:
    folder = make_version(store, "v1")
    store.publish("v1")
    data = (folder / "dense.faiss").read_bytes()
    (folder / "dense.faiss").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit flipped, same size
    with pytest.raises(IndexStoreError, match=rf"v1 的文件 dense\.faiss 已损坏（校验和不符）.*{REPAIR}"):
        store.verify()


def test_verify_reports_a_truncated_file(store: IndexStore) -> None:
    folder = make_version(store, "v1")
    (folder / "chunks.jsonl").write_bytes(b"")
    with pytest.raises(IndexStoreError, match=r"chunks\.jsonl"):
        store.verify("v1")


def test_verify_reports_a_missing_file(store: IndexStore) -> None:
    folder = make_version(store, "v1")
    (folder / "chunks.jsonl").unlink()
    with pytest.raises(IndexStoreError, match=rf"v1 缺少文件 chunks\.jsonl.*{REPAIR}"):
        store.verify("v1")


@pytest.mark.parametrize("damage", ["garbage", "deleted"])
def test_verify_reports_a_broken_manifest(store: IndexStore, damage: str) -> None:
    folder = make_version(store, "v1")
    if damage == "garbage":
        (folder / "manifest.json").write_text('{"files": {"dense.faiss": ', encoding="utf-8")
    else:
        (folder / "manifest.json").unlink()
    with pytest.raises(IndexStoreError, match=rf"v1 不存在或清单损坏.*{REPAIR}"):
        store.verify("v1")


def test_verify_reports_a_published_version_whose_folder_is_gone(store: IndexStore) -> None:
    make_version(store, "v1")
    store.publish("v1")
    (store.versions / "v1").rename(store.versions / ".moved-away")
    with pytest.raises(IndexStoreError, match="v1 不存在或清单损坏"):
        store.verify()


def test_checksums_cover_every_file_but_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"abc")
    (tmp_path / "b.json").write_text("{}", encoding="utf-8")
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    assert file_checksums(tmp_path) == {"a.bin": hashlib.sha256(b"abc").hexdigest(), "b.json": hashlib.sha256(b"{}").hexdigest()}


def test_file_sha256_reads_large_files_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * 70_000  # 18 MB: more than one 16 MB read block
    (tmp_path / "big").write_bytes(data)
    assert file_sha256(tmp_path / "big") == hashlib.sha256(data).hexdigest()


# --- rollback ---------------------------------------------------------------------------------

def test_rollback_returns_to_the_version_published_before(store: IndexStore) -> None:
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    assert store.rollback() == "v2"
    assert store.current_version() == "v2" and store.verify() == "v2"
    entry = store.history()[-1]
    assert (entry["action"], entry["version"], entry["previous"]) == ("rollback", "v2", "v3")


def test_each_rollback_goes_one_version_further_back(store: IndexStore) -> None:
    # It used to follow the history entry's "previous": the second rollback went forward again (v3 → v2 → v3).
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    assert store.rollback() == "v2"
    assert store.rollback() == "v1"
    with pytest.raises(IndexStoreError, match=r"没有可以回滚到的上一个版本：当前版本 v1 之前.*只保留最近 5 个版本.*rollback 加版本名"):
        store.rollback()
    assert store.current_version() == "v1"
    assert [e["action"] for e in store.history()] == ["publish", "publish", "publish", "rollback", "rollback"]


def test_a_rollback_after_a_new_build_skips_the_version_rolled_back_from(store: IndexStore) -> None:
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    store.rollback()  # v3 was bad
    make_version(store, "v4")
    store.publish("v4")
    assert store.rollback_target() == "v2" and store.rollback() == "v2"


def test_rolling_forward_again_undoes_a_rollback(store: IndexStore) -> None:
    # Any rollback's "previous" used to count as rolled back from: after v3 → v2 → v3, v2 too, so a rollback skipped it.
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    store.rollback()  # v3 → v2
    store.rollback("v3")  # undone: v3 was fine after all, v2 was left for a newer version
    assert store.rolled_back_from() == set()
    assert store.rollback_target() == "v2" and store.rollback() == "v2"


def test_a_build_after_undoing_a_rollback_goes_back_to_the_version_it_replaced(store: IndexStore) -> None:
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    store.rollback()  # v3 → v2
    store.rollback("v3")
    make_version(store, "v4")
    store.publish("v4")
    assert store.rollback_target() == "v3"


def test_a_version_rolled_back_to_again_is_no_longer_skipped(store: IndexStore) -> None:
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    store.rollback()  # v3 → v2
    store.rollback()  # v2 → v1
    assert store.rolled_back_from() == {"v3", "v2"}
    store.rollback("v2")  # forward to v2: it counts again, and v1 (left going forward) is not marked
    assert store.rolled_back_from() == {"v3"}
    make_version(store, "v4")
    store.publish("v4")
    assert store.rollback_target() == "v2"  # past v3, still rolled back from
    assert store.rollback() == "v2" and store.rollback() == "v1"



def test_rollback_skips_versions_no_longer_on_disk(store: IndexStore) -> None:
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    (store.versions / "v2").rename(store.versions / ".deleted-v2")
    assert store.rollback() == "v1"


def test_rollback_without_history_goes_to_the_version_built_before(store: IndexStore) -> None:
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    (store.root / "history.jsonl").unlink()  # an older store, or a lost history
    assert store.rollback() == "v2" and store.rollback() == "v1"


def test_rollback_to_a_named_version(store: IndexStore) -> None:
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    assert store.rollback("v1") == "v1" and store.current_version() == "v1"


def test_rollback_to_an_unknown_version_lists_the_available_ones(store: IndexStore) -> None:
    for name in ("v1", "v2"):
        make_version(store, name)
        store.publish(name)
    with pytest.raises(IndexStoreError, match="v9 不存在；可用版本：v1, v2"):
        store.rollback("v9")
    assert store.current_version() == "v2" and len(store.history()) == 2


def test_rollback_with_only_one_version_published_is_refused(store: IndexStore) -> None:
    make_version(store, "v1")
    store.publish("v1")
    with pytest.raises(IndexStoreError, match="没有可以回滚到的上一个版本"):
        store.rollback()
    assert store.current_version() == "v1"


def test_rollback_never_points_current_at_a_deleted_version(store: IndexStore) -> None:
    for name in ("v1", "v2"):
        make_version(store, name)
        store.publish(name)
    (store.versions / "v1").rename(store.versions / ".deleted-v1")
    with pytest.raises(IndexStoreError):
        store.rollback()
    assert store.current_version() == "v2"


def test_a_version_whose_manifest_does_not_read_is_named_with_what_is_wrong(store: IndexStore) -> None:
    for name in ("v1", "v2", "v3", "v4"):
        make_version(store, name)
    (store.versions / "v2" / "manifest.json").unlink()
    (store.versions / "v3" / "manifest.json").write_text('{"files": ', encoding="utf-8")
    (store.versions / "v4" / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    assert store.manifest_problem("v1") is None
    assert store.manifest_problem("v9") == f"它的文件夹 {store.versions / 'v9'} 不存在"
    assert store.manifest_problem("v2") == "它的文件夹里没有 manifest.json"
    assert (store.manifest_problem("v3") or "").startswith("它的 manifest.json 无法读取或不是有效的 JSON（")
    assert store.manifest_problem("v4") == "它的 manifest.json 格式不对（不是 JSON 对象）"


def test_rollback_never_goes_to_a_version_whose_manifest_does_not_read(store: IndexStore) -> None:
    """A cut-short manifest.json passed the old check (the file is there): CURRENT pointed at a version no reader can load."""
    for name in ("v1", "v2", "v3"):
        make_version(store, name)
        store.publish(name)
    (store.versions / "v2" / "manifest.json").write_text('{"files": ', encoding="utf-8")
    with pytest.raises(IndexStoreError, match=r"不能回滚到索引版本 v2：它的 manifest\.json 无法读取"):
        store.rollback("v2")
    assert store.current_version() == "v3" and store.rollback_target() == "v1"
    assert store.rollback() == "v1"


# --- pruning ----------------------------------------------------------------------------------

def test_prune_keeps_the_newest_and_never_the_current_or_previous(store: IndexStore) -> None:
    names = [f"2026010{n}-000000-00000{n}" for n in range(1, 9)]  # 8 versions, oldest first
    for name in names:
        make_version(store, name)
    store.publish(names[1])
    store.publish(names[0])  # an admin rolled far back: the oldest is current, the second oldest previous
    leftover = store.staging_folder("20260109-000000-000009")  # from a killed build
    removed = store.prune(keep=5)
    assert removed == [names[2]]
    assert store.list_versions() == [names[0], names[1], *names[3:]]
    assert not leftover.exists()
    assert store.verify() == names[0]


def test_prune_keeps_the_version_the_next_rollback_goes_to(store: IndexStore) -> None:
    names = [f"2026010{n}-000000-00000{n}" for n in range(1, 9)]
    for name in names[:3]:
        make_version(store, name)
        store.publish(name)
    store.rollback()  # 3 → 2: the previous one is 3 (rolled back from), the next rollback goes to 1
    for name in names[3:]:
        make_version(store, name)
    store.prune(keep=5)
    assert names[0] in store.list_versions()  # not only the current and the previous one are kept
    assert store.rollback() == names[0]


def test_prune_with_few_versions_removes_nothing(store: IndexStore) -> None:
    for name in ("v1", "v2"):
        make_version(store, name)
        store.publish(name)
    assert store.prune() == [] and store.list_versions() == ["v1", "v2"]


def test_prune_before_any_build_is_harmless(store: IndexStore) -> None:
    assert store.prune() == []


# --- the writers' lock ------------------------------------------------------------------------

def test_a_second_writer_waits_for_the_lock(store: IndexStore) -> None:
    events: list[str] = []
    holding = threading.Event()

    def first_writer() -> None:
        with store.lock():
            events.append("first in")
            holding.set()
            time.sleep(0.3)
            events.append("first out")

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert holding.wait(5)
    with store.lock():  # another open file: flock excludes it even in the same process
        events.append("second in")
    thread.join()
    assert events == ["first in", "first out", "second in"]


def test_the_lock_is_released_after_an_error(store: IndexStore) -> None:
    with pytest.raises(RuntimeError), store.lock():
        raise RuntimeError("build failed")
    done = threading.Event()

    def take() -> None:
        with store.lock():
            done.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    assert done.wait(5), "the lock was still held"


def test_served_files_are_hashed_ahead_once_and_again_when_replaced(tmp_path: Path) -> None:
    (tmp_path / "dense.faiss").write_bytes(b"a" * 5000)
    hash_ahead(tmp_path, ["dense.faiss", "missing.npz"])  # a missing file is left for the check to report
    assert served_sha256(tmp_path / "dense.faiss") == hashlib.sha256(b"a" * 5000).hexdigest()
    (tmp_path / "dense.faiss").write_bytes(b"b" * 5001)  # replaced (another size: whatever the clock's grain)
    assert served_sha256(tmp_path / "dense.faiss") == hashlib.sha256(b"b" * 5001).hexdigest()
    with pytest.raises(OSError):
        served_sha256(tmp_path / "missing.npz")


def test_versions_built_within_one_second_are_named_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # `list` and `rollback` order versions by name; a rebuild from caches can publish within the same second.
    times = iter([dt.datetime(2026, 12, 5, 20, 6, 16, 900_000), dt.datetime(2026, 12, 5, 20, 6, 16, 950_000)])
    monkeypatch.setattr(store_module, "dt", SimpleNamespace(datetime=SimpleNamespace(now=lambda: next(times))))
    for _ in range(20):  # the random part never reorders them
        times = iter([dt.datetime(2026, 12, 5, 20, 6, 16, 900_000), dt.datetime(2026, 12, 5, 20, 6, 16, 900_016)])
        names = [IndexStore.new_version_name(), IndexStore.new_version_name()]
        assert sorted(names) == names and all(re.fullmatch(r"20261205-200616-[0-9a-f]{6}", name) for name in names)
