"""HTTP plumbing of the hall API: JSON errors in Chinese, the request size limit, security headers.

Every error a client can get is one JSON shape, so a kiosk or staff tool shows `error.message`
and never has to parse FastAPI's or Starlette's English defaults::

    {"error": {"status": 422, "code": "invalid_request", "message": "请求参数有误：…",
               "details": [{"field": "session_id", "problem": "格式不对：…"}]}}

Usage::

    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=65536)
    app.add_middleware(SecurityHeaders)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from protocol import ANSWER_ID_PATTERN

log = logging.getLogger(__name__)

DOCS_HINT = "接口说明见 /docs"
# FastAPI/pydantic error types in words a Chinese-speaking integrator reads at a glance.
_PROBLEMS: dict[str, str] = {
    "missing": "缺少该字段",
    "string_type": "必须是字符串",
    "string_pattern_mismatch": "格式不对：只能用 1-64 位字母、数字、下划线（_）或短横线（-）",
    "string_too_short": "不能为空",
    "string_too_long": "太长",
    "literal_error": "取值不对",
    "extra_forbidden": "不认识的字段（请检查拼写）",
    "model_attributes_type": "请求体必须是 JSON 对象",
    "model_type": "请求体必须是 JSON 对象",
    "dict_type": "请求体必须是 JSON 对象",
    "int_parsing": "必须是整数",
    "bool_parsing": "必须是 true 或 false",
}
_DEFAULT_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求有误"),
    401: ("unauthorized", "未授权：请在请求头中提供 Authorization: Bearer <令牌>"),
    403: ("forbidden", "没有权限"),
    404: ("not_found", "找不到该地址"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "请求体太大"),
    415: ("unsupported_media_type", "请求体须为 JSON，并设置 Content-Type: application/json"),
    422: ("invalid_request", "请求参数有误"),
    429: ("too_many_requests", "请求太频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}
# FastAPI's words for a body its JSON decoder failed on other than with a JSONDecodeError: invalid
# UTF-8 (UnicodeDecodeError), nesting deeper than the interpreter's recursion limit (RecursionError,
# e.g. 100,000 "["), … FastAPI keeps the real error as the exception's __cause__.
_UNPARSABLE_BODY = "There was an error parsing the body"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")  # what a route may serve (OPTIONS: see _http_error)


def error_response(status: int, message: str | None = None, *, code: str | None = None, details: Sequence[dict[str, str]] = (),
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape of the API (see module docstring)."""
    default_code, default_message = _DEFAULT_MESSAGES.get(status, ("error", HTTPStatus(status).phrase))
    body = {"error": {"status": status, "code": code or default_code, "message": message or default_message, "details": list(details)}}
    return JSONResponse(body, status_code=status, headers=headers)


