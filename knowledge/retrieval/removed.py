"""Guides the knowledge base once had and an admin removed (the manifest's ``removed_guides``,
knowledge/index/removals.py).

Without them a citizen who names a removed guide ("用气报装要什么材料" after 用气报装 was deleted) gets the
nearest remaining guide (用电报装) with confidence. With them the assistant says the matter is no longer in
the knowledge base and who to ask.

Usage::

    removed = RemovedGuides.of(retriever.data)
    removed.get("gas-connection")                 # {"id": …, "title": "用气报装", "aliases": […], "removed_in": …}
    removed.named("用气报装要什么材料", names)      # the same entry: the message names it, no published guide is named longer
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# A removed guide's alias counts only from this length: short ones ("医保", "社保卡", "开户") are everyday words of
# guides still published, and a message holding one is most often about them. Its title counts whatever its length.
MIN_ALIAS_CHARS = 4


class RemovedGuides:
    """The removed guides of one index version, by id and by name."""

    def __init__(self, entries: Iterable[dict[str, Any]], current_names: Iterable[str] = ()) -> None:
        """`current_names`: the titles and aliases of the guides published now (lowercase). A removed guide whose
        title one of them is was published again under another id: it is not removed. A name of a removed guide
        that a published guide's name holds ("注销登记" in "企业简易注销登记") names that guide rather than the removed one."""
        published = "\n".join(current_names)  # one string: a substring test per name, not one per pair of names
        whole = set(published.split("\n"))
        self._by_id: dict[str, dict[str, Any]] = {}
        names: list[tuple[str, str]] = []
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("id") or not isinstance(entry.get("title"), str):
                continue
            title = entry["title"].lower()
            if title in whole:
                continue
            self._by_id[str(entry["id"])] = entry
            aliases = [a.lower() for a in entry.get("aliases") or [] if isinstance(a, str) and len(a) >= MIN_ALIAS_CHARS]
            names += [(name, str(entry["id"])) for name in [title, *aliases] if len(name) >= 2 and name not in published]
        self._names = sorted(names, key=lambda pair: len(pair[0]), reverse=True)  # the longest name wins

    @classmethod
    def of(cls, data: Any) -> RemovedGuides:
        """The removed guides of an index version (IndexData), read from its manifest once."""
        cached = getattr(data, "_removed_guides", None)
        if cached is None:
            entries = (data.manifest or {}).get("removed_guides") or []
            cached = cls(entries, [name for name, _ in getattr(data, "names", [])] if entries else [])
            data._removed_guides = cached
        return cached

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, guide_id: str | None) -> dict[str, Any] | None:
        return self._by_id.get(guide_id or "")

    def named(self, question: str, current_names: Iterable[tuple[str, str]]) -> dict[str, Any] | None:
        """The removed guide the question names (its title, or an alias of MIN_ALIAS_CHARS or more), unless a guide
        still published is named by a name as long or longer."""
        found = self.match(question, current_names)
        return found[0] if found else None

    def match(self, question: str, current_names: Iterable[tuple[str, str]]) -> tuple[dict[str, Any], str] | None:
        """`named`, with the name the question holds (lowercase): the caller reads what else the question says."""
        text = question.lower()
        for name, guide_id in self._names:
            if name in text:
                longest_current = max((len(n) for n, _ in current_names if n in text), default=0)
                return (self._by_id[guide_id], name) if len(name) > longest_current else None
        return None
