"""The web page's login: it trades the token (from its address) for an HttpOnly session cookie,
checks it and logs out. Programs send the bearer token instead (bot/channels/kefu/auth.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bot.channels.kefu.auth import COOKIE_NAME, LOGIN_PATH, is_https
from bot.channels.kefu.http import ApiError
from bot.channels.kefu.routes import AUTH_ERRORS, ERRORS, Services
from bot.channels.kefu.schemas import SessionRequest, SessionResponse


def router(services: Services) -> APIRouter:
    auth = services.auth
    routes = APIRouter()

    @routes.post(LOGIN_PATH, response_model=SessionResponse, tags=["登录"], summary="网页登录：用令牌换 HttpOnly Cookie",
                 responses=ERRORS)
    async def login(body: SessionRequest, request: Request, response: Response) -> dict[str, bool]:
        # AuthGate already refused a throttled address before the body was read; checked again
        # here for requests that were let through just before the limit was reached.
        refusal = auth.throttled(request)
        if refusal is not None:
            raise refusal
        if not auth.token_matches(body.token):
            auth.failed(request)  # a wrong token at the login is a guess like any other
            raise ApiError(401, "令牌无效：请使用 make run 打印的带令牌地址重新打开网页", code="unauthorized")
        response.set_cookie(COOKIE_NAME, auth.issue_cookie(), max_age=auth.max_age, httponly=True, samesite="strict", path="/",
                            secure=is_https(request))
        return {"authenticated": True}

    @routes.get(LOGIN_PATH, response_model=SessionResponse, tags=["登录"], summary="检查是否已登录",
                dependencies=services.authorized, responses=AUTH_ERRORS)
    async def session() -> dict[str, bool]:
        return {"authenticated": True}

    @routes.delete(LOGIN_PATH, response_model=SessionResponse, tags=["登录"], summary="退出登录（清除 Cookie）")
    async def logout(response: Response) -> dict[str, bool]:
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return {"authenticated": False}

    return routes
