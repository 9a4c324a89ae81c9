"""Feedback bound to its answer, end to end through Rasa's REST channel and the action server: an
old 差评 button rates its own answer, the message after the comment request is answered when it
is a question, a rating button during the request rates its own answer and asks again, and an
answer id the conversation does not know rates nothing and asks nothing."""

from __future__ import annotations

from typing import Any

from protocol import rating_payload
from tests.support import Chat, assert_guide_answer, wait_for_rows
from tests.support.stack import Assistant


def _feedback(assistant: Assistant, chat: Chat, until: Any = bool) -> list[dict[str, Any]]:
    return wait_for_rows(assistant.settings.records_db, "feedback", lambda row: row["sender_id"] == chat.sender, until=until, timeout=30)


def _settled(assistant: Assistant, chat: Chat, question: str) -> None:
    """Wait until `question` is logged: the records are written in order, so all before it is written too."""
    wait_for_rows(assistant.settings.records_db, "questions", lambda row: row["sender_id"] == chat.sender and row["question"] == question,
                  timeout=30)


def test_an_old_bad_rating_button_names_its_own_answer(assistant: Assistant) -> None:
    chat = assistant.chat()
    first = chat.say("开办企业需要什么材料")
    second = chat.say("用水报装要多久")
    assert first.answer["id"] != second.answer["id"]
    ask = chat.click(first.button("差评"))
    assert "缺了什么" in ask.text
    saved = chat.say("没说清楚委托书要不要公证")
    assert "已记录" in saved.text
    [row] = _feedback(assistant, chat, until=lambda rows: bool(rows) and rows[-1]["comment"])
    assert (row["rating"], row["answer_id"], row["guide_id"], row["section"], row["question"], row["comment"]) == (
        "bad", first.answer["id"], "company-setup", "申请材料", "开办企业需要什么材料", "没说清楚委托书要不要公证")


def test_a_question_after_a_bad_rating_is_answered_and_not_stored_as_the_comment(assistant: Assistant) -> None:
    chat = assistant.chat()
    answer = chat.say("用气报装多少钱")
    assert "缺了什么" in chat.click(answer.button("差评")).text
    question = "施工许可证在哪里办理"
    reply = chat.say(question)
    assert_guide_answer(reply, "construction-permit", "办理地点")
    _settled(assistant, chat, question)
    assert [(r["rating"], r["guide_id"], r["comment"]) for r in _feedback(assistant, chat)] == [("bad", "gas-connection", None)]
    # the request is over: the next message is a question as always, and the new answer can be rated in turn
    assert_guide_answer(chat.say("要带什么材料"), "construction-permit", "申请材料")
    assert "感谢" in chat.click(reply.button("好评")).text
    rows = _feedback(assistant, chat, until=lambda rows: len(rows) == 2)
    assert [(r["rating"], r["guide_id"], r["answer_id"]) for r in rows][-1] == ("good", "construction-permit", reply.answer["id"])


def test_a_rating_button_instead_of_the_comment_rates_its_answer_and_asks_again(assistant: Assistant) -> None:
    chat = assistant.chat()
    first = chat.say("刻章可以在网上办吗")
    second = chat.say("用电报装要多久")
    assert "缺了什么" in chat.click(second.button("差评")).text
    again = chat.click(first.button("差评"))  # the older answer's 差评 while the request is open
    assert "缺了什么" in again.text and again.text.count("缺了什么") == 1
    assert "已记录" in chat.say("缺少网上办理的网址").text
    rows = _feedback(assistant, chat, until=lambda rows: len(rows) == 2 and any(r["comment"] for r in rows))
    assert [(r["guide_id"], r["comment"]) for r in rows] == [("electricity-connection", None), ("seal-engraving", "缺少网上办理的网址")]


def test_an_unknown_answer_id_rates_nothing_and_asks_nothing(assistant: Assistant) -> None:
    chat = assistant.chat()
    chat.say("用气报装多少钱")
    reply = chat.say(rating_payload("bad", "zzzzzzzzzzzz"))
    assert "没有找到您要评价的这条回答" in reply.text and "缺了什么" not in reply.text
    # no comment request is open: a question is just answered, and nothing was stored
    assert_guide_answer(chat.say("燃气开户要多久"), "gas-connection", "办理时限")
    _settled(assistant, chat, "燃气开户要多久")
    assert _feedback(assistant, chat, until=lambda rows: True) == []
