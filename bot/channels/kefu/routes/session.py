"""The web page's session: a kiosk trades the token (from its address) for an HttpOnly cookie; in
public mode anyone gets a public session cookie without a token; the page renews its cookie at
half-life; it can check and log out. Programs send the bearer token instead (bot/channels/kefu/auth.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from bot.channels.kefu.auth import COOKIE_NAME, LOGIN_PATH, PUBLIC_LOGIN_PATH, RENEW_PATH, Credential, TokenAuth, is_https
from bot.channels.kefu.http import ApiError
from bot.channels.kefu.public import credential_of
from bot.channels.kefu.routes import AUTH_ERRORS, ERRORS, Services
from bot.channels.kefu.schemas import ErrorResponse, SessionRequest, SessionResponse

PUBLIC_OFF = "本服务未开放公众访问：请到政务服务中心的自助终端使用，或拨打政务服务便民热线 {hotline}。"


def _answer(auth: TokenAuth, credential: Credential) -> dict[str, Any]:
    return {"authenticated": True, "mode": credential.kind, "session_prefix": credential.session_prefix,
            "expires_in": auth.expires_in(credential)}


def router(services: Services) -> APIRouter:
    auth, limits, settings = services.auth, services.limits, services.settings
    routes = APIRouter()

    def set_cookie(response: Response, request: Request, value: str) -> None:
        response.set_cookie(COOKIE_NAME, value, max_age=auth.max_age, httponly=True, samesite="strict", path="/",
                            secure=is_https(request))

    @routes.post(LOGIN_PATH, response_model=SessionResponse, tags=["登录"], summary="网页登录（自助终端）：用令牌换 HttpOnly Cookie",
                 responses=ERRORS)
    async def login(body: SessionRequest, request: Request, response: Response) -> dict[str, Any]:
        # AuthGate already refused a throttled address before the body was read; checked again
        # here for requests that were let through just before the limit was reached.
        refusal = auth.throttled(request)
        if refusal is not None:
            raise refusal
        if not auth.token_matches(body.token):
            auth.failed(request)  # a wrong token at the login is a guess like any other
            raise ApiError(401, "令牌无效：请使用 make run 打印的带令牌地址重新打开网页", code="unauthorized")
        cookie = auth.issue_cookie()
        set_cookie(response, request, cookie)
        return _answer(auth, auth.read_cookie(cookie)[0] or Credential("kiosk"))

    @routes.post(PUBLIC_LOGIN_PATH, response_model=SessionResponse, tags=["登录"],
                 summary="公众模式：不用令牌领取一个会话 Cookie（手机打开网页时）",
                 description="只在 settings.yml 的 kefu_public 为 true 时可用，否则 403。这个 Cookie 只能用于以 session_prefix 开头的"
                             " session_id，提问按会话和来源地址限速（超过时 429 和 Retry-After）。",
                 responses={403: {"model": ErrorResponse, "description": "未开启公众模式"}, 429: ERRORS[429]})
    async def public_login(request: Request, response: Response) -> dict[str, Any]:
        if not auth.public:
            raise ApiError(403, PUBLIC_OFF.format(hotline=settings.hotline), code="public_mode_off")
        refusal = limits.admit_new_session(request)
        if refusal is not None:
            raise refusal
        cookie, credential = auth.issue_public_cookie()
        set_cookie(response, request, cookie)
        return _answer(auth, credential)

    @routes.post(RENEW_PATH, response_model=SessionResponse, tags=["登录"], dependencies=services.authorized, responses=AUTH_ERRORS,
                 summary="续期：用仍然有效的 Cookie 换一个新的（网页在有效期过半时自动调用）",
                 description="自助终端因此不需要工作人员每天重新登录；过期的 Cookie 不能续期（401）。用令牌调用时没有 Cookie 可续。")
    async def renew(request: Request, response: Response) -> dict[str, Any]:
        credential = credential_of(request) or Credential("token")
        cookie = auth.renewed(credential)
        if cookie is None:
            return _answer(auth, credential)
        set_cookie(response, request, cookie)
        fresh, _ = auth.read_cookie(cookie)
        return _answer(auth, fresh or credential)

    @routes.get(LOGIN_PATH, response_model=SessionResponse, tags=["登录"], summary="检查是否已登录",
                dependencies=services.authorized, responses=AUTH_ERRORS)
    async def session(request: Request) -> dict[str, Any]:
        return _answer(auth, credential_of(request) or Credential("token"))

    @routes.delete(LOGIN_PATH, response_model=SessionResponse, tags=["登录"], summary="退出登录（清除 Cookie）")
    async def logout(response: Response) -> dict[str, bool]:
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return {"authenticated": False}

    return routes
