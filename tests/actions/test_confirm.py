"""The confirm band: one guide leads but not surely enough to answer, so the assistant asks
"您问的是【X】的…吗？" once; 是 answers the asked aspect of X, 不是 offers the others, 12345 and
转人工. And questions about items the NLU never saw are not turned into handoffs."""

from __future__ import annotations

import pytest

from actions.actions import ActionAnswer, ActionHandoff, ActionReplyConfirmation
from actions.feedback import asks_back
from actions.replies import AFFIRM, DENY
from actions.services import Services
from knowledge.index.evaluation import load_question_set
from knowledge.records.store import Records
from knowledge.retrieval.retriever import CONFIRM, Retriever
from knowledge.settings import load_settings
from tests.support import custom, parsed_guide, run_action, texts, tracker_for

PENDING = {"candidates": ["seal-engraving", "license-reissue"], "pending_aspect": "time_limit",
           "pending_question": "那个刻章的多久能好", "offered": "confirm"}


def _confirm_band_question(retriever: Retriever) -> tuple[str, str]:
    """A question of the sample's evaluation set that this index puts in the confirm band (which
    one depends on the calibration, so it is looked up, not hard-coded)."""
    questions = load_question_set(load_settings().eval_questions)["in_scope"]
    for item, result in zip(questions, retriever.run_batch([q["q"] for q in questions]), strict=True):
        if result.decision == CONFIRM and result.guide_id == item["guide"]:
            return item["q"], item["guide"]
    pytest.fail("no question of the evaluation set falls in the confirm band")


def test_a_confirm_band_question_is_asked_about_not_answered(services: Services, records: Records, retriever: Retriever) -> None:
    question, guide_id = _confirm_band_question(retriever)
    messages, slots = run_action(ActionAnswer(services), tracker_for(question, "ask_procedure"))
    asked = custom(messages, "confirm")
    assert asked is not None and asked["guide"]["id"] == guide_id and custom(messages, "answer") is None
    assert f"【{parsed_guide(guide_id).title}】" in texts(messages) and "吗？" in texts(messages)
    assert [b["payload"] for m in messages for b in m.get("buttons") or []] == [AFFIRM, DENY]
    assert slots["offered"] == "confirm" and slots["candidates"][0] == guide_id and slots["pending_question"] == question
    assert records.rows("questions")[-1]["outcome"] == "clarified"


@pytest.mark.parametrize("text", ["/affirm", "是", "嗯", "对"])
def test_yes_answers_the_asked_aspect_of_that_guide(services: Services, records: Records, text: str) -> None:
    messages, slots = run_action(ActionReplyConfirmation(services), tracker_for(text, "affirm", PENDING))
    seal = parsed_guide("seal-engraving")
    assert custom(messages, "answer")["guide"]["id"] == "seal-engraving"
    assert seal.section("办理时限").text.strip().splitlines()[0] in texts(messages)
    assert seal.contacts[0].phone in texts(messages)
    assert slots["guide_id"] == "seal-engraving" and slots["aspect"] == "time_limit" and slots["offered"] is None
    # the conversation now has its item: a follow-up answers it
    messages, _ = run_action(ActionAnswer(services), tracker_for("在哪办？", "ask_location", slots))
    assert seal.section("办理地点").text.strip().splitlines()[0] in texts(messages)


@pytest.mark.parametrize("text", ["/deny", "不是"])
def test_no_offers_the_other_candidates_the_hotline_and_people(services: Services, records: Records, text: str) -> None:
    messages, slots = run_action(ActionReplyConfirmation(services), tracker_for(text, "deny", PENDING))
    assert custom(messages, "answer") is None
    titles = [b["title"] for m in messages for b in m.get("buttons") or []]
    assert any(parsed_guide("license-reissue").title in title for title in titles) and "转人工" in titles
    assert "12345" in texts(messages) and "seal-engraving" not in str(slots.get("candidates"))
    assert slots["offered"] == "handoff"  # a 是的 now means 转人工


@pytest.mark.parametrize(("text", "intent", "outcome"), [("是", "affirm", "answered"), ("/deny", "deny", "not_found")])
def test_the_reply_to_a_confirm_is_logged_under_the_confirmed_question(services: Services, records: Records, text: str,
                                                                       intent: str, outcome: str) -> None:
    # the admin report reads what became of the confirm from this row (knowledge/report/followups.py)
    run_action(ActionReplyConfirmation(services), tracker_for(text, intent, PENDING))
    row = records.rows("questions")[-1]
    assert (row["question"], row["outcome"]) == (PENDING["pending_question"], outcome)


