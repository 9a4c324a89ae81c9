"""Reading a question with the matter the user described just before, when the assistant could not place
either alone ("我们加油站的加油机要检定了" refused, then "机器搬不动咋检"; "…开家小超市" then "要准备什么"): the two
read together, as a clerk would, instead of "您想了解哪个事项？" or "不在服务范围". The retriever decides on the joined
text with its own calibrated thresholds: only an answer, a confirm or a choice of guides is taken, never a weak match
it would refuse. A question with words of its own must moreover only add to the matter: the joined read stays on the
guide the matter alone points to, and is no less surely the knowledge base's business (`_adds_to`), so that off-topic
chat after an unplaced message ("…合伙开个公司" then "今天天气怎么样") is refused as it would be alone.
"""

from __future__ import annotations

import dataclasses
import re

from rasa_sdk import Tracker

from actions import policy
from actions.asked import asks_something
from actions.conversation import bot_text_before, earlier_events
from actions.dialogue import (
    ASKED_NOT_COUNTED,
    PEOPLE_OR_GRIEVANCE,
    TO_THE_ASSISTANT,
    describes_item,
    has_own_words,
    is_question,
    refers_back,
)
from actions.replies import CONFIRM_OPENER
from knowledge.retrieval.retriever import NONE, GuideCandidate, RetrievalResult, Retriever
from knowledge.settings import Settings
from protocol import DENY

# The end of a long opening is read with the question (the embedder reads ~500 characters; the question must fit).
OPENING_MAX_CHARS = 120
# How many earlier messages the opening is looked for in: the matter, then up to two item-free questions or a
# "不是" to a confirm after it.
OPENING_LOOKBACK = 3
# "不是", "都不对": the user declined the guide the assistant asked about ("您问的是【X】吗？"): the matter is still the
# one described before it, but never X again. Only after a confirm (`_answers_confirm`): "没有" is also an answer.
_DENIAL = re.compile(r"^(不是|不对|都不是|都不对|不是的|不是这个|没有|不)[吧啊呀的哦]*[。！!.]*$")
# What a joined read may be taken as: an answer, a confirm or a choice of guides, never a weak match it would refuse.
_PLACED = (policy.ANSWER_RESULT, policy.ANSWER_GUIDE, policy.CONFIRM_GUIDE, policy.CLARIFY)


@dataclasses.dataclass(frozen=True)
class Joined:
    """A message read with the matter described before it (`with_opening`)."""

    text: str  # the matter, then the message
    result: RetrievalResult
    decision: policy.Decision | None  # None: only guides the user declined were found
    declined: frozenset[str]  # guides the user said 不是 to on the way back to the matter
    asks_aspect: bool = False  # the message asks an aspect ("要准备什么", "具体咋弄"), naming no item of its own

    @property
    def placed(self) -> bool:
        """Whether the two read together are answered, confirmed or offered as a choice."""
        return self.decision is not None and self.decision.kind in _PLACED

    def guesses(self, alone: policy.Decision, limits: policy.Thresholds) -> list[GuideCandidate]:
        """The guides the two read together come closest to (not placed: too weak to confirm), none declined: the
        examples offered to pick when a message asking an aspect ("要准备什么", "具体咋弄") would be asked "哪个事项？"
        or told "没有找到" (`alone`: its decision read alone, with no guide close enough to list) after a matter told
        before ("…松毛虫很厉害，想烧一下"). Examples, not a claim: chit-chat told before gets guides no closer than
        the knowledge base's general examples (a probe on the development sets found the joined reads of situations
        and of chat at the same confidence, 0.01-0.2), but a situation gets its guide one click away."""
        if not self.asks_aspect or not (alone.kind == policy.ASK_ITEM or (alone.kind == policy.NOT_FOUND and not alone.near)):
            return []
        return [c for c in policy.near_misses(self.result, limits, in_scope=True) if c.guide_id not in self.declined]


# "太旧了咋整", "机器搬不动咋检", "大家出钱比例咋写", "政府能帮多少": what to do, or how much, the thing itself left to the
# situation told before it (not "今天天气怎么样", which asks how something is, nor "去云南玩一周怎么安排路线", whose verb
# has an object of its own). How much only of what a procedure gives or takes (帮, 补, 贷, 退, 交…).
_WHAT_TO_DO = re.compile(r"(咋|怎么|如何)(?!样)[^\s，,。；;？?！!、]{1,2}[?？。！!呢啊呀吧]*$"
                         r"|(拿|领|补|发|给|赔|报|贴|助|帮|贷|借|退|减|免|扣|罚|交|缴|收|花)(个|了|得|点)?多少[?？。！!呢啊呀吧]*$")

