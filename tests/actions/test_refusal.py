"""The out-of-scope reply ("今天天气怎么样"): it ends the search as "not found" does, so it offers people the same way, a
转人工 button whose click hands off."""

from __future__ import annotations

from actions.actions import ActionAnswer, ActionHandoff
from actions.services import Services
from knowledge.records.store import Records
from protocol import REQUEST_HUMAN
from tests.support import custom, run_action, texts, tracker_for


def test_a_refusal_offers_people_and_the_button_hands_off(services: Services, records: Records) -> None:
    messages, slots = run_action(ActionAnswer(services), tracker_for("今天天气怎么样", "out_of_scope"))
    assert (custom(messages, "not_found") or {}).get("out_of_scope") is True
    assert "不在我的服务范围内" in texts(messages) and "点“转人工”" in texts(messages) and "12345" in texts(messages)
    buttons = [button for message in messages for button in message.get("buttons") or []]
    assert buttons == [{"title": "转人工", "payload": REQUEST_HUMAN}]
    handed, _ = run_action(ActionHandoff(services), tracker_for(REQUEST_HUMAN, "request_human", slots))
    assert custom(handed, "handoff") is not None and "记录编号" in texts(handed)


def _refused(services: Services, slots: dict, question: str, stamp: float) -> tuple[dict, list[dict]]:
    """`question` refused as none of our business: the slots after it and its events (the message, the refusal)."""
    refused, slots = run_action(ActionAnswer(services), tracker_for(question, "out_of_scope", slots))
    assert (custom(refused, "not_found") or {}).get("out_of_scope") is True, question
    return slots, [{"event": "user", "text": question, "timestamp": stamp},
                   *({"event": "bot", "text": message["text"]} for message in refused if message.get("text"))]


def test_a_handoff_right_after_a_refusal_gives_the_staff_the_refused_question(services: Services, records: Records) -> None:
    """转人工 after "抱歉，这个问题不在我的服务范围内" is about the refused question, not the matter answered before it."""
    answered, slots = run_action(ActionAnswer(services), tracker_for("用水报装要多久", "ask_time_limit"))
    assert custom(answered, "answer")["guide"]["id"] == "water-connection"
    question = "明天会下雨吗"
    slots, history = _refused(services, slots, question, 0.5)
    handed, _ = run_action(ActionHandoff(services), tracker_for(REQUEST_HUMAN, "request_human", slots, events=history))
    [row] = records.rows("handoffs")
    assert (row["question"], row["guide_id"]) == (question, None)
    assert "用水报装" not in texts(handed)  # not the windows of the matter answered before


def test_a_refused_remark_before_a_handoff_leaves_the_matter_answered(services: Services, records: Records) -> None:
    """"我的手机是…" (a number left for the staff, refused as no question of ours), then 转人工: the staff take over the
    matter answered before, with its windows."""
    _, slots = run_action(ActionAnswer(services), tracker_for("用水报装要多久", "ask_time_limit"))
    remark = "我的手机是13812345678"
    slots, history = _refused(services, slots, remark, 0.5)
    run_action(ActionHandoff(services), tracker_for(REQUEST_HUMAN, "request_human", slots, events=history))
    [row] = records.rows("handoffs")
    assert (row["question"], row["guide_id"]) == ("用水报装要多久", "water-connection")


def test_after_several_refusals_the_last_refused_question_goes_to_the_staff_in_simplified_characters(
        services: Services, records: Records) -> None:
    """"明天會下雨嗎" (traditional), then "我的手机是…" (a remark), both refused, then the button: the question, read as the
    records keep questions (simplified), not the remark, nor the matter answered before them."""
    _, slots = run_action(ActionAnswer(services), tracker_for("用水报装要多久", "ask_time_limit"))
    slots, first = _refused(services, slots, "明天會下雨嗎", 0.3)
    slots, second = _refused(services, slots, "我的手机是13812345678", 0.6)
    run_action(ActionHandoff(services), tracker_for(REQUEST_HUMAN, "request_human", slots, events=[*first, *second]))
    [row] = records.rows("handoffs")
    assert (row["question"], row["guide_id"]) == ("明天会下雨吗", None)


def test_a_complaint_about_the_matter_after_a_refusal_keeps_the_matter(services: Services, records: Records) -> None:
    """A complaint naming the matter ("用水报装窗口态度太差，我要投诉") right after a refusal is about that matter: its
    supervising department is listed, the record names its guide."""
    _, slots = run_action(ActionAnswer(services), tracker_for("用水报装要多久", "ask_time_limit"))
    slots, history = _refused(services, slots, "明天会下雨吗", 0.5)
    complaint = "用水报装窗口态度太差，我要投诉"
    run_action(ActionHandoff(services), tracker_for(complaint, "complain", slots, events=history))
    [row] = records.rows("handoffs")
    assert row["guide_id"] == "water-connection" and row["question"] != "明天会下雨吗"


def test_advice_is_refused_as_a_first_message_but_weighed_as_a_follow_up_in_a_conversation(services: Services) -> None:
    """"燃气热水器到底有没有必要装" is close to the gas guide, and the NLU, never having seen it, calls it a procedure
    question; no guide says what is worth having: refused, with 12345 and a person. After a gas question "那有没有必要"
    asks about the matter at hand: the conversation's rules decide, never this refusal."""
    messages, _ = run_action(ActionAnswer(services), tracker_for("燃气热水器到底有没有必要装", "ask_procedure"))
    assert (custom(messages, "not_found") or {}).get("out_of_scope") is True and custom(messages, "answer") is None
    _, slots = run_action(ActionAnswer(services), tracker_for("燃气报装要多久", "ask_time_limit"))
    followed, _ = run_action(ActionAnswer(services), tracker_for("那有没有必要", "ask_conditions", slots))
    assert custom(followed, "answer")["guide"]["id"] == "gas-connection"
