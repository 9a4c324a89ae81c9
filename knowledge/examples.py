"""The example questions and item names the assistant offers (the greeting, Telegram's /start and its
buttons, the web page's chips, the out-of-scope reply, "请问您想了解哪个事项？"), taken from the
knowledge base actually published, so they always name guides it has.

Why: every deployment replaces the sample guides with its own, or adds to them. Fixed examples
would offer items a deployment does not have, and a citizen who tapped one would get "没有找到".

Chosen at build time from the guides (knowledge/index/builder.py) and stored in the version's
manifest under "examples"; every process reads them from the version it serves, so they change with
a rebuild, without restarts: the action server from the version it pinned for the turn
(`Examples.of(retriever.data.manifest)`), the hall API and the Telegram bot from the published
version (`PublishedExamples`, re-read when CURRENT names another version). No index published, or one
built before this existed: `Examples()`, and the texts say it generically, naming no item.

The choice (deterministic: the same guides give the same examples):

1. Guides by the length of their title without a trailing bracketed part, shortest first (the
   general, best-known items: 企业开办 before 企业银行开户), ties by id.
2. Down that ranking, each guide of a category not taken yet, until three (fewer categories: the
   next guides of the ranking). A guide's category is read only when the walk reaches it: a rebuild
   of 5,000 guides loads a few unchanged guides' entries, not all (chunk_rows.GuideEntry).
3. Each guide's question: its first `questions:` entry that asks about an aspect (材料, 时限, 流程…:
   knowledge/sources/aspects.detect_aspect) the earlier examples do not, so the three ask different
   things; else its first entry that names no aspect; else its first. "？" added.
4. Its item name: the title without the bracketed part when that is at most 6 characters (企业开办),
   else the longest alias found inside the title (建筑工程施工许可证核发 → 施工许可证), else the shortest alias.

The build then asks its new index each question (knowledge/index/example_check.py): one not
answered from its guide gives way to the guide's next `questions:` entry, then to the next guide of
the ranking (ExampleChoice.reject).

settings.yml `example_questions` (a list) replaces the derived questions (not the item names); the
build copies it into the manifest, so it takes effect with the next build; those no guide answers
are warnings of the build, shown by `index_builder.py status`.

Usage::

    examples = derive_examples(guides.values())           # the build
    examples = Examples.of(manifest)                      # a reader of one version
    PublishedExamples(settings.index_dir).current()       # the published version's, re-read on a new one
    examples.questions_text()                             # "\n· 开公司要带什么材料？\n· …" or ""
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.sources.aspects import detect_aspect

MANIFEST_KEY = "examples"
COUNT = 3
SHORT_TITLE = 6  # a title (without its bracketed part) at most this long is the item's name as people say it
_BRACKETED = re.compile(r"\s*[（(][^（）()]*[)）]\s*$")
_END = "？?。！!"


@dataclass(frozen=True)
class Examples:
    """Example questions and item names; empty: nothing published (say it generically)."""

    questions: tuple[str, ...] = ()
    items: tuple[str, ...] = ()

    @classmethod
    def of(cls, manifest: Mapping[str, Any] | None) -> Examples:
        """The examples a version's manifest holds (none: an older version, or no manifest)."""
        stored = (manifest or {}).get(MANIFEST_KEY) or {}
        if not isinstance(stored, Mapping):  # a hand-edited or foreign manifest: the generic wording, not an error
            return cls()
        return cls(tuple(str(q) for q in stored.get("questions") or ()), tuple(str(i) for i in stored.get("items") or ()))

    def as_manifest(self, override: Sequence[str] = ()) -> dict[str, Any]:
        """The manifest's record; `override` (settings.yml) is kept so a build can tell it changed."""
        return {"questions": list(self.questions), "items": list(self.items), "override": list(override)}

    def questions_text(self, bullet: str = "· ") -> str:
        """The questions one per line, each after a newline ("" when there are none)."""
        return "".join(f"\n{bullet}{question}" for question in self.questions)

    def items_text(self) -> str:
        """“企业开办”“施工许可证”“食品经营许可” ("" when there are none)."""
        return "".join(f"“{item}”" for item in self.items)

    def questions_inline(self, limit: int = 2) -> str:
        """The first questions quoted in a row, without their question marks: “开公司要带什么材料”“…”."""
        return "".join(f"“{question.rstrip(_END)}”" for question in self.questions[:limit])


def short_title(title: str) -> str:
    """The title without a trailing bracketed part: 企业开办（公司设立登记） → 企业开办."""
    return _BRACKETED.sub("", title).strip() or title


def item_name(guide: Mapping[str, Any]) -> str:
    """How a citizen names the guide's item (rule 4 of the module docstring)."""
    title = str(guide["title"])
    short = short_title(title)
    aliases = [str(alias) for alias in guide.get("aliases") or () if len(str(alias)) >= 2]
    if len(short) <= SHORT_TITLE or not aliases:
        return short
    inside = [alias for alias in aliases if alias in title]
    if inside:
        return max(inside, key=len)  # the first of the longest: max keeps the first
    return min(aliases, key=len)


def _question(text: str) -> str:
    text = text.strip()
    return text if text.endswith(tuple(_END)) else text + "？"


