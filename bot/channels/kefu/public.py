"""Public mode's guard rails (settings.yml ``kefu_public: true``): which conversations a public
session may use, and how fast it may talk.

In public mode anyone who opens the page holds a session cookie (bot/channels/kefu/auth.py), so
the cookie proves nothing about who the person is. Two things keep one holder from costing
everyone else:

- **Its own conversations only.** A public cookie names a random session; the routes that take a
  session_id (chat, feedback, the staff desk's lines) accept only ids that begin with that
  session's prefix (``p<16 hex>-``). So a stranger cannot read a clerk's replies to another
  conversation, or write into it, even with a guessed id ("window-3"). The token and kiosk cookies
  may use any id, as before.
- **Rate limits** (bot/channels/kefu/throttle.py's fixed windows of 60 s): questions and ratings
  per session (``kefu_public_session_per_minute``) and per client address
  (``kefu_public_client_per_minute``; a new public session counts against its address too, so
  fresh cookies do not lift the limit). Past either, 429 with Retry-After and a Chinese message
  with the hotline; a refused request is not counted. Kiosks and staff tools (the token) are not
  limited: they are few, known, and a hall queue must never be told to wait.

Masking is the same as in kiosk mode: it happens at the REST channel's entrance and in every
record, whoever sends the message.

Usage::

    limits = PublicLimits(per_session=20, per_client=120, hotline="12345")
    limits.admit(request, session_id)        # None, or the ApiError (403 / 429) to raise
    limits.admit_new_session(request)        # before issuing a public cookie
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Request

from bot.channels.kefu.auth import Credential, client_address
from bot.channels.kefu.http import ApiError
from bot.channels.kefu.throttle import WindowCounter

WINDOW_SECONDS = 60.0


def credential_of(request: Request) -> Credential | None:
    """The credential the token gate accepted for this request (None outside protected routes)."""
    return getattr(request.state, "kefu_credential", None)


class PublicLimits:
    """Session binding and the per-session / per-client message limits of public sessions."""

    def __init__(self, *, per_session: int, per_client: int, hotline: str, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions = WindowCounter(limit=per_session, window=window, clock=clock)
        self.clients = WindowCounter(limit=per_client, window=window, clock=clock)
        self.hotline = hotline

    def _too_many(self, wait: int, whom: str) -> ApiError:
        return ApiError(429, f"{whom}提问太频繁，请 {wait} 秒后再试。急需办事请拨打政务服务便民热线 {self.hotline}。",
                        code="rate_limited", headers={"Retry-After": str(wait)})

    def owns(self, request: Request, session_id: str) -> ApiError | None:
        """403 when a public session names a conversation that is not its own."""
        credential = credential_of(request)
        if credential is None or credential.kind != "public" or session_id.startswith(credential.session_prefix):
            return None
        return ApiError(403, "这个会话不属于当前网页：请刷新页面，开始新的对话", code="session_not_yours")

    def admit(self, request: Request, session_id: str) -> ApiError | None:
        """Before a message of a public session reaches the assistant: its own conversation, and
        under both limits (then it is counted)."""
        refusal = self.owns(request, session_id)
        if refusal is not None:
            return refusal
        credential = credential_of(request)
        if credential is None or credential.kind != "public":
            return None
        address = client_address(request)
        for counter, key, whom in ((self.sessions, credential.session, "本会话"), (self.clients, address, "您所在的网络")):
            wait = counter.retry_after(key)
            if wait:
                return self._too_many(wait, whom)
        self.sessions.hit(credential.session)
        self.clients.hit(address)
        return None

    def admit_new_session(self, request: Request) -> ApiError | None:
        """Before a public cookie is issued: counted against the client address."""
        address = client_address(request)
        wait = self.clients.retry_after(address)
        if wait:
            return self._too_many(wait, "您所在的网络")
        self.clients.hit(address)
        return None
