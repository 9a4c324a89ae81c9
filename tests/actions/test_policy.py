"""The answer policy as a table: one row per rule of `actions.policy.decide` (no index, no model)."""

from __future__ import annotations

from typing import Any

import pytest

from actions.policy import (
    ANSWER_GUIDE,
    ANSWER_RESULT,
    ASK_ITEM,
    CLARIFY,
    CONFIRM_GUIDE,
    NOT_FOUND,
    REFUSE,
    Thresholds,
    Turn,
    decide,
    near_misses,
)
from knowledge.index.chunks import Chunk
from knowledge.retrieval.retriever import AMBIGUOUS, ANSWER, CONFIRM, NONE, GuideCandidate, Hit, RetrievalResult

pytestmark = pytest.mark.unit

LIMITS = Thresholds(out_of_scope_override_probability=0.5, context_keep_margin=0.25, context_switch_probability=0.9,
                    near_miss_probability=0.1, near_miss_margin=0.4)


def result(decision: str, best: str | None = "gas", *, confidence: float = 0.8, in_scope: float = 0.9,
           scores: dict[str, float] | None = None, sure: bool | None = None) -> RetrievalResult:
    """A retrieval result by hand: the best guide, and candidates with scores (spread 0.1); `sure`
    (the best guide clears the answering thresholds) defaults to whether it is an answer."""
    scores = scores or ({best: 0.80} if best else {})
    candidates = [GuideCandidate(guide_id, guide_id, score) for guide_id, score in scores.items()]
    guide = {"id": best, "title": best} if best and decision in (ANSWER, CONFIRM) else None
    choices = candidates[:2] if decision == AMBIGUOUS else []
    return RetrievalResult("q", decision, "general", confidence, in_scope, decision == ANSWER if sure is None else sure,
                           guide=guide, candidates=candidates, choices=choices, spread=0.1)


def turn(intent: str = "ask_fee", *, current: str | None = None, named: tuple[str, ...] = (), item: bool = True,
         follow_up: bool = False, aspect: str = "fee") -> Turn:
    return Turn(text="…", intent=intent, aspect=aspect, current=current, named=frozenset(named), names_item=item, follow_up=follow_up,
                describes_item=item)


ROWS: list[tuple[str, Turn, RetrievalResult, str, str | None]] = [
    ("a sure answer is given", turn(), result(ANSWER), ANSWER_RESULT, "gas"),
    ("NLU out_of_scope and a weak retrieval: refuse", turn("out_of_scope"), result(NONE, None, confidence=0.05, in_scope=0.1),
     REFUSE, None),
    ("NLU out_of_scope but the index is sure it is ours: answer", turn("out_of_scope"), result(ANSWER, in_scope=0.9),
     ANSWER_RESULT, "gas"),
    ("NLU out_of_scope but an elliptical follow-up: stay on the guide", turn("out_of_scope", current="water", follow_up=True,
     item=False), result(NONE, None, confidence=0.05, in_scope=0.1), ANSWER_GUIDE, "water"),
    ("a named guide wins over a slightly better other one", turn(named=("water",)), result(ANSWER, "gas"), ANSWER_GUIDE, "water"),
    ("follow-up without an item stays on the conversation's guide", turn(current="water", item=False),
     result(ANSWER, "gas", confidence=0.6, scores={"gas": 0.8, "bank": 0.7}), ANSWER_GUIDE, "water"),
    ("the conversation's guide close to the best keeps the conversation", turn(current="water"),
     result(CONFIRM, "gas", scores={"gas": 0.80, "water": 0.79}), ANSWER_GUIDE, "water"),
    ("a new item answered with high confidence switches guide", turn(current="water"),
     result(ANSWER, "gas", confidence=0.95, scores={"gas": 0.9, "water": 0.5}), ANSWER_RESULT, "gas"),
    ("an aspect with no item and no context asks which item", turn(item=False), result(NONE, None, confidence=0.05),
     ASK_ITEM, None),
    ("two guides equally good: ask which", turn(), result(AMBIGUOUS, None, scores={"gas": 0.8, "bank": 0.79}), CLARIFY, None),
    ("the confirm band asks 您问的是…吗", turn(), result(CONFIRM, "gas", confidence=0.4), CONFIRM_GUIDE, "gas"),
    ("nothing matches: not found", turn(), result(NONE, None, confidence=0.02), NOT_FOUND, None),
    ("nothing matches and NLU says off-topic: refuse", turn("out_of_scope"), result(NONE, None, confidence=0.02, in_scope=0.2),
     REFUSE, None),
    ("NLU out_of_scope, several guides close and the index finds it its business: ask which",
     turn("out_of_scope"), result(AMBIGUOUS, None, in_scope=0.7, scores={"gas": 0.8, "bank": 0.79}), CLARIFY, None),
    ("NLU out_of_scope, several guides close but the index doubts it is its business: refuse",
     turn("out_of_scope"), result(AMBIGUOUS, None, in_scope=0.3, scores={"gas": 0.8, "bank": 0.79}), REFUSE, None),
]