def derive_examples(guides: Iterable[Mapping[str, Any]], override: Sequence[str] = (), count: int = COUNT) -> Examples:
    """The examples of these guides (guides.json entries: id, title, aliases, category, questions)."""
    return ExampleChoice(guides, count).examples(override)


def override_questions(override: Sequence[str]) -> list[str]:
    """settings.yml's example_questions as offered: stripped, empty ones dropped."""
    return [str(question).strip() for question in override if str(question).strip()]


class _Slot:
    """One example: its guide and the guide's questions in the order to offer them (rule 3 first)."""

    def __init__(self, guide: Mapping[str, Any], asked: set[str | None]) -> None:
        self.guide = guide
        own = [(str(q), detect_aspect(str(q))) for q in guide.get("questions") or () if str(q).strip()]
        pick = (next((pair for pair in own if pair[1] is not None and pair[1] not in asked), None)
                or next((pair for pair in own if pair[1] is None), None) or (own[0] if own else None))
        # Should the first not be answered, the guide's next `questions:` entries, in the file's order.
        self.questions = [pick, *(pair for pair in own if pair is not pick)] if pick is not None else []
        self.at = 0

    @property
    def question(self) -> str | None:
        return _question(self.questions[self.at][0]) if self.at < len(self.questions) else None

    @property
    def aspect(self) -> str | None:
        return self.questions[self.at][1] if self.at < len(self.questions) else None


class ExampleChoice:
    """The choice of the module docstring, with a fallback for a question the built index does not
    answer (knowledge/index/example_check.py): `reject(n)` moves example n to its guide's next
    question, then to the next guide of the ranking of a category no other example has."""

    LOOKAHEAD = 20  # guides walked for a new category before any next guide will do: few guides read whole

    def __init__(self, guides: Iterable[Mapping[str, Any]], count: int = COUNT) -> None:
        self.ranked = sorted(guides, key=lambda g: (len(short_title(str(g["title"]))), str(g["id"])))
        self.slots: list[_Slot] = []
        self._used: set[int] = set()
        self._next = 0  # where the walk down the ranking goes on
        asked: set[str | None] = set()
        categories: set[str] = set()
        for position, guide in enumerate(self.ranked):
            category = str(guide.get("category") or "")  # read here: only the guides reached are loaded whole
            if category not in categories:
                categories.add(category)
                self._take(guide, asked)
                if len(self.slots) == count:
                    self._next = position + 1
                    break
        # Else every guide was read: a replacement is looked for from the top (the taken ones are skipped).
        if len(self.slots) < count:  # fewer categories than examples: the next guides of the ranking
            for guide in [g for g in self.ranked if id(g) not in self._used][: count - len(self.slots)]:
                self._take(guide, asked)

    def _take(self, guide: Mapping[str, Any], asked: set[str | None]) -> _Slot:
        slot = _Slot(guide, asked)
        self._used.add(id(guide))
        self.slots.append(slot)
        asked.add(slot.aspect)
        return slot

    def reject(self, index: int) -> bool:
        """Example `index`'s question is not answered: offer the next one; False when none is left."""
        slot = self.slots[index]
        slot.at += 1
        if slot.question is not None:
            return True
        guide = self._next_guide({str(s.guide.get("category") or "") for n, s in enumerate(self.slots) if n != index})
        if guide is None:
            return False
        asked = {s.aspect for n, s in enumerate(self.slots) if n != index}
        self._used.add(id(guide))
        self.slots[index] = _Slot(guide, asked)
        return self.slots[index].question is not None or self.reject(index)

    def _next_guide(self, taken: set[str]) -> Mapping[str, Any] | None:
        fallback = None
        for position in range(self._next, len(self.ranked)):
            guide = self.ranked[position]
            if id(guide) in self._used:
                continue
            if str(guide.get("category") or "") not in taken:
                return guide
            if fallback is None:
                fallback = guide
            if position - self._next >= self.LOOKAHEAD:
                break
        return fallback

    def examples(self, override: Sequence[str] = ()) -> Examples:
        questions = [q for q in (slot.question for slot in self.slots) if q is not None]
        if override:
            questions = override_questions(override)
        return Examples(tuple(questions), tuple(dict.fromkeys(item_name(slot.guide) for slot in self.slots)))


class PublishedExamples:
    """The published version's examples for a process that serves no index itself (the hall API,
    the Telegram bot): CURRENT is read on every call (one small file), the manifest when it names
    another version. Anything unreadable gives `Examples()`: the generic wording, never an error."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._lock = threading.Lock()
        self._version: str | None = None
        self._examples = Examples()

    def current(self) -> Examples:
        try:
            version = (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
        except OSError:
            version = None
        if version is None:
            return Examples()
        with self._lock:
            if version != self._version:
                try:
                    manifest = json.loads((self.index_dir / "versions" / version / "manifest.json").read_text(encoding="utf-8"))
                    examples = Examples.of(manifest if isinstance(manifest, Mapping) else None)
                except (OSError, ValueError):
                    # Not recorded as read: a manifest caught mid-write or briefly unreadable is tried again next call.
                    return Examples()
                self._version, self._examples = version, examples
            return self._examples
