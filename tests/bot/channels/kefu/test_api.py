"""The 智能云客服 hall API as staff tools and kiosks use it: against the running assistant (real
Rasa, real action server, the hall service started by the launcher), answers compared with the
guide files. Behaviour that depends on configuration (CORS, Rasa down) runs the app object on an
ASGI client with its own settings."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from bot.channels.kefu.api import create_app
from bot.channels.kefu.auth import SESSION_MAX_AGE_SECONDS
from bot.channels.kefu.throttle import DEFAULT_MAX_FAILURES
from knowledge.settings import load_settings
from protocol import SENDER_PREFIX_KEFU
from tests.support import GUIDES, ROOT, parsed_guide, wait_for_rows
from tests.support.kefu import AUTH, TOKEN, bundled_guides, corrupt_guides, domain_response, fake_rasa, publish_guides
from tests.support.stack import Assistant

_session_numbers = itertools.count(1)
# What the REST channel returns after a rating and a comment (domain.yml: each text, then its
# {"feedback": …} custom payload), to play it in fake Rasa replies.
THANKS_REPLY, ASK_REPLY, SAVED_REPLY = (domain_response(name) for name in (
    "utter_feedback_thanks", "utter_ask_feedback_comment", "utter_feedback_comment_saved"))
THANKS = THANKS_REPLY[0]["text"]
# Every kind a reply of the assistant itself can have (not made by the hall API).
ASSISTANT_KINDS = {"answer", "clarify", "not_found", "ask_item", "handoff", "message"}


def new_session() -> str:
    return f"api-test-{next(_session_numbers)}"


class Api:
    """The hall API over HTTP, as a staff tool would call it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=90)

    def chat(self, session_id: str, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.http.post("/api/v1/chat", json={"session_id": session_id, "message": message}, headers=headers or AUTH)
        assert response.status_code == 200, response.text
        return response.json()

    def text(self, reply: dict[str, Any]) -> str:
        return "\n".join(m["text"] for m in reply["messages"])


@pytest.fixture(scope="module")
def api(assistant: Assistant) -> Api:
    return Api(assistant.stack.kefu_url)


def _button(reply: dict[str, Any], title_part: str) -> dict[str, str]:
    found = [b for b in reply["buttons"] if title_part in b["title"]]
    assert found, f"no button {title_part!r} in {[b['title'] for b in reply['buttons']]}"
    return found[0]


def _assert_answers(api: Api, reply: dict[str, Any], guide_id: str, heading: str | None = None) -> None:
    """The structured reply is about `guide_id`, with the whole section and every contact."""
    guide = parsed_guide(guide_id)
    assert reply["kind"] == "answer", reply
    assert reply["guide"]["id"] == guide_id
    assert (reply["guide"]["title"], reply["guide"]["department"], reply["guide"]["updated"]) == (guide.title, guide.department, guide.updated)
    assert reply["contacts"] == [contact.as_dict() for contact in guide.contacts]
    text = api.text(reply)
    if heading:
        section = guide.section(heading)
        for item in section.items or [section.text.strip().splitlines()[0]]:
            assert item in text, f"{heading} incomplete: missing {item!r}"
    for contact in guide.contacts:
        assert contact.phone in text
    assert reply["handoff"] is False and 0 < reply["confidence"] <= 1


# --- conversations ---------------------------------------------------------------------------

def test_a_question_gets_the_structured_answer(api: Api) -> None:
    reply = api.chat(new_session(), "开办企业需要什么材料")
    _assert_answers(api, reply, "company-setup", "申请材料")
    assert reply["aspect"] == "materials"
    assert reply["guide"]["notice_url"] == "/api/v1/guides/company-setup/notice"
    assert {b["payload"] for b in reply["buttons"]} >= {"/feedback_good", "/feedback_bad"}


def test_a_follow_up_in_the_same_session_keeps_the_guide(api: Api) -> None:
    session = new_session()
    _assert_answers(api, api.chat(session, "开办企业需要什么材料"), "company-setup", "申请材料")
    follow_up = api.chat(session, "那要多久？")
    _assert_answers(api, follow_up, "company-setup", "办理时限")
    assert follow_up["aspect"] == "time_limit"
    # another session knows nothing of it: it asks which item
    assert api.chat(new_session(), "那要多久？")["kind"] == "ask_item"


def test_an_ambiguous_question_offers_buttons_and_a_click_answers(api: Api) -> None:
    session = new_session()
    reply = api.chat(session, "注销公司")
    assert reply["kind"] == "clarify" and reply["guide"] is None
    titles = [parsed_guide(g).title for g in ("company-deregistration", "simplified-deregistration")]
    assert all(any(title in b["title"] for b in reply["buttons"]) for title in titles)
    picked = api.chat(session, _button(reply, "简易注销")["payload"])
    _assert_answers(api, picked, "simplified-deregistration")


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


@pytest.mark.parametrize("body", [
    b'{"session_id": "x", "message": "\xff\xfe\xfd"}',             # bytes no UTF-8 text has
    '{"session_id": "x", "message": "开办企业"}'.encode("gbk"),       # Chinese in the wrong encoding
])
def test_a_body_that_is_not_utf8_is_400_chinese_json(api: Api, body: bytes) -> None:
    response = api.http.post("/api/v1/chat", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_json" and "UTF-8" in error["message"] and "请求体" in error["message"]
    assert "There was" not in response.text


def test_the_rasa_conversation_is_named_after_the_session(api: Api, assistant: Assistant) -> None:
    session = new_session()
    api.chat(session, "用气报装多少钱")
    with sqlite3.connect(assistant.settings.tracker_db) as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
    assert SENDER_PREFIX_KEFU + session in senders


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
    api.chat(session, "办施工许可证要交钱吗")
    response = api.http.post("/api/v1/feedback", json={"session_id": session, "rating": "good"}, headers=AUTH)
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
    api.chat(session, "用气报装多少钱")
    response = api.http.post("/api/v1/feedback", json={"session_id": session, "rating": "bad", "comment": "没有说表具费用谁出"}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["comment_recorded"] is True
    rows = _feedback_rows(assistant, session, until=lambda rows: bool(rows) and rows[-1]["comment"] is not None)
    assert rows[-1]["rating"] == "bad" and rows[-1]["guide_id"] == "gas-connection" and rows[-1]["comment"] == "没有说表具费用谁出"
    _assert_answers(api, api.chat(session, "燃气开户要多久"), "gas-connection", "办理时限")


def test_a_comment_is_recorded_exactly_when_the_api_says_so(api: Api, assistant: Assistant) -> None:
    """A second 差评 while the first one's comment form is still open is not a 差评 that opens the
    form (today the form takes "/feedback_bad" itself as the comment): the comment sent with it must
    not be claimed as recorded unless it is in the records database."""
    session = new_session()
    api.chat(session, "用气报装多少钱")
    first = api.http.post("/api/v1/feedback", json={"session_id": session, "rating": "bad"}, headers=AUTH).json()
    assert first["recorded"] is True and first["comment_recorded"] is False and "缺了什么" in first["messages"][0]["text"]
    before = _feedback_rows(assistant, session, until=lambda rows: len(rows) == 1)
    comment = "第二次差评附带的意见"
    second = api.http.post("/api/v1/feedback", json={"session_id": session, "rating": "bad", "comment": comment}, headers=AUTH)
    assert second.status_code == 200, second.text
    body = second.json()
    # the comment was not taken for a question either: the conversation goes on about the same item
    _assert_answers(api, _records_settled(api, assistant, session, "燃气开户要多久"), "gas-connection", "办理时限")
    after = _feedback_rows(assistant, session)
    assert body["comment_recorded"] == any(row["comment"] == comment for row in after), (body, after)
    assert body["recorded"] == (len(after) > len(before)), (body, after)


def test_the_chat_buttons_record_feedback_the_same_way(api: Api, assistant: Assistant) -> None:
    session = new_session()
    answer = api.chat(session, "刻章可以在网上办吗")
    api.chat(session, _button(answer, "好评")["payload"])
    rows = _feedback_rows(assistant, session, until=bool)
    assert [(r["rating"], r["guide_id"]) for r in rows] == [("good", "seal-engraving")]


# --- guides and the notice -------------------------------------------------------------------

def test_the_guide_list_has_every_guide(api: Api) -> None:
    response = api.http.get("/api/v1/guides", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    listed = {g["id"]: g for g in body["guides"]}
    assert body["count"] == len(body["guides"]) and body["index_version"]
    for path in GUIDES.glob("*.md"):
        guide = parsed_guide(path.stem)
        assert listed[guide.id] == {"id": guide.id, "title": guide.title, "category": guide.category,
                                    "department": guide.department, "updated": guide.updated}


@pytest.mark.parametrize(("query", "expected"), [("开公司", "company-setup"), ("用水报装", "water-connection"), ("营业执照补办", "license-reissue")])
def test_the_guide_search_finds_by_name(api: Api, query: str, expected: str) -> None:
    body = api.http.get("/api/v1/guides", params={"q": query}, headers=AUTH).json()
    assert body["guides"] and body["guides"][0]["id"] == expected, body


def test_a_search_without_match_is_an_empty_list(api: Api) -> None:
    body = api.http.get("/api/v1/guides", params={"q": "火星移民签证"}, headers=AUTH).json()
    assert body["count"] == 0 and body["guides"] == []


def test_a_guide_as_structured_json(api: Api) -> None:
    response = api.http.get("/api/v1/guides/company-setup", headers=AUTH)
    assert response.status_code == 200
    expected = parsed_guide("company-setup").as_dict()
    assert response.json() == {**expected, "notice_url": "/api/v1/guides/company-setup/notice"}


def test_the_printable_notice_lists_every_material_and_phone(api: Api) -> None:
    for guide_id in ("company-setup", "water-connection"):
        response = api.http.get(f"/api/v1/guides/{guide_id}/notice", headers=AUTH)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        html = response.text
        guide = parsed_guide(guide_id)
        materials = guide.section("申请材料").items
        assert html.count('type="checkbox"') == len(materials)
        for item in materials:
            assert escape(item) in html
        for contact in guide.contacts:
            assert contact.phone in html
        assert guide.updated in html and guide.title in html
        assert "@media print" in api.http.get("/assets/notice.css").text


@pytest.mark.parametrize("path", [
    "/api/v1/guides/no-such-guide", "/api/v1/guides/..%2F..%2Fetc%2Fpasswd",
    "/api/v1/guides/%2e%2e%2fsettings.yml", "/api/v1/guides/..%5c..%5cetc%5cpasswd", "/api/v1/guides/Company-Setup",
    "/api/v1/guides/company-setup%00", "/api/v1/guides/..%2Fguides.json/notice",
])
def test_unknown_and_path_like_guide_ids_are_404_json(api: Api, path: str) -> None:
    response = api.http.get(path, headers=AUTH)
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["status"] == 404 and "找不到" in error["message"]
    assert "root:" not in response.text


def test_an_unknown_guides_notice_is_a_404_html_page(api: Api) -> None:
    response = api.http.get("/api/v1/guides/no-such-guide/notice", headers=AUTH)
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "找不到该办事指南" in response.text and "no-such-guide" in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


# --- auth ------------------------------------------------------------------------------------

ROUTES = [("POST", "/api/v1/chat", {"session_id": "x", "message": "你好"}), ("GET", "/api/v1/guides", None),
          ("GET", "/api/v1/guides/company-setup", None), ("GET", "/api/v1/guides/company-setup/notice", None),
          ("POST", "/api/v1/feedback", {"session_id": "x", "rating": "good"}), ("GET", "/api/v1/session", None), ("GET", "/openapi.json", None)]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": f"Bearer {TOKEN}x"}, {"Cookie": "kefu_session=forged"}])
def test_every_route_needs_the_token(api: Api, method: str, path: str, body: Any, headers: dict[str, str]) -> None:
    response = api.http.request(method, path, json=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized" and "令牌" in response.json()["error"]["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_no_body_is_read_before_the_token(api: Api) -> None:
    response = api.http.post("/api/v1/chat", content=b"x" * 200_000, headers={"Content-Type": "application/json"})
    assert response.status_code == 401


def test_health_and_the_page_need_no_token(api: Api) -> None:
    assert api.http.get("/healthz").json() == {"status": "ok"}
    page = api.http.get("/")
    assert page.status_code == 200 and "政务服务智能问答" in page.text


def test_the_web_login_sets_a_strict_httponly_cookie_that_authorises(api: Api) -> None:
    wrong = httpx.post(api.base + "/api/v1/session", json={"token": "wrong"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    with httpx.Client(base_url=api.base, timeout=30) as browser:
        response = browser.post("/api/v1/session", json={"token": TOKEN})
        assert response.status_code == 200 and response.json() == {"authenticated": True}
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert TOKEN not in response.headers["set-cookie"]  # the cookie is derived, not the token
        assert browser.get("/api/v1/guides/company-setup/notice").status_code == 200
        assert browser.get("/api/v1/session").json() == {"authenticated": True}
        browser.delete("/api/v1/session")
        assert browser.get("/api/v1/session").status_code == 401


def test_the_service_listens_on_loopback_only(assistant: Assistant) -> None:
    process = psutil.Process(assistant.stack.kefu.pid)
    hosts = {c.laddr.ip for p in [process, *process.children(recursive=True)] for c in p.net_connections(kind="tcp")
             if c.status == psutil.CONN_LISTEN}
    assert hosts == {"127.0.0.1"}


def test_the_token_never_reaches_the_log(api: Api, assistant: Assistant) -> None:
    api.http.post("/api/v1/session", json={"token": TOKEN})
    api.chat(new_session(), "你好")
    log = (assistant.stack.logs / "kefu.log").read_text(encoding="utf-8")
    assert "POST /api/v1/chat" in log and TOKEN not in log


# --- bad requests ----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"session_id": "ok", "message": 42}, "message"),
    ({"session_id": "ok", "message": None}, "message"),
    ({"session_id": "ok"}, "message"),
    ({"session_id": "has space", "message": "你好"}, "session_id"),
    ({"session_id": "x" * 65, "message": "你好"}, "session_id"),
    ({"session_id": "../../etc", "message": "你好"}, "session_id"),
    ({"session_id": 7, "message": "你好"}, "session_id"),
    ({"session_id": "ok", "mesage": "你好"}, "mesage"),
])
def test_wrong_fields_are_422_json_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.http.post("/api/v1/chat", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and field in error["message"]
    assert any(d["field"] == field for d in error["details"])


@pytest.mark.parametrize("body", [[1, 2], "just text", 3])
def test_a_json_body_that_is_not_an_object_is_422(api: Api, body: Any) -> None:
    response = api.http.post("/api/v1/chat", json=body, headers=AUTH)
    assert response.status_code == 422 and "JSON 对象" in response.json()["error"]["message"]


def test_malformed_json_is_400_json(api: Api) -> None:
    response = api.http.post("/api/v1/chat", content=b'{"session_id": "x", "message": ', headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json" and "JSON" in response.json()["error"]["message"]


def test_a_body_without_json_content_type_is_400(api: Api) -> None:
    response = api.http.post("/api/v1/chat", content=b"session_id=x&message=hi",
                             headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "Content-Type: application/json" in response.json()["error"]["message"]


def test_a_huge_body_is_413_json(api: Api, assistant: Assistant) -> None:
    limit = assistant.settings.kefu_max_body_bytes
    response = api.http.post("/api/v1/chat", json={"session_id": "x", "message": "开" * limit}, headers=AUTH)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large" and str(limit) in response.json()["error"]["message"]


def test_a_huge_body_without_content_length_is_413_too(api: Api, assistant: Assistant) -> None:
    def chunks() -> Any:
        for _ in range(assistant.settings.kefu_max_body_bytes // 10_000 + 1):
            yield b"x" * 10_000

    response = api.http.post("/api/v1/chat", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 413


def test_wrong_method_and_unknown_path_are_json(api: Api) -> None:
    wrong_method = api.http.put("/api/v1/chat", headers=AUTH)
    assert wrong_method.status_code == 405 and "不支持" in wrong_method.json()["error"]["message"]
    unknown = api.http.get("/api/v2/nothing", headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_feedback_with_a_wrong_rating_is_422(api: Api) -> None:
    response = api.http.post("/api/v1/feedback", json={"session_id": "x", "rating": "great"}, headers=AUTH)
    assert response.status_code == 422 and "rating" in response.json()["error"]["message"]


# --- the API document ------------------------------------------------------------------------

def test_the_openapi_document_lists_every_route_and_the_chat_schema(api: Api) -> None:
    doc = api.http.get("/openapi.json", headers=AUTH).json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    expected = {"/api/v1/chat": "post", "/api/v1/feedback": "post", "/api/v1/guides": "get", "/api/v1/guides/{guide_id}": "get",
                "/api/v1/guides/{guide_id}/notice": "get", "/api/v1/session": "post", "/healthz": "get"}
    for path, method in expected.items():
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing"
    schemas = doc["components"]["schemas"]
    chat = paths["/api/v1/chat"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ChatRequest")
    assert chat["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ChatResponse")
    assert set(schemas["ChatRequest"]["properties"]) == {"session_id", "message"}
    assert set(schemas["ChatResponse"]["properties"]) >= {"messages", "guide", "aspect", "contacts", "buttons", "confidence", "handoff"}
    assert set(schemas["GuideRef"]["properties"]) >= {"id", "title", "department", "updated"}
    assert set(schemas["Contact"]["properties"]) == {"unit", "phone", "address", "hours"}
    assert set(schemas["Button"]["properties"]) == {"title", "payload"}
    # every error is our JSON shape, FastAPI's default validation shape is gone
    assert chat["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert "HTTPValidationError" not in schemas
    assert {"HTTPBearer", "APIKeyCookie"} <= set(doc["components"]["securitySchemes"])
    assert chat["security"]


def test_the_docs_page_works_offline(api: Api) -> None:
    page = api.http.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert api.http.get("/assets/docs.js").status_code == 200
    assert api.http.get("/redoc").status_code == 404


def test_pages_load_only_local_files(api: Api) -> None:
    for path in ("/", "/docs", "/assets/app.js", "/assets/style.css", "/assets/docs.js"):
        text = api.http.get(path).text
        assert "http://" not in text and "https://" not in text, path
    page = api.http.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


# --- configuration-dependent behaviour, on the app object ------------------------------------

def _asgi(settings: Any, rasa_url: str) -> httpx.AsyncClient:
    app = create_app(settings, rasa_url=rasa_url, token=TOKEN)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kefu.test")


@pytest.fixture
def small_settings(tmp_path: Path) -> Any:
    publish_guides(tmp_path / "index", bundled_guides())
    return load_settings(index_dir=tmp_path / "index", rasa_retries=0, rasa_timeout_seconds=5)


def test_cors_headers_only_for_a_configured_origin(small_settings: Any) -> None:
    async def run() -> None:
        configured = small_settings.replace(kefu_cors_origins="https://hall.example.gov.cn, https://kiosk.example.gov.cn")
        async with _asgi(configured, "http://127.0.0.1:9/webhook") as client:
            preflight = await client.options("/api/v1/chat", headers={"Origin": "https://kiosk.example.gov.cn",
                                                                      "Access-Control-Request-Method": "POST",
                                                                      "Access-Control-Request-Headers": "authorization,content-type"})
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == "https://kiosk.example.gov.cn"
            assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
            allowed = await client.get("/api/v1/guides", headers={**AUTH, "Origin": "https://hall.example.gov.cn"})
            assert allowed.headers["access-control-allow-origin"] == "https://hall.example.gov.cn"
            other = await client.get("/api/v1/guides", headers={**AUTH, "Origin": "https://evil.example"})
            assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
        async with _asgi(small_settings.replace(kefu_cors_origins=""), "http://127.0.0.1:9/webhook") as client:
            none = await client.get("/api/v1/guides", headers={**AUTH, "Origin": "https://hall.example.gov.cn"})
            assert "access-control-allow-origin" not in none.headers

    asyncio.run(run())


def test_rasa_down_is_a_polite_reply_with_the_hotline(small_settings: Any) -> None:
    async def run() -> None:
        async with _asgi(small_settings, "http://127.0.0.1:9/webhooks/rest/webhook") as client:
            response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": "开办企业需要什么材料"}, headers=AUTH)
            assert response.status_code == 200
            body = response.json()
            assert body["kind"] == "unavailable" and small_settings.hotline in body["messages"][0]["text"]
            assert "Traceback" not in response.text and "Error" not in response.text
            feedback = await client.post("/api/v1/feedback", json={"session_id": "s1", "rating": "good"}, headers=AUTH)
            assert feedback.status_code == 200 and feedback.json()["recorded"] is False
            assert small_settings.hotline in feedback.json()["messages"][0]["text"]

    asyncio.run(run())


@pytest.mark.parametrize(("replies", "status"), [([[]], 200), ([[{"text": "x"}]], 500), ([[{"text": "x"}]], 503)])
def test_action_server_down_or_rasa_errors_are_a_polite_reply(small_settings: Any, replies: list[Any], status: int) -> None:
    async def run(url: str) -> None:
        async with _asgi(small_settings, url) as client:
            response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": "用水报装要多久"}, headers=AUTH)
            assert response.status_code == 200 and response.json()["kind"] == "unavailable"

    with fake_rasa(replies, status=status) as (url, _received):
        asyncio.run(run(url))


def test_too_long_and_empty_messages_never_reach_rasa(small_settings: Any) -> None:
    limit = small_settings.message_max_chars
    cases = [("开" * (limit + 1), "too_long"), (" \n\t ", "empty"), ("\u200b\u200d\ufeff\u2060", "empty"), ("\x00\x1b\x7f", "empty"),
             ("\u202e \u200f", "empty")]

    async def run(url: str) -> None:
        async with _asgi(small_settings, url) as client:
            for message, kind in cases:
                response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": message}, headers=AUTH)
                assert response.status_code == 200 and response.json()["kind"] == kind, (message, response.json())

    with fake_rasa([[{"text": "不应该到这里"}]]) as (url, received):
        asyncio.run(run(url))
    assert received == []


def test_the_message_is_sent_trimmed_under_the_channel_sender(small_settings: Any) -> None:
    async def run(url: str) -> dict[str, Any]:
        async with _asgi(small_settings, url) as client:
            response = await client.post("/api/v1/chat", json={"session_id": "kiosk_3-a", "message": "  你好 \n"}, headers=AUTH)
            return response.json()

    with fake_rasa([[{"text": "您好！"}]]) as (url, received):
        body = asyncio.run(run(url))
    assert received == [{"sender": "kefu-kiosk_3-a", "message": "你好"}]
    assert body["kind"] == "message" and body["messages"] == [{"text": "您好！"}] and body["guide"] is None


def test_invisible_characters_are_removed_before_the_length_check(small_settings: Any) -> None:
    limit = small_settings.message_max_chars

    async def run(url: str) -> str:
        async with _asgi(small_settings, url) as client:
            message = "\u200b" + "开" * limit + "\ufeff\u200d" * 20
            response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": message}, headers=AUTH)
            return str(response.json()["kind"])

    with fake_rasa([[{"text": "好的"}]]) as (url, received):
        assert asyncio.run(run(url)) == "message"  # at the limit once the invisible padding is gone
    assert received == [{"sender": "kefu-s1", "message": "开" * limit}]


def test_the_service_refuses_to_start_without_a_token() -> None:
    env = {key: value for key, value in os.environ.items() if key != "KEFU_API_TOKEN"}
    command = [sys.executable, "-m", "bot.channels.kefu.api", "--port", "1"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "KEFU_API_TOKEN" in done.stderr


# --- feedback claims, against a fake assistant -------------------------------------------------

UNAVAILABLE_REPLY = [{"text": "抱歉，系统暂时无法回答"}, {"custom": {"unavailable": {"hotline": "12345"}}}]


@pytest.mark.parametrize(("replies", "recorded", "comment_sent", "comment_recorded"), [
    pytest.param([ASK_REPLY, SAVED_REPLY], True, True, True, id="form-asks-and-saves"),
    pytest.param([SAVED_REPLY], False, False, False, id="open-form-took-the-rating-as-its-comment"),
    pytest.param([[{"text": "您好！请问想咨询什么？"}]], False, False, False, id="no-form"),
    pytest.param([ASK_REPLY, [{"text": "请问您想咨询什么事项？"}]], True, True, False, id="comment-not-confirmed"),
    pytest.param([[m for m in ASK_REPLY if "custom" not in m]], False, False, False, id="prompt-text-without-payload"),
    pytest.param([UNAVAILABLE_REPLY], False, False, False, id="action-server-down"),
])
def test_feedback_claims_only_what_the_assistant_confirmed(small_settings: Any, replies: list[Any], recorded: bool,
                                                           comment_sent: bool, comment_recorded: bool) -> None:
    async def run(url: str) -> dict[str, Any]:
        async with _asgi(small_settings, url) as client:
            response = await client.post("/api/v1/feedback", json={"session_id": "s1", "rating": "bad", "comment": " /表具费用没写 "},
                                         headers=AUTH)
            assert response.status_code == 200, response.text
            return dict(response.json())

    with fake_rasa(replies) as (url, received):
        body = asyncio.run(run(url))
    assert (body["recorded"], body["comment_recorded"]) == (recorded, comment_recorded)
    sent = [r["message"] for r in received]
    assert sent == (["/feedback_bad", "表具费用没写"] if comment_sent else ["/feedback_bad"])  # no leading "/": not a payload
    assert body["messages"] and all(m["text"] for m in body["messages"])


def test_good_feedback_is_recorded_when_thanked(small_settings: Any) -> None:
    async def run(url: str) -> dict[str, Any]:
        async with _asgi(small_settings, url) as client:
            response = await client.post("/api/v1/feedback", json={"session_id": "s1", "rating": "good", "comment": "不会发送"},
                                         headers=AUTH)
            return dict(response.json())

    with fake_rasa([THANKS_REPLY]) as (url, received):
        body = asyncio.run(run(url))
    assert body["recorded"] is True and body["comment_recorded"] is False and body["messages"] == [{"text": THANKS}]
    assert [r["message"] for r in received] == ["/feedback_good"]  # a comment goes only with a 差评


# --- a corrupt published index -----------------------------------------------------------------

HANDOFF_REPLY = [{"text": "已为您转接人工服务。"},
                 {"custom": {"handoff": {"reason": "request_human", "record_id": 1, "guide_id": "water-connection",
                                         "contacts": [{"unit": "示例区水务集团", "phone": "0000-7654321"}]}}}]


def _guide_routes_and_a_handoff(settings: Any, url: str) -> tuple[list[httpx.Response], dict[str, Any]]:
    async def run() -> tuple[list[httpx.Response], dict[str, Any]]:
        async with _asgi(settings, url) as client:
            routes = [await client.get(path, headers=AUTH) for path in (
                "/api/v1/guides", "/api/v1/guides?q=开公司", "/api/v1/guides/water-connection", "/api/v1/guides/water-connection/notice")]
            chat = await client.post("/api/v1/chat", json={"session_id": "s1", "message": "转人工"}, headers=AUTH)
            assert chat.status_code == 200, chat.text
            return routes, dict(chat.json())

    return asyncio.run(run())


def test_a_corrupt_index_without_a_good_one_is_503_json_and_chat_still_answers(tmp_path: Path) -> None:
    corrupt_guides(publish_guides(tmp_path / "index", bundled_guides(), version="20260101-000000-badbad"))
    settings = load_settings(index_dir=tmp_path / "index", rasa_retries=0, rasa_timeout_seconds=5)
    with fake_rasa([HANDOFF_REPLY]) as (url, _received):
        routes, chat = _guide_routes_and_a_handoff(settings, url)
    *json_routes, notice = routes
    for response in json_routes:
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "index_unavailable" and "20260101-000000-badbad" in error["message"]
        assert "重建" in error["message"] and "rollback" in error["message"] and "Traceback" not in response.text
    # the printable notice is a page: its 503 is one too, naming the repair for whoever is called
    assert notice.status_code == 503 and notice.headers["content-type"].startswith("text/html")
    assert "告知单暂时无法生成" in notice.text and "20260101-000000-badbad" in notice.text and "rollback" in notice.text
    assert "default-src 'self'" in notice.headers["content-security-policy"] and "Traceback" not in notice.text
    assert chat["kind"] == "handoff" and chat["handoff"] is True and chat["guide"] is None  # no card, still an answer
    assert chat["contacts"][0]["phone"] == "0000-7654321" and chat["messages"][0]["text"] == "已为您转接人工服务。"


def test_a_corrupt_new_index_keeps_the_last_good_one_in_service(tmp_path: Path) -> None:
    publish_guides(tmp_path / "index", bundled_guides(), version="20260101-000000-good01")
    settings = load_settings(index_dir=tmp_path / "index", rasa_retries=0, rasa_timeout_seconds=5)

    async def run(url: str) -> tuple[list[httpx.Response], dict[str, Any]]:
        async with _asgi(settings, url) as client:
            assert (await client.get("/api/v1/guides", headers=AUTH)).json()["index_version"] == "20260101-000000-good01"
            corrupt_guides(publish_guides(tmp_path / "index", bundled_guides(), version="20260102-000000-bad002"))
            routes = [await client.get(path, headers=AUTH) for path in (
                "/api/v1/guides", "/api/v1/guides/water-connection", "/api/v1/guides/water-connection/notice")]
            chat = await client.post("/api/v1/chat", json={"session_id": "s1", "message": "转人工"}, headers=AUTH)
            return routes, dict(chat.json())

    with fake_rasa([HANDOFF_REPLY]) as (url, _received):
        routes, chat = asyncio.run(run(url))
    assert [r.status_code for r in routes] == [200, 200, 200]
    assert routes[0].json()["index_version"] == "20260101-000000-good01"  # the version actually served
    assert chat["guide"]["id"] == "water-connection"


# --- the page, its template and the message limit ----------------------------------------------

def test_the_page_template_is_not_served_raw(api: Api, assistant: Assistant) -> None:
    for path in ("/assets/index.html", "/assets/./index.html", "/assets/web/../index.html"):
        response = api.http.get(path)
        assert response.status_code == 404 and "{{" not in response.text, path
    page = api.http.get("/").text
    assert "{{" not in page and f'maxlength="{assistant.settings.message_max_chars}"' in page
    assert api.http.get("/assets/app.js").status_code == 200


def test_the_message_limit_comes_from_the_settings(small_settings: Any) -> None:
    settings = small_settings.replace(message_max_chars=50)

    async def run(url: str) -> None:
        async with _asgi(settings, url) as client:
            assert 'maxlength="50"' in (await client.get("/")).text
            too_long = await client.post("/api/v1/chat", json={"session_id": "s1", "message": "开" * 51}, headers=AUTH)
            assert too_long.json()["kind"] == "too_long" and "50" in too_long.json()["messages"][0]["text"]
            comment = await client.post("/api/v1/feedback", json={"session_id": "s1", "rating": "bad", "comment": "开" * 51},
                                        headers=AUTH)
            assert comment.status_code == 422, comment.text
            error = comment.json()["error"]
            assert error["details"] == [{"field": "comment", "problem": "太长（最多 50 个字符）"}]
            doc = (await client.get("/openapi.json", headers=AUTH)).json()
            comment_schema = doc["components"]["schemas"]["FeedbackRequest"]["properties"]["comment"]
            assert {"maxLength": 50, "type": "string"} in comment_schema["anyOf"]
            body = doc["paths"]["/api/v1/feedback"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            assert body["$ref"].endswith("/FeedbackRequest")

    with fake_rasa([ASK_REPLY]) as (url, received):
        asyncio.run(run(url))
    assert received == []  # neither reached the assistant


# --- the session cookie ------------------------------------------------------------------------

def test_the_cookie_expires_and_is_secure_behind_the_local_tls_proxy(api: Api) -> None:
    plain = httpx.post(api.base + "/api/v1/session", json={"token": TOKEN}).headers["set-cookie"].lower()
    assert f"max-age={SESSION_MAX_AGE_SECONDS}" in plain and "secure" not in plain
    # The test client is on 127.0.0.1, where the TLS-terminating proxy runs.
    proxied = httpx.post(api.base + "/api/v1/session", json={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"})
    assert "secure" in proxied.headers["set-cookie"].lower()


def test_a_forwarded_proto_from_elsewhere_is_not_believed(small_settings: Any) -> None:
    async def run() -> str:
        app = create_app(small_settings, rasa_url="http://127.0.0.1:9/webhook", token=TOKEN)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as client:
            response = await client.post("/api/v1/session", json={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"})
            return response.headers["set-cookie"].lower()

    assert "secure" not in asyncio.run(run())


# --- error pages, methods, nesting and the throttle, on the app object ---------------------------

def test_the_notices_errors_are_escaped_html_pages_and_documented_so(small_settings: Any) -> None:
    async def run() -> None:
        async with _asgi(small_settings, "http://127.0.0.1:9/webhook") as client:
            unknown = await client.get("/api/v1/guides/no-such-guide/notice", headers=AUTH)
            script = await client.get('/api/v1/guides/%3Cimg%20src=x%20onerror="alert(1)"%3E/notice', headers=AUTH)
            for page in (unknown, script):
                assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
                assert "找不到该办事指南" in page.text and small_settings.hotline in page.text
                assert "default-src 'self'" in page.headers["content-security-policy"]
                assert page.headers["x-content-type-options"] == "nosniff" and page.headers["cache-control"] == "no-store"
            assert "<img" not in script.text and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in script.text
            guide = await client.get("/api/v1/guides/no-such-guide", headers=AUTH)  # the JSON routes keep JSON errors
            assert guide.status_code == 404 and guide.json()["error"]["code"] == "guide_not_found"
            unauthorized = await client.get("/api/v1/guides/company-setup/notice")
            assert unauthorized.status_code == 401 and unauthorized.json()["error"]["code"] == "unauthorized"
            doc = (await client.get("/openapi.json", headers=AUTH)).json()
            answers = doc["paths"]["/api/v1/guides/{guide_id}/notice"]["get"]["responses"]
            assert {status: list(answers[status]["content"]) for status in ("200", "401", "404", "503")} == {
                "200": ["text/html"], "401": ["application/json"], "404": ["text/html"], "503": ["text/html"]}
            assert list(doc["paths"]["/api/v1/guides/{guide_id}"]["get"]["responses"]["404"]["content"]) == ["application/json"]

    asyncio.run(run())


def test_options_and_405_list_every_method_of_a_path(small_settings: Any) -> None:
    async def run() -> None:
        async with _asgi(small_settings, "http://127.0.0.1:9/webhook") as client:
            options = await client.options("/api/v1/session")
            assert options.status_code == 204 and options.headers["allow"] == "GET, POST, DELETE, OPTIONS"
            put = await client.put("/api/v1/session", headers=AUTH)
            assert put.status_code == 405 and put.headers["allow"] == "GET, POST, DELETE, OPTIONS"
            assert put.json()["error"]["code"] == "method_not_allowed"
            notice = await client.options("/api/v1/guides/company-setup/notice")
            assert notice.status_code == 204 and notice.headers["allow"] == "GET, OPTIONS"
            chat = await client.get("/api/v1/chat", headers=AUTH)
            assert chat.status_code == 405 and chat.headers["allow"] == "POST, OPTIONS"

    asyncio.run(run())


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"session_id": "s1", "message": ' + b'{"a": ' * 20_000 + b"1" + b"}" * 20_001,
], ids=["arrays", "objects"])
def test_too_deeply_nested_json_is_400_saying_so(small_settings: Any, body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> httpx.Response:
        async with _asgi(small_settings, "http://127.0.0.1:9/webhook") as client:
            return await client.post("/api/v1/chat", content=body, headers={**AUTH, "Content-Type": "application/json"})

    response = asyncio.run(run())
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_json" and "嵌套层数太深" in error["message"] and "UTF-8" not in error["message"]
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text


def test_wrong_logins_are_throttled_per_address(small_settings: Any) -> None:
    async def run() -> list[httpx.Response]:
        async with _asgi(small_settings, "http://127.0.0.1:9/webhook") as client:
            return [await client.post("/api/v1/session", json={"token": f"guess-{n}"}) for n in range(DEFAULT_MAX_FAILURES)] + [
                await client.post("/api/v1/session", json={"token": TOKEN}), await client.get("/api/v1/guides", headers=AUTH)]

    *guesses, login, guides = asyncio.run(run())
    assert {r.status_code for r in guesses} == {401}
    for refused in (login, guides):  # the right token no longer helps this address for the rest of the minute
        assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
        assert "set-cookie" not in refused.headers and "次数过多" in refused.json()["error"]["message"]
