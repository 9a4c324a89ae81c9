"""Feedback bound to its answer, on trackers: every answer has an id in its payload and buttons, a
rating names the answer it rates (an old button its own, an unknown id none), and the message after
a 差评's comment request is answered when it is a question and stored when it is a comment."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswer, ActionRecordFeedback, ActionSaveFeedbackComment
from actions.memory import RECENT_ANSWERS
from actions.services import Services
from knowledge.records.store import Records
from protocol import ANSWER_ID_PATTERN, rating_payload
from tests.support import custom, texts, tracker_for


def _run(action: Any, tracker: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Run an action: (messages, events, the slots it set)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    action.services.records.wait()
    return dispatcher.messages, events, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def _followup(events: list[dict[str, Any]]) -> str | None:
    return next((e["name"] for e in events if e.get("event") == "followup"), None)


def _feedback_kind(messages: list[dict[str, Any]]) -> str | None:
    """The {"feedback": …} payload of a domain response the action asked for (as domain.yml gives it)."""
    names = [m.get("response") for m in messages]
    return {"utter_feedback_thanks": "thanks", "utter_feedback_comment_saved": "comment_saved",
            "utter_feedback_unknown_answer": "unknown_answer"}.get(next((n for n in names if n), ""))


class Conversation:
    """Slots carried from turn to turn, as Rasa's tracker would."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.slots: dict[str, Any] = {}

    def turn(self, action: Any, text: str, intent: str, entities: dict[str, str] | None = None,
             **slots: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        found = [{"entity": name, "value": value} for name, value in (entities or {}).items()]
        messages, events, set_slots = _run(action(self.services), tracker_for(text, intent, {**self.slots, **slots}, entities=found))
        self.slots.update(set_slots)
        return messages, events

    def ask(self, question: str, intent: str) -> dict[str, Any]:
        messages, _events = self.turn(ActionAnswer, question, intent)
        answer = custom(messages, "answer")
        assert answer is not None, texts(messages)
        return answer

    def rate(self, rating: str, answer_id: str | None, comment: str | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        payload = rating_payload(rating, answer_id, comment)
        entities = {key: value for key, value in (("answer_id", answer_id), ("comment", comment)) if value}
        return self.turn(ActionRecordFeedback, payload, f"feedback_{rating}", entities)

    def reply_to_comment_request(self, text: str, intent: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The one message the feedback_form takes after a 差评 (its from_text slot), then the action."""
        return self.turn(ActionSaveFeedbackComment, text, intent, feedback_comment=text)


@pytest.fixture
def chat(services: Services) -> Conversation:
    return Conversation(services)


def test_every_answer_has_an_id_in_its_payload_and_its_rating_buttons(chat: Conversation) -> None:
    messages, _events = chat.turn(ActionAnswer, "开办企业需要什么材料", "ask_materials")
    answer_id = custom(messages, "answer")["id"]
    assert re.fullmatch(ANSWER_ID_PATTERN, answer_id)
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert payloads == [rating_payload("good", answer_id), rating_payload("bad", answer_id)]
    assert chat.slots["answers"][-1]["id"] == answer_id and chat.slots["answers"][-1]["guide_id"] == "company-setup"
    policy = chat.ask("惠企政策免申即享由哪些部门牵头", "ask_policy")
    assert policy["id"] != answer_id and [a["id"] for a in chat.slots["answers"]] == [answer_id, policy["id"]]


def test_an_old_bad_rating_button_rates_its_own_answer(chat: Conversation, records: Records) -> None:
    first = chat.ask("开办企业需要什么材料", "ask_materials")
    chat.ask("用水报装要多久", "ask_time_limit")
    messages, events = chat.rate("bad", first["id"])
    [row] = records.rows("feedback")
    assert (row["rating"], row["answer_id"], row["guide_id"], row["section"], row["question"]) == (
        "bad", first["id"], "company-setup", "申请材料", "开办企业需要什么材料")
    # the comment request follows, for that answer
    assert _followup(events) == "feedback_form" and chat.slots["feedback_answer"] == first["id"] and not messages


def test_an_old_good_rating_button_rates_its_own_answer(chat: Conversation, records: Records) -> None:
    first = chat.ask("办施工许可证要交钱吗", "ask_fee")
    chat.ask("用气报装多少钱", "ask_fee")
    messages, events = chat.rate("good", first["id"])
    assert [(r["rating"], r["guide_id"], r["answer_id"]) for r in records.rows("feedback")] == [("good", "construction-permit", first["id"])]
    assert _feedback_kind(messages) == "thanks" and _followup(events) is None


@pytest.mark.parametrize("answer_id", ["zzzzzzzzzzzz", "not-an-id"])
def test_an_unknown_answer_id_rates_nothing_and_says_so(chat: Conversation, records: Records, answer_id: str) -> None:
    chat.ask("用气报装多少钱", "ask_fee")
    messages, events = chat.rate("bad", answer_id)
    assert records.rows("feedback") == []
    assert _feedback_kind(messages) == "unknown_answer" and _followup(events) is None  # no comment asked for nothing


def test_only_the_recent_answers_can_be_rated(chat: Conversation, records: Records) -> None:
    questions = (["用水报装要多久", "用电报装要多久", "用气报装要多久"] * 4)[: RECENT_ANSWERS + 1]
    ids = [chat.ask(question, "ask_time_limit")["id"] for question in questions]
    assert len(chat.slots["answers"]) == RECENT_ANSWERS and ids[0] not in [a["id"] for a in chat.slots["answers"]]
    messages, _events = chat.rate("good", ids[0])
    assert _feedback_kind(messages) == "unknown_answer" and records.rows("feedback") == []
    chat.rate("good", ids[1])
    assert [r["answer_id"] for r in records.rows("feedback")] == [ids[1]]


def test_a_typed_rating_rates_the_latest_answer(chat: Conversation, records: Records) -> None:
    chat.ask("开办企业需要什么材料", "ask_materials")
    latest = chat.ask("用水报装要多久", "ask_time_limit")
    chat.turn(ActionRecordFeedback, "回答得很好", "feedback_good")
    assert [(r["guide_id"], r["answer_id"]) for r in records.rows("feedback")] == [("water-connection", latest["id"])]


def test_a_bad_rating_with_its_comment_is_stored_at_once(chat: Conversation, records: Records) -> None:
    answer = chat.ask("用气报装多少钱", "ask_fee")
    messages, events = chat.rate("bad", answer["id"], "没有说表具费用谁出")
    assert [(r["guide_id"], r["comment"]) for r in records.rows("feedback")] == [("gas-connection", "没有说表具费用谁出")]
    assert _feedback_kind(messages) == "comment_saved" and _followup(events) is None


# --- the message after the comment request ----------------------------------------------------

@pytest.mark.parametrize(("text", "intent", "guide_id"), [
    ("施工许可证在哪里办理", "ask_location", "construction-permit"),
    ("用水报装要多久？", "ask_time_limit", "water-connection"),
    ("燃气开户要多久", "ask_time_limit", "gas-connection"),  # the same item, but a question
    ("用电报装", "ask_procedure", "electricity-connection"),  # no question words, but another item
])
def test_a_question_after_the_comment_request_is_answered_not_stored(chat: Conversation, records: Records, text: str, intent: str,
                                                                     guide_id: str) -> None:
    answer = chat.ask("用气报装多少钱", "ask_fee")
    chat.rate("bad", answer["id"])
    messages, _events = chat.reply_to_comment_request(text, intent)
    assert custom(messages, "answer") is not None and custom(messages, "answer")["guide"]["id"] == guide_id, texts(messages)
    assert [(r["rating"], r["comment"]) for r in records.rows("feedback")] == [("bad", None)]
    assert chat.slots["feedback_comment"] is None and chat.slots["feedback_answer"] is None  # the request is over
    assert chat.slots["answers"][-1]["guide_id"] == guide_id  # and the new answer can be rated in turn


def test_another_item_after_the_comment_request_is_asked_back_like_any_question(chat: Conversation, records: Records) -> None:
    answer = chat.ask("用气报装多少钱", "ask_fee")
    chat.rate("bad", answer["id"])
    messages, _events = chat.reply_to_comment_request("注销公司", "ask_procedure")  # no question words; two deregistration guides
    assert custom(messages, "clarify") is not None, texts(messages)
    assert [row["comment"] for row in records.rows("feedback")] == [None]


def test_another_item_close_to_the_rated_one_is_still_a_question(chat: Conversation, records: Records) -> None:
    answer = chat.ask("开公司要带什么材料", "ask_materials")  # company-setup, a neighbour of the two deregistrations
    chat.rate("bad", answer["id"])
    messages, _events = chat.reply_to_comment_request("注销公司", "ask_procedure")
    assert custom(messages, "clarify") is not None, texts(messages)
    assert [row["comment"] for row in records.rows("feedback")] == [None]


@pytest.mark.parametrize(("text", "intent"), [
    ("没说清楚表具费用谁出", "ask_fee"),  # reads like a question, but judges the answer
    ("没有说清楚表具的费用谁出", "ask_fee"),
    ("表具费用", "ask_fee"),  # no question words, about the rated item
    ("电话打不通", "ask_contact"),
    ("希望写明要带几份复印件", "ask_materials"),
    ("太啰嗦了", "chitchat"),
])
def test_a_comment_after_the_comment_request_is_stored_with_its_answer(chat: Conversation, records: Records, text: str, intent: str) -> None:
    answer = chat.ask("用气报装多少钱", "ask_fee")
    chat.rate("bad", answer["id"])
    messages, _events = chat.reply_to_comment_request(text, intent)
    assert custom(messages, "answer") is None and _feedback_kind(messages) == "comment_saved", texts(messages)
    [row] = records.rows("feedback")
    assert (row["answer_id"], row["guide_id"], row["comment"]) == (answer["id"], "gas-connection", text)


def test_the_comment_goes_to_the_rated_answer_not_to_a_later_bad_rating(chat: Conversation, records: Records) -> None:
    first = chat.ask("开办企业需要什么材料", "ask_materials")
    second = chat.ask("用水报装要多久", "ask_time_limit")
    chat.rate("bad", second["id"], "时限写得不对")
    chat.rate("bad", first["id"])
    chat.reply_to_comment_request("缺少委托书模板", "ask_materials")
    comments = {row["answer_id"]: row["comment"] for row in records.rows("feedback")}
    assert comments == {second["id"]: "时限写得不对", first["id"]: "缺少委托书模板"}


def test_a_rating_button_pressed_instead_of_a_comment_rates_its_own_answer(chat: Conversation, records: Records) -> None:
    first = chat.ask("开办企业需要什么材料", "ask_materials")
    second = chat.ask("用水报装要多久", "ask_time_limit")
    chat.rate("bad", second["id"])
    payload = rating_payload("bad", first["id"])
    _messages, events = chat.turn(ActionSaveFeedbackComment, payload, "feedback_bad", {"answer_id": first["id"]}, feedback_comment=payload)
    assert [(r["answer_id"], r["comment"]) for r in records.rows("feedback")] == [(second["id"], None), (first["id"], None)]
    assert _followup(events) == "feedback_form" and chat.slots["feedback_answer"] == first["id"]  # asks again, for that answer
