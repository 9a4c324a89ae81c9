"""Who may use the hall API: a bearer token, or the web page's session cookie derived from it.

- Programs (staff tools, kiosks) send ``Authorization: Bearer <KEFU_API_TOKEN>``.
- Kiosk mode: the web page gets the token once from its address (``/#token=…``: a fragment never
  reaches a server or its logs), trades it for a cookie with ``POST /api/v1/session`` and removes it
  from the address bar.
- Public mode (settings.yml ``kefu_public: true``; off by default): whoever opens the page gets a
  public session cookie from ``POST /api/v1/session/public`` without any token. It names a random
  session, only lets its holder use conversations whose session_id begins with that session's
  prefix, and its messages are rate-limited per session and per client address
  (bot/channels/kefu/public.py). Switching public mode off ends every public session.
- Renewal: ``POST /api/v1/session/renew`` with a valid cookie answers a fresh one (same kind, same
  public session); the page calls it at half the cookie's life, so a kiosk that is on never reaches
  the expiry and never needs staff to log in again (see `TokenAuth.renewed`).

The cookie is HttpOnly (page scripts cannot read it) and SameSite=Strict (other sites cannot make a
browser send it), so links such as the printable notice work while the token itself is stored
nowhere in the browser.

What the cookie does and does not protect: it holds its issue time and an HMAC of that time keyed
with the token, not the token, so a leaked cookie does not reveal the token. It is a credential all
the same: whoever holds it can call the API like the token's owner until it expires. That is
max_age (settings.yml kefu_session_seconds, 12 h) after it was issued or last renewed, enforced by
the server from the signed time, not only by the browser's Max-Age; changing the token ends every
session at once. Why sliding renewal is safe: renewing needs a cookie that is still valid, so it
gives nobody anything they do not already hold (a stolen cookie is as good as its renewals, and
it is HttpOnly and SameSite=Strict: no page script, no other site can read or send it); a cookie
left unused (a kiosk switched off, a copied cookie) still dies after max_age; and rotating
KEFU_API_TOKEN still ends every session, renewed or not. The alternative, a long-lived kiosk
credential kept by the page, would have to sit in localStorage, readable by any script in the page.
A correctly signed cookie that has expired is refused (401) but not counted as a guess.
It is marked Secure when the page is served over https: directly, or through a TLS-terminating
proxy on this machine that sends ``X-Forwarded-Proto: https`` (the header is believed only from
127.0.0.1 / ::1, where that proxy runs; anyone else could send it).

Comparisons are constant-time (hmac.compare_digest). The token is never logged. Wrong tokens and
cookies are counted per remote address (behind the local TLS proxy: the address it forwards;
bot/channels/kefu/throttle.py): past the limit that address gets 429 with Retry-After until its
window ends, on every protected route and the login alike.

Usage::

    auth = TokenAuth("s3cret")
    auth.token_matches("s3cret")                  # True
    cookie = auth.issue_cookie()                  # "1767225600.9f86d0…" (issue time . HMAC)
    auth.cookie_matches(cookie)                   # True for max_age seconds, then False
    cookie, who = auth.issue_public_cookie()      # "p3f9c….1767225600.5be1…"; who.session_prefix "p3f9c…-"
    auth.check(request)                           # None, or the ApiError to answer (429 / 401)
    is_https(request)                             # whether to mark the cookie Secure
    app.get("/api/v1/x", dependencies=[Depends(auth.require)])
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.channels.kefu.http import ApiError, error_response
from bot.channels.kefu.throttle import DEFAULT_MAX_FAILURES, DEFAULT_WINDOW_SECONDS, FailedAuthThrottle

log = logging.getLogger(__name__)

COOKIE_NAME = "kefu_session"
LOGIN_PATH = "/api/v1/session"
PUBLIC_LOGIN_PATH = "/api/v1/session/public"
RENEW_PATH = "/api/v1/session/renew"
_COOKIE_PURPOSE = b"kefu-web-session-v2"  # v2: with the issue time (v1 cookies never expired and no longer match)
_PUBLIC_PURPOSE = b"kefu-public-session-v1"  # its own purpose: a kiosk cookie can never pass as a public one, or back
SESSION_MAX_AGE_SECONDS = 12 * 3600  # settings.yml kefu_session_seconds; the default when none is given
CLOCK_SKEW_SECONDS = 300  # a cookie "issued" further in the future than this is forged or from a wrong clock
_ISSUED = re.compile(r"[0-9]{1,12}")
_PUBLIC_SESSION = re.compile(r"p([0-9a-f]{16})")
LOOPBACK = frozenset({"127.0.0.1", "::1"})


@dataclass(frozen=True)
class Credential:
    """Who a request is: the bearer token, a kiosk cookie or a public session cookie."""

    kind: Literal["token", "kiosk", "public"]
    issued: int = 0  # cookies: when issued or last renewed (unix time)
    session: str = ""  # public: the random session the cookie names

    @property
    def session_prefix(self) -> str:
        """What a public session's session_ids must begin with ("" = any)."""
        return f"p{self.session}-" if self.kind == "public" else ""

