"""The staff chat: when a conversation is handed over to people (转人工, a complaint), the notice
with the user, the message that led to it, the last question and the transcript is posted there.

The staff chat is TELEGRAM_STAFF_CHAT_ID (usually a group); without one, the user still gets the
hotline and the contacts from Rasa's reply and nothing is posted. What staff write in that chat is
never taken for a question (handlers.register filters it out).

Usage::

    await notify_staff(update, context, reply.handoff, message="/human（转人工）", staff_chat_id=-100…, hotline="12345")
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update, User
from telegram.error import TelegramError

from bot.channels.telegram.chats import Context, chat_sender, user_line
from bot.channels.telegram.formatting import TranscriptLine, plain_text
from bot.channels.telegram.sending import send
from knowledge.records.store import time_on
from protocol import REASON_COMPLAIN, REASON_REQUEST_HUMAN

log = logging.getLogger("bot.telegram")  # one name for the whole channel (see chats.py)

# The `reason` of Rasa's handoff payload (protocol.HANDOFF_REASONS), as staff read it.
HANDOFF_REASONS = {REASON_REQUEST_HUMAN: "用户要求转人工", REASON_COMPLAIN: "用户投诉或反映办事困难"}
STAFF_LINE_CHARS = 300  # a line in the staff notice is cut to its beginning: staff see the gist


def staff_notice(*, handoff: dict[str, object], user: str, sender: str, message: str, question: str = "",
                 transcript: Sequence[TranscriptLine], hotline: str, timezone: str | None = None) -> str:
    """The message posted to the staff chat when a conversation is handed over to people.

    `message` is what the user said that led to the handoff (a complaint, /human); `question`,
    when there is one, the last question the assistant answered, which is often what it is about. Times are on
    `timezone`'s clock (settings.yml `staff_timezone`, as the desk's), the server's when None.
    """
    reason = str(handoff.get("reason") or "")
    lines = [f"🔔 转人工：{HANDOFF_REASONS.get(reason, reason or '转人工')}"]
    if handoff.get("record_id"):
        lines.append(f"记录编号：{handoff['record_id']}")
    lines.append(f"用户：{user}（会话 {sender}）")
    if handoff.get("guide_id"):  # the title staff know the matter by (an older Rasa reply has only the id)
        title = handoff.get("guide_title")
        lines.append(f"相关事项：【{title}】（{handoff['guide_id']}）" if title else f"相关事项：{handoff['guide_id']}")
    lines.append(f"用户的消息：{message or '（无）'}")  # whole: it is what staff act on (and at most message_max_chars)
    if question and question != message:
        lines.append(f"此前咨询的问题：{_shorten(question)}")
    lines.append("")
    lines.append(f"对话记录（最近 {len(transcript)} 条）：")
    for who, at, text in transcript:
        lines.append(f"[{_clock(at, timezone)}] {'用户' if who == 'user' else '助手'}：{_shorten(text)}")
    lines.append("")
    lines.append(f"请尽快联系用户；用户也已得到 {hotline} 热线和办理窗口的电话。")
    return "\n".join(lines)


def user_label(user: User | None) -> str:
    """Who the user is, for the staff: name, @username and Telegram user id."""
    if user is None:
        return "未知用户"
    # Names are the user's own text too: a direction override in one would turn the notice around.
    return plain_text(user.full_name + (f" @{user.username}" if user.username else "") + f"，Telegram 用户 ID {user.id}")


async def notify_staff(update: Update, context: Context, handoff: dict[str, Any], *, message: str,
                       staff_chat_id: int, hotline: str, timezone: str | None = None) -> None:
    """Post the message that led to the handoff, the last question and the transcript to the staff chat.

    A failure is logged: the user already has the hotline and the contacts.
    """
    question = context.chat_data.get("question")
    notice = staff_notice(handoff=handoff, user=user_label(update.effective_user), sender=chat_sender(update.effective_chat.id, context),
                          message=user_line(message), question=question[1] if isinstance(question, tuple) else "",
                          transcript=context.chat_data.get("transcript", []), hotline=hotline, timezone=timezone)
    try:
        await send(context, staff_chat_id, notice)
    except TelegramError as error:
        log.error("转人工通知没有发到工作人员会话 %s：%s", staff_chat_id, error)


def _clock(when: float | str, timezone: str | None) -> str:
    """A transcript line's time as staff read it, "05-14 10:21" on the deployment's clock (older lines carry that text
    already)."""
    if not isinstance(when, (int, float)):
        return str(when)
    return time_on(when, timezone)[5:16].replace("T", " ")


def _shorten(text: str) -> str:
    """An answer cut to its beginning: staff see the gist."""
    return text if len(text) <= STAFF_LINE_CHARS else text[:STAFF_LINE_CHARS] + "……"
