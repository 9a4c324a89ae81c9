"""POST /api/v1/chat (a question, or a button's payload, to the assistant: one structured reply),
GET /api/v1/examples (the published version's example questions: the page redraws its chips from it
when a new conversation starts, so a kiosk open for days follows a rebuild or a rollback),
POST /api/v1/feedback (好评 / 差评 of one answer, named by its answer_id; a 差评 with what was missing)
and GET /api/v1/chat/staff (the staff desk's lines for a session: "工作人员已接入", the clerk's replies).

While a clerk on the staff desk holds the session's handoff (knowledge/records/desk.py), what the
citizen types goes to the clerk, not to the assistant: one voice at a time, so the citizen never
gets a bot answer and a clerk's answer to the same message. The reply then has kind "staff" and
says so. Button payloads ("/…": ratings of earlier answers) still go to the assistant, except
转人工, which the clerk already is. The web page polls GET /api/v1/chat/staff after a handoff.

Both talk to Rasa under the sender ``kefu-<session_id>`` (protocol.SENDER_PREFIX_KEFU), so the
conversations of this channel are told apart from Telegram's. Whatever goes wrong behind Rasa, the
user gets a reply to read with the hotline, never an error status (see bot/channels/kefu/api.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from bot.channels.kefu import feedback as rating_replies
from bot.channels.kefu.guides import CatalogUnavailableError
from bot.channels.kefu.http import ApiError
from bot.channels.kefu.reply import UNAVAILABLE, plain_reply, structured_reply
from bot.channels.kefu.routes import AUTH_ERRORS, ERRORS, Services
from bot.channels.kefu.schemas import (
    SESSION_ID_PATTERN,
    ChatRequest,
    ChatResponse,
    ExamplesResponse,
    FeedbackRequest,
    FeedbackResponse,
    feedback_request_model,
)
from bot.channels.rasa_client import AssistantReply, AssistantUnavailableError, RasaClient
from knowledge.records.desk import DeskRecords
from knowledge.text import visible_text
from protocol import REQUEST_HUMAN, SENDER_PREFIX_KEFU, empty_text, is_button_payload, rating_payload, too_long_text, unavailable_text

log = logging.getLogger("bot.channels.kefu.api")

HELD_TEXT = "已发给工作人员（{clerk}），请稍候回复。工作人员结束服务后，智能助手会继续为您解答。"


def sender(session_id: str) -> str:
    """The Rasa conversation of a hall API session."""
    return SENDER_PREFIX_KEFU + session_id


async def ask(rasa: RasaClient, sender_id: str, message: str) -> AssistantReply | None:
    """The assistant's reply, or None when it is unavailable (the caller shows the hotline)."""
    try:
        return await rasa.send(sender_id, message)
    except AssistantUnavailableError as error:
        log.warning("助手不可用（%s）：%s", sender_id, error)
    except Exception:
        # Whatever goes wrong behind us, the user gets the polite message, never a trace.
        log.exception("调用 Rasa 出错（%s）", sender_id)
    return None


def admitted(refusal: ApiError | None) -> None:
    if refusal is not None:
        raise refusal


def _feedback_answer(recorded: bool, rating: str, comment_recorded: bool, texts: list[str],
                     buttons: list[dict[str, str]]) -> dict[str, Any]:
    return {"recorded": recorded, "rating": rating, "comment_recorded": comment_recorded,
            "messages": [{"text": text} for text in texts], "buttons": buttons}


