"""How much of a question's wording each guide's names hold, pair of characters by pair of characters.

A question seldom names its guide exactly: "村医" is in no title, but its characters stand side by side in
乡村医生执业证书; "计生给老人的那份钱" shares 计生 with the alias 计生奖扶 and nothing with 生育津贴. The exact mention
(`Retriever.mentioned`, the alias bonus) and jieba's words (BM25) both miss these, and the embedding, over hundreds
of guides, leaves near neighbours (离婚登记 and 结婚登记, 医疗救助 and 临时救助) a hair apart. Character pairs of the
titles and aliases tell such neighbours apart without any word list.

A guide's share is the idf mass of the question's character pairs that its names hold, over the idf mass of all
the question's pairs that any name holds: 0 when its names share nothing with the question, 1 when they hold every
pair any name holds, times how much naming evidence the question holds at all: its pairs' idf mass in units of
one pair only one guide holds, at most 1 (a lone 申请 that many guides' names hold moves little; "村医" moves fully).
Pairs of the knowledge base's common question words (怎么, 什么, 多久: `IndexData.common_words`, learnt from the
guides' own sample questions) and of its everyday words (政府, 外国, 老板: `IndexData.everyday_words`, never a guide's
sole words either) are no part of any name: "今天天气怎么样" leans to no guide whose alias is a question, and
"这个要跟政府报备吗" to no 政府采购.

`Retriever._score` adds `name_pairs_bonus` x (share - the highest share of any guide) to each guide's score
(settings.yml, 0.02, half the exact-name bonus): the guide whose names hold most keeps its score and the others give
way, so the pairs re-rank guides without making the retriever surer of a question that names nothing; policy
passages keep their scores. The decision model is calibrated on those scores like on any other, and a published
version keeps the weight it was calibrated with (`version_weight`).
Pairs cannot tell a question's subject from the procedure it asks ("个体户怎么注销" after the individual-business
registration: 个体户 is that guide's), so the answer action leaves them out when a matter is at hand
(`Retriever.run(names=False)`); measurements: docs/generalisation-history.md, sessions 40 and 42.

Usage::

    grams = NameGrams.of(data)             # built once per loaded index and its common words
    grams.shares("村医要办什么证")          # {"village-doctor-certificate": 1.0}
    grams.shares("村医要办什么证", leave_out="village-doctor-certificate")   # as if that guide were not published
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

# The decision format (calibration.DECISION_FORMAT) from which a version's scores hold the pairs: an older version
# keeps scoring as its decision model was calibrated (`version_weight`).
NAME_PAIRS_FORMAT = 7


def version_weight(calibration: dict[str, Any] | None, configured: float) -> float:
    """The weight of the pairs (settings.yml `name_pairs_bonus`) a version scores with: the one its decision model was
    calibrated with, recorded in its manifest's calibration (0 for a version calibrated before the pairs, or before
    the weight was recorded: those were built with the pairs off); `configured` while the version is being built.
    So changing the setting never scores a published version otherwise than it was calibrated: `build --if-changed`
    rebuilds it (index_builder.py), a rollback serves the old version as it was."""
    if calibration is None:  # being staged: scored as settings.yml says, and calibrated so
        return configured
    calibrated = calibration.get("format")
    if calibrated is None or int(calibrated) < NAME_PAIRS_FORMAT:
        return 0.0
    return float(calibration.get("name_pairs_bonus") or 0.0)
# Runs of Chinese characters, Latin letters and digits; anything else (punctuation, brackets, spaces) breaks a run.
_RUN = re.compile(r"[\u4e00-\u9fffa-z0-9]+")
# Function characters (a measure word, particles, pronouns) name nothing, and a pair they make with a neighbour matches
# across words: the alias "开个体店" held "开个", so "我们几个人想合伙开个公司" was the individual business's by name.
# They break a name into runs as punctuation does ("开个体店" -> 开, 体店). Not 过, 他, 被, 把, 着: they begin names
# (过户, 他项权利, 被征地农民).
_FUNCTION = re.compile(r"[个的了们吗呢吧啊么这那哪啥我你她它]")


def character_pairs(text: str) -> set[str]:
    """The distinct pairs of neighbouring characters of each run ("乡村医生" -> 乡村, 村医, 医生)."""
    return {run[i:i + 2] for run in _RUN.findall(text.lower()) for i in range(len(run) - 1)}


def _idf(guides: int, holders: int) -> float:
    return math.log(1 + (guides - holders + 0.5) / (holders + 0.5))


class NameGrams:
    """An inverted table from character pairs to the guides whose title or aliases hold them (BM25's idf, over
    guides). Built from the guides' names the index already keeps, so nothing is added to the index files."""

    def __init__(self, names: Iterable[tuple[str, str]], common: Iterable[str] = ()) -> None:
        # Common question words of two or more characters break a name ("…社保怎么开户" -> "…社保", "开户").
        words = sorted((w.lower() for w in common if len(w) >= 2), key=len, reverse=True)
        question_words = re.compile("|".join(map(re.escape, words))) if words else None
        holders: dict[str, set[str]] = {}
        guides: set[str] = set()
        for name, guide_id in names:
            guides.add(guide_id)
            text = question_words.sub(" ", name.lower()) if question_words else name.lower()
            text = _FUNCTION.sub(" ", text)
            for pair in character_pairs(text):
                holders.setdefault(pair, set()).add(guide_id)
        self._guides = frozenset(guides)
        self._holders = {pair: (tuple(sorted(ids)), frozenset(ids)) for pair, ids in holders.items()}

    @classmethod
    def of(cls, data: Any) -> NameGrams:
        """The table of one loaded index, for its common question words and everyday words (calibration learns a
        staged version's before scoring its examples): cached on it, rebuilt only when those change."""
        words = (getattr(data, "common_words", frozenset()), getattr(data, "everyday_words", None) or frozenset())
        cached = getattr(data, "_name_grams", None)
        if cached is None or (cached[0] is not words and cached[0] != words):
            guides = getattr(data, "guides", {})
            names = [(name, gid) for gid, guide in guides.items() for name in [guide["title"], *guide.get("aliases", [])]]
            cached = (words, cls(names, words[0] | words[1]))
            data._name_grams = cached
        return cached[1]

    def shares(self, question: str, leave_out: str | None = None) -> dict[str, float]:
        """Each guide's share of the question's name-pair idf mass, times the question's naming strength (guides
        with none are left out). `leave_out`: as if that guide were not published (calibration asks each sample
        question once more with its whole guide left out, like a procedure the knowledge base lacks)."""
        total = len(self._guides) - (leave_out in self._guides)
        weights: list[tuple[float, tuple[str, ...]]] = []
        for pair in sorted(character_pairs(question)):
            found = self._holders.get(pair)
            if found is None:
                continue
            ids = found[0] if leave_out not in found[1] else tuple(g for g in found[0] if g != leave_out)
            if ids:
                weights.append((_idf(total, len(ids)), ids))
        mass = sum(weight for weight, _ in weights)
        if not mass:
            return {}
        strength = min(1.0, mass / _idf(total, 1))
        held: dict[str, float] = {}
        for weight, ids in weights:
            for guide_id in ids:
                held[guide_id] = held.get(guide_id, 0.0) + weight
        return {guide_id: strength * value / mass for guide_id, value in held.items()}
