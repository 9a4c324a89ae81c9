"""How much of a question's wording each guide's names hold, pair of characters by pair of characters.

A question seldom names its guide exactly: "村医" is in no title, but its characters stand side by side in
乡村医生执业证书; "计生给老人的那份钱" shares 计生 with the alias 计生奖扶 and nothing with 生育津贴. The exact mention
(`Retriever.mentioned`, the alias bonus) and jieba's words (BM25) both miss these, and the embedding, over hundreds
of guides, leaves near neighbours (离婚登记 and 结婚登记, 医疗救助 and 临时救助) a hair apart. Character pairs of the
titles and aliases tell such neighbours apart without any word list.

A guide's share is the idf mass of the question's character pairs that its names hold, over the idf mass of all
the question's pairs that any name holds: 0 when its names share nothing with the question, 1 when they hold every
pair any name holds. Pairs many guides' names hold (登记, 许可) weigh little. `Retriever._score` adds
`name_pairs_bonus` x (share - the highest share of any guide) to each guide's score (settings.yml; 0.02, half the
exact-name bonus): the guide whose names hold most keeps its score and the others give way, so the pairs re-rank
without making the retriever surer of a question that names nothing. The decision model is calibrated on those
scores like on any other. Chosen on the development sets only: in one knowledge base
of 296 guides (the sample and every set), right guide first for their questions 0.823 -> 0.889 and answered right
directly 0.513 -> 0.598; each set added to the 36 sample guides, top-1 0.954 -> 0.960 and answered right directly
0.788 -> 0.813. Cost: chat that shares a procedure's pair ("游戏账号怎么注销") is a little likelier to be answered by
the retrieval alone (added: 0.012 -> 0.022 of the off-topic questions; the NLU's out_of_scope stands before it).

Usage::

    grams = NameGrams.of(data)             # built once per loaded index (IndexData.names)
    grams.shares("村医要办什么证")          # {"village-doctor-certificate": 0.71, ...}
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

# Runs of Chinese characters, Latin letters and digits; anything else (punctuation, brackets, spaces) breaks a run.
_RUN = re.compile(r"[\u4e00-\u9fffa-z0-9]+")


def character_pairs(text: str) -> set[str]:
    """The distinct pairs of neighbouring characters of each run ("乡村医生" -> 乡村, 村医, 医生)."""
    return {run[i:i + 2] for run in _RUN.findall(text.lower()) for i in range(len(run) - 1)}


class NameGrams:
    """An inverted table from character pairs to the guides whose title or aliases hold them, with their idf
    (BM25's, over guides). Built from the names the index already keeps, so nothing is added to the index files."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        holders: dict[str, set[str]] = {}
        guides: set[str] = set()
        for name, guide_id in names:
            guides.add(guide_id)
            for pair in character_pairs(name):
                holders.setdefault(pair, set()).add(guide_id)
        total = len(guides)
        self._holders = {pair: sorted(ids) for pair, ids in holders.items()}
        self._idf = {pair: math.log(1 + (total - len(ids) + 0.5) / (len(ids) + 0.5)) for pair, ids in holders.items()}

    @classmethod
    def of(cls, data: Any) -> NameGrams:
        """The table of one loaded index (cached on it: an index's names never change)."""
        cached = getattr(data, "_name_grams", None)
        if cached is None:
            cached = cls(getattr(data, "names", []))
            data._name_grams = cached
        return cached

    def shares(self, question: str) -> dict[str, float]:
        """Each guide's share of the question's name-pair idf mass (guides with none are left out)."""
        pairs = sorted(pair for pair in character_pairs(question) if pair in self._idf)
        mass = sum(self._idf[pair] for pair in pairs)
        if not mass:
            return {}
        held: dict[str, float] = {}
        for pair in pairs:
            weight = self._idf[pair]
            for guide_id in self._holders[pair]:
                held[guide_id] = held.get(guide_id, 0.0) + weight
        return {guide_id: value / mass for guide_id, value in held.items()}
