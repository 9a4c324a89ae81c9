"""The guide routes of the 智能云客服 hall API and the printable notice: the list, the search, one guide
as JSON and as a notice page against the running assistant, compared with the guide files; then, on
the app object, a corrupt published index and the notice's error pages."""

from __future__ import annotations

import asyncio
from html import escape
from pathlib import Path
from typing import Any

import httpx
import pytest

from knowledge.settings import load_settings
from tests.support import GUIDES, parsed_guide
from tests.support.kefu import AUTH, Api, asgi_client, bundled_guides, corrupt_guides, fake_rasa, publish_guides

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


# --- a corrupt published index ---------------------------------------------------------------

HANDOFF_REPLY = [{"text": "已为您转接人工服务。"},
                 {"custom": {"handoff": {"reason": "request_human", "record_id": 1, "guide_id": "water-connection",
                                         "contacts": [{"unit": "示例区水务集团", "phone": "0000-7654321"}]}}}]


def _guide_routes_and_a_handoff(settings: Any, url: str) -> tuple[list[httpx.Response], dict[str, Any]]:
    async def run() -> tuple[list[httpx.Response], dict[str, Any]]:
        async with asgi_client(settings, url) as client:
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
        async with asgi_client(settings, url) as client:
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


# --- the notice's error pages, on the app object ---------------------------------------------

def test_the_notices_errors_are_escaped_html_pages_and_documented_so(small_settings: Any) -> None:
    async def run() -> None:
        async with asgi_client(small_settings, "http://127.0.0.1:9/webhook") as client:
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
