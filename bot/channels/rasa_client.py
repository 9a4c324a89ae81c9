"""The channels' way to the assistant: Rasa's REST channel, with retries, and its reply parsed.

Both channels (the Telegram bot and the 智能云客服 hall API) talk to Rasa through this module
only. A reply is what the REST channel returns: a list of messages, each with `text`,
`buttons` and/or `custom` (the actions' machine-readable payloads, see actions/replies.py).

Usage::

    client = RasaClient("http://127.0.0.1:5005/webhooks/rest/webhook")
    reply = await client.send("tg-42", "开办企业需要什么材料")
    reply.text            # what the user reads
    reply.buttons         # [{"title": "👍 好评", "payload": "/feedback_good"}, …]
    reply.answer          # {"guide": {...}, "aspect": "materials", "contacts": [...], …} or None
    reply.feedback        # "thanks", "ask_comment" or "comment_saved" after a rating (domain.yml), or None
    await client.aclose()

When Rasa cannot be reached (stopped, restarting) the request is retried with backoff; when it
still fails, or Rasa answers nothing at all (the action server is down), `AssistantUnavailableError`
is raised and the channel shows `unavailable_text()`: a polite message with the hotline.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import httpx

from protocol import PAYLOAD_ANSWER, PAYLOAD_FEEDBACK, PAYLOAD_HANDOFF, REST_TOKEN_ENV, too_long_text, unavailable_text

__all__ = ["AssistantReply", "AssistantUnavailableError", "RasaClient", "too_long_text", "unavailable_text"]

log = logging.getLogger(__name__)


class AssistantUnavailableError(Exception):
    """Rasa (or, behind it, the action server) could not answer."""


@dataclass
class AssistantReply:
    """One turn's reply from the REST channel."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [str(m["text"]) for m in self.messages if m.get("text")]

    @property
    def text(self) -> str:
        return "\n\n".join(self.texts)

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for m in self.messages for b in m.get("buttons") or []]

    def payload(self, key: str) -> dict[str, Any] | None:
        """The first custom payload named `key` whose value is an object (protocol.PAYLOAD_KINDS,
        "unavailable")."""
        for message in self.messages:
            custom = message.get("custom")
            if isinstance(custom, dict) and isinstance(custom.get(key), dict):
                return custom[key]
        return None

    def payload_text(self, key: str) -> str | None:
        """The first custom payload named `key` whose value is a string, such as domain.yml's
        ``custom: {feedback: thanks}``."""
        for message in self.messages:
            custom = message.get("custom")
            if isinstance(custom, dict) and isinstance(custom.get(key), str):
                return str(custom[key])
        return None

    @property
    def answer(self) -> dict[str, Any] | None:
        return self.payload(PAYLOAD_ANSWER)

    @property
    def handoff(self) -> dict[str, Any] | None:
        return self.payload(PAYLOAD_HANDOFF)

    @property
    def feedback(self) -> str | None:
        """What a rating reply says (protocol.FEEDBACK_THANKS, FEEDBACK_ASK_COMMENT, FEEDBACK_COMMENT_SAVED), or None."""
        return self.payload_text(PAYLOAD_FEEDBACK)


class RasaClient:
    """An async client of Rasa's REST channel (`POST /webhooks/rest/webhook`), with the channels'
    bearer token (`token`, default: the GOVQA_REST_TOKEN the launcher hands every channel)."""

    def __init__(self, rest_url: str, *, token: str | None = None, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5) -> None:
        self.rest_url = rest_url
        self.retries = retries
        self.backoff = backoff
        token = os.environ.get(REST_TOKEN_ENV, "") if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(timeout=timeout, headers=headers)

    async def send(self, sender: str, message: str) -> AssistantReply:
        """Send one user message; the reply, or AssistantUnavailableError after the retries."""
        for attempt in range(self.retries + 1):
            try:
                response = await self._http.post(self.rest_url, json={"sender": sender, "message": message})
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                # Nothing reached Rasa, so sending again cannot answer the message twice.
                problem = f"Rasa 无法连接：{error!r}"
            except httpx.HTTPError as error:
                raise AssistantUnavailableError(f"Rasa 请求失败：{error!r}") from error
            else:
                if response.status_code == 503:
                    # A balancer's "no instance available" (or Rasa starting): the message reached no Rasa.
                    problem = f"Rasa 暂不可用：HTTP {response.status_code}"
                elif response.status_code in (502, 504):
                    # From a balancer: the instance failed or timed out while it may have handled the message;
                    # sending it again could answer it twice (HAProxy itself retries refused connections).
                    raise AssistantUnavailableError(f"Rasa 处理中断（HTTP {response.status_code}），未重试以免重复处理")
                elif response.status_code == 401:
                    raise AssistantUnavailableError(f"Rasa 拒绝了渠道令牌（HTTP 401）：请检查 {REST_TOKEN_ENV}")
                elif response.status_code != 200:
                    raise AssistantUnavailableError(f"Rasa 返回 HTTP {response.status_code}")
                else:
                    try:
                        messages = response.json()
                    except ValueError as error:
                        raise AssistantUnavailableError(f"Rasa 的回复不是 JSON：{error}") from error
                    if not isinstance(messages, list) or not messages:
                        # Rasa answers [] when a custom action failed (the action server is down).
                        raise AssistantUnavailableError("Rasa 没有给出回复（动作服务器可能不可用）")
                    return AssistantReply([m for m in messages if isinstance(m, dict)])
            if attempt < self.retries:
                delay = self.backoff * 2**attempt
                log.warning("%s；%.1f 秒后重试（%d/%d）", problem, delay, attempt + 1, self.retries)
                await asyncio.sleep(delay)
        raise AssistantUnavailableError(problem)

    async def aclose(self) -> None:
        await self._http.aclose()
