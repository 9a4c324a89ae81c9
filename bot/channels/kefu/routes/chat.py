"""POST /api/v1/chat (a question, or a button's payload, to the assistant: one structured reply)
and POST /api/v1/feedback (好评 / 差评 for the last answer, a 差评 with what was missing).

Both talk to Rasa under the sender ``kefu-<session_id>`` (protocol.SENDER_PREFIX_KEFU), so the
conversations of this channel are told apart from Telegram's. Whatever goes wrong behind Rasa, the
user gets a reply to read with the hotline, never an error status (see bot/channels/kefu/api.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter

from bot.channels.kefu import feedback as rating_replies
from bot.channels.kefu.guides import CatalogUnavailableError
from bot.channels.kefu.reply import UNAVAILABLE, plain_reply, structured_reply
from bot.channels.kefu.routes import ERRORS, Services
from bot.channels.kefu.schemas import ChatRequest, ChatResponse, FeedbackRequest, FeedbackResponse, feedback_request_model
from bot.channels.rasa_client import AssistantReply, AssistantUnavailableError, RasaClient
from knowledge.text import visible_text
from protocol import FEEDBACK_BAD, FEEDBACK_GOOD, SENDER_PREFIX_KEFU, too_long_text, unavailable_text

log = logging.getLogger("bot.channels.kefu.api")

EMPTY_TEXT = "请输入您想咨询的问题，例如“开办企业需要什么材料”“用水报装要多久”。"
_SLASHES = re.compile(r"^/+")


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


def _feedback_answer(recorded: bool, rating: str, comment_recorded: bool, texts: list[str],
                     buttons: list[dict[str, str]]) -> dict[str, Any]:
    return {"recorded": recorded, "rating": rating, "comment_recorded": comment_recorded,
            "messages": [{"text": text} for text in texts], "buttons": buttons}


def router(services: Services) -> APIRouter:
    settings, rasa, catalog = services.settings, services.rasa, services.catalog
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
    async def chat(body: ChatRequest) -> dict[str, Any]:
        message = visible_text(body.message)
        if not message:
            return plain_reply("empty", EMPTY_TEXT)
        if len(message) > settings.message_max_chars:
            return plain_reply("too_long", too_long_text(settings.message_max_chars))
        reply = await ask(rasa, sender(body.session_id), message)
        if reply is None:
            return plain_reply(UNAVAILABLE, unavailable_text(settings.hotline))
        return structured_reply(reply, card_guide)

    async def feedback(body: FeedbackRequest) -> dict[str, Any]:
        sender_id = sender(body.session_id)
        reply = await ask(rasa, sender_id, FEEDBACK_GOOD if body.rating == "good" else FEEDBACK_BAD)
        if reply is None or reply.payload(UNAVAILABLE) is not None:
            # Not reached, or the action server that stores ratings is down: nothing was recorded.
            return _feedback_answer(False, body.rating, False, [unavailable_text(settings.hotline)], [])
        # "recorded" only when the assistant said it took the rating (bot/channels/kefu/feedback.py): e.g. a
        # conversation whose comment form was still open takes "/feedback_bad" as that comment.
        recorded = rating_replies.acknowledges(body.rating, reply)
        if not recorded:
            log.warning("评价未被助手确认（%s）：%s", sender_id, reply.text[:80])
        # A leading "/" would make Rasa read the comment as an intent payload.
        comment = _SLASHES.sub("", visible_text(body.comment or ""))
        comment_recorded = False
        if body.rating == "bad" and comment and recorded:
            # The 差评 opened the comment form (its acknowledgement is the prompt): the next message is the comment.
            comment_reply = await ask(rasa, sender_id, comment[: settings.message_max_chars])
            if comment_reply is None:
                return _feedback_answer(True, body.rating, False, [unavailable_text(settings.hotline)], [])
            reply, comment_recorded = comment_reply, rating_replies.comment_saved(comment_reply)
        return _feedback_answer(recorded, body.rating, comment_recorded, reply.texts, reply.buttons)

    # FastAPI reads the body's type from the annotation; the model is made here, with the limit from
    # settings, so it is set on the function before the route is registered.
    feedback.__annotations__["body"] = feedback_request_model(settings.message_max_chars)
    routes.post("/api/v1/feedback", response_model=FeedbackResponse, tags=["问答"], dependencies=services.authorized,
                responses=ERRORS, summary="评价该会话最近一次回答（好评 / 差评，差评可附意见）",
                description="与网页上的 👍/👎 按钮走同一路径：助手把评价连同问题、指南和章节记入评价记录。"
                            "差评附带的意见只在助手请用户说明缺了什么时才转交并记录（comment_recorded 为 true）；"
                            "不带意见的差评之后，该会话的下一条消息作为意见记录。")(feedback)

    return routes
