"""The 智能云客服 hall API as staff tools and kiosks use it: against the running assistant (real
Rasa, real action server, the hall service started by the launcher), answers compared with the
guide files. Behaviour that depends on configuration (CORS, Rasa down) runs the app object on an
ASGI client with its own settings."""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import subprocess
import sys
from html import escape
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from conftest import Assistant
from kefu_support import AUTH, TOKEN, bundled_guides, fake_rasa, publish_guides
from support import GUIDES, ROOT, parsed_guide

from bot.kefu_api import SENDER_PREFIX, create_app
from knowledge.settings import load_settings

_session_numbers = itertools.count(1)


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


def test_the_rasa_conversation_is_named_after_the_session(api: Api, assistant: Assistant) -> None:
    session = new_session()
    api.chat(session, "燃气开户多少钱")
    with sqlite3.connect(assistant.settings.tracker_db) as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
    assert SENDER_PREFIX + session in senders


# --- feedback --------------------------------------------------------------------------------

def _feedback_rows(assistant: Assistant, session: str) -> list[dict[str, Any]]:
    with sqlite3.connect(assistant.settings.records_db) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM feedback WHERE sender_id = ? ORDER BY id", (SENDER_PREFIX + session,))]


def test_good_feedback_is_stored_with_the_question_and_guide(api: Api, assistant: Assistant) -> None:
    session = new_session()
    api.chat(session, "办施工许可证要交钱吗")
    response = api.http.post("/api/v1/feedback", json={"session_id": session, "rating": "good"}, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["recorded"] is True and body["rating"] == "good" and body["comment_recorded"] is False
    assert "感谢" in body["messages"][0]["text"]
    rows = _feedback_rows(assistant, session)
    assert len(rows) == 1
    assert (rows[0]["rating"], rows[0]["guide_id"], rows[0]["section"], rows[0]["question"]) == (
        "good", "construction-permit", "收费标准", "办施工许可证要交钱吗")


def test_bad_feedback_with_a_comment_stores_both_and_the_chat_goes_on(api: Api, assistant: Assistant) -> None:
    session = new_session()
    api.chat(session, "燃气开户多少钱")
    response = api.http.post("/api/v1/feedback", json={"session_id": session, "rating": "bad", "comment": "没有说表具费用谁出"}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["comment_recorded"] is True
    rows = _feedback_rows(assistant, session)
    assert rows[-1]["rating"] == "bad" and rows[-1]["guide_id"] == "gas-connection" and rows[-1]["comment"] == "没有说表具费用谁出"
    _assert_answers(api, api.chat(session, "燃气开户要多久"), "gas-connection", "办理时限")


def test_the_chat_buttons_record_feedback_the_same_way(api: Api, assistant: Assistant) -> None:
    session = new_session()
    answer = api.chat(session, "刻章可以在网上办吗")
    api.chat(session, _button(answer, "好评")["payload"])
    rows = _feedback_rows(assistant, session)
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
    "/api/v1/guides/no-such-guide", "/api/v1/guides/no-such-guide/notice", "/api/v1/guides/..%2F..%2Fetc%2Fpasswd",
    "/api/v1/guides/%2e%2e%2fsettings.yml", "/api/v1/guides/..%5c..%5cetc%5cpasswd", "/api/v1/guides/Company-Setup",
    "/api/v1/guides/company-setup%00", "/api/v1/guides/..%2Fguides.json/notice",
])
def test_unknown_and_path_like_guide_ids_are_404_json(api: Api, path: str) -> None:
    response = api.http.get(path, headers=AUTH)
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["status"] == 404 and "找不到" in error["message"]
    assert "root:" not in response.text


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


def test_a_huge_body_without_content_length_is_413_too(api: Api) -> None:
    def chunks() -> Any:
        for _ in range(100):
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
    async def run(url: str) -> None:
        async with _asgi(small_settings, url) as client:
            for message in ("开" * (small_settings.message_max_chars + 1), " \n\t "):
                response = await client.post("/api/v1/chat", json={"session_id": "s1", "message": message}, headers=AUTH)
                assert response.status_code == 200 and response.json()["kind"] in {"too_long", "empty"}

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


def test_the_service_refuses_to_start_without_a_token() -> None:
    env = {key: value for key, value in os.environ.items() if key != "KEFU_API_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "bot.kefu_api", "--port", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "KEFU_API_TOKEN" in done.stderr
