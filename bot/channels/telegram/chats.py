"""What the bot keeps per Telegram chat, and for how long.

Each chat is one Rasa conversation, sender ``tg-<chat id>`` (``tg-<chat id>-<n>`` after the n-th
/reset). Its state lives in PTB's context.chat_data, which PicklePersistence saves to the state
file, so it holds plain dicts, tuples and numbers only (a pickled class would tie the file to the
code). The keys:

- "generation": the /reset count, part of the Rasa sender;
- "transcript": the last TRANSCRIPT_LINES `TranscriptLine`s, for the staff; what users typed is
  kept with personal data such as ID and phone numbers masked, as everywhere we keep it;
- "question": (when, text) of the last typed question that got an answer;
- "keyboard": the message whose inline keyboard is live (Rasa's buttons are about its latest
  turn, so older keyboards are removed); "clicked": the message whose keyboard was used last;
  "retired": the last keyboard removed because a newer turn came (taps on it or older ones have expired);
- "kept": (message, title picked) of the keyboard whose 转人工 a pick on it left usable, beside the choice, until it
  is tapped, a later pick keeps another, a handoff comes another way (typed 转人工, /human) or /reset; "handed": the
  message whose kept 转人工 was tapped;
- "active": when the chat last did something.

Everything is forgotten after retention_days: `expire` at start and `expire_daily` while the bot
runs, as `index_builder.py purge` forgets the records. In memory only, `ChatLocks` keeps each
chat's turns in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import MutableMapping
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.channels.telegram.formatting import ButtonStore, TranscriptLine, plain_text, recent_lines
from knowledge.records.privacy import mask_personal_data
from protocol import SENDER_PREFIX_TELEGRAM

# One logger name for the whole channel, so that telegram.log reads the same whichever module logs.
log = logging.getLogger("bot.telegram")

# PTB's default context, as every handler gets it: context.chat_data is the chat's state described above.
Context = ContextTypes.DEFAULT_TYPE

TRANSCRIPT_LINES = 30  # per chat, for the staff: enough for a conversation, bounded in memory and state
TRANSCRIPT_LINE_CHARS = 1000
DAY = 24 * 3600.0
EXPIRE_EVERY = DAY  # how often chats are checked against retention_days while the bot runs


def sender_id(chat_id: int, generation: int) -> str:
    """The Rasa sender of a chat: ``tg-<chat id>``, then ``tg-<chat id>-<n>`` after the n-th /reset."""
    return f"{SENDER_PREFIX_TELEGRAM}{chat_id}" + (f"-{generation}" if generation else "")


def chat_sender(chat_id: int, context: Context) -> str:
    """The Rasa sender of the chat as it is now (its /reset count from the chat's data)."""
    return sender_id(chat_id, context.chat_data.get("generation", 0))


def touch(context: Context) -> None:
    """Note that the chat did something now: retention counts from its last activity."""
    if context.chat_data is not None:
        context.chat_data["active"] = time.time()


def user_line(text: str) -> str:
    """What a user sent, as it is kept and shown to the staff: personal data masked, invisible characters removed."""
    return mask_personal_data(plain_text(text))


def remember(context: Context, who: str, text: str, retention_days: int) -> None:
    """Add a line to the chat's transcript; what the user typed is kept with personal data masked.

    Lines older than retention_days go here too, so an active chat does not wait for the daily check.
    """
    now = time.time()
    text = user_line(text) if who == "user" else text
    transcript: list[TranscriptLine] = recent_lines(context.chat_data.get("transcript", []), now - retention_days * DAY)
    transcript.append((who, now, text[:TRANSCRIPT_LINE_CHARS]))
    context.chat_data["transcript"] = transcript[-TRANSCRIPT_LINES:]
    touch(context)


class ChatLocks:
    """One asyncio.Lock per chat: updates run concurrently, but one chat's turns stay in order.

    Weakly held, so the locks of quiet chats go by themselves; never persisted.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock


# --- retention ----------------------------------------------------------------------------------


def expire_chat(chat: MutableMapping[str, Any], before: float) -> bool:
    """Forget what one chat's data holds from before `before` (seconds since the epoch).

    A chat not active since then goes whole: False, the caller drops it (its live keyboard and
    /reset count with it; its next message starts afresh). Otherwise older transcript lines and an
    older last question go, and True. Data of an older format, which cannot be dated, counts as old.
    """
    active = chat.get("active")
    if not isinstance(active, (int, float)) or active < before:
        return False
    if "transcript" in chat:
        chat["transcript"] = recent_lines(chat["transcript"], before)
    question = chat.get("question")
    if question is not None and not (isinstance(question, tuple) and question[0] >= before):
        del chat["question"]
    return True


def expire(application: Application, retention_days: int, now: float | None = None) -> int:
    """Forget chat data and button payloads older than retention_days; how many chats went.

    Runs between awaits, so no handler sees a chat half expired; a chat in the middle of a
    turn was touched when the turn began, so it is never dropped under its handler.
    """
    now = time.time() if now is None else now
    before = now - retention_days * DAY
    dropped = [chat_id for chat_id, chat in list(application.chat_data.items()) if not expire_chat(chat, before)]
    for chat_id in dropped:
        application.drop_chat_data(chat_id)  # from the state file too, at the next persistence update
    application.mark_data_for_update_persistence(chat_ids=list(application.chat_data))
    buttons = ButtonStore(application.bot_data.setdefault("buttons", {})).expire(before, now)
    if dropped or buttons:
        log.info("已按保留期限（%d 天）清除 %d 个会话的记录和 %d 个按钮", retention_days, len(dropped), buttons)
    return len(dropped)


async def expire_daily(application: Application, retention_days: int) -> None:
    """`expire` every EXPIRE_EVERY seconds while the bot runs (no JobQueue: it needs APScheduler)."""
    while True:
        await asyncio.sleep(EXPIRE_EVERY)
        try:
            expire(application, retention_days)
        except Exception:  # a failed check is retried tomorrow; answering users matters more
            log.exception("按保留期限清除会话记录失败")
