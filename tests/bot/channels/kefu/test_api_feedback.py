"""Feedback through the 智能云客服 hall API: ratings and comments against the running assistant, as
the records database stores them; then what the feedback route claims to have recorded, on the app
object against a fake assistant playing the replies the real one gives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from protocol import SENDER_PREFIX_KEFU
from tests.support import wait_for_rows
from tests.support.kefu import (
    ASK_REPLY,
    AUTH,
    SAVED_REPLY,
    THANKS,
    THANKS_REPLY,
    Api,
    asgi_client,
    assert_answers,
    button,
    domain_response,
    fake_rasa,
    new_session,
)
from tests.support.stack import Assistant

# --- feedback --------------------------------------------------------------------------------

def _rows(assistant: Assistant, table: str, session: str, until: Callable[[list[dict[str, Any]]], bool] | None = None,
          timeout: float = 30.0) -> list[dict[str, Any]]:
    """The session's rows of a records table; with `until`, polled until it holds (or the timeout)."""
    return wait_for_rows(assistant.settings.records_db, table, lambda row: row["sender_id"] == SENDER_PREFIX_KEFU + session,
                         until=until or (lambda _rows: True), timeout=timeout)


def _feedback_rows(assistant: Assistant, session: str, until: Callable[[list[dict[str, Any]]], bool] | None = None) -> list[dict[str, Any]]:
    return _rows(assistant, "feedback", session, until)


def _records_settled(api: Api, assistant: Assistant, session: str, question: str) -> dict[str, Any]:
    """Ask `question` and wait until it is logged. The records are written one at a time in order,
    so then everything this session did before is written too. Returns the reply."""
    reply = api.chat(session, question)
    logged = _rows(assistant, "questions", session, until=lambda rows: any(r["question"] == question for r in rows))
    assert any(r["question"] == question for r in logged), f"{question!r} was never logged"
    return reply


