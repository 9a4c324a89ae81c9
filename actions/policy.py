"""The answer policy: given what the message says, the conversation's guide and what the retriever
found, what should the assistant do? A pure function, so every rule is one row of a table test
(tests/actions/test_policy.py); `actions/answer.py` turns the decision into a reply.

Usage::

    turn = Turn(text="那要多久？", intent="ask_time_limit", aspect="time_limit", current="water-connection")
    decision = decide(turn, retriever.run(turn.text, turn.aspect), Thresholds.from_settings(settings))
    decision.kind  # -> ANSWER_GUIDE, decision.guide_id == "water-connection"
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.retrieval.retriever import AMBIGUOUS, ANSWER, CONFIRM, NONE, GuideCandidate, RetrievalResult, holds_item_words
from knowledge.settings import Settings
from knowledge.sources.aspects import GENERAL

OUT_OF_SCOPE_INTENT = "out_of_scope"
MAX_NEAR_MISSES = 3

# What to do (Decision.kind).
ANSWER_RESULT = "answer_result"  # answer what the retriever found (a guide, or a policy passage)
ANSWER_GUIDE = "answer_guide"  # answer Decision.guide_id: named by the user, or the conversation's guide
REFUSE = "refuse"  # politely out of scope
ASK_ITEM = "ask_item"  # "您想了解哪个事项的…？": an aspect without any item
CLARIFY = "clarify"  # several guides fit: let the user pick (Decision.choices)
CONFIRM_GUIDE = "confirm"  # "您问的是【X】的…吗？" (Decision.guide_id, others in Decision.near)
NOT_FOUND = "not_found"  # honest "not found", with the near misses if any


@dataclass(frozen=True)
class Turn:
    """What the policy needs to know of this message and the conversation."""

    text: str
    intent: str
    aspect: str
    current: str | None = None  # the conversation's guide, if it is still in the index
    named: frozenset[str] = frozenset()  # guides the message names by title or alias
    names_item: bool = False  # the wording names some item, one we have or not ("养犬登记…")
    follow_up: bool = False  # "那个体户呢？" in a conversation: elliptical, about the current guide
    hypothetical: bool = False  # "要是…呢", "如果…的话": a new circumstance of the same matter
    new_matter: bool = False  # "还有个事，…": the user says the conversation's guide is done with
    # The message asks whom to call or where to go at an office that has nothing to do with the conversation's guide
    # ("民政局在哪" after the tax registration: actions/word_holds.py `names_another_office`): read as a first message.
    other_office: bool = False
    asks: bool = True  # the wording asks some aspect of a procedure (actions/asked.py `asks_something`)
    aside: bool = False  # "对了，…", "我其实还想…": maybe another matter (left only if the retriever points elsewhere)
    describes_item: bool = False  # a matter of its own in several words (actions/dialogue.py `describes_item`)
    states_matter: bool = False  # tells the user's situation, asks nothing (actions/dialogue.py `states_a_matter`)
    # words beyond a follow-up's own ("过期了怎么办" has none: actions/dialogue.py `has_own_words`) that the answered guide
    # says (actions/word_holds.py `answered_says`: "镇上能交申请不" has 镇上, which no guide says)
    own_words: bool = True
    # The conversation's guide says most of the message's own words ("交强险也要买吗" after the farm-machinery guide
    # that names 交强险: actions/overlap.py `share_held`): the message is about the matter at hand, whatever the
    # NLU calls it or another guide scores.
    current_holds: bool = False
    # The guide the retriever answers names the message and the conversation's guide does not ("开发票怎么弄": 发票申领's
    # title; "补个营业执照要几天": 营业执照遗失补领's 补; actions/word_holds.py `names_more`): only then, or when the retriever is
    # as sure as a topic switch needs, do words the conversation's guide says too point away from it.
    answer_named: bool = True
    question: bool = True  # any sign of a question (actions/dialogue.py `is_question`)
    # Advice or an opinion in no procedure's words ("地暖和暖气片哪个取暖效果更好": actions/asked.py `asks_advice`).
    advice: bool = False
    # The NLU's probability that the message is off-topic (its out_of_scope confidence, 0 when not ranked).
    off_topic: float = 0.0

    @property
    def has_item(self) -> bool:
        return bool(self.named) or self.names_item

    @property
    def about_current(self) -> bool:
        """The conversation's guide holds the message's words and the user gives no sign of turning aside."""
        return self.current_holds and not self.aside and not self.new_matter

    @property
    def moves_on(self) -> bool:
        """The user may be describing another matter: a sign of turning aside, or a message with its own item
        words in none of the forms a follow-up takes (elliptical, hypothetical, a bare aspect, who applies)."""
        return self.aside or (self.describes_item and not self.follow_up and not self.hypothetical)


@dataclass(frozen=True)
class Thresholds:
    """The policy's settings (settings.yml); margins are in the index's score units (`result.spread`)."""

    out_of_scope_override_probability: float
    context_keep_margin: float
    context_switch_probability: float
    near_miss_probability: float
    near_miss_margin: float
    stay_unless_answered: bool = False
    # The retriever's own test of a real alternative (ambiguity_coverage_share): a close guide counts
    # only if it holds the question's item words about as well as the best one. 0 = any close guide.
    alternative_coverage_share: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(settings.out_of_scope_override_probability, settings.context_keep_margin,
                   settings.context_switch_probability, settings.near_miss_probability, settings.near_miss_margin,
                   settings.context_stay_unless_answered, settings.ambiguity_coverage_share)


@dataclass(frozen=True)
class Decision:
    kind: str
    guide_id: str | None = None
    near: list[GuideCandidate] = field(default_factory=list)
    # ANSWER_GUIDE: whether the retrieval speaks for this guide (its confidence, its matching FAQ),
    # or the guide is simply the conversation's and the message only asks another aspect of it.
    retrieved: bool = True


def decide(turn: Turn, result: RetrievalResult, limits: Thresholds) -> Decision:
    """The one place where the intent, the conversation and the retrieval decision meet."""
    current = None if turn.new_matter or turn.other_office else turn.current
    if turn.advice and current is None and not turn.named:
        # What is best or worth it is no procedure's business, however close the topic ("地暖和暖气片哪个取暖效果更好" is
        # near the district-heating guide; the retriever, the NLU too, can be sure of it): off-topic, with 12345 and a
        # person. In a conversation it may ask of the matter at hand ("那有没有必要" after a gas question): the rules below decide.
        return Decision(REFUSE)
    if current is not None or turn.named:
        # Words only another guide holds answer a first question (knowledge/retrieval/sole_words.py), but in a
        # conversation they are no reason to leave the matter at hand ("证能用几年" after the beekeeping filing has 能用,
        # which one other guide says), nor to answer another guide than the one the user names (`outcovered` reads an
        # answer as the retriever's certainty). There the decision model's own doubt stands.
        result = result.as_unsure()
    # NLU's out_of_scope is trusted unless the message names a guide, follows up, or the retriever,
    # calibrated on this knowledge base, is sure it is its business: the NLU never saw new guides' items.
    # A first message that asks no aspect of any procedure ("水库钓鲫鱼用什么饵料好") is not overridden: the
    # retriever finds something close to any wording, and its calibration on a few guides can be sure of the
    # wrong thing. In a conversation a short "最多能贷多少？" asks about the matter at hand: the retriever decides.
    # Several guides close and the retriever, calibrated on this knowledge base, finds the message its business
    # ("家里装修拆了两面墙，碎砖头怎么处理，要审批吗"): asking which one costs one reply, refusing loses the user.
    # A first message that only tells the user's situation ("我在小区门口租了个门面，想卖熟食") asks nothing either,
    # but it names the matter: offering the guide the retriever finds its business beats "不在服务范围".
    # For a first message (or one that starts a new matter, "还有个事，…") both models guess whether it is our business,
    # each in its own calibrated probability: the retriever overrides the NLU only when it is the surer of the two
    # ("昨晚的马拉松比赛冠军跑了多少时间": the NLU is sure it is off-topic, 0.999; the retriever finds the sports-event
    # filing's 多少时间 only 0.72 likely ours). A fixed bar would trust one model's scale; the comparison needs no
    # constant fitted to any knowledge base.
    ours = (result.decision in (ANSWER, CONFIRM, AMBIGUOUS) and result.in_scope >= limits.out_of_scope_override_probability
            and (turn.asks or current is not None or turn.states_matter)
            and (current is not None or result.in_scope > turn.off_topic))
    # In a conversation, words the conversation's guide says are its business ("要空腹不" after the health
    # certificate), though the NLU, which never saw the guide, calls them off-topic: in a question, not a remark.
    ours = ours or (current is not None and turn.about_current and (turn.asks or turn.question))
    if turn.intent == OUT_OF_SCOPE_INTENT and not turn.named and not turn.follow_up and not ours:
        return Decision(REFUSE)
    if (len(turn.named) == 1 and (result.decision != ANSWER or result.guide_id not in turn.named)
            and not outcovered(result, next(iter(turn.named)), limits.alternative_coverage_share)):
        # The user named the item: answer it, even if another guide scores a little higher.
        return Decision(ANSWER_GUIDE, next(iter(turn.named)))
    if current and not turn.named and not turns_elsewhere(turn, result) and current_is_close(
            result, current, limits.context_keep_margin * result.spread, limits.alternative_coverage_share,
            words_count=turn.moves_on):
        # The conversation's guide is (nearly) as good as the best: stay with it ("燃气开户要多久"
        # after a gas question is not suddenly about bank accounts).
        return Decision(ANSWER_GUIDE, current)
    if current and limits.stay_unless_answered and not turn.named and stays(turn, result, limits):
        return Decision(ANSWER_GUIDE, current, retrieved=False)
    if result.decision == ANSWER and (not current or result.guide_id == current or result.guide is None or turn.has_item
                                      or result.confidence >= limits.context_switch_probability):
        return Decision(ANSWER_RESULT, result.guide_id)
    if current and (not turn.has_item or (result.decision == NONE and turn.aspect != GENERAL)):
        # A follow-up without its own item ("那要多久？"), or asking an aspect in words that match no
        # other guide ("具体得走哪几步"): the same guide, the newly asked aspect.
        return Decision(ANSWER_GUIDE, current, retrieved=False)
    if not turn.has_item:
        # "那要多久？" with nothing in context: any guide would be a guess.
        return Decision(ASK_ITEM)
    if result.decision == AMBIGUOUS:
        return Decision(CLARIFY, near=list(result.choices))
    if result.decision == ANSWER:
        return Decision(ANSWER_RESULT, result.guide_id)
    if result.decision == CONFIRM and result.guide is not None:
        # 不是 offers the guides close behind it (actions/feedback.py): the confirm already holds the message the
        # knowledge base's business, so how close they score decides, not how sure the best guess is.
        return Decision(CONFIRM_GUIDE, result.guide_id, near_misses(result, limits, in_scope=True, besides=result.guide_id))
    near = near_misses(result, limits)
    if turn.intent == OUT_OF_SCOPE_INTENT and not near:
        return Decision(REFUSE)
    return Decision(NOT_FOUND, near=near)


def turns_elsewhere(turn: Turn, result: RetrievalResult) -> bool:
    """The user turns aside ("还有我儿子在老家读四年级，想接过来上学…", "对了，…") describing a matter, and the retriever's
    best guide, answered or confirmed, is another than the conversation's: being close to it is then no reason to stay
    ("人才落户" scores near "转学" on 老家 and the district's name). A wrong guess costs one 不是; staying answers the
    matter the user just set aside. Words the conversation's guide holds better than any other (`Turn.current_holds`)
    still keep it close."""
    return (turn.aside and turn.describes_item and not turn.current_holds and result.decision in (ANSWER, CONFIRM)
            and result.guide_id is not None and result.guide_id != turn.current)


def stays(turn: Turn, result: RetrievalResult, limits: Thresholds) -> bool:
    """With a guide in context and no other guide named: whether the message is still about it.

    Leaving needs the retriever to be sure of another matter, in its own calibrated terms: it answers
    another guide, or it hesitates between guides each of which it would answer alone ("注销公司" after
    a gas question: both 注销 guides are sure). For a message in a follow-up's form, or naming no item,
    unsure is no reason to leave: a confirm, nothing found, or a hesitation between guides none of which it
    would answer ("到哪儿去申请", "收钱吗" match every guide a little); a message with its own item words
    (`Turn.moves_on`) follows a confirm to the other guide. A message with no words but a follow-up's own
    ("过期了怎么办": the ID-card guide is sure of 过期; "要带什么": a guide whose sample question says 带 is sure
    of it; "开发票怎么弄" has its own 开发票 and leaves), or whose own words the answered guide does not say
    ("镇上能交申请不"), stays however sure the retriever is of one or several other guides: that certainty rests on
    the way of asking, nothing in the message names another matter (`Turn.own_words`). A message
    that only adds a circumstance ("要是房子是租的呢") stays even when another guide is answered, unless the
    retriever is as sure as a topic switch needs (context_switch_probability). Words the conversation's guide says itself
    (`Turn.about_current`) keep it against a confirm or nothing found, and against another guide answered below
    context_switch_probability whose names do not name the message (`Turn.answer_named`: "公安那边要带啥" after the hotel
    permit, no name says 公安); never against a guide answered whose names do, or a hesitation between guides the
    retriever would each answer: "补个营业执照要几天" after company setup says its words, and is the licence-reissue
    guide's (补); "个体户怎么注销" after the registration, the deregistration guides'."""
    if (turn.moves_on and turn.has_item
            and (result.decision == AMBIGUOUS or (result.decision == CONFIRM and not turn.about_current))):
        # "我其实还想自己开个小店，政府有没有贴息的借款", or with no sign at all "住建局管保障房的窗口在几楼" after an
        # ID-card question: the message describes its own item in none of a follow-up's forms, and the retriever,
        # not sure enough to answer, points at other guides (the conversation's is not close, current_is_close):
        # ask about those rather than answer the old matter again (a wrong guess costs one 不是).
        return False
    if result.decision in (CONFIRM, NONE) or not turn.own_words:
        return True
    if (result.decision == ANSWER and turn.about_current and not turn.answer_named
            and result.confidence < limits.context_switch_probability):
        return True
    if result.decision == AMBIGUOUS:
        return turn.hypothetical or not result.sure
    return turn.hypothetical and result.confidence < limits.context_switch_probability


def outcovered(result: RetrievalResult, named: str, coverage_share: float) -> bool:
    """Whether the retriever answers another guide that holds the question's item words better than the named one
    does (the named guide, found among the candidates, covers less than `coverage_share` of what the answered one
    covers): "我个人能不能开网吧，还是非得注册公司" names 注册公司 (company setup) as the alternative it fears, the
    question is about the internet-café licence the retriever answers. A named guide the retriever did not find
    at all keeps its name's say."""
    if result.decision != ANSWER or not result.candidates or result.candidates[0].guide_id == named:
        return False
    found = next((c for c in result.candidates if c.guide_id == named), None)
    return found is not None and not holds_item_words(found.best, result.candidates[0].best, coverage_share)


def near_misses(result: RetrievalResult, limits: Thresholds, *, in_scope: bool = False,
                besides: str | None = None) -> list[GuideCandidate]:
    """Guides close to the best one, worth offering when we cannot answer (none if nothing was close): only when the
    best guess is somewhat probable (a "not found" lists no random guides for chat), unless the retriever holds the
    message in scope already (`in_scope`: a confirm, whose 不是 leaves the next guesses to offer; or a question asking
    an aspect of a matter told before, whose "哪个事项？" offers them as examples, actions/opening.py). `besides`: the guide
    a confirm asks about, which its 不是 leaves out: up to MAX_NEAR_MISSES others are offered."""
    if (result.confidence < limits.near_miss_probability and not in_scope) or not result.candidates:
        return []
    best = result.candidates[0].score
    margin = limits.near_miss_margin * result.spread
    return [c for c in result.candidates if c.guide_id != besides and best - c.score <= margin][:MAX_NEAR_MISSES]


def current_is_close(result: RetrievalResult, current: str, margin: float, coverage_share: float = 0.0,
                     words_count: bool = False) -> bool:
    """Whether the conversation's guide is among the answers and within `margin` of the best; when the
    retriever answers another guide outright, also holding the question's item words about as well as
    it (`coverage_share` of its BM25 coverage): "政府有没有给贴息的借款" while talking about 失业保险金 is
    close to it in the embedding, but its words are the loan guide's alone. With `words_count` (the user
    turns aside: "我其实还想…") the words decide when the retriever only confirms another guide, too."""
    if result.decision == AMBIGUOUS:
        return current in {choice.guide_id for choice in result.choices}
    if result.decision not in (ANSWER, CONFIRM) or result.guide is None or not result.candidates:
        return False
    top = result.candidates[0]
    share = coverage_share if result.decision == ANSWER or words_count else 0.0
    return any(c.guide_id == current and top.score - c.score <= margin and holds_item_words(c.best, top.best, share)
               for c in result.candidates)
