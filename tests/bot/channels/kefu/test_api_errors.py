"""Bad requests to the 智能云客服 hall API get Chinese JSON errors naming what is wrong: wrong fields,
bodies that are not JSON objects or not UTF-8, huge bodies, wrong methods and unknown paths,
against the running hall service; then, on the app object, OPTIONS and 405 listing the methods
and JSON nested too deeply."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.kefu import AUTH, Api, asgi_client
from tests.support.stack import Assistant

# --- bad requests ----------------------------------------------------------------------------

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


@pytest.mark.parametrize("answer_id", ["nonexist", "abc-123", "KQZVTMWRBAHE"])
def test_feedback_with_a_malformed_answer_id_says_what_an_answer_id_is(api: Api, answer_id: str) -> None:
    """It used to repeat the session id's rule (1-64 letters, digits, _ or -), which "nonexist" meets."""
    response = api.http.post("/api/v1/feedback", json={"session_id": "x", "answer_id": answer_id, "rating": "bad"}, headers=AUTH)
    message = response.json()["error"]["message"]
    assert response.status_code == 422 and "answer_id" in message and "12 位小写字母" in message and "1-64" not in message


# --- methods and nesting, on the app object --------------------------------------------------

def test_options_and_405_list_every_method_of_a_path(small_settings: Any) -> None:
    async def run() -> None:
        async with asgi_client(small_settings, "http://127.0.0.1:9/webhook") as client:
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
        async with asgi_client(small_settings, "http://127.0.0.1:9/webhook") as client:
            return await client.post("/api/v1/chat", content=body, headers={**AUTH, "Content-Type": "application/json"})

    response = asyncio.run(run())
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_json" and "嵌套层数太深" in error["message"] and "UTF-8" not in error["message"]
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text
