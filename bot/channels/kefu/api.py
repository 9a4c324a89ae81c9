"""智能云客服 backend: the hall API and web chat page for service-hall staff, kiosks and web pages.

A small FastAPI service in front of Rasa rather than a Rasa custom input channel, because:

- it runs in the app venv (Python 3.11) beside the `knowledge` package, so it serves the guides,
  their search and the printable 一次性告知单 straight from the published index; a custom channel
  would run inside Rasa's Python 3.10 venv, which does not have `knowledge`;
- it turns the REST channel's list of messages (texts, buttons, the actions' custom payloads) into
  one structured reply: guide, aspect, contacts, buttons, confidence, handoff;
- it talks to Rasa only through bot/channels/rasa_client.py, like the Telegram bot, so both channels
  retry the same way and show the same polite message with the 12345 hotline when Rasa is down.

Routes (everything under /api/, plus /openapi.json, needs the token; see bot/channels/kefu/auth.py)::

    GET  /healthz                         liveness, no auth (the launcher waits for it)
    GET  /                                the web chat page (bot/channels/kefu/web/, rendered by bot/channels/kefu/page.py), /assets/* its files
    GET  /docs                            an offline API reference page (no CDN), reads /openapi.json
    POST /api/v1/session                  {token} -> HttpOnly cookie for the web page; GET checks, DELETE logs out
    POST /api/v1/chat                     {session_id, message} -> structured reply
    GET  /api/v1/guides[?q=]              list / lexical search
    GET  /api/v1/guides/{id}              the structured guide
    GET  /api/v1/guides/{id}/notice       printable 一次性告知单 (HTML)
    POST /api/v1/feedback                 {session_id, rating: good|bad, comment?}

Status codes of /api/v1/chat: every message gets HTTP 200 with a reply the user can read, also an
empty one (kind "empty": nothing visible once zero-width, direction and control characters are
removed), one over message_max_chars (kind "too_long"; neither is sent to Rasa) and when Rasa or
the action server is down (kind "unavailable", the hotline in the text). A request that is not a
valid chat request at all is a 4xx JSON error: 400 malformed JSON, not UTF-8 or no JSON content
type, 401 token, 413 body over kefu_max_body_bytes, 422 wrong or missing fields.

When the published index is corrupt (bot/channels/kefu/guides.py) the guide routes keep serving the last
good version; with none loaded they answer 503 JSON saying to rebuild or roll back, while chat
goes on (a handoff then comes without its guide card).

Usage::

    python -m bot.channels.kefu.api --host 127.0.0.1 --port 8080 --rasa-url http://127.0.0.1:5005/webhooks/rest/webhook
    curl -s localhost:8080/api/v1/chat -H "Authorization: Bearer $KEFU_API_TOKEN" \\
         -H 'Content-Type: application/json' -d '{"session_id": "demo", "message": "开办企业需要什么材料"}'
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from bot.channels.kefu.auth import COOKIE_NAME, AuthGate, TokenAuth, is_https
from bot.channels.kefu.feedback import FeedbackTexts
from bot.channels.kefu.guides import CatalogUnavailableError, GuideCatalog
from bot.channels.kefu.http import ApiError, BodySizeLimit, SecurityHeaders, error_response, install_error_handlers
from bot.channels.kefu.notice import render_notice
from bot.channels.kefu.page import WEB_DIR, PageAssets, render_page
from bot.channels.kefu.reply import notice_url, plain_reply, structured_reply
from bot.channels.kefu.schemas import (
    ChatRequest,
    ChatResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    GuideDetail,
    GuideList,
    Health,
    SessionRequest,
    SessionResponse,
    feedback_request_model,
)
from bot.channels.rasa_client import (
    FEEDBACK_BAD,
    FEEDBACK_GOOD,
    AssistantReply,
    AssistantUnavailableError,
    RasaClient,
    too_long_text,
    unavailable_text,
)
from knowledge.settings import ROOT, Settings, load_settings
from knowledge.sources.guides import ID_PATTERN

log = logging.getLogger("bot.channels.kefu.api")

TOKEN_ENV = "KEFU_API_TOKEN"
DOMAIN_FILE = ROOT / "domain.yml"  # the comment prompt of a 差评 is read from it (bot/channels/kefu/feedback.py)
SENDER_PREFIX = "kefu-"  # Rasa conversations of this channel, told apart from Telegram's "tg-…"
EMPTY_TEXT = "请输入您想咨询的问题，例如“开办企业需要什么材料”“用水报装要多久”。"
ERRORS = {status: {"model": ErrorResponse, "description": text} for status, text in (
    (400, "请求体不是合法的 JSON"), (401, "缺少令牌或令牌无效"), (413, "请求体太大"), (422, "字段缺失或类型不对"))}
NOT_FOUND = {404: {"model": ErrorResponse, "description": "没有这个办事指南"}}
INDEX_DOWN = {503: {"model": ErrorResponse, "description": "知识库索引损坏且没有可用的旧版本：需重建或回滚索引"}}
_SLASHES = re.compile(r"^/+")
_INVISIBLE = ("Cf", "Cs")  # Unicode categories removed from messages: format characters and lone surrogates


def cors_origins(raw: str) -> list[str]:
    """``"https://a.example, https://b.example"`` -> the two origins; "" -> none."""
    return [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]


def _sender(session_id: str) -> str:
    return SENDER_PREFIX + session_id


def visible_text(message: str) -> str:
    """`message` as a reader sees it: without format characters (Unicode category Cf: zero-width
    spaces and joiners, direction marks, the BOM) and lone surrogates (Cs: JSON may carry "\ud800",
    which is no text and cannot even be encoded for Rasa), control characters as spaces, trimmed.

    ``visible_text("\u200b\u200d ") == ""``: an invisible message is "empty" and never reaches Rasa.
    """
    kept = (" " if unicodedata.category(char) == "Cc" else char for char in message if unicodedata.category(char) not in _INVISIBLE)
    return "".join(kept).strip()


async def _catalog_unavailable(request: Request, error: Exception) -> JSONResponse:
    # The message names the bad version and the repair (rebuild or roll back); it is for the
    # integrator or operator who called the guide route, as the page never shows it raw.
    return error_response(503, str(error), code="index_unavailable")


def _guide_or_404(catalog: GuideCatalog, guide_id: str) -> dict[str, Any]:
    guide = catalog.get(guide_id) if ID_PATTERN.match(guide_id) else None
    if guide is None:
        raise ApiError(404, f"找不到办事指南：{guide_id}。可用 GET /api/v1/guides?q=关键词 查找", code="guide_not_found")
    return guide


def _openapi_without_default_422(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with its default validation-error schema replaced by our error shape
    and its English default descriptions in Chinese."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for answer in operation.get("responses", {}).values():
                if answer.get("description") == "Successful Response":
                    answer["description"] = "成功"
            response = operation.get("responses", {}).get("422")
            if response is not None:
                response["description"] = "字段缺失或类型不对"
                response["content"] = {"application/json": {"schema": error_ref}}
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, *, rasa_url: str, token: str, rasa: RasaClient | None = None) -> FastAPI:
    """The hall API app. `rasa` may be given (tests); by default a RasaClient on `rasa_url`."""
    settings = settings or load_settings()
    auth = TokenAuth(token)
    catalog = GuideCatalog(settings.index_dir)
    client = rasa or RasaClient(rasa_url, timeout=settings.rasa_timeout_seconds, retries=settings.rasa_retries)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(title="智能云客服接口", version="1.0",
                  description="政务服务智能问答助手的大厅接口：问答、办事指南、一次性告知单、评价。"
                              "除 /healthz 和网页外均需令牌：请求头 Authorization: Bearer <KEFU_API_TOKEN>。",
                  docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    install_error_handlers(app)
    app.add_exception_handler(CatalogUnavailableError, _catalog_unavailable)
    # Added innermost first. A request passes: security headers → CORS (answers preflights) → the
    # token gate (before any body is read) → the size limit → the routes.
    app.add_middleware(BodySizeLimit, max_bytes=settings.kefu_max_body_bytes)
    app.add_middleware(AuthGate, auth=auth)
    origins = cors_origins(settings.kefu_cors_origins)
    if origins:
        # Bearer tokens, not cookies, cross origins: credentials stay off (the cookie is SameSite=Strict anyway).
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False, max_age=600)
    app.add_middleware(SecurityHeaders)
    app.state.catalog = catalog
    app.state.rasa = client
    authorized = [Depends(auth.require)]
    feedback_texts = FeedbackTexts.from_domain(DOMAIN_FILE)

    async def ask(sender: str, message: str) -> AssistantReply | None:
        """The assistant's reply, or None when it is unavailable (the caller shows the hotline)."""
        try:
            return await client.send(sender, message)
        except AssistantUnavailableError as error:
            log.warning("助手不可用（%s）：%s", sender, error)
        except Exception:
            # Whatever goes wrong behind us, the user gets the polite message, never a trace.
            log.exception("调用 Rasa 出错（%s）", sender)
        return None

    # --- public: health, page, docs ----------------------------------------------------------
    @app.get("/healthz", response_model=Health, tags=["运行状态"], summary="存活检查（无需令牌）")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        # What the page needs before any API call: the hotline for "network down" messages and the
        # message limit for its input box, both from settings.yml.
        return HTMLResponse(render_page(hotline=settings.hotline, max_chars=settings.message_max_chars))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        # Swagger UI would come from a CDN (unreachable in a hall network): a small local page instead.
        return FileResponse(WEB_DIR / "docs.html", media_type="text/html; charset=utf-8")

    app.mount("/assets", PageAssets(directory=WEB_DIR), name="assets")  # never the raw page template

    @app.get("/openapi.json", include_in_schema=False, dependencies=authorized)
    async def openapi() -> dict[str, Any]:
        return _openapi_without_default_422(app)

    # --- session cookie for the web page ----------------------------------------------------
    @app.post("/api/v1/session", response_model=SessionResponse, tags=["登录"], summary="网页登录：用令牌换 HttpOnly Cookie",
              responses=ERRORS)
    async def login(body: SessionRequest, request: Request, response: Response) -> dict[str, bool]:
        if not auth.token_matches(body.token):
            raise ApiError(401, "令牌无效：请使用 make run 打印的带令牌地址重新打开网页", code="unauthorized")
        response.set_cookie(COOKIE_NAME, auth.issue_cookie(), max_age=auth.max_age, httponly=True, samesite="strict", path="/",
                            secure=is_https(request))
        return {"authenticated": True}

    @app.get("/api/v1/session", response_model=SessionResponse, tags=["登录"], summary="检查是否已登录", dependencies=authorized,
             responses={401: ERRORS[401]})
    async def session() -> dict[str, bool]:
        return {"authenticated": True}

    @app.delete("/api/v1/session", response_model=SessionResponse, tags=["登录"], summary="退出登录（清除 Cookie）")
    async def logout(response: Response) -> dict[str, bool]:
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return {"authenticated": False}

    # --- chat and feedback -------------------------------------------------------------------
    @app.post("/api/v1/chat", response_model=ChatResponse, tags=["问答"], dependencies=authorized, responses=ERRORS,
              summary="问一个问题（或发送按钮的 payload）",
              description="同一 session_id 的追问沿用上文事项。空消息、过长消息和助手不可用时也返回 200 和给用户看的提示（kind 为 "
                          "empty、too_long、unavailable）。")
    async def chat(body: ChatRequest) -> dict[str, Any]:
        message = visible_text(body.message)
        if not message:
            return plain_reply("empty", EMPTY_TEXT)
        if len(message) > settings.message_max_chars:
            return plain_reply("too_long", too_long_text(settings.message_max_chars))
        reply = await ask(_sender(body.session_id), message)
        if reply is None:
            return plain_reply("unavailable", unavailable_text(settings.hotline))
        return structured_reply(reply, card_guide)

    def card_guide(guide_id: str) -> dict[str, Any] | None:
        """The guide for a handoff's card; None while no index can be read: the answer matters more."""
        try:
            return catalog.get(guide_id)
        except CatalogUnavailableError:
            return None

    def feedback_answer(recorded: bool, rating: str, comment_recorded: bool, texts: list[str], buttons: list[dict[str, str]]) -> dict[str, Any]:
        return {"recorded": recorded, "rating": rating, "comment_recorded": comment_recorded,
                "messages": [{"text": text} for text in texts], "buttons": buttons}

    async def feedback(body: FeedbackRequest) -> dict[str, Any]:
        sender = _sender(body.session_id)
        reply = await ask(sender, FEEDBACK_GOOD if body.rating == "good" else FEEDBACK_BAD)
        if reply is None or reply.payload("unavailable") is not None:
            # Not reached, or the action server that stores ratings is down: nothing was recorded.
            return feedback_answer(False, body.rating, False, [unavailable_text(settings.hotline)], [])
        # "recorded" only when the assistant said it took the rating (bot/channels/kefu/feedback.py): e.g. a
        # conversation whose comment form was still open takes "/feedback_bad" as that comment.
        recorded = feedback_texts.acknowledges(body.rating, reply)
        if not recorded:
            log.warning("评价未被助手确认（%s）：%s", sender, reply.text[:80])
        # A leading "/" would make Rasa read the comment as an intent payload.
        comment = _SLASHES.sub("", visible_text(body.comment or ""))
        comment_recorded = False
        if body.rating == "bad" and comment and recorded:
            # The 差评 opened the comment form (its acknowledgement is the prompt): the next message is the comment.
            comment_reply = await ask(sender, comment[: settings.message_max_chars])
            if comment_reply is None:
                return feedback_answer(True, body.rating, False, [unavailable_text(settings.hotline)], [])
            reply, comment_recorded = comment_reply, feedback_texts.comment_saved(comment_reply)
        return feedback_answer(recorded, body.rating, comment_recorded, reply.texts, reply.buttons)

    # FastAPI reads the body's type from the annotation; the model is made here, with the limit from
    # settings, so it is set on the function before the route is registered.
    feedback.__annotations__["body"] = feedback_request_model(settings.message_max_chars)
    app.post("/api/v1/feedback", response_model=FeedbackResponse, tags=["问答"], dependencies=authorized, responses=ERRORS,
             summary="评价该会话最近一次回答（好评 / 差评，差评可附意见）",
             description="与网页上的 👍/👎 按钮走同一路径：助手把评价连同问题、指南和章节记入评价记录。"
                         "差评附带的意见只在助手请用户说明缺了什么时才转交并记录（comment_recorded 为 true）；"
                         "不带意见的差评之后，该会话的下一条消息作为意见记录。")(feedback)

    # --- guides ------------------------------------------------------------------------------
    @app.get("/api/v1/guides", response_model=GuideList, tags=["办事指南"], dependencies=authorized, responses={401: ERRORS[401], **INDEX_DOWN},
             summary="办事指南列表；q 按名称、别名、分类和常见问法查找")
    async def guides(q: Annotated[str | None, Query(max_length=100, description="关键词，如 开公司、营业执照、水电气报装")] = None) -> dict[str, Any]:
        found = catalog.search(q)
        return {"index_version": catalog.version, "count": len(found), "guides": found}

    @app.get("/api/v1/guides/{guide_id}", response_model=GuideDetail, tags=["办事指南"], dependencies=authorized,
             responses={401: ERRORS[401], **NOT_FOUND, **INDEX_DOWN}, summary="一个办事指南的结构化内容")
    async def guide(guide_id: str) -> dict[str, Any]:
        return {**_guide_or_404(catalog, guide_id), "notice_url": notice_url(guide_id)}

    @app.get("/api/v1/guides/{guide_id}/notice", response_class=HTMLResponse, tags=["办事指南"], dependencies=authorized,
             responses={401: ERRORS[401], **NOT_FOUND, **INDEX_DOWN,
                        200: {"content": {"text/html": {}}, "description": "可打印的一次性告知单"}},
             summary="可打印的一次性告知单（HTML）")
    async def notice(guide_id: str) -> HTMLResponse:
        return HTMLResponse(render_notice(_guide_or_404(catalog, guide_id), hotline=settings.hotline))

    return app


def main(argv: list[str] | None = None) -> int:
    """Run the service: ``python -m bot.channels.kefu.api --host 127.0.0.1 --port 8080 --rasa-url URL``."""
    settings = load_settings()
    parser = argparse.ArgumentParser(description="智能云客服接口与网页对话")
    parser.add_argument("--host", default=settings.kefu_host, help="监听地址（默认 127.0.0.1，只对本机开放）")
    parser.add_argument("--port", type=int, default=settings.kefu_port)
    parser.add_argument("--rasa-url", default=f"http://{settings.rasa_host}:{settings.rasa_port}/webhooks/rest/webhook",
                        help="Rasa REST 渠道地址")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"✗ 未设置环境变量 {TOKEN_ENV}：请用 make run 启动（会自动生成令牌），或自行设置。", file=sys.stderr)
        return 2
    app = create_app(settings, rasa_url=args.rasa_url, token=token)
    log.info("智能云客服接口启动：http://%s:%d（Rasa：%s）", args.host, args.port, args.rasa_url)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=False, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