@pytest.mark.parametrize(("why", "this_turn", "found", "kind", "guide_id"), ROWS, ids=[row[0] for row in ROWS])
def test_decide(why: str, this_turn: Turn, found: RetrievalResult, kind: str, guide_id: str | None) -> None:
    decision = decide(this_turn, found, LIMITS)
    assert (decision.kind, decision.guide_id) == (kind, guide_id), why


def test_a_follow_up_answer_does_not_claim_the_retrievals_confidence() -> None:
    """"那要多久？" answers the conversation's guide because it is the conversation's, not because
    the retriever found it: the reply must not borrow another guide's confidence or FAQ."""
    decision = decide(turn(current="water", item=False), result(NONE, None, confidence=0.05), LIMITS)
    assert decision.kind == ANSWER_GUIDE and not decision.retrieved


def test_confirm_offers_the_other_near_guides_but_not_itself() -> None:
    found = result(CONFIRM, "gas", confidence=0.4, scores={"gas": 0.80, "water": 0.78, "bank": 0.3})
    decision = decide(turn(), found, LIMITS)
    assert [c.guide_id for c in decision.near] == ["water"]


@pytest.mark.parametrize(("confidence", "expected"), [(0.05, []), (0.5, ["gas", "water"])])
def test_near_misses_need_some_confidence_and_a_close_score(confidence: float, expected: list[str]) -> None:
    found: dict[str, Any] = {"gas": 0.80, "water": 0.77, "bank": 0.2}
    assert [c.guide_id for c in near_misses(result(NONE, None, confidence=confidence, scores=found), LIMITS)] == expected


def test_a_confirm_keeps_the_close_guides_behind_it_for_a_no_however_unsure() -> None:
    """"您问的是【X】吗？" → 不是 offers the guides that scored close behind X, even when X itself was a weak guess."""
    found = result(CONFIRM, "gas", confidence=0.03, in_scope=0.6, scores={"gas": 0.80, "water": 0.78, "bank": 0.2})
    decision = decide(turn(), found, LIMITS)
    assert (decision.kind, decision.guide_id) == (CONFIRM_GUIDE, "gas")
    assert [c.guide_id for c in decision.near] == ["water"]
    assert near_misses(found, LIMITS) == []  # a "not found" at that confidence lists nothing


STAYING = Thresholds(**{**LIMITS.__dict__, "stay_unless_answered": True})


@pytest.mark.parametrize(("found", "kind", "guide_id"), [
    (result(AMBIGUOUS, None, scores={"gas": 0.8, "bank": 0.79}, sure=True), CLARIFY, None),  # "注销公司" after gas: ask which
    (result(AMBIGUOUS, None, confidence=0.1, scores={"gas": 0.7, "bank": 0.69}), ANSWER_GUIDE, "water"),  # "收钱吗": stay
    (result(CONFIRM, "gas", confidence=0.4), ANSWER_GUIDE, "water"),
    (result(NONE, None, confidence=0.02), ANSWER_GUIDE, "water"),
    (result(ANSWER, "gas", confidence=0.95, scores={"gas": 0.9, "water": 0.5}), ANSWER_RESULT, "gas"),  # a sure answer moves on
])
def test_with_a_guide_in_context_a_follow_up_stays_unless_another_guide_is_answered(found: RetrievalResult, kind: str,
                                                                                    guide_id: str) -> None:
    """"要是在老家火化的呢，去哪儿申请" carries words that look like an item; with stay_unless_answered it
    stays with the conversation's guide unless the retriever answers another one (or the user names it)."""
    decision = decide(turn(current="water", item=True, follow_up=True), found, STAYING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)
    assert decide(turn(current="water", named=("gas",)), found, STAYING).guide_id == "gas"