def test_no_with_nothing_else_to_offer_still_gives_people(services: Services, records: Records) -> None:
    pending = {**PENDING, "candidates": ["seal-engraving"]}
    messages, _slots = run_action(ActionReplyConfirmation(services), tracker_for("不是", "deny", pending))
    assert "12345" in texts(messages) and "转人工" in [b["title"] for m in messages for b in m.get("buttons") or []]


def test_an_item_question_the_nlu_took_for_a_handoff_is_answered(services: Services, records: Records) -> None:
    messages, _slots = run_action(ActionHandoff(services), tracker_for("刻公章在哪个窗口办", "request_human"))
    assert custom(messages, "handoff") is None
    assert (custom(messages, "answer") or custom(messages, "confirm"))["guide"]["id"] == "seal-engraving"
    assert not records.rows("handoffs")


@pytest.mark.parametrize("text", ["转人工", "我要投诉窗口工作人员态度差", "帮我找个真人"])
def test_a_real_handoff_stays_a_handoff(services: Services, records: Records, text: str) -> None:
    messages, _slots = run_action(ActionHandoff(services), tracker_for(text, "request_human"))
    assert custom(messages, "handoff") is not None


@pytest.mark.parametrize(("text", "intent", "section"), [("要不要交钱", "deny", "收费标准"), ("用不用本人去", "affirm", "网上办理"),
                                                     ("要不要本人去", "deny", "网上办理")])
def test_a_question_the_nlu_took_for_yes_or_no_is_answered(services: Services, records: Records, text: str, intent: str,
                                                           section: str) -> None:
    # "要不要报备" holds 不要: the NLU may call it deny; "好的。还有什么想了解的" would leave the question unanswered.
    messages, slots = run_action(ActionReplyConfirmation(services), tracker_for(text, intent, {"guide_id": "seal-engraving"}))
    seal = parsed_guide("seal-engraving")
    assert custom(messages, "answer")["guide"]["id"] == "seal-engraving"
    assert seal.section(section).text.strip().splitlines()[0] in texts(messages) and seal.contacts[0].phone in texts(messages)
    assert slots["guide_id"] == "seal-engraving"


@pytest.mark.parametrize("intent", ["deny", "affirm"])
def test_a_clipped_question_with_nothing_offered_asks_about_the_matter_at_hand(services: Services, records: Records,
                                                                              intent: str) -> None:
    # "还要做检测不": the spoken yes-or-no question names no aspect, and its 不 made the NLU hear a no; nothing was offered,
    # so there is nothing to decline: it asks about the conversation's matter.
    messages, slots = run_action(ActionReplyConfirmation(services), tracker_for("章刻好了还得拿去登记不", intent,
                                                                                {"guide_id": "seal-engraving"}))
    assert custom(messages, "answer")["guide"]["id"] == "seal-engraving" and slots["guide_id"] == "seal-engraving"
    assert records.rows("questions")[-1]["question"] == "章刻好了还得拿去登记不"


def test_a_clipped_question_with_no_matter_yet_is_looked_up(services: Services, records: Records) -> None:
    # After "不在服务范围" (a first message that only told a situation) there is no matter and nothing offered: the
    # question is looked up like any other, not met with "好的。还有什么想了解的".
    messages, _slots = run_action(ActionReplyConfirmation(services), tracker_for("公章刻好了还得拿去派出所登记不", "deny"))
    assert (custom(messages, "answer") or custom(messages, "confirm") or {}).get("guide", {}).get("id") == "seal-engraving"
    assert records.rows("questions")[-1]["question"] == "公章刻好了还得拿去派出所登记不"


@pytest.mark.parametrize(("offered", "intent"), [("confirm", "deny"), ("handoff", "affirm")])
def test_a_clipped_question_after_an_offer_is_the_reply_it_was_read_as(services: Services, records: Records, offered: str,
                                                                       intent: str) -> None:
    # Asked "您问的是【X】…吗？" or offered 转人工, a yes or no is what the NLU hears: the offer is declined or taken.
    pending = {**PENDING, "offered": offered}
    messages, slots = run_action(ActionReplyConfirmation(services), tracker_for("章刻好了还得拿去登记不", intent, pending))
    assert custom(messages, "answer") is None
    if offered == "confirm":
        assert slots["offered"] == "handoff" and "转人工" in [b["title"] for m in messages for b in m.get("buttons") or []]
    else:
        assert custom(messages, "handoff") is not None and records.rows("handoffs")


