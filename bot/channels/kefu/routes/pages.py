"""What is not the JSON API: the liveness check, the web chat page, the offline API reference and
the OpenAPI document it reads. Only /openapi.json needs the token (see bot/channels/kefu/auth.py).

The page's files under /assets/ are a mount (`PageAssets`), added by create_app: a router cannot
carry one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse

from bot.channels.kefu.page import WEB_DIR, render_page
from bot.channels.kefu.routes import Services
from bot.channels.kefu.schemas import Health


def openapi_document(app: FastAPI) -> dict[str, Any]:
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


def router(services: Services) -> APIRouter:
    settings = services.settings
    examples = services.examples  # the chips: the published version's, re-read after a rebuild
    routes = APIRouter()

    @routes.get("/healthz", response_model=Health, tags=["运行状态"], summary="存活检查（无需令牌）")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @routes.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        # What the page needs before any API call, all from settings.yml: the hotline for "network
        # down" messages, the message limit for its input box, whether a phone may get in without a token;
        # and the example questions of the knowledge base now published.
        return HTMLResponse(render_page(hotline=settings.hotline, max_chars=settings.message_max_chars, public=settings.kefu_public,
                                        examples=examples.current()))

    @routes.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        # Swagger UI would come from a CDN (unreachable in a hall network): a small local page instead.
        return FileResponse(WEB_DIR / "docs.html", media_type="text/html; charset=utf-8")

    @routes.get("/openapi.json", include_in_schema=False, dependencies=services.authorized)
    async def openapi(request: Request) -> dict[str, Any]:
        return openapi_document(request.app)

    return routes
