"""智能云客服 backend: the hall API and web chat page for service-hall staff, kiosks and web pages.

A small FastAPI service in front of Rasa rather than a Rasa custom input channel, because:

- it runs in the app venv (Python 3.11) beside the `knowledge` package, so it serves the guides,
  their search and the printable 一次性告知单 straight from the published index; a custom channel
  would run inside Rasa's Python 3.10 venv, which does not have `knowledge`;
- it turns the REST channel's list of messages (texts, buttons, the actions' custom payloads) into
  one structured reply: guide, aspect, contacts, buttons, confidence, handoff;
- it talks to Rasa only through bot/channels/rasa_client.py, like the Telegram bot, so both channels
  retry the same way and show the same polite message with the 12345 hotline when Rasa is down.

Routes (everything under /api/, plus /openapi.json, needs the token; see bot/channels/kefu/auth.py).
Each area is an APIRouter in bot/channels/kefu/routes/; this module builds the services they share
(routes/__init__.py `Services`), adds the middlewares and error handlers, and includes them::

    routes/pages.py
    GET  /healthz                         liveness, no auth (the launcher waits for it)
    GET  /                                the web chat page (bot/channels/kefu/web/, rendered by bot/channels/kefu/page.py), /assets/* its files
    GET  /docs                            an offline API reference page (no CDN), reads /openapi.json
    routes/session.py
    POST /api/v1/session                  {token} -> HttpOnly kiosk cookie for the web page; GET checks, DELETE logs out
    POST /api/v1/session/public           public mode only (kefu_public): a public session cookie, no token
    POST /api/v1/session/renew            a fresh cookie for a valid one (the page renews at half-life)
    routes/chat.py
    POST /api/v1/chat                     {session_id, message} -> structured reply
    POST /api/v1/feedback                 {session_id, rating: good|bad, comment?}
    routes/guides.py
    GET  /api/v1/guides[?q=]              list / lexical search
    GET  /api/v1/guides/{id}              the structured guide
    GET  /api/v1/guides/{id}/notice       printable 一次性告知单 (HTML; its 404 / 503 are HTML pages too)
    routes/desk.py (the staff token KEFU_STAFF_TOKEN, never the citizens'; bot/channels/kefu/desk_auth.py)
    GET  /desk, /desk/api/…               the staff desk: handoff queue, take / reply / close, guide search, history

Status codes of /api/v1/chat: every message gets HTTP 200 with a reply the user can read, also an
empty one (kind "empty": nothing visible once zero-width, direction and control characters are
removed), one over message_max_chars (kind "too_long"; neither is sent to Rasa) and when Rasa or
the action server is down (kind "unavailable", the hotline in the text). A request that is not a
valid chat request at all is a 4xx JSON error: 400 malformed JSON, not UTF-8, nested too deeply or
no JSON content type, 401 token, 413 body over kefu_max_body_bytes, 422 wrong or missing fields,
429 after too many wrong tokens from the same address (bot/channels/kefu/throttle.py), or in public
mode past a session's or an address's message limit (bot/channels/kefu/public.py). OPTIONS on
any route's path answers 204 with every method it serves in Allow; a 405 lists them too.

When the published index is corrupt (bot/channels/kefu/guides.py) the guide routes keep serving the last
good version; with none loaded they answer 503 JSON (the notice: an HTML page) saying to rebuild
or roll back, while chat goes on (a handoff then comes without its guide card).

Usage::

    python -m bot.channels.kefu.api --host 127.0.0.1 --port 8080 --rasa-url http://127.0.0.1:5005/webhooks/rest/webhook
    curl -s localhost:8080/api/v1/chat -H "Authorization: Bearer $KEFU_API_TOKEN" \\
         -H 'Content-Type: application/json' -d '{"session_id": "demo", "message": "开办企业需要什么材料"}'
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from bot.channels.kefu.auth import AuthGate, TokenAuth
from bot.channels.kefu.desk_auth import StaffAuth, StaffGate
from bot.channels.kefu.guides import CatalogUnavailableError, GuideCatalog
from bot.channels.kefu.http import BodySizeLimit, SecurityHeaders, install_error_handlers
from bot.channels.kefu.page import WEB_DIR, PageAssets
from bot.channels.kefu.public import PublicLimits
from bot.channels.kefu.routes import Services, chat, desk, guides, pages, session
from bot.channels.rasa_client import RasaClient
from knowledge.examples import PublishedExamples
from knowledge.records.logs import private_process
from knowledge.settings import Settings, load_settings
from protocol import STAFF_TOKEN_ENV

log = logging.getLogger("bot.channels.kefu.api")

TOKEN_ENV = "KEFU_API_TOKEN"


def cors_origins(raw: str) -> list[str]:
    """``"https://a.example, https://b.example"`` -> the two origins; "" -> none."""
    return [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]


def create_app(settings: Settings | None = None, *, rasa_url: str, token: str, rasa: RasaClient | None = None,
               staff_token: str | None = None) -> FastAPI:
    """The hall API app. `rasa` may be given (tests); by default a RasaClient on `rasa_url`.
    `staff_token` opens the staff desk (/desk, routes/desk.py); without it the desk answers 503."""
    settings = settings or load_settings()
    client = rasa or RasaClient(rasa_url, timeout=settings.rasa_timeout_seconds, retries=settings.rasa_retries)
    auth = TokenAuth(token, max_age=settings.kefu_session_seconds, public=settings.kefu_public)
    limits = PublicLimits(per_session=settings.kefu_public_session_per_minute, per_client=settings.kefu_public_client_per_minute,
                          hotline=settings.hotline)
    services = Services(settings=settings, auth=auth, rasa=client, catalog=GuideCatalog(settings.index_dir), limits=limits,
                        examples=PublishedExamples(settings.index_dir))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(title="智能云客服接口", version="1.0",
                  description="政务服务智能问答助手的大厅接口：问答、办事指南、一次性告知单、评价。"
                              "除 /healthz 和网页外均需令牌：请求头 Authorization: Bearer <KEFU_API_TOKEN>；"
                              "开启公众模式（kefu_public）时，网页可不用令牌领取只能用于自己会话、限速的会话 Cookie。",
                  docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.services = services
    install_error_handlers(app)
    app.add_exception_handler(CatalogUnavailableError, guides.catalog_unavailable)
    # Added innermost first. A request passes: security headers → CORS (answers preflights) → the
    # token gate (before any body is read) → the size limit → the routes.
    app.add_middleware(BodySizeLimit, max_bytes=settings.kefu_max_body_bytes)
    app.add_middleware(AuthGate, auth=services.auth)
    staff = StaffAuth(staff_token, citizen_token=token)
    app.add_middleware(StaffGate, auth=staff)  # /desk/api/: the staff token, never the citizens'
    origins = cors_origins(settings.kefu_cors_origins)
    if origins:
        # Bearer tokens, not cookies, cross origins: credentials stay off (the cookie is SameSite=Strict anyway).
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False, max_age=600)
    app.add_middleware(SecurityHeaders)
    app.include_router(pages.router(services))
    app.mount("/assets", PageAssets(directory=WEB_DIR), name="assets")  # never the raw page template
    for area in (session, chat, guides):
        app.include_router(area.router(services))
    app.include_router(desk.router(settings, staff, services.catalog))
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
    private_process()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"✗ 未设置环境变量 {TOKEN_ENV}：请用 make run 启动（会自动生成令牌），或自行设置。", file=sys.stderr)
        return 2
    staff_token = os.environ.get(STAFF_TOKEN_ENV, "")
    if not staff_token:
        log.warning("未设置环境变量 %s：人工坐席 /desk 不可用（make run 会自动生成）", STAFF_TOKEN_ENV)
    app = create_app(settings, rasa_url=args.rasa_url, token=token, staff_token=staff_token or None)
    log.info("智能云客服接口启动：http://%s:%d（Rasa：%s）", args.host, args.port, args.rasa_url)
    if settings.kefu_public:
        log.warning("公众模式已开启（kefu_public）：打开网页即可提问，无需令牌（每会话每分钟 %d 条、每地址 %d 条）",
                    settings.kefu_public_session_per_minute, settings.kefu_public_client_per_minute)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=False, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
