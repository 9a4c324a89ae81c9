"""What a guide's text holds of a message's own words: the character pairs a message says beyond the cue
words of how people ask (actions/dialogue.py `own_runs`), weighed by how few guides say them, and the share of
them a guide (or one of its sections) says.

Usage::

    >>> words = guide_words({"title": "健康证办理", "sections": {"受理条件": {"text": "体检当天需空腹"}}})
    >>> share_held("要空腹不", words)
    1.0
    >>> sections_holding("要空腹不", {"sections": {"受理条件": {"text": "体检当天需空腹"}, "收费标准": {"text": "免费"}}})
    ['受理条件']
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from actions.dialogue import own_runs, own_words


# What a guide says, for `share_held`: its names and every section and FAQ (not its contacts' numbers).
def guide_words(guide: dict[str, Any]) -> str:
    """The text of a guide that a follow-up's words may come from: title, aliases, sections, FAQs."""
    sections = guide.get("sections") or {}
    parts = [guide.get("title") or "", *(guide.get("aliases") or []), guide.get("department") or "",
             *(str(section.get("text") or "") for section in sections.values()),
             *(f"{faq.get('question') or ''}{faq.get('answer') or ''}" for faq in guide.get("faqs") or [])]
    return "\n".join(parts).lower()


def own_pairs(text: str) -> list[str]:
    """The message's own words as character pairs (Chinese has no spaces), each once."""
    return list(dict.fromkeys(run[i:i + 2] for run in own_runs(text) if len(run) >= 2 for i in range(len(run) - 1)))


def pair_weights(text: str, guides_words: Sequence[str], said_by: dict[str, int] | None = None) -> dict[str, float]:
    """How much each of the message's own character pairs tells one guide from the others of the knowledge base
    (`guides_words`: every guide's `guide_words`): log((N + 1) / (guides saying it + 1)). A pair most guides say (公司,
    执照, 注册, 营业 in a business knowledge base) weighs next to nothing; one no guide says weighs most. `said_by`
    remembers how many guides say each pair, for the same `guides_words`: counting reads every guide's text, which
    at thousands of guides costs milliseconds a pair, and users keep asking with the same words."""
    count = len(guides_words)
    weights = {}
    for pair in own_pairs(text):
        said = None if said_by is None else said_by.get(pair)
        if said is None:
            said = sum(pair in words for words in guides_words)
            if said_by is not None:
                said_by[pair] = said
        # A pair no guide says (one across two words: "原车主找" gives 主找) tells no guide apart: it weighs as one guide's.
        weights[pair] = math.log((count + 1) / (max(1, said) + 1))
    return weights


@dataclass(frozen=True)
class Held:
    """What a guide's text holds of a message's own words (`held_words`)."""

    share: float  # the weighted share of the message's own pairs the guide says
    pairs: int  # how many of them it says (of those that weigh anything)
    run: bool  # whether it says three characters in a row of the message, one of its pairs in them ("交强险")
    alone: bool = False  # one word said, and nothing else of the message's own ("要空腹不": 空腹 is all it names)

    @property
    def enough(self) -> bool:
        """Evidence beyond one word, or one word that is all the message names: "1+1等于几" shares only 等于 with a
        property guide, and asks about 1+1."""
        return self.pairs >= 2 or self.run or self.alone


# Digits, Latin letters, symbols: content `own_runs` does not read ("1+1等于几" is about 1+1).
_OTHER_SCRIPT = re.compile(r"[0-9a-z+\-*/=×÷%]")


def _triples(text: str, pair: str) -> list[str]:
    """The three characters of `text` that are `pair` and the one before or after it ("交强险" around 强险)."""
    return [text[at + start:at + start + 3] for at in range(len(text) - 1) if text.startswith(pair, at)
            for start in (-1, 0) if at + start >= 0 and at + start + 3 <= len(text)]


def held_words(text: str, words: str, weights: dict[str, float] | None = None) -> Held | None:
    """What `words`, a guide's text (`guide_words`), holds of the message's own words, each pair weighted by
    `weights` (`pair_weights`; all alike without): "要空腹不" asks about the health-certificate guide that says 空腹,
    "交强险也要买吗" about the farm-machinery guide that names 交强险, "今天天气怎么样" about no guide. None when the
    message has no run of two own characters, or only pairs every guide says (nothing to compare)."""
    pairs = own_pairs(text)
    weight = {pair: 1.0 if weights is None else weights.get(pair, 1.0) for pair in pairs}
    total = sum(weight.values())
    if not pairs or total <= 0:
        return None
    said = [pair for pair in pairs if pair in words and weight[pair] > 0]
    lowered = (text or "").lower()
    run = any(triple in words for pair in said for triple in _triples(lowered, pair))
    alone = len(pairs) == 1 and len(said) == 1 and own_words(text) == said[0] and not _OTHER_SCRIPT.search(lowered)
    return Held(sum(weight[pair] for pair in said) / total, len(said), run, alone)


def share_held(text: str, words: str, weights: dict[str, float] | None = None) -> float | None:
    """The (weighted) share of the message's own words that `words` holds (`held_words`)."""
    held = held_words(text, words, weights)
    return None if held is None else held.share


# At most this many sections are added for the words of a follow-up (`sections_holding`): a word the guide repeats
# everywhere ("营业执照") should not make the answer the whole guide.
MAX_HOLDING_SECTIONS = 2


def sections_holding(text: str, guide: dict[str, Any], least: float = 0.0, shown: Collection[str] = ()) -> list[str]:
    """The headings of the guide's sections that hold the most of the message's own words, in guide order: "要空腹不"
    names no aspect, but the health-certificate guide says 空腹 in its 受理条件, which is what it asks about. None when
    the best share is below `least`, or more sections than MAX_HOLDING_SECTIONS hold as much (a word said everywhere
    points at no section); the sections `shown` (the asked aspect's, answered anyway) are not counted."""
    shares = {heading: share_held(text, str(section.get("text") or "").lower())
              for heading, section in (guide.get("sections") or {}).items() if heading not in shown}
    best = max((share for share in shares.values() if share), default=0.0)
    holding = [heading for heading, share in shares.items() if share and share >= max(best, least)]
    return holding if len(holding) <= MAX_HOLDING_SECTIONS else []
