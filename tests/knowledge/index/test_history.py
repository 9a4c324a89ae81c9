"""The publish and rollback history on its own (knowledge/index/history.py): what `list` and `rollback` read
from history.jsonl, with no version folders; and the index package keeps to the project's module size."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.index.history import HISTORY_FILE, append_entry, read_history, rollback_target, rolled_back_from

pytestmark = pytest.mark.unit

INDEX_PACKAGE = Path(__file__).resolve().parents[3] / "knowledge" / "index"
MAX_MODULE_LINES = 400  # the project's rule: no module over ~400 lines


def _publish(version: str, previous: str | None) -> dict[str, str | None]:
    return {"time": "2026-12-05T10:00:00", "action": "publish", "version": version, "previous": previous}


def _rollback(version: str, previous: str) -> dict[str, str]:
    return {"time": "2026-12-05T11:00:00", "action": "rollback", "version": version, "previous": previous}


def test_entries_are_added_and_read_back_oldest_first(tmp_path: Path) -> None:
    assert read_history(tmp_path) == ([], 0)  # nothing published yet: no history, nothing damaged
    append_entry(tmp_path, _publish("v1", None))
    append_entry(tmp_path, {**_publish("v2", "v1"), "accepted": "临时合并指南"})
    assert read_history(tmp_path) == ([_publish("v1", None), {**_publish("v2", "v1"), "accepted": "临时合并指南"}], 0)
    assert "临时合并指南" in (tmp_path / HISTORY_FILE).read_text(encoding="utf-8")  # readable by the admin, not \u escapes


def test_a_damaged_line_is_counted_and_the_next_entry_starts_its_own_line(tmp_path: Path) -> None:
    append_entry(tmp_path, _publish("v1", None))
    with open(tmp_path / HISTORY_FILE, "a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-12-05T10:00:00", "act')  # a crash mid-write
    append_entry(tmp_path, _publish("v2", "v1"))
    entries, damaged = read_history(tmp_path)
    assert [entry["version"] for entry in entries] == ["v1", "v2"] and damaged == 1


def test_each_rollback_goes_one_further_back_and_skips_what_it_left() -> None:
    history = [_publish("v1", None), _publish("v2", "v1"), _publish("v3", "v2")]
    on_disk = ["v1", "v2", "v3"]
    assert rollback_target(history, "v3", on_disk, lambda name: True) == "v2"
    history.append(_rollback("v2", "v3"))
    assert rolled_back_from(history) == {"v3"}
    assert rollback_target(history, "v2", on_disk, lambda name: True) == "v1"
    assert rollback_target(history, "v2", on_disk, lambda name: name != "v1") is None  # v1 deleted (pruned)
    history.append(_publish("v4", "v2"))  # a new build after the rollback goes back past v3
    assert rollback_target(history, "v4", [*on_disk, "v4"], lambda name: True) == "v2"


def test_nothing_published_has_no_rollback_target() -> None:
    assert rollback_target([], None, [], lambda name: True) is None
    assert rolled_back_from([]) == set()


def test_without_a_history_the_version_built_before_is_the_target() -> None:
    assert rollback_target([], "v3", ["v1", "v2", "v3"], lambda name: True) == "v2"


def test_the_index_package_keeps_to_the_module_size_rule() -> None:
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in INDEX_PACKAGE.glob("*.py")}
    assert sizes["store.py"] < 380  # room to grow after the history moved out
    assert all(lines <= MAX_MODULE_LINES for lines in sizes.values()), {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
