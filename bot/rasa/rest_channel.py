"""Rasa's REST channel with a guard: bad input gets a clear answer, a failed turn a polite one.

Rasa's own `rest` channel hands any body to the bot: a number as the message crashes the turn,
100,000 characters go through jieba and DIET, and when the action server is down the reply is an
empty list — the user sees silence. This channel keeps the same URL and protocol
(`POST /webhooks/rest/webhook` {"sender", "message"} → [{"recipient_id", "text", …}]) and:

- needs the channels' bearer token (``Authorization: Bearer …``, env GOVQA_REST_TOKEN, set by the
  launcher; compared in constant time): 401 without it; accepts only ``application/json`` (415), so
  a web page elsewhere cannot post a "simple" text/plain request across sites;
- answers 400 with a JSON error for a body that is not a JSON object, a sender that is not a
  channel's id (protocol.SENDER_PATTERN: no spaces or newlines to forge a log line with), or a
  message of the wrong type (``{"error": "…", "detail": "…"}``);
- removes control and zero-width characters; an empty message gets a polite prompt and a message
  over `message_max_chars` (settings.yml) a polite refusal, neither reaching the NLU;
- reads a typed command as the user means it (protocol.typed_command): a button's payload stays one, "/start" and
  "/help" ask for the welcome, "/restart" starts afresh (answered "已重新开始…", not with the silence Rasa's restart
  leaves), any other "/word" is words — never an intent no button offers ("/session_start" said "unavailable");
- masks ID, mobile and bank card numbers (knowledge/records/privacy.py) before Rasa sees the message, so
  the tracker store and the logs never hold them (the assistant never needs them to answer);
- when the turn produced no message at all (the action server down, an action crashed), answers
  with an apology and the hotline instead of silence. The conversation itself is kept in the
  tracker store, so it goes on with its context once the action server is back.

Registered in credentials.yml in place of `rest`::

    bot.rasa.rest_channel.GuardedRestInput:
"""

from __future__ import annotations

import logging
import os
import re
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from knowledge.records.privacy import mask_personal_data
from knowledge.settings import load_settings
from knowledge.text import visible_text
from protocol import (
    REST_TOKEN_ENV,
    RESTART,
    SENDER_PATTERN,
    bearer_matches,
    empty_text,
    restarted_text,
    too_long_text,
    typed_command,
    unavailable_text,
)

logger = logging.getLogger(__name__)

_SENDER = re.compile(SENDER_PATTERN)
def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> HTTPResponse:
    return response.json({"error": error, "detail": detail}, status=status, headers=headers)


class GuardedRestInput(RestInput):
    """The REST channel (same name, URL and reply format) with input checks and a polite fallback."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self) -> None:
        settings = load_settings()
        self.max_chars = settings.message_max_chars
        self.hotline = settings.hotline
        self.token = os.environ.get(REST_TOKEN_ENV, "")
        if not self.token:
            logger.error("未设置 %s：REST 渠道拒绝所有消息（请用 make run 启动，它会生成并传入令牌）", REST_TOKEN_ENV)

    def _reply(self, sender: str, text: str) -> HTTPResponse:
        return response.json([{"recipient_id": sender, "text": text}])

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not bearer_matches(request.headers.get("Authorization"), self.token):
                return _error(401, "缺少令牌或令牌无效", "请在 Authorization 头中携带 Bearer 令牌", {"WWW-Authenticate": "Bearer"})
            if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
                return _error(415, "只接受 application/json", "请以 JSON 发送 {\"sender\", \"message\"}")
            try:
                body = request.json
            except Exception:  # sanic raises its own BadRequest for malformed JSON
                body = None
            if not isinstance(body, dict):
                return _error(400, "请求体必须是 JSON 对象", '例如 {"sender": "user-1", "message": "开办企业需要什么材料"}')
            sender, message = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not _SENDER.fullmatch(sender):
                return _error(400, "sender 格式不对", "对话标识：1-128 位字母、数字或 _ . : -")
            if not isinstance(message, str):
                return _error(400, "message 必须是字符串", "用户输入的文字")
            if len(message) > self.max_chars:
                return self._reply(sender, too_long_text(self.max_chars))
            text = typed_command(mask_personal_data(visible_text(message)))
            if not text:
                return self._reply(sender, empty_text())
            collector = CollectingOutputChannel()
            # Client metadata is not passed on: nothing uses it, and it would be stored unmasked.
            handled = False
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name()))
                handled = True
            except CancelledError:
                logger.error("对话 %s 的消息处理超时", sender)
            except Exception:
                logger.exception("对话 %s 的消息处理失败", sender)
            if not collector.messages and text == RESTART and handled:
                return self._reply(sender, restarted_text())  # Rasa restarts silently
            if not collector.messages:
                # Nothing was said: a custom action failed (the action server is down or crashed).
                logger.error("对话 %s 本轮没有任何回复（动作服务器可能不可用）", sender)
                text = unavailable_text(self.hotline)
                # The marker lets channels tell "unavailable" from an ordinary message.
                return response.json([{"recipient_id": sender, "text": text},
                                      {"recipient_id": sender, "custom": {"unavailable": {"hotline": self.hotline}}}])
            return response.json(collector.messages)

        return webhook