bearer_scheme = HTTPBearer(auto_error=False, description="KEFU_API_TOKEN（make run 生成并打印，或由环境变量设置）")
cookie_scheme = APIKeyCookie(name=COOKIE_NAME, auto_error=False, description="网页登录后由 POST /api/v1/session 设置的 HttpOnly Cookie")


class TokenAuth:
    """Checks a request's bearer token or session cookie against the configured token."""

    def __init__(self, token: str, *, max_age: int = SESSION_MAX_AGE_SECONDS, clock: Callable[[], float] = time.time,
                 max_failures: int = DEFAULT_MAX_FAILURES, failure_window: float = DEFAULT_WINDOW_SECONDS,
                 public: bool = False) -> None:
        if not token:
            raise ValueError("KEFU_API_TOKEN 为空")
        if max_age < 1:
            raise ValueError("kefu_session_seconds 必须为正数")
        self._token = token.encode()
        self.max_age = max_age
        self.public = public
        self._clock = clock
        self.throttle = FailedAuthThrottle(max_failures=max_failures, window=failure_window, clock=clock)

    def _signature(self, issued: str, session: str = "") -> str:
        message = _PUBLIC_PURPOSE + b"|" + session.encode() if session else _COOKIE_PURPOSE
        return hmac.new(self._token, message + b"|" + issued.encode(), hashlib.sha256).hexdigest()

    def token_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self._token)

    def issue_cookie(self) -> str:
        """A new kiosk cookie value: ``<unix time>.<HMAC-SHA256 of it keyed with the token>``."""
        issued = str(int(self._clock()))
        return f"{issued}.{self._signature(issued)}"

    def issue_public_cookie(self, session: str | None = None) -> tuple[str, Credential]:
        """A public session cookie ``p<session>.<unix time>.<HMAC>``: a new random session, or
        `session` again when renewing (its conversations keep their ids)."""
        session = session or secrets.token_hex(8)
        issued = str(int(self._clock()))
        return f"p{session}.{issued}.{self._signature(issued, session)}", Credential("public", int(issued), session)

    def renewed(self, credential: Credential) -> str | None:
        """A fresh cookie for a cookie credential (same kind, same public session); None for the token."""
        if credential.kind == "kiosk":
            return self.issue_cookie()
        if credential.kind == "public":
            return self.issue_public_cookie(credential.session)[0]
        return None

    def read_cookie(self, candidate: str) -> tuple[Credential | None, bool]:
        """(the credential, whether the signature is right): (None, False) forged or public while
        public mode is off; (None, True) right but expired; (credential, True) valid."""
        head, _, rest = candidate.partition(".")
        public = _PUBLIC_SESSION.fullmatch(head)
        session, (issued, _, signature) = ("", (head, "", rest)) if public is None else (public.group(1), rest.partition("."))
        if not _ISSUED.fullmatch(issued) or (public is not None and not self.public):
            return None, False
        if not hmac.compare_digest(signature.encode(), self._signature(issued, session).encode()):
            return None, False
        age = self._clock() - int(issued)
        if not -CLOCK_SKEW_SECONDS <= age < self.max_age:
            return None, True
        return Credential("public" if session else "kiosk", int(issued), session), True

    def cookie_matches(self, candidate: str) -> bool:
        """Signed with this token and issued (or renewed) less than `max_age` seconds ago."""
        return self.read_cookie(candidate)[0] is not None

    def expires_in(self, credential: Credential) -> int | None:
        """Seconds until a cookie credential expires (None for the token)."""
        return None if credential.kind == "token" else max(0, credential.issued + self.max_age - int(self._clock()))

    def _verdict(self, request: Request) -> Credential | bool | None:
        """The request's credential when its bearer token (else its cookie) is right; False when a
        wrong one was compared (it counts as a guess); True for a right but expired cookie (refused,
        not counted); None when it has neither."""
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return Credential("token") if self.token_matches(credentials.strip()) else False
        cookie = request.cookies.get(COOKIE_NAME)
        if not cookie:
            return None
        credential, signed = self.read_cookie(cookie)
        return credential or signed

    def credential(self, request: Request) -> Credential | None:
        """The request's valid credential, if any (also kept on request.state by `check`)."""
        verdict = self._verdict(request)
        return verdict if isinstance(verdict, Credential) else None

    def is_authorized(self, request: Request) -> bool:
        return self.credential(request) is not None

    def throttled(self, request: Request) -> ApiError | None:
        """The 429 for an address past its limit of wrong credentials, else None (nothing is checked)."""
        return too_many_failures(self.throttle, request)

    def failed(self, request: Request) -> None:
        """Count a wrong token or cookie against the request's address."""
        address = client_address(request)
        self.throttle.failed(address)
        wait = self.throttle.retry_after(address)
        if wait:  # reached just now: later tries are refused before they are counted, so this logs once
            log.warning("来自 %s 的错误令牌过多，%d 秒内拒绝其请求", address, wait)

    def check(self, request: Request) -> ApiError | None:
        """None when the request may pass; else the error to answer: 429 while its address is
        throttled, 401 otherwise (a wrong credential counts toward the throttle, none at all not)."""
        refusal = self.throttled(request)
        if refusal is not None:
            return refusal
        verdict = self._verdict(request)
        if isinstance(verdict, Credential):
            request.state.kefu_credential = verdict  # the routes read it (public session limits)
            return None
        if verdict is False:
            self.failed(request)
        return self.refusal(request)

    def refusal(self, request: Request) -> ApiError:
        if request.headers.get("authorization"):
            message = "令牌无效：请检查 Authorization: Bearer <令牌> 是否与 KEFU_API_TOKEN 一致"
        elif request.cookies.get(COOKIE_NAME):
            message = ("网页会话已过期：请刷新页面" if self.public else
                       "网页登录已过期或无效：请使用 make run 打印的带令牌地址重新打开网页")
        else:
            message = "未授权：请在请求头中提供 Authorization: Bearer <令牌>，网页请用 make run 打印的带令牌地址打开"
        return ApiError(401, message, code="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="kefu"'})

    async def require(self, request: Request,
                      _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
                      _cookie: Annotated[str | None, Security(cookie_scheme)] = None) -> None:
        """FastAPI dependency: 401 JSON unless the bearer token or the session cookie is right
        (429 while the address is throttled).

        The two Security parameters only document both schemes in the OpenAPI document; the
        check itself is `check`. Behind AuthGate only authorized requests get here, so nothing
        is counted twice.
        """
        refusal = self.check(request)
        if refusal is not None:
            raise refusal


def client_address(request: Request) -> str:
    """The remote address the throttle and the public limits count by ("" when the server gives none).

    Behind the local TLS proxy every browser arrives from loopback; the proxy appends the address
    it saw to X-Forwarded-For, so from loopback (only there, like X-Forwarded-Proto) the last entry
    is the client. Earlier entries are whatever the client sent and are never used."""
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for", "")
    if peer in LOOPBACK and forwarded.strip():
        return forwarded.split(",")[-1].strip()[:64] or peer
    return peer


def too_many_failures(throttle: FailedAuthThrottle, request: Request) -> ApiError | None:
    """The 429 (with Retry-After) for an address past its limit of wrong credentials, else None."""
    wait = throttle.retry_after(client_address(request))
    if not wait:
        return None
    return ApiError(429, f"令牌错误次数过多，请 {wait} 秒后再试", code="too_many_failed_attempts",
                    headers={"Retry-After": str(wait)})


def is_https(request: Request) -> bool:
    """Whether the browser reached us over https: directly, or via the local TLS proxy's
    ``X-Forwarded-Proto: https`` (trusted only from loopback, see the module docstring)."""
    if request.url.scheme == "https":
        return True
    client = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return client in LOOPBACK and forwarded == "https"


def is_protected(method: str, path: str) -> bool:
    """Every /api/ route and the OpenAPI document, except logging in (with the token, or to a
    public session) and CORS preflights."""
    if method == "OPTIONS" or (method == "POST" and path in (LOGIN_PATH, PUBLIC_LOGIN_PATH)):
        return False
    return path.startswith("/api/") or path == "/openapi.json"


class AuthGate:
    """Refuse unauthorized requests to protected paths before anything reads their body, so a
    client without the token gets 401, never 400/413/422 about a body nobody should look at.
    (The routes' `require` dependency checks again and documents the schemes in OpenAPI.)
    A throttled address gets 429 here, the login included, before its body is read."""

    def __init__(self, app: ASGIApp, auth: TokenAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            refusal = None
            if is_protected(method, path):
                refusal = self.auth.check(Request(scope))
            elif method == "POST" and path in (LOGIN_PATH, PUBLIC_LOGIN_PATH):
                refusal = self.auth.throttled(Request(scope))  # the token is in the body: the route checks and counts it
            if refusal is not None:
                response = error_response(refusal.status, refusal.message, code=refusal.code, headers=refusal.headers)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
