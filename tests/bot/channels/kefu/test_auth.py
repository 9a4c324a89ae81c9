"""Who may use the hall API: the bearer token or the web page's derived cookie (signed, expiring),
compared in constant time; the gate answers 401 before any body is read; when the cookie is Secure;
repeated wrong credentials from one address are refused with 429 for a while."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from bot.channels.kefu.auth import COOKIE_NAME, SESSION_MAX_AGE_SECONDS, AuthGate, TokenAuth, is_https, is_protected
from bot.channels.kefu.http import ApiError, BodySizeLimit, install_error_handlers
from bot.channels.kefu.throttle import DEFAULT_MAX_FAILURES, FailedAuthThrottle


class Clock:
    """A settable time for the cookie's expiry."""

    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_token_and_cookie_matching() -> None:
    auth = TokenAuth("s3cret")
    assert auth.token_matches("s3cret") and not auth.token_matches("s3cre") and not auth.token_matches("s3cret ")
    cookie = auth.issue_cookie()
    assert auth.cookie_matches(cookie) and not auth.cookie_matches("s3cret") and not auth.cookie_matches("")
    issued, _, signature = cookie.partition(".")
    assert "s3cret" not in cookie and issued.isdigit() and len(signature) == 64
    assert not TokenAuth("other").cookie_matches(cookie)  # a new token logs every browser out


def test_a_cookie_expires_after_its_max_age() -> None:
    clock = Clock()
    auth = TokenAuth("s3cret", clock=clock)
    cookie = auth.issue_cookie()
    assert auth.max_age == SESSION_MAX_AGE_SECONDS == 12 * 3600
    clock.now += SESSION_MAX_AGE_SECONDS - 1
    assert auth.cookie_matches(cookie)
    clock.now += 1
    assert not auth.cookie_matches(cookie)  # a leaked cookie stops working, whatever the browser keeps


@pytest.mark.parametrize("forge", [
    lambda c: str(int(c.split(".")[0]) + 3600) + "." + c.split(".")[1],  # a later time with the old signature
    lambda c: c.split(".")[1],                                            # the signature alone
    lambda c: "١٢٣." + c.split(".")[1],                                   # non-ASCII digits
    lambda c: c + "0",
    lambda c: c.upper(),
])
def test_a_tampered_cookie_is_refused(forge: Any) -> None:
    auth = TokenAuth("s3cret", clock=Clock())
    assert not auth.cookie_matches(forge(auth.issue_cookie()))


def test_a_cookie_from_the_future_is_refused() -> None:
    clock = Clock()
    auth = TokenAuth("s3cret", clock=clock)
    clock.now += 3600
    cookie = auth.issue_cookie()
    clock.now -= 3600  # issued an hour "ahead": forged, or a wrong clock
    assert not auth.cookie_matches(cookie)


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


def _app(auth: TokenAuth | None = None) -> FastAPI:
    auth = auth or TokenAuth("s3cret")
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
    ({"Cookie": f"{COOKIE_NAME}={TokenAuth('s3cret').issue_cookie()}"}, 200),
    ({"Cookie": f"{COOKIE_NAME}={TokenAuth('s3cret', clock=lambda: 1_000_000_000).issue_cookie()}"}, 401),  # long expired
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


@pytest.mark.parametrize(("client", "headers", "secure"), [
    (("127.0.0.1", 50000), {"X-Forwarded-Proto": "https"}, True),   # the TLS proxy on this machine
    (("::1", 50000), {"X-Forwarded-Proto": "HTTPS, http"}, True),
    (("127.0.0.1", 50000), {}, False),                              # plain http on loopback
    (("127.0.0.1", 50000), {"X-Forwarded-Proto": "http"}, False),
    (("203.0.113.9", 50000), {"X-Forwarded-Proto": "https"}, False),  # anyone else cannot claim https
])
def test_is_https_believes_the_forwarded_proto_only_from_loopback(client: tuple[str, int], headers: dict[str, str], secure: bool) -> None:
    app = FastAPI()

    @app.get("/scheme")
    async def scheme(request: Request) -> dict[str, bool]:
        return {"https": is_https(request)}

    async def run() -> bool:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return bool((await http.get("/scheme", headers=headers)).json()["https"])

    assert asyncio.run(run()) is secure


