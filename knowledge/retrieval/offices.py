"""Offices a question names, by their full name or the way people shorten it.

People ask for an office rather than a matter: "林草局野保科电话多少", "人社局窗口在哪". Chinese shortens an office's
name by keeping a few of its characters in order and its kind (林业和草原局 → 林草局, 野生动植物保护科 → 野保科,
交通警察大队 → 交警大队) or by keeping one word of it (住房公积金管理中心 → 公积金中心). The guides say which offices
handle them (``department`` and each contact's ``unit``), so the knowledge base itself is the directory: nothing
here lists a region's offices, and a deployment's own guides bring their own.

An office's name is read as a chain of levels, each ending in a kind word (局, 科, 中心, 窗口 …): "筠溪区林业和草原局
野生动植物保护科" is 林业和草原局 › 野生动植物保护科 (the region is dropped). A question names a level when a run of
its characters ends in that level's kind word and the characters before it are one contiguous piece of the level's
name, or begin with its first character and follow its characters in order; at least two of them, one at least of
the level's own (not of the words every office has: 政务, 服务, 管理 …: "政务中心" names every window, "家政服务有限公司"
no water company). Where several levels end at the same kind word, the longest piece wins ("医疗保障局" is not
人力资源和社会保障局, whose 保障 it shares). An office is named when the question names more of its levels than of
any other's: "林草局野保科" is the wildlife section, not the grassland one.

Usage::

    directory = OfficeDirectory.from_guides(index_data.guides)
    [office.unit for office in directory.named("林草局野保科电话多少")]
    # ['筠溪区林业和草原局野生动植物保护科']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

# Kinds of office, longest first (大队 before 队). 办 is not one: it ends words (开办, 代办); "金融办"-style names
# are read from brackets, where a whole name ends in it (see `_chain`).
KINDS = ("委员会", "办公室", "联合会", "公司", "中心", "窗口", "专区", "大队", "中队", "大厅", "局", "委", "科", "股",
         "所", "站", "院", "处", "部", "室", "厅", "队")
# Words every office may have: a shortening made only of them names no office in particular ("政务中心", "管理局";
# "市监局" keeps 监).
COMMON = ("人民政府", "政务", "服务", "管理", "监督", "综合", "行政", "事务", "受理", "业务", "办事", "便民", "街道", "营业",
          "客服", "客户", "咨询", "有限", "责任", "股份", "区", "市", "县", "镇", "分", "总")
# Shorter ways to say a kind: "卫健委" for 卫生健康委员会, "交警队" for 交通警察大队.
KIND_FORMS = {"委员会": ("委员会", "委"), "大队": ("大队", "队"), "中队": ("中队", "队")}
# Kinds that name a government authority whatever comes before them ("民政局", "卫健委").
AUTHORITY_KINDS = ("局", "委", "委员会")
# Words before a kind word that name no office ("哪个科室", "管广电的科室"): a name we do not know needs other characters.
_NOT_A_NAME = "哪个那这些么啥的管该去到找问和跟在是有"
# Places and sections of any office ("哪个科室", "服务大厅", "3号窗口", "政务中心"): no office's own name.
_ANY_SECTION = re.compile(r"科室|股室|处室|部门|单位|办公室|(服务|办事|政务)?大厅|[\d几一二三四五六七八九十]+号|(政务服务|政务|便民服务)中心")


@functools.cache
def _kind_pattern(kinds: tuple[str, ...]) -> re.Pattern[str]:
    """A name-like run of characters ending in one of `kinds` (compiled once per set of kinds)."""
    return re.compile(rf"([^{_NOT_A_NAME}\W\d]+)({'|'.join(kinds)})")

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


class Listing(NamedTuple):
    """An office to show to someone asking for it, with the guides among those asked about that list it."""

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
        self._forms = {form for level in self._distinct for form in KIND_FORMS.get(level.kind, (level.kind,))}
        self._last: tuple[str, dict[_Level, list[tuple[int, int]]]] = ("", {})  # the question read last, and its namings

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

    def listing(self, text: str, guides: Mapping[str, Mapping[str, Any]], guide_ids: list[str]) -> list[Listing]:
        """The offices `text` names that list some of `guide_ids`, each with those of them it lists; for a guide none of
        them lists (its department named, "住建局", its contacts only windows), its first contact. One Listing per unit
        and phone, a unit's phones next to each other (in the order its first one comes)."""
        wanted = set(guide_ids)
        shown = [Listing(o.unit, o.phone, o.address, o.hours, tuple(g for g in guide_ids if g in o.guide_ids))
                 for o in self.named(text) if wanted & set(o.guide_ids)]
        listed = {guide_id for office in shown for guide_id in office.guide_ids}
        firsts = [(guide_id, (guides.get(guide_id, {}).get("contacts") or [None])[0])
                  for guide_id in guide_ids if guide_id not in listed]
        rows = shown + [Listing(str(c["unit"]), str(c["phone"]), str(c.get("address") or ""), str(c.get("hours") or ""),
                                (guide_id,)) for guide_id, c in firsts if c]
        # Together, because the reply shows each unit once with all its phones (actions/replies.offices), and the caller
        # numbers the matters to pick in the order of these rows: that must be the order the user reads them in.
        units = list(dict.fromkeys(row.unit for row in rows))
        return [row for unit in units for row in rows if row.unit == unit]

    def without_names(self, text: str) -> str:
        """`text` without the office names it holds ("林草局野保科电话多少" → "电话多少"): what else it says."""
        kept, last = [], 0
        for start, end in sorted(span for spans in self._namings(text).values() for span in spans):
            kept.append(text[last:max(start, last)])
            last = max(last, end)
        return "".join(kept) + text[last:]

    def names_unknown(self, text: str) -> bool:
        """Whether `text` names an office besides those it names of the knowledge base ("民政局救助站在哪": no guide lists
        a 救助站): then what the named ones handle is no answer to it. "哪个科室", "管广电的科室" name none."""
        return bool(self.unknown_names(text))

    def unknown_names(self, text: str, kinds: Sequence[str] = KINDS) -> list[str]:
        """The offices of `kinds` that `text` names and no guide lists, each as its kind word and the two characters
        before it ("民政局在哪" → ["民政局"], "去派出所开证明" → ["派出所"]). AUTHORITY_KINDS only for a sure reading:
        所, 站, 队, 部 and 中心 end everyday words too ("所有", "火车站", "排队", "全部", "城中心")."""
        rest = _ANY_SECTION.sub("|", self.without_names(text))
        pattern = _kind_pattern(tuple(kinds))  # its own kinds only: "人社局窗口" ends in 局 for AUTHORITY_KINDS, not 窗口
        return [found.group(1)[-MIN_CHARS:] + found.group(2) for found in pattern.finditer(rest) if _own(found.group(1))]

    def _named_set(self, text: str) -> set[_Level]:
        return set(self._namings(text))

    def _namings(self, text: str) -> dict[_Level, list[tuple[int, int]]]:
        """The distinct levels `text` names and where: offices share most of theirs (every section of a bureau has the
        bureau), so each is read once per question (and the last question's are kept: one turn asks two or three times).
        At each kind word only the levels named by the longest piece count."""
        last = self._last  # one read: another thread may replace it meanwhile
        if text == last[0]:
            return last[1]
        best: dict[int, tuple[int, list[tuple[_Level, int]]]] = {}  # kind word's end -> (piece size, [(level, start)])
        if any(form in text for form in self._forms):
            for level in self._distinct:
                for start, end, size in _level_namings(text, level):
                    size_now, levels = best.get(end, (0, []))
                    if size > size_now:
                        best[end] = (size, [(level, start)])
                    elif size == size_now:
                        levels.append((level, start))
        found: dict[_Level, list[tuple[int, int]]] = {}
        for end, (_, levels) in best.items():
            for level, start in levels:
                found.setdefault(level, []).append((start, end))
        self._last = (text, found)
        return found


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
            # "公安分局" is a 公安局's branch: both are named alike ("公安局", "公安分局" in a question)
            piece = name[start:index - 1] if kind == "局" and name[index - 1] == "分" and index - start > 2 else name[start:index]
            levels.append(_Level(piece, kind))
        index = start = index + len(kind)
    if name.endswith("办") and len(name) - start > MIN_CHARS:  # "区金融办", in brackets after the full name
        levels.append(_Level(name[start:-1], "办"))
    return tuple(levels)


