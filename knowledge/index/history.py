"""The publish and rollback history of an index folder (``history.jsonl``): reading it, adding to it, and
what it says about where a `rollback` without a version goes.

Every publish and rollback adds one JSON line ``{"time", "action": "publish" | "rollback", "version",
"previous"[, "accepted"]}``, newest last. A damaged line (a crash mid-write, a hand edit) is skipped and
counted, never fatal: `list`, `rollback` and a build's prune go on with the other lines.

IndexStore (store.py) reads and writes the history through these functions; `list` reads it through the
store (cli_versions.py).

Usage::

    history, damaged = read_history(store.root)
    append_entry(store.root, {"time": …, "action": "publish", "version": "v2", "previous": "v1"})
    rollback_target(history, "v3", ["v1", "v2", "v3"], lambda name: True)   # "v2"
    rolled_back_from(history)                                              # {"v3"} after a rollback v3 → v2
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

HISTORY_FILE = "history.jsonl"


def read_history(root: Path) -> tuple[list[dict[str, Any]], int]:
    """The readable entries of `root`'s history.jsonl, oldest first, and how many lines could not be read. A
    damaged line (a crash mid-write, a hand edit) is skipped: it must not stop `list`, `rollback` or a build's prune."""
    try:
        raw = (root / HISTORY_FILE).read_bytes()
    except FileNotFoundError:
        return [], 0
    lines, entries = [line for line in raw.splitlines() if line.strip()], []
    for line in lines:
        with contextlib.suppress(ValueError):  # bad JSON or bad UTF-8: decoded per line, one bad byte loses one entry
            entries.append(json.loads(line.decode("utf-8")))
    readable = [entry for entry in entries if isinstance(entry, dict)]
    return readable, len(lines) - len(readable)


def append_entry(root: Path, entry: dict[str, Any]) -> None:
    """Add one entry at the end of `root`'s history.jsonl."""
    with open(root / HISTORY_FILE, "a+b") as handle:
        # After a line cut short (a crash mid-write) start a new one, or this entry is lost in that damaged line.
        end = handle.seek(0, os.SEEK_END)
        cut = end > 0 and os.pread(handle.fileno(), 1, end - 1) != b"\n"
        handle.write((("\n" if cut else "") + json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))


def rollback_target(history: list[dict[str, Any]], current: str | None, on_disk: list[str],
                    complete: Callable[[str], bool]) -> str | None:
    """The version a `rollback` without a version goes to: the newest one published (by a build) before
    `current` that is still on disk (`complete`: its folder has a manifest that reads) and is not `rolled_back_from()`;
    None if none. `on_disk`: the version folders, in name order.

    Why not the history entry's "previous": after C → B that is C again, so a second rollback went
    forward. Walking the builds' publish order instead, each rollback goes one further back (C → B →
    A), and a build published after a rollback (D) goes back past the version rolled back from (C)."""
    published = [e.get("version") for e in history if e.get("action") == "publish"]
    rolled_from = rolled_back_from(history)
    if current in published:
        earlier = published[: len(published) - 1 - published[::-1].index(current)]
    else:  # no history of it (an older store, a lost history.jsonl): the versions named (built) before it
        earlier = [name for name in on_disk if current is None or name < current]
    for candidate in reversed(earlier):
        if candidate and candidate != current and candidate not in rolled_from and complete(candidate):
            return candidate
    return None


def rolled_back_from(history: list[dict[str, Any]]) -> set[str]:
    """The versions an admin went back from (a rollback to an OLDER version) and has not published or rolled
    back to since: the ones a `rollback` without a version skips, as the admin found them wanting.

    The latest event for a version wins: `rollback C` after C → B undoes that rollback, so C counts again;
    and it goes forward, so B (left for a newer version, not found wanting) is not marked either."""
    order: dict[str, int] = {}  # publish order: a version's first publish by a build
    for entry in (e for e in history if e.get("action") == "publish"):
        order.setdefault(str(entry.get("version")), len(order))
    marked: set[str] = set()
    for entry in history:
        version, previous = str(entry.get("version")), str(entry.get("previous") or "")
        marked.discard(version)
        # Not both published by a build in the history: their names, which sort by build time.
        back = order[version] < order[previous] if version in order and previous in order else version < previous
        if entry.get("action") == "rollback" and previous and back:
            marked.add(previous)
    return marked