@pytest.mark.parametrize(("text", "asks"), [
    ("还要做检测不", True), ("孩子能一起去不", True), ("要不要报备", True),
    ("不用了", False), ("没", False), ("是吗", False), ("好不好", False), ("确定吗", False), ("确定不", False), ("真的吗", False),
    ("不要了吧", False), ("转人工不", False), ("那要多久不", False), ("嗯嗯", False), ("/deny", False),
])
def test_what_asks_back(text: str, asks: bool) -> None:
    assert asks_back(text) is asks


@pytest.mark.parametrize("text", ["不用了", "不要了，谢谢", "好的", "是吗", "好不好", "不行不行"])
def test_a_plain_no_after_no_offer_is_not_taken_for_a_question(services: Services, records: Records, text: str) -> None:
    messages, _slots = run_action(ActionReplyConfirmation(services), tracker_for(text, "deny", {"guide_id": "seal-engraving"}))
    assert custom(messages, "answer") is None and not records.rows("questions")


@pytest.mark.parametrize(("text", "intent"), [("收费吗", "ask_fee"), ("要不要交钱", "deny")])
def test_an_aspect_asked_instead_of_yes_or_no_asks_again_about_the_same_guide(
        services: Services, records: Records, text: str, intent: str) -> None:
    # The user leaves "您问的是【公章刻制备案】的办理时限吗？" unanswered and asks the fee: "哪个事项？" with the knowledge
    # base's examples would forget the guide the assistant itself just named.
    messages, slots = run_action(ActionReplyConfirmation(services), tracker_for(text, intent, PENDING))
    asked = custom(messages, "confirm")
    assert asked is not None and asked["guide"]["id"] == "seal-engraving" and asked["aspect"] == "fee"
    assert slots["offered"] == "confirm" and slots["candidates"] == PENDING["candidates"]
    messages, slots = run_action(ActionReplyConfirmation(services), tracker_for("是", "affirm", slots))
    assert parsed_guide("seal-engraving").section("收费标准").text.strip().splitlines()[0] in texts(messages)
    assert slots["guide_id"] == "seal-engraving"


def test_a_confirm_ignored_twice_is_answered_not_asked_a_third_time(services: Services, records: Records) -> None:
    # "您问的是【公章刻制备案】的办理时限吗？" "收费吗" "您问的是【公章刻制备案】的收费标准吗？" "在哪办": the user takes the guide for
    # granted; a third "您问的是…吗？" would never answer (a user trial).
    title = parsed_guide("seal-engraving").title
    history = [{"event": "user", "text": "那个刻章的多久能好", "timestamp": 0.1}, {"event": "bot", "text": f"您问的是【{title}】的办理时限吗？"},
               {"event": "user", "text": "收费吗", "timestamp": 0.2}, {"event": "bot", "text": f"您问的是【{title}】的收费标准吗？"}]
    messages, slots = run_action(ActionAnswer(services), tracker_for("在哪办", "ask_location", {**PENDING, "pending_aspect": "fee"},
                                                                     events=history))
    answer = custom(messages, "answer")
    assert answer is not None and answer["guide"]["id"] == "seal-engraving" and answer["aspect"] == "location"
    assert slots["guide_id"] == "seal-engraving"


@pytest.mark.parametrize(("text", "intent"), [("是的，收费吗", "affirm"), ("是的，收费吗", "ask_fee"), ("对，要交钱吗", "ask_fee")])
def test_yes_with_another_aspect_answers_that_aspect(services: Services, records: Records, text: str, intent: str) -> None:
    # Asked about 公章刻制备案's time limit, the user says yes and asks the fee: the fee is what is wanted now.
    action = ActionReplyConfirmation(services) if intent == "affirm" else ActionAnswer(services)
    messages, slots = run_action(action, tracker_for(text, intent, PENDING))
    assert custom(messages, "answer")["guide"]["id"] == "seal-engraving"
    assert parsed_guide("seal-engraving").section("收费标准").text.strip().splitlines()[0] in texts(messages)
    assert slots["guide_id"] == "seal-engraving" and slots["offered"] is None


