"""Who may use the hall API: the bearer token or the web page's derived cookie, compared in
constant time; the gate answers 401 before any body is read."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from bot.kefu_auth import COOKIE_NAME, AuthGate, TokenAuth, is_protected
from bot.kefu_http import BodySizeLimit, install_error_handlers


def test_token_and_cookie_matching() -> None:
    auth = TokenAuth("s3cret")
    assert auth.token_matches("s3cret") and not auth.token_matches("s3cre") and not auth.token_matches("s3cret ")
    assert auth.cookie_matches(auth.cookie_value) and not auth.cookie_matches("s3cret")
    assert "s3cret" not in auth.cookie_value and len(auth.cookie_value) == 64
    assert TokenAuth("other").cookie_value != auth.cookie_value  # a new token logs every browser out


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenAuth("")


@pytest.mark.parametrize(("method", "path", "protected"), [
    ("GET", "/api/v1/guides", True), ("POST", "/api/v1/chat", True), ("GET", "/openapi.json", True), ("GET", "/api/v1/session", True),
    ("POST", "/api/v1/session", False), ("OPTIONS", "/api/v1/chat", False), ("GET", "/", False), ("GET", "/healthz", False),
    ("GET", "/assets/app.js", False), ("GET", "/docs", False),
])
def test_what_is_protected(method: str, path: str, protected: bool) -> None:
    assert is_protected(method, path) is protected


def _app() -> FastAPI:
    auth = TokenAuth("s3cret")
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=50)
    app.add_middleware(AuthGate, auth=auth)

    @app.post("/api/v1/thing", dependencies=[Depends(auth.require)])
    async def thing(body: dict[str, Any]) -> dict[str, Any]:
        return body

    return app


@pytest.mark.parametrize(("headers", "status"), [
    ({"Authorization": "Bearer s3cret"}, 200), ({"Authorization": "bearer s3cret"}, 200),
    ({"Cookie": f"{COOKIE_NAME}={TokenAuth('s3cret').cookie_value}"}, 200),
    ({}, 401), ({"Authorization": "Bearer nope"}, 401), ({"Authorization": "s3cret"}, 401), ({"Cookie": f"{COOKIE_NAME}=s3cret"}, 401),
])
def test_the_gate(headers: dict[str, str], status: int) -> None:
    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
            return await client.post("/api/v1/thing", json={"a": 1}, headers=headers)

    response = asyncio.run(run())
    assert response.status_code == status, response.text
    if status == 401:
        assert response.json()["error"]["code"] == "unauthorized" and response.headers["www-authenticate"].startswith("Bearer")


def test_unauthorized_requests_get_401_even_with_an_oversized_or_broken_body() -> None:
    async def run() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
            big = await client.post("/api/v1/thing", content=b"x" * 1000, headers={"Content-Type": "application/json"})
            broken = await client.post("/api/v1/thing", content=b"{", headers={"Content-Type": "application/json"})
            return [big.status_code, broken.status_code]

    assert asyncio.run(run()) == [401, 401]
