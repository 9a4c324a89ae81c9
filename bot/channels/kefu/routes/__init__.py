"""The hall API's routes, one APIRouter per area, each made by a `router(services)` function:

- pages.py    GET /healthz, / (the chat page), /docs, /openapi.json
- session.py  POST / GET / DELETE /api/v1/session (the web page's cookie), POST …/session/public, …/session/renew
- chat.py     POST /api/v1/chat, POST /api/v1/feedback, GET /api/v1/chat/staff, GET /api/v1/examples
- guides.py   GET /api/v1/guides, /api/v1/guides/{id}, /api/v1/guides/{id}/notice

What the routes use comes in `Services`, built once by bot/channels/kefu/api.py `create_app` and
kept on ``app.state.services``; the routers are made from it rather than reading globals, so a test
app gets its own settings, token and Rasa client.

Usage::

    services = Services(settings, TokenAuth(token), RasaClient(url), GuideCatalog(settings.index_dir), PublicLimits(…),
                        PublishedExamples(settings.index_dir))
    app.include_router(chat.router(services))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends

from bot.channels.kefu.auth import TokenAuth
from bot.channels.kefu.guides import GuideCatalog
from bot.channels.kefu.public import PublicLimits
from bot.channels.kefu.schemas import ErrorResponse
from bot.channels.rasa_client import RasaClient
from knowledge.examples import PublishedExamples
from knowledge.settings import Settings

# The documented error answers (OpenAPI `responses=`) the routes share.
ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse, "description": text} for status, text in (
    (400, "请求体不是合法的 JSON"), (401, "缺少令牌或令牌无效"), (413, "请求体太大"), (422, "字段缺失或类型不对"),
    (429, "该地址令牌错误次数过多，或公众模式下提问太频繁（见 Retry-After 秒数）"))}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {status: ERRORS[status] for status in (401, 429)}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "没有这个办事指南"}}
INDEX_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "知识库索引损坏且没有可用的旧版本：需重建或回滚索引"}}


@dataclass(frozen=True)
class Services:
    """What the routes work with: the settings, the token check, the way to Rasa, the guides,
    public mode's session binding and rate limits, and the published version's example questions
    (one reader for the page, the empty-message reply and GET /api/v1/examples)."""

    settings: Settings
    auth: TokenAuth
    rasa: RasaClient
    catalog: GuideCatalog
    limits: PublicLimits
    examples: PublishedExamples

    @property
    def authorized(self) -> list[Any]:
        """The `dependencies=` of a route that needs the token (or the web page's cookie)."""
        return [Depends(self.auth.require)]
