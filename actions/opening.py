"""Reading a question with the matter the user described just before, when the assistant could not place
either alone ("我们加油站的加油机要检定了" refused, then "机器搬不动咋检"; "…开家小超市" then "要准备什么"): the two
read together, as a clerk would, instead of "您想了解哪个事项？" or "不在服务范围". The retriever decides on the joined
text with its own calibrated thresholds: only an answer, a confirm or a choice of guides is taken, never a weak match
it would refuse.
"""

from __future__ import annotations

import dataclasses
import re

from rasa_sdk import Tracker

from actions import policy
from actions.asked import asks_something
from actions.conversation import earlier_messages
from actions.dialogue import PEOPLE_OR_GRIEVANCE, describes_item, is_question, refers_back
from knowledge.retrieval.retriever import RetrievalResult, Retriever
from knowledge.settings import Settings

# The end of a long opening is read with the question (the embedder reads ~500 characters; the question must fit).
OPENING_MAX_CHARS = 120
# How many earlier messages the opening is looked for in: the matter and two item-free questions after it.
OPENING_LOOKBACK = 3
# "不是", "都不对": the user declined the guide the assistant asked about ("您问的是【X】吗？"): the matter is still the
# one described before it, but never X again.
_DENIAL = re.compile(r"^(不是|不对|都不是|都不对|不是的|不是这个|没有|不)[吧啊呀的哦]*[。！!.]*$")
Read = tuple[str, RetrievalResult, policy.Decision]


def wants_opening(turn: policy.Turn, decision: policy.Decision, intent_asks: bool) -> bool:
    """Whether a message with no guide in the conversation should be read with the matter described before it:
    - it asks an aspect but names no item ("要准备什么"), and alone it is not placed (which item? not found, refused);
    - it asks something of its own words ("机器搬不动咋检", "政府能帮多少") that alone the retriever cannot place or
      the NLU calls off-topic: alone it is no matter of ours, with the matter before it may be;
    - it points back ("这个要跟政府报备吗") and alone only a confirm or a choice of guides is found.
    A remark that asks nothing ("嗯嗯好的") is never read with anything (`intent_asks`: the NLU's aspect intent)."""
    if turn.current is not None or not (turn.asks or intent_asks or turn.question):
        return False
    if decision.kind in (policy.ASK_ITEM, policy.NOT_FOUND, policy.REFUSE):
        return not turn.describes_item or turn.question
    return decision.kind in (policy.CONFIRM_GUIDE, policy.CLARIFY) and refers_back(turn.text)


def with_opening(tracker: Tracker, retriever: Retriever, turn: policy.Turn, aspect: str, settings: Settings) -> Read | None:
    """The message read with the latest earlier message describing a matter, reached over item-free questions only
    ("…开家小超市" "要准备什么" "去哪申请") and over a declined confirm ("不是": the declined guide is not offered
    again); "转人工" or a remark that asks nothing ("谢谢") end the search. None when nothing is found together."""
    opening, declined = "", False
    for earlier in earlier_messages(tracker, settings.context_opening_seconds, limit=OPENING_LOOKBACK):
        if PEOPLE_OR_GRIEVANCE.search(earlier):
            break
        if describes_item(earlier):
            opening = earlier[-OPENING_MAX_CHARS:]
            break
        if _DENIAL.match(earlier.strip()):
            declined = True
            continue
        if not (asks_something(earlier) or is_question(earlier)):
            break
    if not opening:
        return None
    text = f"{opening}，{turn.text}"
    result = retriever.run(text, aspect)
    together = dataclasses.replace(turn, text=text, named=frozenset(retriever.mentioned(text)), names_item=True,
                                   describes_item=True, asks=True, follow_up=True)  # not the NLU's out_of_scope
    decision = policy.decide(together, result, policy.Thresholds.from_settings(settings))
    if declined:
        # The guide the opening alone was confirmed as, which the user said it is not.
        decision = _without(decision, retriever.run(opening).guide_id)
    if decision is not None and decision.kind in (policy.ANSWER_RESULT, policy.ANSWER_GUIDE, policy.CONFIRM_GUIDE,
                                                  policy.CLARIFY):
        return text, result, decision
    return None


def _without(decision: policy.Decision, declined: str | None) -> policy.Decision | None:
    """The decision with the declined guide left out: a choice among the others, or nothing."""
    if declined is None:
        return decision
    if decision.kind == policy.CLARIFY:
        near = [choice for choice in decision.near if choice.guide_id != declined]
        return dataclasses.replace(decision, near=near) if near else None
    return None if decision.guide_id == declined else decision
