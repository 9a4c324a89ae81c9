"""GET /api/v1/guides (list, lexical search), /api/v1/guides/{id} (the structured guide) and
/api/v1/guides/{id}/notice (the printable 一次性告知单), served from the published index through
`GuideCatalog` (bot/channels/kefu/guides.py).

When the published index is corrupt and no good version was loaded, the catalog raises
CatalogUnavailableError, which create_app turns into 503 JSON with `catalog_unavailable`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bot.channels.kefu.guides import GuideCatalog
from bot.channels.kefu.http import ApiError, error_response
from bot.channels.kefu.notice import render_notice
from bot.channels.kefu.reply import notice_url
from bot.channels.kefu.routes import ERRORS, INDEX_DOWN, NOT_FOUND, Services
from bot.channels.kefu.schemas import GuideDetail, GuideList
from knowledge.sources.guides import ID_PATTERN


async def catalog_unavailable(request: Request, error: Exception) -> JSONResponse:
    """Exception handler for CatalogUnavailableError: 503 JSON."""
    # The message names the bad version and the repair (rebuild or roll back); it is for the
    # integrator or operator who called the guide route, as the page never shows it raw.
    return error_response(503, str(error), code="index_unavailable")


def guide_or_404(catalog: GuideCatalog, guide_id: str) -> dict[str, Any]:
    guide = catalog.get(guide_id) if ID_PATTERN.match(guide_id) else None
    if guide is None:
        raise ApiError(404, f"找不到办事指南：{guide_id}。可用 GET /api/v1/guides?q=关键词 查找", code="guide_not_found")
    return guide


def router(services: Services) -> APIRouter:
    settings, catalog = services.settings, services.catalog
    routes = APIRouter()

    @routes.get("/api/v1/guides", response_model=GuideList, tags=["办事指南"], dependencies=services.authorized,
                responses={401: ERRORS[401], **INDEX_DOWN}, summary="办事指南列表；q 按名称、别名、分类和常见问法查找")
    async def guides(q: Annotated[str | None, Query(max_length=100, description="关键词，如 开公司、营业执照、水电气报装")] = None) -> dict[str, Any]:
        found = catalog.search(q)
        return {"index_version": catalog.version, "count": len(found), "guides": found}

    @routes.get("/api/v1/guides/{guide_id}", response_model=GuideDetail, tags=["办事指南"], dependencies=services.authorized,
                responses={401: ERRORS[401], **NOT_FOUND, **INDEX_DOWN}, summary="一个办事指南的结构化内容")
    async def guide(guide_id: str) -> dict[str, Any]:
        return {**guide_or_404(catalog, guide_id), "notice_url": notice_url(guide_id)}

    @routes.get("/api/v1/guides/{guide_id}/notice", response_class=HTMLResponse, tags=["办事指南"], dependencies=services.authorized,
                responses={401: ERRORS[401], **NOT_FOUND, **INDEX_DOWN,
                           200: {"content": {"text/html": {}}, "description": "可打印的一次性告知单"}},
                summary="可打印的一次性告知单（HTML）")
    async def notice(guide_id: str) -> HTMLResponse:
        return HTMLResponse(render_notice(guide_or_404(catalog, guide_id), hotline=settings.hotline))

    return routes