def test_a_new_circumstance_stays_even_when_other_guides_are_close() -> None:
    """"要是车子换过大电瓶的呢" after an e-bike question: other guides may score alike, it is still the e-bike."""
    hypothetical = Turn(text="…", intent="ask_conditions", aspect="conditions", current="water", names_item=True, hypothetical=True)
    found = result(AMBIGUOUS, None, scores={"gas": 0.8, "bank": 0.79})
    assert (decide(hypothetical, found, STAYING).kind, decide(hypothetical, found, STAYING).guide_id) == (ANSWER_GUIDE, "water")


@pytest.mark.parametrize(("confidence", "own_words", "kind", "guide_id"), [
    (0.5, True, ANSWER_GUIDE, "water"),
    (0.95, True, ANSWER_RESULT, "gas"),  # "要是房子是租别人的呢": words of its own, and the retriever switch-sure
    (0.95, False, ANSWER_GUIDE, "water"),  # "要是过期了呢": nothing of its own, however sure
])
def test_a_new_circumstance_leaves_only_for_a_switch_sure_answer(confidence: float, own_words: bool, kind: str,
                                                                 guide_id: str) -> None:
    """"要是房子是租别人的呢" after a clinic question: 公共租赁住房 answered at 0.5 is no reason to leave."""
    hypothetical = Turn(text="…", intent="ask_conditions", aspect="conditions", current="water", names_item=True, hypothetical=True,
                        own_words=own_words)
    decision = decide(hypothetical, result(ANSWER, "gas", confidence=confidence, scores={"gas": 0.9, "water": 0.5}), STAYING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)


def test_a_follow_up_with_no_words_of_its_own_stays_when_several_guides_are_each_sure() -> None:
    """"可以代办吗" after a water question: guides each sure of 代办 are no other matter the user named."""
    follow_up = Turn(text="…", intent="ask_process", aspect="process", current="water", names_item=True, own_words=False)
    found = result(AMBIGUOUS, None, scores={"gas": 0.8, "bank": 0.79}, sure=True)
    assert (decide(follow_up, found, STAYING).kind, decide(follow_up, found, STAYING).guide_id) == (ANSWER_GUIDE, "water")


def test_a_new_matter_leaves_the_conversations_guide_even_when_it_is_close() -> None:
    """"还有个事，村口的老石桥想修…" after a homestead question: the user closed the matter; confirm the new one."""
    found = result(CONFIRM, "gas", confidence=0.3, scores={"gas": 0.80, "water": 0.79})
    staying = Turn(text="…", intent="ask_contact", aspect="contact", current="water", names_item=True)
    assert decide(staying, found, STAYING).guide_id == "water"
    leaving = Turn(text="…", intent="ask_contact", aspect="contact", current="water", names_item=True, new_matter=True)
    assert (decide(leaving, found, STAYING).kind, decide(leaving, found, STAYING).guide_id) == (CONFIRM_GUIDE, "gas")


def test_an_office_with_nothing_to_do_with_the_matter_at_hand_is_read_as_a_first_message() -> None:
    """"民政局在哪" after the tax registration: a follow-up in form, but about another office (other_office)."""
    found = result(NONE, None, confidence=0.05, scores={"gas": 0.61, "water": 0.60})
    asked = Turn(text="…", intent="ask_location", aspect="location", current="water", names_item=True, follow_up=True)
    assert decide(asked, found, STAYING).guide_id == "water"
    elsewhere = Turn(text="…", intent="ask_location", aspect="location", current="water", names_item=True, follow_up=True,
                     other_office=True)
    assert decide(elsewhere, found, STAYING).kind == NOT_FOUND


