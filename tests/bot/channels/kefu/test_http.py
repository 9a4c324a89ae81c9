"""The hall API's HTTP plumbing on a small app: one JSON error shape in Chinese, the body size
limit however the body arrives, security headers, every method of a path in Allow."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from bot.channels.kefu.http import ApiError, BodySizeLimit, SecurityHeaders, error_response, install_error_handlers


class Echo(BaseModel):
    name: str
    count: int


def _app(max_bytes: int = 100) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_bytes)
    app.add_middleware(SecurityHeaders)

    @app.post("/api/echo")
    async def echo(body: Echo) -> dict[str, Any]:
        return body.model_dump()

    @app.get("/api/missing")
    async def missing() -> None:
        raise ApiError(404, "找不到办事指南：x", code="guide_not_found")

    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>页面</p>")

    # One path served by three routes in an included router, like /api/v1/session.
    session = APIRouter()
    for method in ("post", "get", "delete"):
        session.add_api_route("/api/session", lambda: {"ok": True}, methods=[method.upper()])
    app.include_router(session)
    return app


def _run(check: Callable[[httpx.AsyncClient], Awaitable[None]], max_bytes: int = 100) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=_app(max_bytes), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await check(client)

    asyncio.run(main())


def test_error_shape() -> None:
    response = error_response(404, "找不到")
    assert response.status_code == 404
    assert response.body.decode() == '{"error":{"status":404,"code":"not_found","message":"找不到","details":[]}}'


def test_validation_errors_name_each_field_in_chinese() -> None:
    async def check(client: httpx.AsyncClient) -> None:
        response = await client.post("/api/echo", json={"name": 1})
        assert response.status_code == 422
        error = response.json()["error"]
        assert {d["field"]: d["problem"] for d in error["details"]} == {"name": "必须是字符串", "count": "缺少该字段"}
        assert "name" in error["message"] and "count" in error["message"]

    _run(check)


def test_malformed_json_and_wrong_content_type_are_400() -> None:
    async def check(client: httpx.AsyncClient) -> None:
        broken = await client.post("/api/echo", content=b"{", headers={"Content-Type": "application/json"})
        assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
        form = await client.post("/api/echo", content=b"name=x", headers={"Content-Type": "text/plain"})
        assert form.status_code == 400 and form.json()["error"]["code"] == "json_required"
        not_utf8 = await client.post("/api/echo", content=b'{"name": "\xff"}', headers={"Content-Type": "application/json"})
        assert not_utf8.status_code == 400 and not_utf8.json()["error"]["code"] == "invalid_json"
        assert "UTF-8" in not_utf8.json()["error"]["message"] and "There was" not in not_utf8.text

    _run(check)


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"name": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
], ids=["arrays", "objects"])
def test_too_deeply_nested_json_is_a_clear_400(body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    async def check(client: httpx.AsyncClient) -> None:
        response = await client.post("/api/echo", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_json" and "嵌套" in error["message"] and "UTF-8" not in error["message"]

    with caplog.at_level(logging.DEBUG):
        _run(check, max_bytes=1_000_000)
    assert "RecursionError" not in caplog.text and not any(record.exc_info for record in caplog.records)


def test_options_and_405_list_every_method_of_the_path() -> None:
    async def check(client: httpx.AsyncClient) -> None:
        options = await client.options("/api/session")
        assert options.status_code == 204 and options.headers["allow"] == "GET, POST, DELETE, OPTIONS"
        assert options.content == b""
        put = await client.put("/api/session")
        assert put.status_code == 405 and put.headers["allow"] == "GET, POST, DELETE, OPTIONS"
        assert "不支持 PUT" in put.json()["error"]["message"]
        single = await client.options("/api/echo")
        assert single.status_code == 204 and single.headers["allow"] == "POST, OPTIONS"
        assert (await client.options("/nowhere")).status_code == 404

    _run(check)


def test_route_errors_404_405_and_500_are_json_without_internals() -> None:
    async def check(client: httpx.AsyncClient) -> None:
        missing = await client.get("/api/missing")
        assert missing.status_code == 404 and missing.json()["error"] == {
            "status": 404, "code": "guide_not_found", "message": "找不到办事指南：x", "details": []}
        unknown = await client.get("/nowhere")
        assert unknown.status_code == 404 and "找不到该地址" in unknown.json()["error"]["message"]
        method = await client.delete("/api/echo")
        assert method.status_code == 405 and "不支持 DELETE" in method.json()["error"]["message"]
        boom = await client.get("/api/boom")
        assert boom.status_code == 500 and "secret" not in boom.text and "Traceback" not in boom.text
        assert boom.json()["error"]["code"] == "internal_error"

    _run(check)


def test_bodies_over_the_limit_are_413_declared_or_streamed() -> None:
    async def streamed() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b'{"name": "' + b"x" * 20

    async def check(client: httpx.AsyncClient) -> None:
        declared = await client.post("/api/echo", json={"name": "x" * 200, "count": 1})
        assert declared.status_code == 413 and "100 字节" in declared.json()["error"]["message"]
        chunked = await client.post("/api/echo", content=streamed(), headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
        fits = await client.post("/api/echo", json={"name": "ok", "count": 2})
        assert fits.status_code == 200 and fits.json() == {"name": "ok", "count": 2}

    _run(check)


def test_security_headers() -> None:
    async def check(client: httpx.AsyncClient) -> None:
        page = await client.get("/page")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
        api = await client.post("/api/echo", json={"name": "ok", "count": 2})
        assert api.headers["cache-control"] == "no-store" and "content-security-policy" not in api.headers

    _run(check)
