"""The pages of the 智能云客服 hall service and its API document: the chat page from its template, the
offline /docs page and local files only, the OpenAPI document against the running hall service;
and, on the app object, the message limit the page, the routes and the document all take from the
settings."""

from __future__ import annotations

import asyncio
from html import unescape
from typing import Any

from knowledge.settings import load_settings
from tests.support.kefu import ASK_REPLY, AUTH, Api, asgi_client, bundled_guides, fake_rasa, publish_guides
from tests.support.stack import Assistant

# --- the page, its template and the message limit --------------------------------------------

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
        async with asgi_client(settings, url) as client:
            assert 'maxlength="50"' in (await client.get("/")).text
            too_long = await client.post("/api/v1/chat", json={"session_id": "s1", "message": "开" * 51}, headers=AUTH)
            assert too_long.json()["kind"] == "too_long" and "50" in too_long.json()["messages"][0]["text"]
            comment = await client.post("/api/v1/feedback", json={"session_id": "s1", "answer_id": "kqzvtmwrbahe", "rating": "bad",
                                                                     "comment": "开" * 51},
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


def _guide(guide_id: str, title: str, category: str, questions: list[str]) -> dict[str, Any]:
    return {"id": guide_id, "title": title, "aliases": [], "category": category, "questions": questions, "department": "县农业农村局",
            "updated": "2026-01-01"}


# A county that replaced the sample guides with its own.
OWN = {g["id"]: g for g in [_guide("fishing-boat", "渔船登记", "农业农村", ["渔船登记要什么材料"]),
                            _guide("well-permit", "取水许可", "水利", ["打井取水要审批吗", "取水许可多久能批"])]}
SAMPLE = ("企业开办", "用水报装", "施工许可", "开办企业", "开公司", "食品经营")


def test_the_chips_and_the_empty_reply_name_the_published_guides_and_follow_a_rebuild(tmp_path: Any) -> None:
    publish_guides(tmp_path / "index", OWN)
    settings = load_settings(index_dir=tmp_path / "index", rasa_retries=0, rasa_timeout_seconds=5)

    async def run(url: str) -> tuple[str, str, Any, str, str, Any, int]:
        async with asgi_client(settings, url) as client:
            page = unescape((await client.get("/")).text)
            empty = (await client.post("/api/v1/chat", json={"session_id": "s1", "message": " "}, headers=AUTH)).json()
            listed = await client.get("/api/v1/examples", headers=AUTH)
            publish_guides(tmp_path / "index", bundled_guides(), version="20260102-000000-bbbbbb")  # a rebuild, no restart
            after = unescape((await client.get("/")).text)
            again = (await client.post("/api/v1/chat", json={"session_id": "s1", "message": " "}, headers=AUTH)).json()
            relisted = await client.get("/api/v1/examples", headers=AUTH)
            anonymous = (await client.get("/api/v1/examples")).status_code
            return page, empty["messages"][0]["text"], listed, after, again["messages"][0]["text"], relisted, anonymous

    with fake_rasa([ASK_REPLY]) as (url, _received):
        page, empty, listed, after, again, relisted, anonymous = asyncio.run(run(url))
    assert 'data-examples="["渔船登记要什么材料？", "取水许可多久能批？"]"' in page
    assert empty == "请问您想咨询什么事项？请输入您的问题，例如“渔船登记要什么材料”“取水许可多久能批”。"
    assert not any(name in page + empty for name in SAMPLE)
    assert "开公司要带什么材料？" in after and "渔船登记" not in after
    assert "“开公司要带什么材料”" in again
    # What the page's new conversation redraws its chips from (a kiosk open for days): never cached,
    # behind the same token or cookie as the other routes.
    assert listed.json() == {"questions": ["渔船登记要什么材料？", "取水许可多久能批？"], "items": ["渔船登记", "取水许可"]}
    assert relisted.json()["questions"] == ["开公司要带什么材料？", "新开的店铺怎么申请装电表？", "惠企政策的钱多久能到账？"]
    assert relisted.headers["cache-control"] == "no-store" and anonymous == 401


def test_nothing_published_the_empty_reply_is_worded_as_rasas_rest_channel_words_it(tmp_path: Any) -> None:
    """One wording per fact: the hall API's empty-message reply without examples is protocol.empty_text()."""
    from protocol import empty_text

    settings = load_settings(index_dir=tmp_path / "index", rasa_retries=0, rasa_timeout_seconds=5)

    async def run(url: str) -> tuple[str, Any]:
        async with asgi_client(settings, url) as client:
            empty = (await client.post("/api/v1/chat", json={"session_id": "s1", "message": "\u200b"}, headers=AUTH)).json()
            return empty["messages"][0]["text"], (await client.get("/api/v1/examples", headers=AUTH)).json()

    with fake_rasa([ASK_REPLY]) as (url, _received):
        empty, listed = asyncio.run(run(url))
    assert empty == empty_text() and listed == {"questions": [], "items": []}


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
    assert set(schemas["ChatResponse"]["properties"]) >= {"messages", "guide", "aspect", "contacts", "buttons", "confidence", "handoff",
                                                          "supervision"}
    assert set(schemas["Supervision"]["properties"]) == {"department", "phone"}
    assert set(schemas["GuideRef"]["properties"]) >= {"id", "title", "department", "updated"}
    assert set(schemas["Contact"]["properties"]) == {"unit", "phone", "address", "hours"}
    assert set(schemas["ChatContact"]["properties"]) == {"unit", "phone", "address", "hours", "matters", "phones"}
    assert set(schemas["OfficePhone"]["properties"]) == {"phone", "matters"}
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