def test_words_only_another_guide_holds_answer_a_first_question_but_do_not_leave_the_matter_at_hand() -> None:
    """An answer on sole words (knowledge/retrieval/sole_words.py; the model alone would confirm): "证能用几年" after the
    beekeeping filing has 能用, which only the fry-production guide says. A first question takes the answer; in a
    conversation the model's doubt stands, and a follow-up stays; a new matter the user opens takes it again."""
    found = result(ANSWER, "gas", confidence=0.2, scores={"gas": 0.8, "bank": 0.75})
    found.sole_share = 0.4
    first = decide(turn(), found, STAYING)
    assert (first.kind, first.guide_id) == (ANSWER_RESULT, "gas")
    follow_up = decide(turn(current="water", item=True, follow_up=True), found, STAYING)
    assert (follow_up.kind, follow_up.guide_id) == (ANSWER_GUIDE, "water")
    opened = Turn(text="…", intent="ask_fee", aspect="fee", current="water", names_item=True, new_matter=True)
    assert (decide(opened, found, STAYING).kind, decide(opened, found, STAYING).guide_id) == (ANSWER_RESULT, "gas")
    sure = result(ANSWER, "gas", confidence=0.95, scores={"gas": 0.9, "water": 0.5})  # sure on the model's own terms
    assert decide(turn(current="water", item=True, follow_up=True), sure, STAYING).guide_id == "gas"


def covering(guide_id: str, score: float, coverage: float) -> GuideCandidate:
    """A candidate whose best hit holds `coverage` of the question's item words (BM25 coverage)."""
    chunk = Chunk(id=f"{guide_id}#0", kind="section", text="", title=guide_id, guide_id=guide_id)
    return GuideCandidate(guide_id, guide_id, score, Hit(chunk, score, score, coverage))


COVERING = Thresholds(**{**STAYING.__dict__, "alternative_coverage_share": 0.8})


def test_words_only_another_guide_holds_do_not_overrule_the_guide_the_user_names() -> None:
    """A sure answer of a guide covering the question's words better can overrule a name ("…还是非得注册公司"); an answer
    on sole words cannot: the named guide lacks them by definition."""
    found = result(ANSWER, "gas", confidence=0.2)
    found.candidates = [covering("gas", 0.8, 0.9), covering("water", 0.7, 0.2)]
    found.sole_share = 0.4
    decision = decide(turn(named=("water",)), found, COVERING)
    assert (decision.kind, decision.guide_id) == (ANSWER_GUIDE, "water")
    found.sole_share = 0.0  # the same answer on the model's own certainty: the better-covering guide
    assert decide(turn(named=("water",)), found, COVERING).guide_id == "gas"


@pytest.mark.parametrize(("why", "current_coverage", "best_coverage", "kind", "guide_id"), [
    ("another guide answered outright holds the item words, the current one does not: switch", 0.0, 0.4, ANSWER_RESULT, "loan"),
    ("the current guide holds the item words as well: stay", 0.4, 0.4, ANSWER_GUIDE, "jobless"),
    ("no item words anywhere (\"那要多久？\"): stay", 0.0, 0.0, ANSWER_GUIDE, "jobless"),
])
def test_a_close_conversation_guide_must_hold_the_item_words_when_another_is_answered(
        why: str, current_coverage: float, best_coverage: float, kind: str, guide_id: str) -> None:
    """"政府有没有给贴息的借款" while talking about 失业保险金: close in the embedding, but the loan guide's words."""
    candidates = [covering("loan", 0.80, best_coverage), covering("jobless", 0.78, current_coverage)]
    found = RetrievalResult("q", ANSWER, "general", 0.8, 0.9, True, guide={"id": "loan", "title": "loan"},
                            candidates=candidates, choices=[], spread=0.1)
    decision = decide(turn(current="jobless"), found, COVERING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id), why


