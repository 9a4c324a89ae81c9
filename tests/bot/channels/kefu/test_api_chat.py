"""The 智能云客服 hall API's chat route as staff tools and kiosks use it: against the running assistant
(real Rasa, real action server, the hall service started by the launcher), answers compared with
the guide files; then what the chat does when Rasa or the action server is down, and what it sends
to Rasa, on the app object with a fake Rasa."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest

from actions import contact_replies
from knowledge.retrieval.offices import Listing
from knowledge.retrieval.retriever import GuideCandidate
from protocol import SENDER_PREFIX_KEFU, rating_payload
from tests.support import parsed_guide
from tests.support.kefu import AUTH, Api, asgi_client, assert_answers, button, fake_rasa, new_session
from tests.support.stack import Assistant

# Every kind a reply of the assistant itself can have (not made by the hall API).
ASSISTANT_KINDS = {"answer", "clarify", "not_found", "ask_item", "handoff", "message"}


# --- conversations ---------------------------------------------------------------------------

def test_a_question_gets_the_structured_answer(api: Api) -> None:
    reply = api.chat(new_session(), "开办企业需要什么材料")
    assert_answers(api, reply, "company-setup", "申请材料")
    assert reply["aspect"] == "materials"
    assert reply["guide"]["notice_url"] == "/api/v1/guides/company-setup/notice"
    assert {b["payload"] for b in reply["buttons"]} >= {rating_payload("good", reply["answer_id"]), rating_payload("bad", reply["answer_id"])}


def test_a_follow_up_in_the_same_session_keeps_the_guide(api: Api) -> None:
    session = new_session()
    assert_answers(api, api.chat(session, "开办企业需要什么材料"), "company-setup", "申请材料")
    follow_up = api.chat(session, "那要多久？")
    assert_answers(api, follow_up, "company-setup", "办理时限")
    assert follow_up["aspect"] == "time_limit"
    # another session knows nothing of it: it asks which item
    assert api.chat(new_session(), "那要多久？")["kind"] == "ask_item"


def test_an_ambiguous_question_offers_buttons_and_a_click_answers(api: Api) -> None:
    session = new_session()
    reply = api.chat(session, "注销公司")
    assert reply["kind"] == "clarify" and reply["guide"] is None
    titles = [parsed_guide(g).title for g in ("company-deregistration", "simplified-deregistration")]
    assert all(any(title in b["title"] for b in reply["buttons"]) for title in titles)
    picked = api.chat(session, button(reply, "简易注销")["payload"])
    assert_answers(api, picked, "simplified-deregistration")


def test_asking_for_a_person_hands_off(api: Api) -> None:
    session = new_session()
    api.chat(session, "用水报装要什么材料")
    reply = api.chat(session, "转人工")
    assert reply["kind"] == "handoff" and reply["handoff"] is True
    guide = parsed_guide("water-connection")
    assert reply["guide"]["id"] == "water-connection"  # the item in context, so the page shows its card
    assert [c["phone"] for c in reply["contacts"]] == [c.phone for c in guide.contacts]
    assert "12345" in api.text(reply)
    assert api.chat(new_session(), "/request_human")["handoff"] is True


def test_empty_and_too_long_messages_get_a_polite_reply(api: Api, assistant: Assistant) -> None:
    empty = api.chat(new_session(), "   ")
    assert empty["kind"] == "empty" and "请输入" in api.text(empty)
    limit = assistant.settings.message_max_chars
    long = api.chat(new_session(), "开" * (limit + 1))
    assert long["kind"] == "too_long" and str(limit) in api.text(long)


@pytest.mark.parametrize(("message", "kind"), [
    pytest.param("😀👍🏻👨‍👩‍👧🇨🇳", "assistant", id="emoji-only"),
    pytest.param("\x00\x01\x07\x1b\x7f", "empty", id="control-only"),
    pytest.param("开办企业\x00需要\x1b什么材料", "answer", id="control-inside"),
    pytest.param("\u200b\u200c\u200d\u2060\ufeff\u200e\u200f", "empty", id="zero-width-only"),
    pytest.param(" \u200b\t\u3000\u00a0\ufeff\n ", "empty", id="zero-width-and-blanks"),
    pytest.param("ما هي الوثائق المطلوبة لفتح شركة؟", "assistant", id="right-to-left"),
    pytest.param("\u202e开办企业需要什么材料\u202c", "answer", id="direction-override"),
    pytest.param("<script>alert('x')</script><img src=x onerror=alert(1)>", "assistant", id="html-script"),
    pytest.param("'; DROP TABLE feedback; -- \" OR 1=1", "assistant", id="sql"),
    pytest.param("../../../../etc/passwd %2e%2e%2f ..\\..\\windows\\win.ini", "assistant", id="path-traversal"),
    pytest.param("x" * 20_000, "too_long", id="20000-chars"),
    pytest.param(" \t\n\r \u3000\u00a0 ", "empty", id="whitespace-only"),
    pytest.param("\udfff\ud800", "empty", id="lone-surrogates-only"),  # valid JSON ("\udfff\ud800": no pair), not text
    pytest.param("开办企业\ud83d需要什么材料", "answer", id="lone-surrogate-inside"),
])
def test_bad_input_gets_a_polite_reply_of_the_right_kind(api: Api, assistant: Assistant, message: str, kind: str) -> None:
    # json.dumps escapes what is not ASCII, so lone surrogates travel as JSON allows ("\ud800").
    body = json.dumps({"session_id": new_session(), "message": message})
    response = api.http.post("/api/v1/chat", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text  # never a 4xx/5xx
    reply = response.json()
    text = api.text(reply)
    assert text.strip() and "Traceback" not in text and "root:" not in text
    if kind == "assistant":
        assert reply["kind"] in ASSISTANT_KINDS, reply
    else:
        assert reply["kind"] == kind, reply
    if kind == "answer":  # the invisible or control characters did not change what was asked
        assert reply["guide"]["id"] == "company-setup"
    if kind == "empty":
        assert "请输入" in text
    if kind == "too_long":
        assert str(assistant.settings.message_max_chars) in text
    with sqlite3.connect(assistant.settings.records_db) as db:  # the SQL text was only ever text
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'feedback'").fetchone()


def test_the_rasa_conversation_is_named_after_the_session(api: Api, assistant: Assistant) -> None:
    session = new_session()
    api.chat(session, "用气报装多少钱")
    with sqlite3.connect(assistant.settings.tracker_db) as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
    assert SENDER_PREFIX_KEFU + session in senders


# --- Rasa or the action server down, what reaches Rasa: on the app object --------------------

def test_rasa_down_is_a_polite_reply_with_the_hotline(small_settings: Any) -> None:
    async def run() -> None:
        async with asgi_client(small_settings, "http://127.0.0.1:9/webhooks/rest/webhook") as client:
            response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": "开办企业需要什么材料"}, headers=AUTH)
            assert response.status_code == 200
            body = response.json()
            assert body["kind"] == "unavailable" and small_settings.hotline in body["messages"][0]["text"]
            assert "Traceback" not in response.text and "Error" not in response.text
            feedback = await client.post("/api/v1/feedback", json={"session_id": "s1", "answer_id": "kqzvtmwrbahe", "rating": "good"}, headers=AUTH)
            assert feedback.status_code == 200 and feedback.json()["recorded"] is False
            assert small_settings.hotline in feedback.json()["messages"][0]["text"]

    asyncio.run(run())


@pytest.mark.parametrize(("replies", "status"), [([[]], 200), ([[{"text": "x"}]], 500), ([[{"text": "x"}]], 503)])
def test_action_server_down_or_rasa_errors_are_a_polite_reply(small_settings: Any, replies: list[Any], status: int) -> None:
    async def run(url: str) -> None:
        async with asgi_client(small_settings, url) as client:
            response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": "用水报装要多久"}, headers=AUTH)
            assert response.status_code == 200 and response.json()["kind"] == "unavailable"

    with fake_rasa(replies, status=status) as (url, _received):
        asyncio.run(run(url))


def test_too_long_and_empty_messages_never_reach_rasa(small_settings: Any) -> None:
    limit = small_settings.message_max_chars
    cases = [("开" * (limit + 1), "too_long"), (" \n\t ", "empty"), ("\u200b\u200d\ufeff\u2060", "empty"), ("\x00\x1b\x7f", "empty"),
             ("\u202e \u200f", "empty")]

    async def run(url: str) -> None:
        async with asgi_client(small_settings, url) as client:
            for message, kind in cases:
                response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": message}, headers=AUTH)
                assert response.status_code == 200 and response.json()["kind"] == kind, (message, response.json())

    with fake_rasa([[{"text": "不应该到这里"}]]) as (url, received):
        asyncio.run(run(url))
    assert received == []


def test_the_message_is_sent_trimmed_under_the_channel_sender(small_settings: Any) -> None:
    async def run(url: str) -> dict[str, Any]:
        async with asgi_client(small_settings, url) as client:
            response = await client.post("/api/v1/chat", json={"session_id": "kiosk_3-a", "message": "  你好 \n"}, headers=AUTH)
            return response.json()

    with fake_rasa([[{"text": "您好！"}]]) as (url, received):
        body = asyncio.run(run(url))
    assert received == [{"sender": "kefu-kiosk_3-a", "message": "你好"}]
    assert body["kind"] == "message" and body["messages"] == [{"text": "您好！"}] and body["guide"] is None


def test_invisible_characters_are_removed_before_the_length_check(small_settings: Any) -> None:
    limit = small_settings.message_max_chars

    async def run(url: str) -> str:
        async with asgi_client(small_settings, url) as client:
            message = "\u200b" + "开" * limit + "\ufeff\u200d" * 20
            response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": message}, headers=AUTH)
            return str(response.json()["kind"])

    with fake_rasa([[{"text": "好的"}]]) as (url, received):
        assert asyncio.run(run(url)) == "message"  # at the limit once the invisible padding is gone
    assert received == [{"sender": "kefu-s1", "message": "开" * limit}]


def _through_the_api(small_settings: Any, reply: Any, message: str = "市监局电话多少") -> dict[str, Any]:
    """The /api/v1/chat response for one reply of the actions (its REST-channel messages from a fake Rasa): what the
    response model lets through, not only what structured_reply builds."""
    messages: list[dict[str, Any]] = [{"recipient_id": "kefu-s1", "text": reply.text, **({"buttons": reply.buttons} if reply.buttons else {})},
                                      {"recipient_id": "kefu-s1", "custom": reply.custom}]

    async def run(url: str) -> dict[str, Any]:
        async with asgi_client(small_settings, url) as client:
            response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": message}, headers=AUTH)
            assert response.status_code == 200
            return dict(response.json())

    with fake_rasa([messages]) as (url, _received):
        return asyncio.run(run(url))


def test_an_office_with_several_phones_comes_once_with_all_of_them(small_settings: Any) -> None:
    titles = {"company-setup": parsed_guide("company-setup").title, "simplified-deregistration": parsed_guide("simplified-deregistration").title}
    rows = [Listing(contact.unit, contact.phone, contact.address, contact.hours, (guide_id,))
            for guide_id in titles for contact in parsed_guide(guide_id).contacts if contact.unit.endswith("登记注册科")]
    body = _through_the_api(small_settings, contact_replies.offices(rows, titles, [GuideCandidate(g, t, 0.0) for g, t in titles.items()],
                                                                    "contact"))
    assert body["kind"] == "clarify" and [contact["unit"] for contact in body["contacts"]] == [rows[0].unit]
    assert body["contacts"][0]["phones"] == [{"phone": row.phone, "matters": [titles[row.guide_ids[0]]]} for row in rows]


def test_a_complaints_supervision_reaches_the_api_response(small_settings: Any) -> None:
    guide = {**parsed_guide("water-connection").as_dict(), "complaint_phone": "0000-1230000"}
    body = _through_the_api(small_settings, contact_replies.handoff(guide, reason="complain", record_id=7, hotline="12345"), "窗口态度太差，我要投诉")
    assert body["kind"] == "handoff" and body["handoff"] is True
    assert body["supervision"] == {"department": guide["department"], "phone": "0000-1230000"}
    plain = _through_the_api(small_settings, contact_replies.handoff(guide, reason="request_human", record_id=8, hotline="12345"), "转人工")
    assert plain["kind"] == "handoff" and plain["supervision"] is None