# How much something sells, earns or is worth ("一斤能卖多少", "一个月能赚多少"): a market's price or a business's
# takings, which no guide says. Any other amount ("能报销多少", "押金多少", "首付要多少") may be a procedure's.
_MARKET_HOW_MUCH = re.compile(r"(卖|赚|挣|值|售|买|涨|跌|价)[^，,。；;？?！!]{0,3}多少[?？。！!呢啊呀吧]*$")


def wants_opening(turn: policy.Turn, decision: policy.Decision, intent_asks: bool, *, weak_choice: bool = False) -> bool:
    """Whether a message with no guide in the conversation should be read with the matter described before it:
    - it asks an aspect but names no item ("要准备什么"), and alone it is not placed (which item? not found, refused);
    - it asks no aspect but what to do or how much, in words of its own, the thing itself left out ("机器搬不动咋检",
      "太旧了咋整", "政府能帮多少": `_WHAT_TO_DO`), and alone it is not placed: with the situation told before it, it
      may be (`with_opening` then checks it only adds to that situation). A question of its own item ("股票开户怎么弄",
      "申根签证需要存款证明吗") is its own matter;
    - it points back ("这个要跟政府报备吗") and alone only a confirm or a choice of guides is found;
    - alone it gets a choice of guides none of which the retriever finds the knowledge base's business (`weak_choice`: in scope
      below out_of_scope_override_probability; "一个月能拿多少" after "我们几个人想合伙开个公司" lists mortgage, bank
      account…): a guess, no more placed than "not found", so it is read like the first case.
    Never a remark that asks nothing ("嗯嗯好的"), a bare "？？？", a complaint or words to the assistant itself
    ("你到底懂不懂啊？") that asks no aspect. `intent_asks`: the NLU's intent is an aspect's."""
    if turn.current is not None:
        return False
    if not turn.asks and (PEOPLE_OR_GRIEVANCE.search(turn.text) or TO_THE_ASSISTANT.search(turn.text)):
        # A complaint or words to the assistant that ask no aspect; "网上办太慢了，能去现场吗", "是找哪个部门反映"
        # ask one of the matter told before.
        return False
    if _MARKET_HOW_MUCH.search(turn.text.strip()) and not turn.asks:
        # "一斤能卖多少" after "公司账上没钱了": a price or takings, whatever aspect the NLU hears in it (ask_fee), is no
        # question about the situation told before.
        return False
    if decision.kind == policy.CONFIRM_GUIDE or (decision.kind == policy.CLARIFY and not weak_choice):
        return refers_back(turn.text) and (turn.asks or intent_asks or turn.question)
    if decision.kind not in (policy.ASK_ITEM, policy.NOT_FOUND, policy.REFUSE, policy.CLARIFY):
        return False
    if _asks_aspect(turn, intent_asks):
        return True
    return _adds_words(turn) or _goes_on(turn)


# Sounds and particles, no word: "？？？", "😂", "嗯？" say nothing an NLU aspect intent could be read from.
_INTERJECTIONS = frozenset("嗯啊哦噢呃唉哎哈呀嘿喂额诶欸呢吗么吧")


def _asks_aspect(turn: policy.Turn, intent_asks: bool) -> bool:
    """Type (a), as at base: the message asks an aspect by its wording, or by its NLU intent if it has a word at all
    (not "？？？", "嗯？"), and names no item."""
    worded = any("\u4e00" <= char <= "\u9fff" and char not in _INTERJECTIONS for char in turn.text)
    return (turn.asks or (intent_asks and worded)) and not turn.describes_item


# "那要是在茶园里烧杂草呢", "那五月份呢": a message that by its form goes on from the one before it ("那…呢", "那要是…").
_GOES_ON = re.compile(r"^那(么)?(要是|如果|假如|万一|若是|[^，,。；;？?！!]{1,12}呢[?？。！!]*$)")


def _goes_on(turn: policy.Turn) -> bool:
    """A message in the form of a follow-up ("那要是在茶园里烧杂草呢", "那五月份呢"), with words of its own, and no guide in
    the conversation: the question told before it was refused or not found, and this one only varies it."""
    return has_own_words(turn.text) and bool(_GOES_ON.match(turn.text.strip()))


def _asked(message: str) -> bool:
    """Whether the message shows a sign of a question (not `asks_something`: "…前几天着火了" reads as a time)."""
    return bool(ASKED_NOT_COUNTED.search(message))


def _adds_words(turn: policy.Turn) -> bool:
    """A question asking no aspect, only what to do or how much about the situation told before it (`_WHAT_TO_DO`)."""
    return not turn.asks and has_own_words(turn.text) and bool(_WHAT_TO_DO.search(turn.text.strip()))