@pytest.mark.parametrize(("aside", "follow_up", "kind", "guide_id"), [
    (False, True, ANSWER_GUIDE, "jobless"),  # a follow-up's form ("那要是…呢", "能让我儿子替我办吗"): unsure is no reason to leave
    (True, False, CONFIRM_GUIDE, "loan"),  # "我其实还想…": the user turns aside, and the words are the other guide's
    # "住建局管保障房的窗口在政务中心几楼" after an ID-card question: its own item, in no follow-up form
    (False, False, CONFIRM_GUIDE, "loan"),
])
def test_a_message_about_another_item_follows_a_confirmed_guide_that_holds_its_words(aside: bool, follow_up: bool, kind: str,
                                                                                   guide_id: str) -> None:
    """"我其实还想自己开个小店，政府有没有贴息的借款" while talking about 失业保险金: the retriever only confirms
    the loan guide, the conversation's guide scores close in the embedding but holds none of the words."""
    candidates = [covering("loan", 0.80, 0.4), covering("jobless", 0.78, 0.0)]
    found = RetrievalResult("q", CONFIRM, "general", 0.2, 0.5, False, guide={"id": "loan", "title": "loan"},
                            candidates=candidates, choices=candidates[:1], spread=0.1)
    moving = Turn(text="…", intent="ask_conditions", aspect="conditions", current="jobless", names_item=True, aside=aside,
                  follow_up=follow_up, describes_item=True)
    decision = decide(moving, found, COVERING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)


@pytest.mark.parametrize(("aside", "holds", "kind", "guide_id"), [
    (True, False, CONFIRM_GUIDE, "school"),  # "还有我儿子在老家读四年级，想接过来上学…": the retriever's best is another guide
    (False, False, ANSWER_GUIDE, "settle"),  # no sign of turning aside: a close conversation guide keeps the conversation
    (True, True, ANSWER_GUIDE, "settle"),  # turned aside, but the conversation's guide holds the words better: it stays
])
def test_turning_aside_to_a_described_matter_follows_the_retrievers_best_guide_even_if_the_current_is_close(
        aside: bool, holds: bool, kind: str, guide_id: str) -> None:
    """Close in score ("人才落户" near "转学" on 老家 and the district's name) is no reason to stay when the user turns
    aside and describes a matter the retriever places elsewhere: a wrong guess costs one 不是."""
    candidates = [covering("school", 0.80, 0.4), covering("settle", 0.79, 0.4)]
    found = RetrievalResult("q", CONFIRM, "materials", 0.2, 0.8, False, guide={"id": "school", "title": "school"},
                            candidates=candidates, choices=candidates[:1], spread=0.1)
    moving = Turn(text="…", intent="ask_materials", aspect="materials", current="settle", names_item=True, aside=aside,
                  describes_item=True, current_holds=holds)
    decision = decide(moving, found, COVERING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)


def test_no_to_a_confirm_leaves_three_other_guides_to_offer() -> None:
    """"卖虾苗的许可在哪个窗口办": the right guide fourth, close behind; 不是 to the first leaves the next three, not two."""
    found = result(CONFIRM, "a", confidence=0.1, in_scope=0.6, scores={"a": 0.80, "b": 0.79, "c": 0.79, "d": 0.78, "e": 0.60})
    decision = decide(Turn(text="…", intent="ask_location", aspect="location", names_item=True), found, LIMITS)
    assert decision.kind == CONFIRM_GUIDE and [c.guide_id for c in decision.near] == ["b", "c", "d"]


def test_a_follow_ups_own_words_are_no_other_matter() -> None:
    """"要交押金吗" after a loan question: 押金 is no item of its own (describes_item is False), a confirm elsewhere
    is no reason to leave."""
    candidates = [covering("loan", 0.80, 0.4), covering("jobless", 0.78, 0.0)]
    found = RetrievalResult("q", CONFIRM, "general", 0.2, 0.5, False, guide={"id": "loan", "title": "loan"},
                            candidates=candidates, choices=candidates[:1], spread=0.1)
    chore = Turn(text="…", intent="ask_fee", aspect="fee", current="jobless", names_item=True, describes_item=False)
    assert (decide(chore, found, COVERING).kind, decide(chore, found, COVERING).guide_id) == (ANSWER_GUIDE, "jobless")


@pytest.mark.parametrize(("described", "own_words", "confidence", "kind", "guide_id"), [
    (False, False, 0.8, ANSWER_GUIDE, "water"),  # "过期了怎么办": the ID-card guide is sure of 过期, the user still means water
    (False, False, 0.95, ANSWER_GUIDE, "water"),  # "要带什么": however sure, nothing in it names another matter
    (False, True, 0.8, ANSWER_RESULT, "gas"),  # "开发票怎么弄": a few words of its own, answered elsewhere: the user moved on
    (True, True, 0.8, ANSWER_RESULT, "gas"),  # a matter of its own, answered: the user moved on
])
def test_another_answered_guide_is_followed_only_by_a_message_with_words_of_its_own(described: bool, own_words: bool,
                                                                                    confidence: float, kind: str,
                                                                                    guide_id: str) -> None:
    message = Turn(text="…", intent="ask_process", aspect="process", current="water", names_item=True, describes_item=described,
                   own_words=own_words)
    decision = decide(message, result(ANSWER, "gas", confidence=confidence, scores={"gas": 0.9, "water": 0.5}), STAYING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)


