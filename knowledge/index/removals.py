"""Which guides a build adds and removes, and the removed guides a version remembers.

An admin who deletes a guide (the procedure was abolished, merged, handed to another office) must see
it in the build's output, and a citizen who then names it ("用气报装要什么材料") must hear that the
knowledge base no longer has it, not get the nearest other guide's answer with confidence (用电报装).
So each version's manifest keeps ``removed_guides``: id, title and aliases of every guide a build
took out, carried from version to version until a guide of that id comes back (at most
``MAX_REMEMBERED``, the latest first).

Usage::

    before = published_names(store.current_folder(), table)       # {id: (title, aliases)}
    change = GuideChange.between(before, {g.id: g.title for g in guides})
    change.added, change.removed                                   # [(id, title)], for the build's output
    findings = check_gate(new, published, settings, change=change)  # the gate's findings carry the same
    manifest["removed_guides"] = remembered(before, previous_manifest, change, version)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.index.guide_table import GuideTable
from knowledge.index.store import IndexStoreError, read_guides

MAX_REMEMBERED = 500  # removed guides a manifest keeps (a name older than 500 removals is treated as unknown)
MANIFEST_KEY = "removed_guides"


def published_names(folder: Path | None, table: GuideTable | None) -> dict[str, tuple[str, list[str]]]:
    """{id: (title, aliases)} of the version in `folder`: from its guide table when the build loaded one
    (no need to read every guide), else from its guides.json; {} when there is no readable version."""
    if table is not None:
        return {str(meta[0]): (str(meta[1]), [str(a) for a in meta[2]]) for meta in table.meta}
    if folder is None:
        return {}
    try:
        guides = read_guides(folder)
    except IndexStoreError:
        return {}  # a damaged version: the build goes on, it only cannot say what was removed
    return {guide_id: (str(g.get("title", "")), [str(a) for a in g.get("aliases", [])]) for guide_id, g in guides.items()}


@dataclass(frozen=True)
class GuideChange:
    """The guides one build adds and removes, as (id, title), sorted by id."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def between(cls, before: dict[str, tuple[str, list[str]]], after: dict[str, str]) -> GuideChange:
        if not before:  # a first build adds everything: saying so guide by guide says nothing
            return cls()
        return cls(added=sorted((i, t) for i, t in after.items() if i not in before),
                   removed=sorted((i, before[i][0]) for i in before if i not in after))


def remembered(before: dict[str, tuple[str, list[str]]], previous: dict[str, Any] | None, change: GuideChange,
               current_ids: set[str], version: str) -> list[dict[str, Any]]:
    """The removed guides the new version's manifest keeps: this build's removals first, then the earlier
    ones still absent (a guide added back is no longer removed)."""
    now = [{"id": guide_id, "title": title, "aliases": before[guide_id][1], "removed_in": version}
           for guide_id, title in change.removed]
    earlier = [entry for entry in (previous or {}).get(MANIFEST_KEY, [])
               if isinstance(entry, dict) and entry.get("id") not in current_ids
               and entry.get("id") not in {e["id"] for e in now}]
    return (now + earlier)[:MAX_REMEMBERED]
