"""action_chitchat: small talk is steered back to procedures and recorded as no question; a question the NLU took for
small talk ("周末上班不") is answered, in a conversation about its matter, and asks which matter without one."""

from __future__ import annotations

import pytest

from actions.actions import ActionChitchat
from actions.chitchat import CHITCHAT_RESPONSE, asks_past_small_talk
from actions.services import Services
from knowledge.records.store import Records
from tests.support import custom, run_action, texts, tracker_for


@pytest.mark.parametrize("text", ["你叫什么名字", "讲个笑话", "你几点下班", "你家在哪", "哈哈哈", "您几点下班", "你好可爱，住在哪呀",
                                  "我周末也上班", "能陪我聊天吗"])
def test_small_talk_gets_the_steer_back(services: Services, records: Records, text: str) -> None:
    messages, _slots = run_action(ActionChitchat(services), tracker_for(text, "chitchat", {"guide_id": "water-connection"}))
    assert [m.get("response") for m in messages] == [CHITCHAT_RESPONSE]
    assert not records.rows("questions")  # small talk is no unanswered question for the admins


@pytest.mark.parametrize("text", ["周末上班不", "你们中午有人吗", "你好，周六上班吗"])
def test_office_hours_in_small_talks_words_are_answered_with_the_contacts_hours(services: Services, records: Records,
                                                                                text: str) -> None:
    messages, slots = run_action(ActionChitchat(services), tracker_for(text, "chitchat", {"guide_id": "water-connection"}))
    answered = custom(messages, "answer") or {}
    assert answered.get("guide", {}).get("id") == "water-connection" and answered["aspect"] == "contact"
    assert "办公时间：工作日 9:00-17:00" in texts(messages) and CHITCHAT_RESPONSE not in str(messages)
    assert slots["guide_id"] == "water-connection" and records.rows("questions")[-1]["question"] == text


def test_without_a_matter_the_question_asks_which_one(services: Services, records: Records) -> None:
    messages, slots = run_action(ActionChitchat(services), tracker_for("周末上班不", "chitchat"))
    assert texts(messages).startswith("请问您想了解哪个事项") and slots["pending_aspect"] == "contact"


@pytest.mark.parametrize(("text", "asks"), [
    ("周末上班不", True), ("几点下班", True), ("你们在哪办公", True), ("你好，周六上班吗", True), ("中午有人吗", True),
    # the assistant itself, a remark, other aspects small talk shares words with, a payload
    ("你几点下班", False), ("您是哪里人呀", False), ("你好聪明，在哪学的", False), ("我们中午不休息", False),
    ("我好累啊，周末还要上班", False), ("能陪我聊天吗", False), ("今天天气怎么样", False), ("/chitchat", False), ("", False),
])
def test_what_asks_past_small_talk(text: str, asks: bool) -> None:
    assert asks_past_small_talk(text) is asks
