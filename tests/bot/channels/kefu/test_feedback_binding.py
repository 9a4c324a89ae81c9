"""Feedback bound to its answer through the hall API: every answer's chat response has an
answer_id, carried by its rating buttons; POST /api/v1/feedback names the answer it rates, so an
old answer's rating is stored against that answer, and an id the conversation no longer knows is
stored against none. First against the running assistant, then on the app object."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from protocol import ANSWER_ID_PATTERN, SENDER_PREFIX_KEFU, rating_payload
from tests.support import wait_for_rows
from tests.support.kefu import AUTH, SAVED_REPLY, Api, asgi_client, assert_answers, button, fake_rasa, new_session
from tests.support.stack import Assistant


def _feedback(assistant: Assistant, session: str, until: Any = bool) -> list[dict[str, Any]]:
    return wait_for_rows(assistant.settings.records_db, "feedback", lambda row: row["sender_id"] == SENDER_PREFIX_KEFU + session,
                         until=until, timeout=30)


def _settled(api: Api, assistant: Assistant, session: str, question: str) -> dict[str, Any]:
    """Ask and wait until the question is logged: records are written in order, so all before it is too."""
    reply = api.chat(session, question)
    wait_for_rows(assistant.settings.records_db, "questions",
                  lambda row: row["sender_id"] == SENDER_PREFIX_KEFU + session and row["question"] == question, timeout=30)
    return reply


def test_each_answer_has_an_id_and_its_buttons_carry_it(api: Api) -> None:
    session = new_session()
    first, second = api.chat(session, "开办企业需要什么材料"), api.chat(session, "用水报装要多久")
    for reply in (first, second):
        assert reply["kind"] == "answer" and re.fullmatch(ANSWER_ID_PATTERN, reply["answer_id"])
        assert button(reply, "好评")["payload"] == rating_payload("good", reply["answer_id"])
        assert button(reply, "差评")["payload"] == rating_payload("bad", reply["answer_id"])
    assert first["answer_id"] != second["answer_id"]
    assert api.chat(session, "今天天气怎么样")["answer_id"] is None  # no answer, nothing to rate


def test_a_rating_of_an_earlier_answer_names_that_answer(api: Api, assistant: Assistant) -> None:
    session = new_session()
    first = api.chat(session, "开办企业需要什么材料")
    api.chat(session, "用水报装要多久")
    response = api.http.post("/api/v1/feedback", headers=AUTH, json={
        "session_id": session, "answer_id": first["answer_id"], "rating": "bad", "comment": "没有说委托书的模板在哪下载"})
    assert response.status_code == 200, response.text
    assert response.json()["recorded"] is True and response.json()["comment_recorded"] is True
    [row] = _feedback(assistant, session)
    assert (row["rating"], row["answer_id"], row["guide_id"], row["section"], row["question"], row["comment"]) == (
        "bad", first["answer_id"], "company-setup", "申请材料", "开办企业需要什么材料", "没有说委托书的模板在哪下载")


def test_an_old_button_clicked_in_the_chat_rates_its_own_answer(api: Api, assistant: Assistant) -> None:
    session = new_session()
    first = api.chat(session, "办施工许可证要交钱吗")
    api.chat(session, "用气报装多少钱")
    thanks = api.chat(session, button(first, "好评")["payload"])
    assert "感谢" in api.text(thanks)
    assert [(r["rating"], r["guide_id"], r["answer_id"]) for r in _feedback(assistant, session)] == [
        ("good", "construction-permit", first["answer_id"])]


def test_an_answer_id_the_session_does_not_know_rates_nothing(api: Api, assistant: Assistant) -> None:
    session, other = new_session(), new_session()
    elsewhere = api.chat(other, "用气报装多少钱")["answer_id"]  # another session's answer
    api.chat(session, "用水报装要多久")
    for answer_id in (elsewhere, "zzzzzzzzzzzz"):
        body = api.http.post("/api/v1/feedback", json={"session_id": session, "answer_id": answer_id, "rating": "bad"},
                             headers=AUTH).json()
        assert body["recorded"] is False and body["comment_recorded"] is False
        assert "没有找到您要评价的这条回答" in body["messages"][0]["text"]
    _settled(api, assistant, session, "用电报装要多久")
    assert _feedback(assistant, session, until=lambda rows: True) == []


def test_a_question_after_a_bad_rating_is_answered_not_kept_as_the_comment(api: Api, assistant: Assistant) -> None:
    session = new_session()
    answer = api.chat(session, "用气报装多少钱")
    asked = api.http.post("/api/v1/feedback", json={"session_id": session, "answer_id": answer["answer_id"], "rating": "bad"},
                          headers=AUTH).json()
    assert asked["recorded"] is True and "缺了什么" in asked["messages"][0]["text"]
    assert_answers(api, _settled(api, assistant, session, "施工许可证在哪里办理"), "construction-permit", "办理地点")
    assert [(r["guide_id"], r["comment"]) for r in _feedback(assistant, session)] == [("gas-connection", None)]


# --- on the app object, against a fake assistant --------------------------------------------------

def test_the_comment_is_shortened_so_the_rating_message_fits_the_limit(small_settings: Any) -> None:
    settings = small_settings.replace(message_max_chars=80)
    comment = "表具" * 40  # 80 characters: within the comment's limit, but not with the payload around it

    async def run(url: str) -> dict[str, Any]:
        async with asgi_client(settings, url) as client:
            response = await client.post("/api/v1/feedback", headers=AUTH,
                                         json={"session_id": "s1", "answer_id": "kqzvtmwrbahe", "rating": "bad", "comment": comment})
            assert response.status_code == 200, response.text
            return dict(response.json())

    with fake_rasa([SAVED_REPLY]) as (url, received):
        body = asyncio.run(run(url))
    [message] = [r["message"] for r in received]
    assert len(message) == 80 and message.startswith('/feedback_bad{"answer_id": "kqzvtmwrbahe", "comment": "表具')
    assert comment.startswith(json.loads(message[len("/feedback_bad"):])["comment"])
    assert body["recorded"] is True and body["comment_recorded"] is True


def test_a_rating_must_name_an_answer(small_settings: Any) -> None:
    async def run(url: str) -> list[int]:
        async with asgi_client(small_settings, url) as client:
            statuses = []
            for extra in ({}, {"answer_id": 'kqzvtmwrbahe"}'}, {"answer_id": "13812345678a"}):
                response = await client.post("/api/v1/feedback", json={"session_id": "s1", "rating": "good", **extra}, headers=AUTH)
                statuses.append(response.status_code)
            return statuses

    with fake_rasa([SAVED_REPLY]) as (url, received):
        assert asyncio.run(run(url)) == [422, 422, 422]
    assert received == []  # nothing reached the assistant