def _count(named: set[_Level], readings: Iterable[tuple[_Level, ...]]) -> tuple[int, int]:
    """How many levels of the unit's best reading are named, and minus how many are not."""
    counts = [(hits, hits - len(levels)) for levels in readings for hits in [sum(level in named for level in levels)]]
    return max(counts, default=(0, 0))


def _level_namings(text: str, level: _Level) -> list[tuple[int, int, int]]:
    """Where `text` names the level: (start, end, piece size) for each kind word it ends, the longest piece there."""
    found = []
    forms = KIND_FORMS.get(level.kind, (level.kind,))
    for form in forms:
        position = text.find(form)
        while position >= 0:
            if any(len(longer) > len(form) and text.startswith(longer, position) for longer in forms):
                position = text.find(form, position + 1)  # "委员会" is read as itself: one place, one end
                continue
            # "公安分局" names a 公安局 too: a branch is the bureau's
            for end in (position, position - 1) if text[position - 1:position] == "分" else (position,):
                size = next((size for size in range(min(len(level.name), end), MIN_CHARS - 1, -1)
                             if _whole(text, end - size) and _matches(text[end - size:end], level)), 0)
                if size:
                    found.append((end - size, position + len(form), size))
                    break
            position = text.find(form, position + 1)
    return found


def _whole(text: str, start: int) -> bool:
    """Whether a piece starting at `start` begins a word: not inside one every office has ("家政服务有限公司": 务有限
    begins in 服务, and names no 水务有限公司)."""
    return not any(0 < start - found < len(word) for word in COMMON if len(word) > 1
                   for found in _occurrences(text, word, start - len(word) + 1, start))


def _occurrences(text: str, word: str, lowest: int, highest: int) -> list[int]:
    return [index for index in range(max(lowest, 0), highest) if text.startswith(word, index)]


def _matches(piece: str, level: _Level) -> bool:
    """The piece is one contiguous part of the level's name, or follows its characters in order from its first one,
    and holds characters beyond the words every office has ("政务" of 政务服务 names none; "市监" keeps 监)."""
    if not _own(piece):
        return False
    name = level.name
    return piece in name or (piece[0] == name[0] and _in_order(piece, name))


def _in_order(piece: str, name: str) -> bool:
    rest = iter(name)
    return all(char in rest for char in piece)


def _own(name: str) -> bool:
    """Whether a name has characters beyond the words every office has."""
    for word in COMMON:
        name = name.replace(word, "")
    return bool(name)
