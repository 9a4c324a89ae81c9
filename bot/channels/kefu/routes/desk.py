"""The staff desk (人工坐席) and the clerk's console: the page /desk and its JSON API under /desk/api/,
protected by the staff token (bot/channels/kefu/desk_auth.py), never by the citizens' token.

    GET  /desk                                  the desk page (web/desk.html rendered, page.render_desk; it shows a login form)
    POST /desk/api/session                      {token, clerk} -> the desk cookie; GET checks, DELETE logs out
    GET  /desk/api/queue                        open handoffs of every channel (oldest first), then the latest closed
    GET  /desk/api/handoffs/{id}                one handoff: masked transcript, desk lines, staff actions, guide card
    POST /desk/api/handoffs/{id}/take           {clerk?}: take it (409 when another clerk has)
    POST /desk/api/handoffs/{id}/reply          {text, clerk?}: a reply delivered to the citizen's web page or Telegram chat
    POST /desk/api/handoffs/{id}/close          {outcome: answered|offline|unreachable|other, note?, clerk?}
    GET  /desk/api/search?q=                    guides found the way the assistant finds them (desk_search.py)
    GET  /desk/api/guides/{id}                  the whole guide: every section, contacts
    GET  /desk/api/history?sender_id=           the conversation's question log and handoffs

The clerk is the name in the desk cookie, or the body's `clerk` for a program using the bearer
token. The records are knowledge/records/desk.py; every take, reply and close is recorded there with
its time, clerk and handoff id.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.channels.kefu.auth import is_https
from bot.channels.kefu.desk_auth import DESK_COOKIE, DESK_LOGIN_PATH, DESK_PREFIX, StaffAuth
from bot.channels.kefu.desk_search import DeskSearch, SearchUnavailableError
from bot.channels.kefu.guides import GuideCatalog
from bot.channels.kefu.http import ApiError
from bot.channels.kefu.page import render_desk
from bot.channels.kefu.routes.guides import guide_or_404
from bot.channels.kefu.schemas import ErrorResponse
from knowledge.records.desk import CLERK_MAX_CHARS, OUTCOMES, DeskError, DeskRecords
from knowledge.records.staff_hours import StaffHours
from knowledge.settings import Settings
from protocol import SENDER_PATTERN

TAG = "人工坐席"
# The desk's documented error answers (its own credential; 409 when another clerk holds the handoff).
DESK_ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse, "description": text} for status, text in (
    (401, "缺少工作人员令牌（KEFU_STAFF_TOKEN）或无效；群众的令牌不行"), (404, "没有这条转人工记录或办事指南"),
    (409, "该转人工已由其他工作人员接入或已结束"), (422, "字段缺失或类型不对"), (429, "该地址令牌错误次数过多，暂时拒绝"),
    (503, "人工坐席未启用（没有设置 KEFU_STAFF_TOKEN），或知识库索引不可用"))}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DeskLogin(_Strict):
    token: str = Field(min_length=1, max_length=512, description="KEFU_STAFF_TOKEN（工作人员令牌，不是群众的 KEFU_API_TOKEN）")
    clerk: str = Field(min_length=1, max_length=CLERK_MAX_CHARS, description="工作人员姓名或工号：接入、回复、结束都记在这个名字下")


class ClerkBody(_Strict):
    clerk: str | None = Field(None, max_length=CLERK_MAX_CHARS, description="工作人员姓名或工号（用令牌调用时必填；网页登录后取自 Cookie）")


class ReplyBody(ClerkBody):
    text: str = Field(min_length=1, description="发给群众的回复（身份证号、手机号、银行卡号会打码保存）")


class CloseBody(ClerkBody):
    outcome: str = Field(description="处理结果：" + "、".join(f"{key} {label}" for key, label in OUTCOMES.items()))
    note: str = Field("", max_length=500, description="备注（可选）")


HandoffId = Annotated[int, Path(ge=1, le=2**62, description="转人工记录编号（群众看到的“记录编号”）")]


def _desk_error(error: DeskError) -> ApiError:
    return ApiError(error.status, str(error), code={404: "handoff_not_found", 409: "handoff_conflict"}.get(error.status, "invalid_request"))


def router(settings: Settings, staff: StaffAuth, catalog: GuideCatalog) -> APIRouter:
    desk = DeskRecords.from_settings(settings)
    search = DeskSearch(settings)
    routes = APIRouter(tags=[TAG], responses=DESK_ERRORS)
    authorized = [Depends(staff.require)]

    def hours() -> dict[str, Any]:
        try:
            on_duty: bool | None = StaffHours.parse(settings.staff_hours, settings.staff_timezone).on_duty()
        except ValueError:
            on_duty = None
        return {"on_duty": on_duty, "staff_hours": settings.staff_hours}

    def clerk_of(request: Request, body: ClerkBody) -> str:
        clerk = staff.cookie_clerk(request) or (body.clerk or "").strip()
        if not clerk:
            raise ApiError(422, "请填写工作人员姓名或工号（请求体的 clerk 字段）", code="invalid_request")
        return clerk

    def card(guide_id: str | None) -> dict[str, Any] | None:
        if not guide_id:
            return None
        try:
            guide = catalog.get(guide_id)
        except Exception:  # the index is down: the handoff still shows, without its card
            return None
        if guide is None:
            return None
        return {key: guide.get(key) for key in ("id", "title", "department", "updated", "contacts")}

    async def act(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return await asyncio.to_thread(call, *args, **kwargs)
        except DeskError as error:
            raise _desk_error(error) from None

    @routes.get(DESK_PREFIX, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(render_desk())

    @routes.post(DESK_LOGIN_PATH, summary="坐席登录：工作人员令牌和姓名换 HttpOnly Cookie")
    async def login(body: DeskLogin, request: Request, response: Response) -> dict[str, Any]:
        refusal = staff.throttled(request)
        if refusal is not None:
            raise refusal
        if not staff.token_matches(body.token):
            staff.failed(request)
            raise ApiError(401, "工作人员令牌无效：请使用 make run 打印的坐席令牌（群众和自助终端的令牌不能登录坐席）", code="unauthorized")
        clerk = " ".join(body.clerk.split())
        if not clerk:
            raise ApiError(422, "请填写工作人员姓名或工号", code="invalid_request")
        response.set_cookie(DESK_COOKIE, staff.issue_cookie(clerk), max_age=staff.max_age, httponly=True, samesite="strict",
                            path=DESK_PREFIX, secure=is_https(request))
        return {"authenticated": True, "clerk": clerk}

    @routes.get(DESK_LOGIN_PATH, dependencies=authorized, summary="检查坐席是否已登录")
    async def session(request: Request) -> dict[str, Any]:
        return {"authenticated": True, "clerk": staff.cookie_clerk(request), **hours()}

    @routes.delete(DESK_LOGIN_PATH, dependencies=authorized, summary="坐席退出登录")
    async def logout(response: Response) -> dict[str, Any]:
        response.delete_cookie(DESK_COOKIE, path=DESK_PREFIX, httponly=True, samesite="strict")
        return {"authenticated": False}

    @routes.get("/desk/api/queue", dependencies=authorized, summary="转人工队列（各渠道：网页、自助终端、Telegram、REST）")
    async def queue() -> dict[str, Any]:
        rows = await act(desk.queue)
        for row in rows:
            row["guide"] = card(row["guide_id"])
        return {**hours(), "handoffs": rows}

    @routes.get("/desk/api/handoffs/{handoff_id}", dependencies=authorized, summary="一条转人工：对话记录、往来消息、操作记录")
    async def handoff(handoff_id: HandoffId) -> dict[str, Any]:
        detail = await act(desk.handoff, handoff_id)
        return {**detail, "guide": card(detail["guide_id"])}

    @routes.post("/desk/api/handoffs/{handoff_id}/take", dependencies=authorized, summary="接入（群众看到“工作人员已接入”）")
    async def take(handoff_id: HandoffId, request: Request, body: ClerkBody | None = None) -> dict[str, Any]:
        detail = await act(desk.take, handoff_id, clerk_of(request, body or ClerkBody()))
        return {**detail, "guide": card(detail["guide_id"])}

    @routes.post("/desk/api/handoffs/{handoff_id}/reply", dependencies=authorized, summary="回复群众（网页或 Telegram 里收到）")
    async def reply(handoff_id: HandoffId, body: ReplyBody, request: Request) -> dict[str, Any]:
        if len(body.text) > settings.message_max_chars:
            raise ApiError(422, f"回复太长（最多 {settings.message_max_chars} 字）", code="invalid_request")
        detail = await act(desk.reply, handoff_id, clerk_of(request, body), body.text)
        return {**detail, "guide": card(detail["guide_id"])}

    @routes.post("/desk/api/handoffs/{handoff_id}/close", dependencies=authorized, summary="结束并记录处理结果")
    async def close(handoff_id: HandoffId, body: CloseBody, request: Request) -> dict[str, Any]:
        detail = await act(desk.close, handoff_id, clerk_of(request, body), body.outcome, note=body.note, hotline=settings.hotline)
        return {**detail, "guide": card(detail["guide_id"])}

    @routes.get("/desk/api/search", dependencies=authorized, summary="按问题查找办事指南（与智能助手相同的检索）")
    async def find(q: Annotated[str, Query(min_length=1, max_length=200, description="群众的问题，如 公司不想开了")]) -> dict[str, Any]:
        if not q.strip():
            raise ApiError(422, "请输入要查找的问题或关键词", code="invalid_request")
        try:
            return await search.run(q.strip())
        except SearchUnavailableError as error:
            raise ApiError(503, str(error), code="index_unavailable") from None

    @routes.get("/desk/api/guides/{guide_id}", dependencies=authorized, summary="完整的办事指南（全部章节、联系方式）")
    async def guide(guide_id: str) -> dict[str, Any]:
        return guide_or_404(catalog, guide_id)

    @routes.get("/desk/api/history", dependencies=authorized, summary="会话历史：问题记录和转人工记录")
    async def history(sender_id: Annotated[str, Query(pattern=f"^{SENDER_PATTERN}$", description="会话标识，如 kefu-web-…、tg-42")]
                      ) -> dict[str, Any]:
        found = await act(desk.history, sender_id)
        for question in found["questions"]:  # staff read the matter's title, not its file id (gone: the id stays)
            guide = card(question["guide_id"])
            question["guide_title"] = guide["title"] if guide else None
        return found

    return routes