def with_opening(tracker: Tracker, retriever: Retriever, turn: policy.Turn, aspect: str, settings: Settings, *,
                 intent_asks: bool = False) -> Joined | None:
    """The message read with the latest earlier message describing a matter, reached over item-free questions only
    ("…开家小超市" "要准备什么" "去哪申请") and over a "不是" (typed or the button) to a confirm (the declined guide,
    read from the confirm itself, is not offered again); "转人工", a remark that asks nothing ("谢谢") or an
    off-topic question ("今天天气怎么样") end the search. A message asking an aspect ("要准备什么", or by its NLU
    intent) is read as at base; a question in words of its own (`_adds_words`) is read only with a situation told, not
    asked ("我们加油站的加油机要检定了"), and only if it adds to it (`_adds_to`). None when there is no such matter to
    read it with; the caller takes the read when it is `placed`."""
    opening, declined = "", set()
    runs: dict[str, RetrievalResult] = {}

    def alone(message: str) -> RetrievalResult:
        if message not in runs:
            runs[message] = retriever.run(message)
        return runs[message]

    for index, earlier in earlier_events(tracker, settings.context_opening_seconds, limit=OPENING_LOOKBACK):
        if earlier.startswith("/"):  # a button: "不是" to a confirm declines its guide; any other is passed over
            if earlier.startswith(DENY):
                declined.update(_confirmed_guides(tracker, retriever, index))
            continue
        if PEOPLE_OR_GRIEVANCE.search(earlier) or TO_THE_ASSISTANT.search(earlier):
            break
        if describes_item(earlier):
            if is_question(earlier) and not asks_something(earlier) and alone(earlier).decision == NONE:
                break  # off-topic chat ("今天天气怎么样"): no matter for a later question to be read with
            opening = earlier[-OPENING_MAX_CHARS:]
            break
        if _DENIAL.match(earlier) and _follows_confirm(tracker, index):
            declined.update(_confirmed_guides(tracker, retriever, index))
            continue
        if not (asks_something(earlier) or is_question(earlier)):
            break
    if not opening:
        return None
    text = f"{opening}，{turn.text}"
    result = retriever.run(text, aspect)
    if (not _asks_aspect(turn, intent_asks) and _adds_words(turn) and not refers_back(turn.text)
            and (_asked(opening) or not _adds_to(alone(opening), result))):
        return None
    if not _asks_aspect(turn, intent_asks) and not _adds_words(turn) and _goes_on(turn) and not _adds_to(alone(opening), result):
        # "那要是在茶园里烧杂草呢" after "现在十一月了，山脚下烧田埂草行不行": a question may go on from a question, but
        # only as a variation of the same matter ("北京到上海高铁多久" then "那到杭州呢" dilutes nothing of ours)
        return None
    together = dataclasses.replace(turn, text=text, named=frozenset(retriever.mentioned(text)), names_item=True,
                                   describes_item=True, asks=True, follow_up=True)  # not the NLU's out_of_scope
    decision: policy.Decision | None = policy.decide(together, result, policy.Thresholds.from_settings(settings))
    if declined and decision is not None:
        decision = _without(decision, declined)
    return Joined(text, result, decision, frozenset(declined), asks_aspect=_asks_aspect(turn, intent_asks))


def _adds_to(alone: RetrievalResult, joined: RetrievalResult) -> bool:
    """Whether the question only adds to the matter: the joined read's best guide is the one the matter alone points
    to, and the joined text is no less surely the knowledge base's business ("…电梯用了好多年了" then "太旧了咋整";
    not "…电梯用了好多年了" then "哪个牌子的电梯质量好", which dilutes the matter's words)."""
    best_alone = alone.candidates[0].guide_id if alone.candidates else alone.guide_id
    best_joined = joined.candidates[0].guide_id if joined.candidates else joined.guide_id
    return best_alone is not None and best_alone == best_joined and joined.in_scope >= alone.in_scope


def _follows_confirm(tracker: Tracker, index: int) -> bool:
    """Whether the assistant's last words before this user message asked to confirm a guide ("您问的是【X】吗？")."""
    return bot_text_before(tracker, index).startswith(CONFIRM_OPENER)


def _confirmed_guides(tracker: Tracker, retriever: Retriever, index: int) -> set[str]:
    """The guide the confirm before the user event at `index` asked about, by the title it showed ("您问的是【X】…");
    empty when the assistant's last words were no confirm or the guide is no longer in the index."""
    said = bot_text_before(tracker, index)
    if not said.startswith(CONFIRM_OPENER) or "】" not in said:
        return set()
    title = said[len(CONFIRM_OPENER):said.index("】")]
    named = retriever.mentioned(title)
    return {guide_id for guide_id in named if (retriever.guide(guide_id) or {}).get("title") == title} or named


def _without(decision: policy.Decision, declined: set[str]) -> policy.Decision | None:
    """The decision with the declined guides left out, from the guides offered beside it too: a choice among the
    others, or nothing."""
    near = [choice for choice in decision.near if choice.guide_id not in declined]
    if decision.kind == policy.CLARIFY:
        return dataclasses.replace(decision, near=near) if near else None
    return None if decision.guide_id in declined else dataclasses.replace(decision, near=near)