def test_good_feedback_is_stored_with_the_question_and_guide(api: Api, assistant: Assistant) -> None:
    session = new_session()
    answer = api.chat(session, "办施工许可证要交钱吗")
    response = api.http.post("/api/v1/feedback", json={"session_id": session, "answer_id": answer["answer_id"], "rating": "good"},
                             headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["recorded"] is True and body["rating"] == "good" and body["comment_recorded"] is False
    assert "感谢" in body["messages"][0]["text"]
    rows = _feedback_rows(assistant, session, until=lambda rows: len(rows) >= 1)
    assert len(rows) == 1
    assert (rows[0]["rating"], rows[0]["guide_id"], rows[0]["section"], rows[0]["question"]) == (
        "good", "construction-permit", "收费标准", "办施工许可证要交钱吗")


def test_bad_feedback_with_a_comment_stores_both_and_the_chat_goes_on(api: Api, assistant: Assistant) -> None:
    session = new_session()
    answer = api.chat(session, "用气报装多少钱")
    response = api.http.post("/api/v1/feedback", json={"session_id": session, "answer_id": answer["answer_id"], "rating": "bad",
                                                       "comment": "没有说表具费用谁出"}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["comment_recorded"] is True
    rows = _feedback_rows(assistant, session, until=lambda rows: bool(rows) and rows[-1]["comment"] is not None)
    assert rows[-1]["rating"] == "bad" and rows[-1]["guide_id"] == "gas-connection" and rows[-1]["comment"] == "没有说表具费用谁出"
    assert_answers(api, api.chat(session, "燃气开户要多久"), "gas-connection", "办理时限")


def test_a_comment_is_recorded_exactly_when_the_api_says_so(api: Api, assistant: Assistant) -> None:
    """A second 差评 while the first one's comment request is still open: what the API claims is
    what the records database holds (the second 差评 is taken with its comment)."""
    session = new_session()
    answer = api.chat(session, "用气报装多少钱")
    rating = {"session_id": session, "answer_id": answer["answer_id"], "rating": "bad"}
    first = api.http.post("/api/v1/feedback", json=rating, headers=AUTH).json()
    assert first["recorded"] is True and first["comment_recorded"] is False and "缺了什么" in first["messages"][0]["text"]
    before = _feedback_rows(assistant, session, until=lambda rows: len(rows) == 1)
    comment = "第二次差评附带的意见"
    second = api.http.post("/api/v1/feedback", json={**rating, "comment": comment}, headers=AUTH)
    assert second.status_code == 200, second.text
    body = second.json()
    # the comment was not taken for a question either: the conversation goes on about the same item
    assert_answers(api, _records_settled(api, assistant, session, "燃气开户要多久"), "gas-connection", "办理时限")
    after = _feedback_rows(assistant, session)
    assert body["comment_recorded"] == any(row["comment"] == comment for row in after), (body, after)
    # one rating per answer: the second 差评 of the same answer replaces the first, with its comment
    assert len(before) == len(after) == 1 and after[0]["id"] == before[0]["id"], (before, after)
    assert body["recorded"] and body["comment_recorded"]  # the second 差评 names its answer and brings its comment


def test_the_chat_buttons_record_feedback_the_same_way(api: Api, assistant: Assistant) -> None:
    session = new_session()
    answer = api.chat(session, "刻章可以在网上办吗")
    api.chat(session, button(answer, "好评")["payload"])
    rows = _feedback_rows(assistant, session, until=bool)
    assert [(r["rating"], r["guide_id"]) for r in rows] == [("good", "seal-engraving")]


# --- feedback claims, against a fake assistant -----------------------------------------------

UNKNOWN_REPLY = domain_response("utter_feedback_unknown_answer")
UNAVAILABLE_REPLY = [{"text": "抱歉，系统暂时无法回答"}, {"custom": {"unavailable": {"hotline": "12345"}}}]
ANSWER_ID = "kqzvtmwrbahe"


@pytest.mark.parametrize(("replies", "recorded", "comment_recorded"), [
    pytest.param([SAVED_REPLY], True, True, id="taken-with-its-comment"),
    pytest.param([ASK_REPLY], True, False, id="taken-but-the-comment-asked-for"),
    pytest.param([UNKNOWN_REPLY], False, False, id="answer-no-longer-known"),
    pytest.param([[{"text": "您好！请问想咨询什么？"}]], False, False, id="no-rating-reply"),
    pytest.param([[m for m in ASK_REPLY if "custom" not in m]], False, False, id="prompt-text-without-payload"),
    pytest.param([UNAVAILABLE_REPLY], False, False, id="action-server-down"),
])
def test_feedback_claims_only_what_the_assistant_confirmed(small_settings: Any, replies: list[Any], recorded: bool,
                                                           comment_recorded: bool) -> None:
    async def run(url: str) -> dict[str, Any]:
        async with asgi_client(small_settings, url) as client:
            response = await client.post("/api/v1/feedback", json={"session_id": "s1", "answer_id": ANSWER_ID, "rating": "bad",
                                                                   "comment": " /表具费用没写 "}, headers=AUTH)
            assert response.status_code == 200, response.text
            return dict(response.json())

    with fake_rasa(replies) as (url, received):
        body = asyncio.run(run(url))
    assert (body["recorded"], body["comment_recorded"]) == (recorded, comment_recorded)
    # One message: the 差评 names its answer and carries its comment (a leading "/" is harmless inside it).
    assert [r["message"] for r in received] == ['/feedback_bad{"answer_id": "kqzvtmwrbahe", "comment": "/表具费用没写"}']
    assert body["messages"] and all(m["text"] for m in body["messages"])


def test_good_feedback_is_recorded_when_thanked(small_settings: Any) -> None:
    async def run(url: str) -> dict[str, Any]:
        async with asgi_client(small_settings, url) as client:
            response = await client.post("/api/v1/feedback", json={"session_id": "s1", "answer_id": ANSWER_ID, "rating": "good",
                                                                   "comment": "不会发送"}, headers=AUTH)
            return dict(response.json())

    with fake_rasa([THANKS_REPLY]) as (url, received):
        body = asyncio.run(run(url))
    assert body["recorded"] is True and body["comment_recorded"] is False and body["messages"] == [{"text": THANKS}]
    assert [r["message"] for r in received] == ['/feedback_good{"answer_id": "kqzvtmwrbahe"}']  # a comment goes only with a 差评