def router(services: Services) -> APIRouter:
    settings, rasa, catalog, limits = services.settings, services.rasa, services.catalog, services.limits
    desk = DeskRecords.from_settings(settings)
    examples = services.examples
    routes = APIRouter()

    def card_guide(guide_id: str) -> dict[str, Any] | None:
        """The guide for a handoff's card; None while no index can be read: the answer matters more."""
        try:
            return catalog.get(guide_id)
        except CatalogUnavailableError:
            return None

    @routes.post("/api/v1/chat", response_model=ChatResponse, tags=["问答"], dependencies=services.authorized, responses=ERRORS,
                 summary="问一个问题（或发送按钮的 payload）",
                 description="同一 session_id 的追问沿用上文事项。空消息、过长消息和助手不可用时也返回 200 和给用户看的提示（kind 为 "
                             "empty、too_long、unavailable）。")
    async def chat(body: ChatRequest, request: Request) -> dict[str, Any]:
        admitted(limits.admit(request, body.session_id))  # public mode: its own conversation, under its limits
        message = visible_text(body.message)
        if not message:
            # The published example questions (none published: in general words, as Rasa's REST channel says it).
            return plain_reply("empty", empty_text(examples.current().questions_inline()))
        if len(message) > settings.message_max_chars:
            return plain_reply("too_long", too_long_text(settings.message_max_chars))
        held = await asyncio.to_thread(to_clerk, sender(body.session_id), message)
        if held is not None:
            return plain_reply("staff", HELD_TEXT.format(clerk=held))
        reply = await ask(rasa, sender(body.session_id), message)
        if reply is None:
            return plain_reply(UNAVAILABLE, unavailable_text(settings.hotline))
        return structured_reply(reply, card_guide)

    @routes.get("/api/v1/examples", response_model=ExamplesResponse, tags=["问答"], dependencies=services.authorized,
                responses=AUTH_ERRORS, summary="当前发布的示例问题（网页的常见问题按钮）",
                description="与网页、空消息提示用的是同一份：重建或回滚索引后即为新版本的示例，网页每次开始新对话时重新读取。")
    async def current_examples() -> dict[str, Any]:
        current = await asyncio.to_thread(examples.current)  # reads CURRENT (and a new version's manifest): off the event loop
        return {"questions": list(current.questions), "items": list(current.items)}

    def to_clerk(sender_id: str, message: str) -> str | None:
        """When a clerk holds the conversation: store the message for the clerk, return the clerk's name."""
        try:
            held = desk.held(sender_id)
            # A button's payload (a rating of an earlier answer) is the assistant's; a typed "/restart" is words for
            # the clerk, who holds the conversation (the assistant restarting would leave the clerk talking to nobody).
            if held is None or (is_button_payload(message) and message != REQUEST_HUMAN):
                return None
            if message != REQUEST_HUMAN:
                desk.citizen_message(sender_id, message)
            return str(held["clerk"])
        except Exception:  # the records database is locked or gone: the assistant answers rather than nobody
            log.exception("读取人工坐席记录失败（%s）", sender_id)
            return None

    @routes.get("/api/v1/chat/staff", tags=["问答"], dependencies=services.authorized, responses=ERRORS,
                summary="人工坐席发给该会话的消息（转人工后网页轮询）",
                description="status：none 没有转人工、waiting 等待工作人员、taken 工作人员已接入、closed 已结束；"
                            "messages 是 after 之后工作人员的回复和坐席通知（“工作人员已接入”等），按 id 递增。")
    async def staff_lines(request: Request, session_id: Annotated[str, Query(pattern=SESSION_ID_PATTERN)],
                          after: Annotated[int, Query(ge=0, le=2**62)] = 0) -> dict[str, Any]:
        admitted(limits.owns(request, session_id))  # polled every 3 s: bound to its session, not rate-limited
        sender_id = sender(session_id)

        def read() -> dict[str, Any]:
            latest = desk.latest(sender_id)
            lines = desk.messages_for(sender_id, after=after) if latest else []
            return {"status": latest["status"] if latest else "none", "handoff_id": latest["id"] if latest else None,
                    "clerk": latest["clerk"] if latest else None,
                    "messages": [{key: line[key] for key in ("id", "time", "author", "clerk", "text")} for line in lines]}

        return await asyncio.to_thread(read)

    def rating_message(body: FeedbackRequest) -> tuple[str, str]:
        """The rating payload for the answer (the comment of a 差评 in it, shortened if the whole would
        be over the message limit), and the comment it carries."""
        comment = visible_text(body.comment or "") if body.rating == "bad" else ""
        message = rating_payload(body.rating, body.answer_id, comment)
        while comment and len(message) > settings.message_max_chars:
            comment = comment[: max(0, len(comment) - (len(message) - settings.message_max_chars))]
            message = rating_payload(body.rating, body.answer_id, comment)
        return message, comment

    async def feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
        admitted(limits.admit(request, body.session_id))
        sender_id = sender(body.session_id)
        # One message: the rating names its answer, and a 差评's comment goes with it (never read as a question).
        message, comment = rating_message(body)
        reply = await ask(rasa, sender_id, message)
        if reply is None or reply.payload(UNAVAILABLE) is not None:
            # Not reached, or the action server that stores ratings is down: nothing was recorded.
            return _feedback_answer(False, body.rating, False, [unavailable_text(settings.hotline)], [])
        # "recorded" only when the assistant said it took the rating (bot/channels/kefu/feedback.py): not
        # e.g. for an answer_id the conversation no longer remembers.
        recorded = rating_replies.acknowledges(body.rating, reply)
        if not recorded:
            log.warning("评价未被助手确认（%s）：%s", sender_id, reply.text[:80])
        comment_recorded = recorded and bool(comment) and rating_replies.comment_saved(reply)
        return _feedback_answer(recorded, body.rating, comment_recorded, reply.texts, reply.buttons)

    # FastAPI reads the body's type from the annotation; the model is made here, with the limit from
    # settings, so it is set on the function before the route is registered.
    feedback.__annotations__["body"] = feedback_request_model(settings.message_max_chars)
    routes.post("/api/v1/feedback", response_model=FeedbackResponse, tags=["问答"], dependencies=services.authorized,
                responses=ERRORS, summary="评价一条回答（answer_id；好评 / 差评，差评可附意见）",
                description="与回答下的 👍/👎 按钮走同一路径：助手把评价连同这条回答的问题、指南和章节记入评价记录，"
                            "即使之后又问了别的问题。差评附带的意见随差评一起记录（comment_recorded 为 true）；"
                            "不带意见的差评之后，助手请用户说明缺了什么：该会话的下一条消息是问题时照常回答，否则作为意见记录。")(feedback)

    return routes
