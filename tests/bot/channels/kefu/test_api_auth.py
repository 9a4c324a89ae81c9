"""Who may use the 智能云客服 hall API: the token on every route, the web login and its cookie, the
loopback-only listener and a log without the token, against the running hall service; then, on the
app object, the forwarded protocol, CORS, the wrong-login throttle and the refusal to start
without a token."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import httpx
import psutil
import pytest

from bot.channels.kefu.api import create_app
from bot.channels.kefu.auth import SESSION_MAX_AGE_SECONDS
from bot.channels.kefu.throttle import DEFAULT_MAX_FAILURES
from tests.support import ROOT
from tests.support.kefu import AUTH, TOKEN, Api, asgi_client, new_session
from tests.support.stack import Assistant

# --- auth ------------------------------------------------------------------------------------

ROUTES = [("POST", "/api/v1/chat", {"session_id": "x", "message": "你好"}), ("GET", "/api/v1/guides", None),
          ("GET", "/api/v1/guides/company-setup", None), ("GET", "/api/v1/guides/company-setup/notice", None),
          ("POST", "/api/v1/feedback", {"session_id": "x", "rating": "good"}), ("GET", "/api/v1/session", None),
          ("POST", "/api/v1/session/renew", None), ("GET", "/openapi.json", None)]


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
        assert response.status_code == 200 and response.json()["authenticated"] is True and response.json()["mode"] == "kiosk"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert TOKEN not in response.headers["set-cookie"]  # the cookie is derived, not the token
        assert browser.get("/api/v1/guides/company-setup/notice").status_code == 200
        assert browser.get("/api/v1/session").json()["authenticated"] is True
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


# --- the session cookie ----------------------------------------------------------------------

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


# --- CORS, the throttle and the token at start, on the app object ----------------------------

def test_cors_headers_only_for_a_configured_origin(small_settings: Any) -> None:
    async def run() -> None:
        configured = small_settings.replace(kefu_cors_origins="https://hall.example.gov.cn, https://kiosk.example.gov.cn")
        async with asgi_client(configured, "http://127.0.0.1:9/webhook") as client:
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
        async with asgi_client(small_settings.replace(kefu_cors_origins=""), "http://127.0.0.1:9/webhook") as client:
            none = await client.get("/api/v1/guides", headers={**AUTH, "Origin": "https://hall.example.gov.cn"})
            assert "access-control-allow-origin" not in none.headers

    asyncio.run(run())


def test_wrong_logins_are_throttled_per_address(small_settings: Any) -> None:
    async def run() -> list[httpx.Response]:
        async with asgi_client(small_settings, "http://127.0.0.1:9/webhook") as client:
            return [await client.post("/api/v1/session", json={"token": f"guess-{n}"}) for n in range(DEFAULT_MAX_FAILURES)] + [
                await client.post("/api/v1/session", json={"token": TOKEN}), await client.get("/api/v1/guides", headers=AUTH)]

    *guesses, login, guides = asyncio.run(run())
    assert {r.status_code for r in guesses} == {401}
    for refused in (login, guides):  # the right token no longer helps this address for the rest of the minute
        assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
        assert "set-cookie" not in refused.headers and "次数过多" in refused.json()["error"]["message"]


def test_the_service_refuses_to_start_without_a_token() -> None:
    env = {key: value for key, value in os.environ.items() if key != "KEFU_API_TOKEN"}
    command = [sys.executable, "-m", "bot.channels.kefu.api", "--port", "1"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "KEFU_API_TOKEN" in done.stderr
