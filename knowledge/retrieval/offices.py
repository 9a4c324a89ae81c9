"""Offices a question names, by their full name or the way people shorten it.

People ask for an office rather than a matter: "林草局野保科电话多少", "人社局窗口在哪". Chinese shortens an office's
name by keeping a few of its characters in order and its kind (林业和草原局 → 林草局, 野生动植物保护科 → 野保科,
交通警察大队 → 交警大队) or by keeping one word of it (住房公积金管理中心 → 公积金中心). The guides say which offices
handle them (``department`` and each contact's ``unit``), so the knowledge base itself is the directory: nothing
here lists a region's offices, and a deployment's own guides bring their own.

An office's name is read as a chain of levels, each ending in a kind word (局, 科, 中心, 窗口 …): "筠溪区林业和草原局
野生动植物保护科" is 林业和草原局 › 野生动植物保护科 (the region is dropped). A question names a level when a run of
its characters ends in that level's kind word and the characters before it are one contiguous piece of the level's
name, or begin with its first character and follow its characters in order; at least two of them, and not only
words every office has (政务, 服务, 管理 …: "政务中心" names every window). An office is named when the question
names more of its levels than of any other's: "林草局野保科" is the wildlife section, not the grassland one.

Usage::

    directory = OfficeDirectory.from_guides(index_data.guides)
    [office.unit for office in directory.named("林草局野保科电话多少")]
    # ['筠溪区林业和草原局野生动植物保护科']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Kinds of office, longest first (大队 before 队). 办 is not one: it ends words (开办, 代办); "金融办"-style names
# are read from brackets, where a whole name ends in it (see `_levels`).
KINDS = ("委员会", "办公室", "联合会", "公司", "中心", "窗口", "专区", "大队", "中队", "大厅", "局", "委", "科", "股",
         "所", "站", "院", "处", "部", "室", "厅", "队")
# Words every office may have: a shortening made only of them names no office in particular ("政务中心", "管理局";
# "市监局" keeps 监).
COMMON = ("政务", "服务", "管理", "监督", "综合", "行政", "事务", "受理", "业务", "办事", "便民", "街道", "营业", "客服", "客户",
          "咨询", "有限", "责任", "股份", "区", "市", "县", "镇", "分", "总")
MIN_CHARS = 2  # characters before the kind word
_BRACKETS = re.compile(r"[（(]([^（）()]*)[）)]")
_CITY = re.compile(r"^[\u4e00-\u9fff]{2}[省市](?!场)")  # "示例市…", not "商务局市场…"


@dataclass(frozen=True)
class Office:
    """One contact unit of the knowledge base, and the guides that list it."""

    unit: str
    phone: str
    address: str
    hours: str
    guide_ids: tuple[str, ...]


@dataclass(frozen=True)
class _Level:
    name: str  # the level's name without its kind word ("林业和草原")
    kind: str  # "局"


class OfficeDirectory:
    """The offices of a knowledge base's guides, and which of them a question names."""

    def __init__(self, offices: Iterable[Office], levels: Mapping[str, list[tuple[_Level, ...]]],
                 departments: Mapping[str, tuple[tuple[_Level, ...], tuple[str, ...]]]) -> None:
        self.offices = list(offices)
        self._levels = levels  # unit -> its readings (the name, and each name in brackets)
        self._departments = departments  # department -> (levels, guides)
        self._distinct = {level for readings in levels.values() for reading in readings for level in reading}
        self._distinct |= {level for chain, _ in departments.values() for level in chain}
        self._kinds = {level.kind for level in self._distinct}

    @classmethod
    def from_guides(cls, guides: Mapping[str, Mapping[str, Any]]) -> OfficeDirectory:
        """Every contact unit of `guides` (one Office per unit and phone) and every department."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        departments: dict[str, list[str]] = {}
        regions: dict[str, str] = {}
        for guide_id, guide in guides.items():
            region = str(guide.get("region") or "")
            for contact in guide.get("contacts") or []:
                key = (str(contact["unit"]), str(contact["phone"]))
                entry = found.setdefault(key, {"address": contact.get("address") or "", "hours": contact.get("hours") or "",
                                               "guides": []})
                entry["guides"].append(guide_id)
                regions[key[0]] = region
            department = str(guide.get("department") or "")
            if department:
                departments.setdefault(department, []).append(guide_id)
                regions[department] = region
        offices = [Office(unit, phone, entry["address"], entry["hours"], tuple(entry["guides"]))
                   for (unit, phone), entry in found.items()]
        levels = {office.unit: _readings(office.unit, regions[office.unit]) for office in offices}
        return cls(offices, levels, {name: (tuple(level for reading in _readings(name, regions[name]) for level in reading),
                                            tuple(ids)) for name, ids in departments.items()})

    def named(self, text: str) -> list[Office]:
        """The offices `text` names most fully (none: it names no office, or only words every office has)."""
        named = self._named_set(text)
        if not named:
            return []
        # most levels named, then fewest left unnamed: "…企业开办专区" before "…企业开办专区银行服务窗口"
        scores = {office.unit: _count(named, self._levels[office.unit]) for office in self.offices}
        best = max(scores.values(), default=(0, 0))
        return [office for office in self.offices if best[0] and scores[office.unit] == best]

    def guides_named(self, text: str) -> list[str]:
        """The guides whose offices or department `text` names most fully, in knowledge-base order: "住建局哪个窗口"
        names the department of a guide whose contacts are only its windows as fully as the bureau's sections."""
        named = self._named_set(text)
        if not named:
            return []
        # Levels named only: a department names no section, so leaving sections unnamed (as `named` weighs) is no
        # reason to prefer a guide whose department alone is named.
        scores: dict[str, int] = {}
        for office in self.offices:
            score = _count(named, self._levels[office.unit])[0]
            for guide_id in office.guide_ids:
                scores[guide_id] = max(scores.get(guide_id, 0), score)
        for levels, ids in self._departments.values():
            score = _count(named, [levels])[0]
            for guide_id in ids:
                scores[guide_id] = max(scores.get(guide_id, 0), score)
        best = max(scores.values(), default=0)
        return [guide_id for guide_id, score in scores.items() if best and score == best]

    def without_names(self, text: str) -> str:
        """`text` without the office names it holds ("林草局野保科电话多少" → "电话多少"): what else it says."""
        spans = sorted(span for level in self._distinct if (span := _naming(text, level)) is not None)
        kept, last = [], 0
        for start, end in spans:
            kept.append(text[last:max(start, last)])
            last = max(last, end)
        return "".join(kept) + text[last:]

    def _named_set(self, text: str) -> set[_Level]:
        """The distinct levels `text` names: offices share most of theirs (every section of a bureau has the
        bureau), so each is read once per question."""
        if not any(kind in text for kind in self._kinds):
            return set()
        return {level for level in self._distinct if _naming(text, level) is not None}


