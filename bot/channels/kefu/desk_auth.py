"""Who may use the staff desk (/desk): the staff token KEFU_STAFF_TOKEN, or the desk page's cookie.

The desk has its own credential, separate from the citizens' KEFU_API_TOKEN (bot/channels/kefu/auth.py):

- the citizens' token or cookie never opens the desk (a kiosk or a phone holds those), and the
  staff token is no citizen credential either: the hall API's /api/ routes compare with
  KEFU_API_TOKEN only, so a clerk's token cannot chat as a citizen or read a citizen session's
  lines (a clerk who wants to try the assistant uses the chat page like anyone). When both tokens
  are configured the same, the desk stays closed (503) and the log says why;
- the desk page trades the token, with the clerk's name or number, for an HttpOnly, SameSite=Strict
  cookie scoped to /desk (``kefu_desk``: issue time, clerk name and an HMAC keyed with the staff
  token; valid SESSION_MAX_AGE_SECONDS, a working day). Every take, reply and close is recorded
  under that name. A program calling with ``Authorization: Bearer <KEFU_STAFF_TOKEN>`` names the
  clerk in each request's body (``"clerk": "王芳"``);
- wrong tokens and cookies are counted per address (the same FailedAuthThrottle as the hall API,
  a counter of its own): past the limit, 429 with Retry-After.

`StaffGate` refuses unauthorized requests to /desk/api/ before anything reads their body, like
AuthGate for /api/; the page /desk itself is public (it shows the login form). Without a staff
token (the hall API started by hand without KEFU_STAFF_TOKEN) every desk call answers 503 saying so.

Usage::

    staff = StaffAuth("staff-s3cret")
    cookie = staff.issue_cookie("王芳")      # "1767225600.546L6Iqz.9f86d0…"
    staff.clerk_of(cookie)                   # "王芳" (None when forged or expired)
    app.add_middleware(StaffGate, auth=staff)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.kefu.auth import CLOCK_SKEW_SECONDS, SESSION_MAX_AGE_SECONDS, client_address, too_many_failures
from bot.channels.kefu.http import ApiError, error_response
from bot.channels.kefu.throttle import DEFAULT_MAX_FAILURES, DEFAULT_WINDOW_SECONDS, FailedAuthThrottle
from protocol import STAFF_TOKEN_ENV

log = logging.getLogger(__name__)

DESK_COOKIE = "kefu_desk"
DESK_PREFIX = "/desk"
DESK_API = "/desk/api/"
DESK_LOGIN_PATH = "/desk/api/session"
_PURPOSE = b"kefu-staff-desk-v1"
_ISSUED = re.compile(r"[0-9]{1,12}")
DISABLED_MESSAGE = f"人工坐席未启用：请设置环境变量 {STAFF_TOKEN_ENV}（make run 会自动生成并打印地址）"


class StaffAuth:
    """The staff token check; `token` None or "" means the desk is closed (503)."""

    def __init__(self, token: str | None, *, citizen_token: str = "", max_age: int = SESSION_MAX_AGE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        if token and citizen_token and hmac.compare_digest(token.encode(), citizen_token.encode()):
            log.error("%s 与 KEFU_API_TOKEN 相同：群众的令牌也能打开坐席，已关闭人工坐席；请换一个不同的令牌", STAFF_TOKEN_ENV)
            token = None
        self._token = token.encode() if token else b""
        self.max_age = max_age
        self._clock = clock
        self.throttle = FailedAuthThrottle(max_failures=DEFAULT_MAX_FAILURES, window=DEFAULT_WINDOW_SECONDS, clock=clock)

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def token_matches(self, candidate: str) -> bool:
        return self.enabled and hmac.compare_digest(candidate.encode(), self._token)

    def _signature(self, issued: str, clerk: str) -> str:
        return hmac.new(self._token, _PURPOSE + b"|" + issued.encode() + b"|" + clerk.encode(), hashlib.sha256).hexdigest()

    def issue_cookie(self, clerk: str) -> str:
        issued = str(int(self._clock()))
        name = base64.urlsafe_b64encode(clerk.encode()).decode().rstrip("=")
        return f"{issued}.{name}.{self._signature(issued, name)}"

    def clerk_of(self, cookie: str) -> str | None:
        """The clerk a desk cookie was issued to, while it is valid; else None."""
        issued, name, signature = [*cookie.split("."), "", ""][:3]
        if not self.enabled or not _ISSUED.fullmatch(issued) or not name:
            return None
        if not hmac.compare_digest(signature.encode(), self._signature(issued, name).encode()):
            return None
        if not -CLOCK_SKEW_SECONDS <= self._clock() - int(issued) < self.max_age:
            return None
        try:
            return base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None

    def _verdict(self, request: Request) -> bool | None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return self.token_matches(credentials.strip())
        cookie = request.cookies.get(DESK_COOKIE)
        return self.clerk_of(cookie) is not None if cookie else None

    def cookie_clerk(self, request: Request) -> str | None:
        """The clerk named by the request's desk cookie (None for a bearer caller)."""
        cookie = request.cookies.get(DESK_COOKIE)
        return self.clerk_of(cookie) if cookie else None

    def throttled(self, request: Request) -> ApiError | None:
        return too_many_failures(self.throttle, request)

    def failed(self, request: Request) -> None:
        self.throttle.failed(client_address(request))

    def check(self, request: Request) -> ApiError | None:
        """None when the request may use the desk; else the error (503 closed, 429, 401)."""
        if not self.enabled:
            return ApiError(503, DISABLED_MESSAGE, code="desk_disabled")
        refusal = self.throttled(request)
        if refusal is not None:
            return refusal
        verdict = self._verdict(request)
        if verdict is True:
            return None
        if verdict is False:
            self.failed(request)
        return ApiError(401, "未授权：人工坐席需要工作人员令牌（KEFU_STAFF_TOKEN），群众和自助终端的令牌不能打开坐席",
                        code="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="kefu-desk"'})

    async def require(self, request: Request) -> None:
        """FastAPI dependency of every desk route (StaffGate has checked before the body was read)."""
        refusal = self.check(request)
        if refusal is not None:
            raise refusal


class StaffGate:
    """Refuse unauthorized /desk/api/ requests before their body is read; no caching of desk answers."""

    def __init__(self, app: ASGIApp, auth: StaffAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(DESK_API):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        refusal = None
        if method == "POST" and path == DESK_LOGIN_PATH:
            refusal = self.auth.throttled(Request(scope)) if self.auth.enabled else ApiError(503, DISABLED_MESSAGE, code="desk_disabled")
        elif method != "OPTIONS":
            refusal = self.auth.check(Request(scope))
        if refusal is not None:
            response = error_response(refusal.status, refusal.message, code=refusal.code, headers=refusal.headers)
            await response(scope, receive, send)
            return

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"cache-control", b"no-store")]}
            await send(message)

        await self.app(scope, receive, no_store)