class ApiError(Exception):
    """Raise from a route for a JSON error: ``raise ApiError(404, "找不到办事指南：x", code="guide_not_found")``."""

    def __init__(self, status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers


def _field(loc: Sequence[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "(请求体)"


def _problem(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    problem = _PROBLEMS.get(kind, f"取值无效（{kind}）")
    context = error.get("ctx") or {}
    if kind == "string_too_long" and "max_length" in context:
        problem += f"（最多 {context['max_length']} 个字符）"
    if kind == "string_pattern_mismatch" and context.get("pattern") == f"^{ANSWER_ID_PATTERN}$":
        problem = "格式不对：应是 /api/v1/chat 回复里的 answer_id（12 位小写字母）"
    if kind == "literal_error" and "expected" in context:
        problem += "：只能是 " + str(context["expected"]).replace(" or ", " 或 ")
    return problem


def _is_json_request(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = list(error.errors())
    invalid_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if invalid_json is not None:
        reason = (invalid_json.get("ctx") or {}).get("error", "")
        return error_response(400, f"请求体不是合法的 JSON（{reason}）。{DOCS_HINT}", code="invalid_json")
    if request.method in ("POST", "PUT", "PATCH") and not _is_json_request(request):
        # FastAPI reads a body as JSON only under a JSON content type; say so rather than "not an object".
        return error_response(400, "请求体须为 JSON，并设置请求头 Content-Type: application/json", code="json_required")
    details = [{"field": _field(e.get("loc", ())), "problem": _problem(e)} for e in errors]
    summary = "；".join(f"{d['field']}：{d['problem']}" for d in details)
    return error_response(422, f"请求参数有误：{summary}。{DOCS_HINT}", details=details)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    detail = error.detail if isinstance(error.detail, str) else None
    if detail == HTTPStatus(status).phrase:
        detail = None  # Starlette's English default: use ours
    if status == 400 and detail == _UNPARSABLE_BODY:
        return error_response(400, f"{_unparsable_reason(error.__cause__)}{DOCS_HINT}", code="invalid_json")
    if status == 404 and detail is None:
        detail = f"找不到该地址：{request.url.path}。{DOCS_HINT}"
    headers = dict(getattr(error, "headers", None) or {})
    if status == 405:
        methods = allowed_methods(request)
        if methods:
            headers["Allow"] = ", ".join(methods)
            if request.method == "OPTIONS":
                # No route serves OPTIONS itself (CORS preflights are answered before routing): the
                # router's 405 for it means "the path exists", so answer what OPTIONS asks for.
                return Response(status_code=204, headers=headers)
        if detail is None:
            detail = f"{request.url.path} 不支持 {request.method} 请求。{DOCS_HINT}"
    return error_response(status, detail, headers=headers or None)


def _unparsable_reason(cause: BaseException | None) -> str:
    if isinstance(cause, RecursionError):
        # The trace says nothing the client can act on, and is not logged: it is the client's input.
        return "请求体不是合法的 JSON：嵌套层数太深（对象或数组套得太多）。"
    if isinstance(cause, UnicodeDecodeError):
        return "请求体不是合法的 JSON：必须是 UTF-8 编码的文本。"
    return "请求体不是合法的 JSON，无法解析。"


def allowed_methods(request: Request) -> list[str]:
    """Every method the app's routes serve at the request's path, plus OPTIONS (answered by
    `_http_error`); [] for a path no route serves. Starlette's own 405 names only the first
    matching route's methods, so /api/v1/session, served by three routes, would claim POST alone.

    Each method is tried against the routes' public `matches` on a fresh scope, which works
    however FastAPI nests included routers. Mounts (/assets) match every method and answer for
    themselves, so they are left out."""
    methods = []
    for method in _METHODS:
        probe: Scope = {"type": "http", "method": method, "path": request.scope["path"],
                        "root_path": request.scope.get("root_path", ""), "headers": []}
        if any(not isinstance(route, Mount) and route.matches(probe)[0] == Match.FULL
               for route in getattr(request.app, "routes", ())):
            methods.append(method)
    return [*methods, "OPTIONS"] if methods else []


async def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response(error.status, error.message, code=error.code, headers=error.headers)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    # The trace goes to the log for the operator, never to the client.
    log.exception("处理 %s %s 时出错", request.method, request.url.path)
    return error_response(500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _send_json(send: Send, response: JSONResponse) -> None:
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with a 413 JSON error, before any route reads them.

    The body is buffered (it is small by definition), so a client that lies in Content-Length or
    streams without one is caught as well.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        return error_response(413, f"请求体太大（上限 {self.max_bytes} 字节）", code="payload_too_large")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_json(send, self._too_large())
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_json(send, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect like a real receive

        await self.app(scope, replay, send)


# The page and the notice load only their own files: no inline script, no third-party origin.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The 一次性告知单 opens in an overlay of the chat page (web/notice-view.js): our own pages may frame
# it, no other site may (no clickjacking); every other page may not be framed at all.
FRAMEABLE_CSP = PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")


def _csp(path: str) -> str:
    return FRAMEABLE_CSP if path.startswith("/api/v1/guides/") and path.endswith("/notice") else PAGE_CSP


class SecurityHeaders:
    """nosniff and no-referrer everywhere, a strict CSP on pages, no caching of API answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {name.lower() for name, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    extra.append((b"content-security-policy", _csp(path).encode()))
                if path.startswith("/api/") and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers + [h for h in extra if h[0] not in names]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