def test_turning_aside_without_an_item_stays() -> None:
    """"对了，要多久？": nothing else is named, the conversation's guide is answered."""
    found = result(CONFIRM, "gas", confidence=0.2, scores={"gas": 0.80})
    moving = Turn(text="…", intent="ask_time_limit", aspect="time_limit", current="water", names_item=False, aside=True)
    assert decide(moving, found, STAYING).guide_id == "water"


@pytest.mark.parametrize(("asks", "states", "current", "kind"), [
    (True, False, None, ANSWER_RESULT),  # "新买了台电瓶车，要准备什么": the NLU never saw the item, the retriever is sure
    (False, False, None, REFUSE),  # "水库钓鲫鱼用什么饵料好": asks nothing of a procedure, whatever the retriever finds
    (False, True, None, ANSWER_RESULT),  # "我在小区门口租了个门面，想卖熟食": tells the matter, asks nothing yet
    (False, False, "loan", ANSWER_GUIDE),  # "最多能贷多少？" in a conversation: not refused, the conversation goes on
])
def test_out_of_scope_is_overridden_only_for_a_message_about_a_procedure(asks: bool, states: bool, current: str | None,
                                                                         kind: str) -> None:
    message = Turn(text="…", intent="out_of_scope", aspect="general", current=current, names_item=True, asks=asks,
                   states_matter=states)
    assert decide(message, result(ANSWER, "loan", in_scope=0.9), LIMITS).kind == kind
    if states:  # the retriever, calibrated on this knowledge base, must still find it its business
        assert decide(message, result(CONFIRM, "loan", in_scope=0.3), LIMITS).kind == REFUSE


@pytest.mark.parametrize(("off_topic", "in_scope", "current", "kind"), [
    (0.94, 0.99, None, ANSWER_RESULT),  # "在奶茶店上班要的那个健康体检多少钱": the retriever is the surer of the two
    (0.999, 0.72, None, REFUSE),  # "昨晚的马拉松比赛冠军跑了多少时间": the NLU is the surer, whatever 多少时间 matches
    (0.72, 0.72, None, REFUSE),  # a tie leaves the NLU's reading
    (0.999, 0.72, "loan", ANSWER_GUIDE),  # in a conversation the retriever still decides ("最多能贷多少？")
])
@pytest.mark.parametrize("new_matter", [False, True])
def test_a_first_message_is_overridden_only_by_a_retriever_surer_than_the_nlu(off_topic: float, in_scope: float,
                                                                             current: str | None, kind: str,
                                                                             new_matter: bool) -> None:
    if new_matter and current is not None:  # "还有个事，…" sets the conversation's guide aside: a first message again
        kind = REFUSE if off_topic >= in_scope else ANSWER_RESULT
    message = Turn(text="…", intent="out_of_scope", aspect="general", current=current, names_item=True, off_topic=off_topic,
                   new_matter=new_matter)
    assert decide(message, result(ANSWER, "loan", in_scope=in_scope), LIMITS).kind == kind


@pytest.mark.parametrize(("holds", "aside", "kind", "guide_id"), [
    (True, False, ANSWER_GUIDE, "water"),  # "要空腹不" after the health certificate, which says 空腹: its follow-up
    (False, False, REFUSE, None),  # "今天天气怎么样": the NLU is right
    (True, True, REFUSE, None),  # "对了，…" turns aside: the conversation's words are no sign
])
def test_the_nlus_off_topic_is_overridden_by_words_the_conversations_guide_holds(holds: bool, aside: bool, kind: str,
                                                                                 guide_id: str | None) -> None:
    message = Turn(text="…", intent="out_of_scope", aspect="general", current="water", names_item=True, describes_item=False,
                   current_holds=holds, aside=aside)
    decision = decide(message, result(NONE, None, confidence=0.05, in_scope=0.05), STAYING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)