def _readings(unit: str, region: str) -> list[tuple[_Level, ...]]:
    """The unit's chain of levels, and that of each name in its brackets ("（区金融办）")."""
    inner = _BRACKETS.findall(unit)
    outer = _BRACKETS.sub("", unit)
    return [_chain(name, region) for name in [outer, *inner] if name]


def _chain(name: str, region: str) -> tuple[_Level, ...]:
    parts = [part for part in re.split(r"(?<=[省市])", region) if part]
    # the region, its parts, and their names without 区/县 ("澜沚分局", "筠溪海事处")
    for prefix in [region, *parts, *(part[:-1] for part in parts if len(part) > 2 and part[-1] in "区县")]:
        name = name.replace(prefix, "")
    name = _CITY.sub("", name)
    levels: list[_Level] = []
    start = index = 0
    while index < len(name):
        kind = next((k for k in KINDS if name.startswith(k, index)), None)
        if kind is None:
            index += 1
            continue
        if index > start and _own(name[start:index]):  # "政务服务中心" names no office in particular
            levels.append(_Level(name[start:index], kind))
        index = start = index + len(kind)
    if name.endswith("办") and len(name) - start > MIN_CHARS:  # "区金融办", in brackets after the full name
        levels.append(_Level(name[start:-1], "办"))
    return tuple(levels)


def _count(named: set[_Level], readings: Iterable[tuple[_Level, ...]]) -> tuple[int, int]:
    """How many levels of the unit's best reading are named, and minus how many are not."""
    counts = [(hits, hits - len(levels)) for levels in readings for hits in [sum(level in named for level in levels)]]
    return max(counts, default=(0, 0))


def _naming(text: str, level: _Level) -> tuple[int, int] | None:
    """Where `text` names the level (its longest naming at the first place it names it), or None."""
    position = text.find(level.kind)
    while position >= 0:
        # "公安分局" names a 公安局 too: a branch is the bureau's
        for end in (position, position - 1) if text[position - 1:position] == "分" else (position,):
            for size in range(min(len(level.name), end), MIN_CHARS - 1, -1):
                piece = text[end - size:end]
                if _own(piece) and (piece in level.name or (piece[0] == level.name[0] and _in_order(piece, level.name))):
                    return end - size, position + len(level.kind)
        position = text.find(level.kind, position + 1)
    return None


def _own(piece: str) -> bool:
    """Whether the piece has characters beyond the words every office has."""
    for word in COMMON:
        piece = piece.replace(word, "")
    return bool(piece)


def _in_order(piece: str, name: str) -> bool:
    rest = iter(name)
    return all(char in rest for char in piece)