def test_is_https_for_a_direct_https_request() -> None:
    app = FastAPI()

    @app.get("/scheme")
    async def scheme(request: Request) -> dict[str, bool]:
        return {"https": is_https(request)}

    async def run() -> bool:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as http:
            return bool((await http.get("/scheme")).json()["https"])

    assert asyncio.run(run()) is True


# --- the failed-auth throttle ------------------------------------------------------------------

def test_the_throttle_counts_per_address_in_a_window() -> None:
    clock = Clock(1000.0)
    throttle = FailedAuthThrottle(max_failures=3, window=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("203.0.113.9") == 0
        throttle.failed("203.0.113.9")
    assert throttle.retry_after("203.0.113.9") == 60 and throttle.retry_after("198.51.100.7") == 0
    clock.now += 59.5
    assert throttle.retry_after("203.0.113.9") == 1
    clock.now += 0.5
    assert throttle.retry_after("203.0.113.9") == 0 and len(throttle) == 0  # the window is over and forgotten


def test_the_throttle_remembers_a_bounded_number_of_addresses() -> None:
    clock = Clock(1000.0)
    throttle = FailedAuthThrottle(max_failures=2, window=60, max_clients=3, clock=clock)
    for number in range(1000):
        throttle.failed(f"10.0.{number // 256}.{number % 256}")
        clock.now += 0.01
    assert len(throttle) == 3
    for _ in range(2):
        throttle.failed("203.0.113.9")
    assert len(throttle) == 3 and throttle.retry_after("203.0.113.9") > 0  # the newest kept, the oldest dropped


def _throttled_app(clock: Clock) -> FastAPI:
    auth = TokenAuth("s3cret", clock=clock, max_failures=3, failure_window=60)
    app = _app(auth)

    @app.post("/api/v1/session")
    async def login(request: Request, body: dict[str, Any]) -> dict[str, bool]:
        refusal = auth.throttled(request)
        if refusal is not None:
            raise refusal
        if body.get("token") != "s3cret":
            auth.failed(request)
            raise ApiError(401, "令牌无效", code="unauthorized")
        return {"authenticated": True}

    return app


def test_repeated_wrong_tokens_from_one_address_get_429_for_the_rest_of_the_window(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    app = _throttled_app(clock)
    right, wrong = {"Authorization": "Bearer s3cret"}, {"Authorization": "Bearer nope"}

    async def run() -> None:
        local = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")  # 127.0.0.1
        other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 50000)), base_url="http://t")
        async with local, other:
            for _ in range(5):  # neither successes nor requests without any credential count
                assert (await local.post("/api/v1/thing", json={}, headers=right)).status_code == 200
                assert (await local.post("/api/v1/thing", json={})).status_code == 401
            statuses = [(await local.post("/api/v1/thing", json={}, headers=headers)).status_code
                        for headers in (wrong, {"Cookie": f"{COOKIE_NAME}=forged"}, right, wrong)]
            assert statuses == [401, 401, 200, 401]
            for headers in (right, wrong, {}):  # the right token is not even checked now
                refused = await local.post("/api/v1/thing", json={}, headers=headers)
                assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
                assert refused.json()["error"]["code"] == "too_many_failed_attempts" and "秒后再试" in refused.json()["error"]["message"]
            # the login too, before its (oversized) body is read, and with the right token
            login = await local.post("/api/v1/session", content=b"x" * 1000, headers={"Content-Type": "application/json"})
            assert login.status_code == 429
            assert (await other.post("/api/v1/thing", json={}, headers=right)).status_code == 200  # other addresses go on
            clock.now += 60
            assert (await local.post("/api/v1/thing", json={}, headers=right)).status_code == 200
            # wrong tokens at the login count as well
            assert [(await other.post("/api/v1/session", json={"token": "x"})).status_code for _ in range(4)] == [401, 401, 401, 429]

    asyncio.run(run())
    assert "127.0.0.1" in caplog.text and "s3cret" not in caplog.text and "nope" not in caplog.text


def test_the_default_limit_is_above_the_wrong_tokens_the_end_to_end_tests_send() -> None:
    # test_api_auth.py sends 3 counted wrong credentials for each of its 7 routes and one wrong login,
    # all from 127.0.0.1 within seconds, to the one hall service of the test session.
    assert TokenAuth("s3cret").throttle.max_failures == DEFAULT_MAX_FAILURES > 7 * 3 + 1