@pytest.mark.parametrize(("holds", "aside", "confidence", "named", "kind", "guide_id"), [
    (True, False, 0.4, True, ANSWER_RESULT, "gas"),  # "补个营业执照要几天" after company setup: the answered guide's name
    (True, False, 0.95, True, ANSWER_RESULT, "gas"),  # as sure as a topic switch needs
    (True, True, 0.4, True, ANSWER_RESULT, "gas"),  # "对了，…": the user turns aside
    (False, False, 0.4, True, ANSWER_RESULT, "gas"),  # words the conversation's guide does not say: the user moved on
    # "公安那边要带啥" after the hotel permit: the passport guide is answered, but its name says none of the words
    (True, False, 0.8, False, ANSWER_GUIDE, "water"),
    (True, False, 0.95, False, ANSWER_RESULT, "gas"),  # ... unless the retriever is as sure as a topic switch needs
    (True, True, 0.8, False, ANSWER_RESULT, "gas"),  # "对了，公安那边…": turning aside, the retriever's guide
    (False, False, 0.8, False, ANSWER_RESULT, "gas"),  # the conversation's guide does not say the words
])
def test_another_answered_guide_is_followed_with_words_the_conversations_guide_holds_only_when_its_name_says_them(
        holds: bool, aside: bool, confidence: float, named: bool, kind: str, guide_id: str) -> None:
    message = Turn(text="…", intent="ask_conditions", aspect="conditions", current="water", names_item=True, describes_item=True,
                   current_holds=holds, aside=aside, answer_named=named)
    decision = decide(message, result(ANSWER, "gas", confidence=confidence, scores={"gas": 0.9, "water": 0.5}), STAYING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)


@pytest.mark.parametrize(("named_coverage", "kind", "guide_id"), [
    (0.10, ANSWER_RESULT, "cafe"),  # "我个人能不能开网吧，还是非得注册公司": 注册公司 is named, the words are the café's
    (0.25, ANSWER_GUIDE, "company"),  # the named guide holds the words about as well: the name decides
])
def test_a_named_guide_gives_way_to_an_answered_one_that_holds_the_words_far_better(named_coverage: float, kind: str,
                                                                                    guide_id: str) -> None:
    candidates = [covering("cafe", 0.78, 0.26), covering("company", 0.725, named_coverage)]
    found = RetrievalResult("q", ANSWER, "conditions", 0.7, 0.9, True, guide={"id": "cafe", "title": "cafe"},
                            candidates=candidates, spread=0.1)
    decision = decide(turn("ask_conditions", named=("company",), aspect="conditions"), found, COVERING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)


@pytest.mark.parametrize(("found", "kind", "guide_id"), [
    (result(CONFIRM, "gas", confidence=0.4), ANSWER_GUIDE, "water"),  # the retriever only guesses: its words keep it
    (result(AMBIGUOUS, None, scores={"gas": 0.8, "bank": 0.79}, sure=True), CLARIFY, None),  # "个体户怎么注销": ask which
])
def test_a_message_with_its_own_item_in_the_conversations_words_leaves_only_for_a_sure_hesitation(
        found: RetrievalResult, kind: str, guide_id: str | None) -> None:
    message = Turn(text="…", intent="ask_procedure", aspect="general", current="water", names_item=True, describes_item=True,
                   current_holds=True)
    decision = decide(message, found, STAYING)
    assert (decision.kind, decision.guide_id) == (kind, guide_id)


@pytest.mark.parametrize(("asks", "question", "kind"), [
    (False, True, ANSWER_GUIDE),  # "平面布局图要自己画吗": a question in the guide's words
    (False, False, REFUSE),  # a remark in the guide's words asks nothing: the NLU's off-topic stands
])
def test_the_conversations_words_override_the_nlus_off_topic_only_in_a_question(asks: bool, question: bool,
                                                                               kind: str) -> None:
    message = Turn(text="…", intent="out_of_scope", aspect="general", current="water", names_item=True, describes_item=False,
                   current_holds=True, asks=asks, question=question)
    assert decide(message, result(NONE, None, confidence=0.05, in_scope=0.05), STAYING).kind == kind