def test_the_same_aspect_asked_again_instead_of_yes_is_answered_not_asked_again(services: Services, records: Records) -> None:
    # "您问的是【公章刻制备案】的办理时限吗？" then "要多久": asking the confirm again would loop
    messages, slots = run_action(ActionAnswer(services), tracker_for("要多久", "ask_time_limit", PENDING))
    assert custom(messages, "confirm") is None
    assert parsed_guide("seal-engraving").section("办理时限").text.strip().splitlines()[0] in texts(messages)
    assert slots["guide_id"] == "seal-engraving"


@pytest.mark.parametrize(("text", "intent"), [("不是这个，要多久", "deny"), ("不是啊，我问的是收费", "deny"), ("不是这个，要多久", "ask_time_limit"),
                                           ("不是刻章，收费吗", "deny"), ("不对不对，要多久", "deny"),
                                           ("不不不，要多久", "ask_time_limit")])
def test_a_no_that_goes_on_asking_never_asks_about_the_declined_guide_again(services: Services, records: Records, text: str,
                                                                          intent: str) -> None:
    action = ActionReplyConfirmation(services) if intent == "deny" else ActionAnswer(services)
    messages, slots = run_action(action, tracker_for(text, intent, PENDING))
    asked = custom(messages, "confirm")
    assert (asked is None or asked["guide"]["id"] != "seal-engraving") and custom(messages, "answer") is None
    assert slots.get("guide_id") != "seal-engraving"


@pytest.mark.parametrize("intent", ["ask_conditions", "ask_procedure", "nlu_fallback"])
@pytest.mark.parametrize(("text", "guide_id"), [
    ("那营业执照补办呢？", "license-reissue"),  # one of the guides the confirm offered
    ("那个体户呢？", "individual-business-registration"),  # another one
])
def test_x_ne_after_an_unanswered_confirm_asks_the_waiting_aspect_of_x(services: Services, records: Records, intent: str,
                                                                      text: str, guide_id: str) -> None:
    # "您问的是【公章刻制备案】的办理时限吗？" left unanswered, then "那个体户呢？": the time limit of the other matter,
    # whatever aspect the NLU guessed for a message that names none (a user trial got 受理条件).
    for context in ({}, {"guide_id": "water-connection", "aspect": "materials"}):  # also with a matter answered before
        messages, _slots = run_action(ActionAnswer(services), tracker_for(text, intent, {**PENDING, **context}))
        shown = custom(messages, "answer") or custom(messages, "confirm")
        assert shown is not None and shown["guide"]["id"] == guide_id and shown["aspect"] == "time_limit", context


@pytest.mark.parametrize("text", ["？？？", "😂😂"])
def test_noise_at_a_pending_confirm_is_no_new_aspect_to_ask_about(services: Services, records: Records, text: str) -> None:
    messages, _slots = run_action(ActionAnswer(services), tracker_for(text, "nlu_fallback", PENDING))
    assert custom(messages, "confirm") is None and custom(messages, "answer") is None


@pytest.mark.parametrize("text", ["😀😀👍", "？？？", "👍", "..."])
@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope"])
def test_a_message_without_words_in_a_conversation_asks_for_words(services: Services, records: Records, text: str,
                                                                  intent: str) -> None:
    # It used to repeat the matter's whole overview (a user trial); the conversation's matter stays for the next question.
    context = {"guide_id": "license-reissue", "aspect": "materials"}
    messages, slots = run_action(ActionAnswer(services), tracker_for(text, intent, context))
    assert custom(messages, "answer") is None and "没看明白您的意思" in texts(messages)
    assert slots["guide_id"] == "license-reissue" and not records.rows("questions")


def test_yes_to_people_with_a_question_about_them_still_hands_over(services: Services, records: Records) -> None:
    offered = {"offered": "handoff", "candidates": ["license-reissue"]}
    messages, _slots = run_action(ActionReplyConfirmation(services), tracker_for("需要，人工电话多少", "affirm", offered))
    assert custom(messages, "handoff") is not None and records.rows("handoffs")


ANSWERED = {"id": "aaaaaaaaaaaa", "question": "公司不想开了怎么注销", "guide_id": "company-deregistration", "section": "办理流程",
            "index_version": "v1"}


