"""GET /api/v1/guides (list, lexical search), /api/v1/guides/{id} (the structured guide) and
/api/v1/guides/{id}/notice (the printable 一次性告知单), served from the published index through
`GuideCatalog` (bot/channels/kefu/guides.py).

When the published index is corrupt and no good version was loaded, the catalog raises
CatalogUnavailableError, which create_app turns into 503 JSON with `catalog_unavailable`.

The notice is a page people open in a browser or print, so its own errors (404 unknown guide, 503
index down) are HTML pages with the same status, not JSON; 401 comes from the token gate before
any route and stays JSON, like every other route's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bot.channels.kefu.guides import CatalogUnavailableError, GuideCatalog
from bot.channels.kefu.http import ApiError, error_response
from bot.channels.kefu.notice import render_notice, render_notice_error
from bot.channels.kefu.reply import notice_url
from bot.channels.kefu.routes import AUTH_ERRORS, INDEX_DOWN, NOT_FOUND, Services
from bot.channels.kefu.schemas import GuideDetail, GuideList
from knowledge.sources.guides import ID_PATTERN

_HTML_PAGE: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}
_JSON_ERROR: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
# The notice route's documented answers: HTML for the page and its own errors, JSON for the gate's
# 401/429. (Given a `model`, FastAPI would file those under the route's text/html too.)
NOTICE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": _HTML_PAGE, "description": "可打印的一次性告知单"},
    **{status: {"content": _JSON_ERROR, "description": answer["description"]} for status, answer in AUTH_ERRORS.items()},
    404: {"content": _HTML_PAGE, "description": "没有这个办事指南（HTML 提示页）"},
    503: {"content": _HTML_PAGE, "description": "知识库索引损坏且没有可用的旧版本（HTML 提示页）：需重建或回滚索引"},
}


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
                responses={**AUTH_ERRORS, **INDEX_DOWN}, summary="办事指南列表；q 按名称、别名、分类和常见问法查找")
    async def guides(q: Annotated[str | None, Query(max_length=100, description="关键词，如 开公司、营业执照、水电气报装")] = None) -> dict[str, Any]:
        found = catalog.search(q)
        return {"index_version": catalog.version, "count": len(found), "guides": found}

    @routes.get("/api/v1/guides/{guide_id}", response_model=GuideDetail, tags=["办事指南"], dependencies=services.authorized,
                responses={**AUTH_ERRORS, **NOT_FOUND, **INDEX_DOWN}, summary="一个办事指南的结构化内容")
    async def guide(guide_id: str) -> dict[str, Any]:
        return {**guide_or_404(catalog, guide_id), "notice_url": notice_url(guide_id)}

    @routes.get("/api/v1/guides/{guide_id}/notice", response_class=HTMLResponse, tags=["办事指南"], dependencies=services.authorized,
                responses=NOTICE_RESPONSES, summary="可打印的一次性告知单（HTML；找不到或索引不可用时为 HTML 提示页）")
    async def notice(guide_id: str) -> HTMLResponse:
        hotline = settings.hotline
        try:
            guide = guide_or_404(catalog, guide_id)
        except ApiError as error:
            page = render_notice_error(heading="找不到该办事指南", hotline=hotline,
                                       message=f"没有编号为“{guide_id}”的办事指南，请回到对话页重新查询事项后再打开告知单。")
            return HTMLResponse(page, status_code=error.status)
        except CatalogUnavailableError as error:
            # The detail names the bad index version and the repair, for the operator the staff will call.
            page = render_notice_error(heading="告知单暂时无法生成", hotline=hotline, detail=str(error),
                                       message="办事指南数据暂时不可用，请稍后再试，或请管理员检查知识库索引。")
            return HTMLResponse(page, status_code=503)
        return HTMLResponse(render_notice(guide, hotline=hotline))

    return routes
