"""The staff desk on Telegram: a clerk's replies reach the user's chat, and while a clerk holds the
conversation what the user types goes to the clerk instead of the assistant.

The desk (the hall API's /desk page) and this bot are two processes sharing one thing: the records
database (settings.records_db, or PostgreSQL at settings.database_url; knowledge/records/desk.py). So:

- `DeskDelivery` is a small job started with the bot: every settings.desk_poll_seconds it reads the
  desk lines not yet delivered to senders with the Telegram prefix (protocol.SENDER_PREFIX_TELEGRAM),
  sends each to its chat with the real Bot API client ("工作人员已接入…", "👤 工作人员（王芳）：…",
  "…已结束本次人工服务") and marks it delivered. A chat that can no longer be reached (the user
  blocked the bot, the chat is gone) is marked too, with a log line; a network error is retried on
  the next round, so a line is delivered once, late rather than never;
- `to_clerk` is asked before a typed message goes to Rasa: when a clerk has taken the chat's
  handoff, the message is stored (masked) for the clerk and the user is told it went to staff.

Usage::

    delivery = DeskDelivery(config.records_db, interval=config.desk_poll_seconds, url=config.database_url,
                            timezone=config.staff_timezone)
    task = asyncio.create_task(delivery.run(application.bot))      # Lifecycle.post_init starts it
    clerk = await to_clerk(config.records_db, "tg-42", "我的材料还缺什么", url=config.database_url,
                           timezone=config.staff_timezone)   # "王芳" (held) or None
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.channels.telegram.formatting import split_text, to_html
from knowledge.records.desk import CLERK, DeskRecords
from protocol import SENDER_PREFIX_TELEGRAM

log = logging.getLogger("bot.telegram")  # one name for the whole channel (see chats.py)

_SENDER = re.compile(re.escape(SENDER_PREFIX_TELEGRAM) + r"(-?[0-9]+)(?:-[0-9]+)?")
HELD_TEXT = "已发给工作人员（{clerk}），请稍候回复。工作人员结束服务后，智能助手会继续为您解答。"


def chat_of(sender_id: str) -> int | None:
    """The Telegram chat of a Rasa sender: ``tg-42`` and ``tg-42-3`` (after /reset) -> 42, ``tg--100123`` -> -100123."""
    match = _SENDER.fullmatch(sender_id)
    return int(match.group(1)) if match else None


def shown(line: dict[str, Any]) -> str:
    """A desk line as the user reads it in the chat."""
    return f"👤 工作人员（{line['clerk']}）：\n{line['text']}" if line["author"] == CLERK else str(line["text"])


async def to_clerk(records_db: Path | None, sender_id: str, text: str | None, *, url: str = "",
                   timezone: str | None = None) -> str | None:
    """When a clerk holds this conversation: store `text` (unless None) for the clerk and return the clerk's name; else None.
    `url`: the records on PostgreSQL (settings.database_url) instead of the SQLite file; `timezone`: the clock the line
    is stamped on (settings.staff_timezone)."""
    if records_db is None:
        return None
    desk = DeskRecords(records_db, url=url, timezone=timezone)

    def forward() -> str | None:
        held = desk.held(sender_id)
        if held is None:
            return None
        if text is not None:
            desk.citizen_message(sender_id, text)
        return str(held["clerk"])

    try:
        return await asyncio.to_thread(forward)
    except Exception:  # the records database is locked or gone: the assistant answers rather than nobody
        log.exception("读取人工坐席记录失败（%s）", sender_id)
        return None


class DeskDelivery:
    """Delivers clerks' replies from the records database to Telegram chats (see the module docstring)."""

    def __init__(self, records_db: Path, *, interval: float = 2.0, url: str = "", timezone: str | None = None) -> None:
        self.desk = DeskRecords(records_db, url=url, timezone=timezone)
        self.interval = interval

    async def run(self, bot: Bot) -> None:
        """Deliver, then wait `interval`, until cancelled."""
        while True:
            try:
                await self.deliver(bot)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad round must not end delivery for good
                log.exception("投递工作人员回复时出错，稍后重试")
            await asyncio.sleep(self.interval)

    async def deliver(self, bot: Bot) -> int:
        """One round: send every undelivered line to its chat, oldest first; the number sent."""
        pending = await asyncio.to_thread(self.desk.undelivered, SENDER_PREFIX_TELEGRAM)
        sent = 0
        for line in pending:
            chat_id = chat_of(line["sender_id"])
            if chat_id is None:
                log.error("人工坐席消息 %s 的会话 %s 不是 Telegram 会话，跳过", line["id"], line["sender_id"])
            else:
                try:
                    for chunk in split_text(shown(line)):
                        await bot.send_message(chat_id, to_html(chunk))
                    sent += 1
                except (Forbidden, BadRequest) as error:  # blocked, or the chat is gone: retrying will not help
                    log.warning("工作人员回复无法发到会话 %s（%s），已放弃", chat_id, error)
                except TelegramError as error:  # the network or Telegram itself: try again next round
                    log.warning("工作人员回复暂时发不出（会话 %s）：%s，稍后重试", chat_id, error)
                    return sent
            await asyncio.to_thread(self.desk.mark_delivered, [line["id"]])
        return sent