def _after_answer(text: str, *, between: list[dict[str, object]] | None = None, answered: dict[str, str] = ANSWERED,
                  earlier: tuple[dict[str, str], ...] = ()) -> object:
    """A tracker whose last bot message was the answer `answered` (`earlier`: answers remembered before it)."""
    # as the action server gets them (bot/rasa/history_speedups.py): texts and times; the payload message has no text
    shown = [{"event": "bot", "text": f"【{parsed_guide(answered['guide_id']).title}】\n\n办理流程：…", "timestamp": 0.5},
             {"event": "bot", "text": None, "timestamp": 0.5}]
    slots = {"guide_id": answered["guide_id"], "aspect": "process", "last_answer": answered, "answers": [*earlier, answered]}
    return tracker_for(text, "deny", slots, events=[*shown, *(between or [])])


def test_no_right_after_an_answer_offers_the_others_and_rates_it_bad(services: Services, records: Records) -> None:
    # The answer missed: not "好的。还有什么想了解的", but the guides close behind it, 12345 and 转人工 (a user trial).
    messages, slots = run_action(ActionReplyConfirmation(services), _after_answer("不是"))
    shown = custom(messages, "not_found")
    assert shown is not None and shown["declined"] and "simplified-deregistration" in shown["near"]
    assert "company-deregistration" not in shown["near"] and "刚才的回答不是您要问的" in texts(messages)
    assert slots["guide_id"] is None and slots["candidates"] == shown["near"] and slots["pending_aspect"] == "process"
    [row] = records.rows("feedback")
    assert (row["rating"], row["answer_id"], row["guide_id"]) == ("bad", "aaaaaaaaaaaa", "company-deregistration")
    picked, slots = run_action(ActionAnswer(services), tracker_for("1", "choose", slots))  # the first offered guide
    answer = custom(picked, "answer")
    assert answer["guide"]["id"] == shown["near"][0] and answer["aspect"] == "process"


@pytest.mark.parametrize("between", [
    [{"event": "user", "text": "谢谢"}, {"event": "bot", "text": "不客气"}],  # the answer is no longer what "不是" replies to
    [{"event": "bot", "text": "还有什么想了解的"}],
])
def test_no_after_something_else_than_an_answer_is_a_plain_reply(services: Services, records: Records,
                                                                  between: list[dict[str, object]]) -> None:
    messages, _slots = run_action(ActionReplyConfirmation(services), _after_answer("不是", between=between))
    assert custom(messages, "not_found") is None and not records.rows("feedback")


@pytest.mark.parametrize("text", ["算了", "不用了", "没有了", "先不用", "没了"])
def test_no_more_wanted_after_an_answer_is_no_complaint_about_it(services: Services, records: Records, text: str) -> None:
    # The NLU reads these as deny too; they say nothing more is wanted, not that the answer missed.
    messages, slots = run_action(ActionReplyConfirmation(services), _after_answer(text))
    assert custom(messages, "not_found") is None and not records.rows("feedback")
    assert slots["guide_id"] == "company-deregistration"


def test_no_after_a_follow_up_answer_offers_people_not_guesses(services: Services, records: Records) -> None:
    # "那要多久？" named no matter: the guides "close behind" it would be any guides at all.
    follow_up = {**ANSWERED, "id": "bbbbbbbbbbbb", "question": "那要多久？"}
    messages, _slots = run_action(ActionReplyConfirmation(services), _after_answer("不是", answered=follow_up))
    shown = custom(messages, "not_found")
    assert shown is not None and shown["near"] == [] and "转人工" in [b["title"] for b in messages[0]["buttons"]]


def test_a_second_no_does_not_offer_the_guide_declined_first(services: Services, records: Records) -> None:
    # company-deregistration answered, "不是", simplified-deregistration picked and answered, "不是" again: not back to the first.
    first = ANSWERED
    second = {**ANSWERED, "id": "bbbbbbbbbbbb", "guide_id": "simplified-deregistration"}
    messages, _slots = run_action(ActionReplyConfirmation(services), _after_answer("不是", answered=second, earlier=(first,)))
    shown = custom(messages, "not_found")
    assert shown is not None and not {"company-deregistration", "simplified-deregistration"} & set(shown["near"])


def test_no_naming_the_matter_meant_answers_that_matter(services: Services, records: Records) -> None:
    messages, slots = run_action(ActionReplyConfirmation(services), _after_answer("不对，我问的是营业执照遗失补领"))
    assert custom(messages, "answer")["guide"]["id"] == "license-reissue" and slots["guide_id"] == "license-reissue"
