"""Public mode and session renewal of the hall API, on the app object with a fake Rasa: a phone gets
a session cookie without a token (only when kefu_public is on), uses its own conversations only,
and is limited per session and per client address (429 with Retry-After); kiosks and staff tools
are not limited; a valid cookie renews, an expired one does not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from starlette.requests import Request

from bot.channels.kefu.auth import COOKIE_NAME, TokenAuth, client_address
from tests.support.kefu import AUTH, THANKS_REPLY, asgi_client, fake_rasa

ANSWER = [{"text": "您好"}]  # any reply: the routes, not Rasa, are under test


def run(settings: Any, test: Callable[[httpx.AsyncClient], Awaitable[None]], replies: list[Any] | None = None) -> list[dict[str, Any]]:
    """Run `test` against the app with `settings`; what the fake Rasa received."""

    async def main(url: str) -> None:
        async with asgi_client(settings, url) as client:
            await test(client)

    with fake_rasa(replies or [ANSWER]) as (url, received):
        asyncio.run(main(url))
    return received


async def public_session(client: httpx.AsyncClient, address: str = "203.0.113.5") -> tuple[str, dict[str, str]]:
    """A new public session from `address` (as the local TLS proxy forwards it): its prefix and its cookie."""
    client.cookies.clear()
    response = await client.post("/api/v1/session/public", headers={"X-Forwarded-For": address})
    assert response.status_code == 200, response.text
    return response.json()["session_prefix"], {COOKIE_NAME: response.cookies[COOKIE_NAME]}


async def chat(client: httpx.AsyncClient, session_id: str, cookie: dict[str, str], address: str = "203.0.113.5") -> httpx.Response:
    client.cookies.clear()
    return await client.post("/api/v1/chat", json={"session_id": session_id, "message": "开办企业需要什么材料"},
                             cookies=cookie, headers={"X-Forwarded-For": address})


def test_public_mode_is_off_by_default(small_settings: Any) -> None:
    assert small_settings.kefu_public is False  # settings.yml: closed by default

    async def test(client: httpx.AsyncClient) -> None:
        refused = await client.post("/api/v1/session/public")
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
        assert "未开放公众访问" in refused.json()["error"]["message"] and "12345" in refused.json()["error"]["message"]
        assert 'data-public="false"' in (await client.get("/")).text
        assert (await client.post("/api/v1/chat", json={"session_id": "s", "message": "你好"})).status_code == 401

    assert run(small_settings, test) == []


def test_a_phone_gets_a_session_without_a_token_for_its_own_conversations(small_settings: Any) -> None:
    settings = small_settings.replace(kefu_public=True)

    async def test(client: httpx.AsyncClient) -> None:
        assert 'data-public="true"' in (await client.get("/")).text
        response = await client.post("/api/v1/session/public")
        assert response.status_code == 200
        body = response.json()
        assert body["mode"] == "public" and body["expires_in"] == settings.kefu_session_seconds
        assert body["session_prefix"].startswith("p") and body["session_prefix"].endswith("-")
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and f"max-age={settings.kefu_session_seconds}" in cookie
        mine = body["session_prefix"] + "a1b2c3"
        answered = await client.post("/api/v1/chat", json={"session_id": mine, "message": "开办企业需要什么材料"})
        assert answered.status_code == 200 and answered.json()["messages"][0]["text"] == "您好"
        for session_id in ("window-3", "p0000000000000000-x"):  # another conversation: refused, never sent to Rasa
            other = await client.post("/api/v1/chat", json={"session_id": session_id, "message": "你好"})
            assert other.status_code == 403 and "不属于" in other.json()["error"]["message"]
            assert (await client.get("/api/v1/chat/staff", params={"session_id": session_id})).status_code == 403
        assert (await client.get("/api/v1/chat/staff", params={"session_id": mine})).json()["status"] == "none"
        assert (await client.get("/api/v1/guides/company-setup/notice")).status_code == 200
        # the bearer token still reaches every conversation
        assert (await client.post("/api/v1/chat", json={"session_id": "window-3", "message": "你好"}, headers=AUTH)).status_code == 200

    received = run(settings, test)
    assert [r["sender"] for r in received] == [received[0]["sender"], "kefu-window-3"] and received[0]["sender"].startswith("kefu-p")


def test_a_session_past_its_limit_gets_429_with_retry_after(small_settings: Any) -> None:
    settings = small_settings.replace(kefu_public=True, kefu_public_session_per_minute=3)

    async def test(client: httpx.AsyncClient) -> None:
        prefix, cookie = await public_session(client)
        answers = [await chat(client, prefix + "a", cookie) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert 0 < int(refused.headers["retry-after"]) <= 60 and refused.json()["error"]["code"] == "rate_limited"
        assert "本会话提问太频繁" in refused.json()["error"]["message"] and "12345" in refused.json()["error"]["message"]
        rating = await client.post("/api/v1/feedback", json={"session_id": prefix + "a", "answer_id": "kqzvtmwrbahe", "rating": "good"},
                                   cookies=cookie, headers={"X-Forwarded-For": "203.0.113.5"})
        assert rating.status_code == 429  # ratings count too
        # another phone on the same network is its own session
        other_prefix, other = await public_session(client)
        assert (await chat(client, other_prefix + "b", other)).status_code == 200

    assert len(run(settings, test)) == 4  # the refused ones never reached the assistant


def test_a_client_address_past_its_limit_gets_429_new_sessions_included(small_settings: Any) -> None:
    settings = small_settings.replace(kefu_public=True, kefu_public_client_per_minute=4, kefu_public_session_per_minute=100)

    async def test(client: httpx.AsyncClient) -> None:
        first, cookie = await public_session(client)  # 1
        second, other = await public_session(client)  # 2: fresh cookies do not lift the limit
        assert (await chat(client, first + "a", cookie)).status_code == 200  # 3
        assert (await chat(client, second + "a", other)).status_code == 200  # 4
        refused = await chat(client, second + "a", other)
        assert refused.status_code == 429 and "您所在的网络" in refused.json()["error"]["message"]
        assert 0 < int(refused.headers["retry-after"]) <= 60
        again = await client.post("/api/v1/session/public", headers={"X-Forwarded-For": "203.0.113.5"})
        assert again.status_code == 429 and "set-cookie" not in again.headers
        # another address is not affected; and only loopback's X-Forwarded-For is believed (the local proxy)
        assert (await chat(client, second + "a", other, address="198.51.100.7")).status_code == 200

    run(settings, test)


def test_kiosks_and_staff_tools_are_not_limited(small_settings: Any) -> None:
    settings = small_settings.replace(kefu_public=True, kefu_public_session_per_minute=1, kefu_public_client_per_minute=1)

    async def test(client: httpx.AsyncClient) -> None:
        login = await client.post("/api/v1/session", json={"token": "test-kefu-token"})
        assert login.json()["mode"] == "kiosk" and login.json()["session_prefix"] == ""
        for _ in range(3):
            assert (await client.post("/api/v1/chat", json={"session_id": "kiosk-1", "message": "你好"})).status_code == 200
            assert (await client.post("/api/v1/chat", json={"session_id": "window-3", "message": "你好"}, headers=AUTH)).status_code == 200

    assert len(run(settings, test)) == 6


def test_a_valid_cookie_renews_an_expired_one_does_not(small_settings: Any) -> None:
    async def test(client: httpx.AsyncClient) -> None:
        assert (await client.post("/api/v1/session/renew")).status_code == 401  # nothing to renew
        await client.post("/api/v1/session", json={"token": "test-kefu-token"})
        renewed = await client.post("/api/v1/session/renew")
        assert renewed.status_code == 200 and renewed.json()["mode"] == "kiosk"
        assert f"max-age={small_settings.kefu_session_seconds}" in renewed.headers["set-cookie"].lower()
        token = await client.post("/api/v1/session/renew", headers=AUTH, cookies={})
        assert token.status_code == 200
        expired = TokenAuth("test-kefu-token", clock=lambda: 1_000_000_000).issue_cookie()
        client.cookies.clear()
        assert (await client.post("/api/v1/session/renew", cookies={COOKIE_NAME: expired})).status_code == 401

    run(small_settings, test, [THANKS_REPLY])


def test_renewal_keeps_a_session_alive_past_its_first_expiry() -> None:
    now = [1_800_000_000.0]
    kiosk = TokenAuth("s3cret", max_age=60, clock=lambda: now[0], public=True)
    cookie = kiosk.issue_cookie()
    public, who = kiosk.issue_public_cookie()
    for _ in range(5):  # every half-life, as the page does
        now[0] += 30
        cookie = kiosk.renewed(kiosk.read_cookie(cookie)[0])
        public = kiosk.renewed(kiosk.read_cookie(public)[0])
    assert kiosk.cookie_matches(cookie) and kiosk.read_cookie(public)[0].session == who.session  # 150 s on, same session
    now[0] += 60
    assert kiosk.read_cookie(cookie) == (None, True)  # left unused for max_age: expired (signed, so not counted as a guess)
    assert not TokenAuth("s3cret", max_age=60, clock=lambda: now[0] - 60).cookie_matches(public.replace("p", "q", 1))
    assert not TokenAuth("s3cret", max_age=60, clock=lambda: now[0] - 60, public=False).cookie_matches(public)  # public mode off


def test_the_client_address_is_the_local_proxys_last_forwarded_entry_only() -> None:
    def address(peer: str, forwarded: str | None) -> str:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
        return client_address(Request({"type": "http", "client": (peer, 5000), "headers": headers}))

    assert address("127.0.0.1", "10.9.9.9, 203.0.113.5") == "203.0.113.5"  # what the proxy appended, not what the client wrote
    assert address("127.0.0.1", None) == "127.0.0.1"
    assert address("198.51.100.7", "203.0.113.5") == "198.51.100.7"  # not from the local proxy: not believed
