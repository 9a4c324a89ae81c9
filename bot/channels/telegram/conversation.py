"""One conversation turn: a user's message to Rasa, Rasa's reply shown in the chat, a handoff
posted to the staff chat.

`TelegramAssistant` is the one object the handlers share: the configuration, the client of Rasa's
REST channel (bot.channels.rasa_client) and the per-chat locks (of turns, and of the order a chat's taps and typed
messages came in). Everything else a turn needs is in the chat's data (chats.py), so the Application can run many chats'
turns at once.

Usage::

    assistant = TelegramAssistant(config)
    await assistant.converse(update, context, update.effective_message.text, typed=True)
    await assistant.rasa.aclose()
"""

from __future__ import annotations

import logging
import time

from telegram import Update

from bot.channels.rasa_client import AssistantReply, AssistantUnavailableError, RasaClient
from bot.channels.telegram.chats import ChatLocks, Context, chat_sender, remember, touch, user_line
from bot.channels.telegram.config import BotConfig
from bot.channels.telegram.sending import Part, send, show, spend_kept, typing
from bot.channels.telegram.staff import notify_staff
from knowledge.examples import Examples, PublishedExamples
from protocol import too_long_text, unavailable_text

log = logging.getLogger("bot.telegram")  # one name for the whole channel (see chats.py)


class TelegramAssistant:
    """The Rasa side of the bot: its client, and the turns of each chat taken one at a time."""

    def __init__(self, config: BotConfig, rasa: RasaClient | None = None) -> None:
        self.config = config
        self.rasa = rasa or RasaClient(config.rasa_url, timeout=config.rasa_timeout, retries=config.rasa_retries)
        self.lock = ChatLocks()
        # The chat's taps, typed messages, /human and /reset in the order they came: each holds it from before its first
        # await to the end of its turn (handlers.button), so no keyboard edit lands after a later one's.
        self.taps = ChatLocks()
        # /start's example questions: the published version's, re-read after a rebuild (none: no index known).
        self._examples = PublishedExamples(config.index_dir) if config.index_dir else None

    def examples(self) -> Examples:
        """The example questions and item names of the knowledge base published now."""
        return self._examples.current() if self._examples else Examples()

    async def converse(self, update: Update, context: Context, message: str, *, shown: str | None = None, typed: bool = False) -> None:
        """Send one user message to Rasa and show the reply; the chat's turns are handled in order.

        `shown` is how the message appears in the transcript when it is not what the user typed
        (a button's title, /human); `typed` marks a question the user typed, remembered as the
        chat's last question when Rasa answers it.
        """
        chat_id = update.effective_chat.id
        if len(message) > self.config.message_max_chars:
            await send(context, chat_id, too_long_text(self.config.message_max_chars))
            return
        touch(context)  # before the first await: a chat in the middle of a turn is never expired
        async with self.lock(chat_id):
            async with typing(context.bot, chat_id):
                reply = await self.ask(chat_sender(chat_id, context), message)
            parts = reply_parts(reply, self.config.hotline)
            remember(context, "user", shown or message, self.config.retention_days)
            remember(context, "bot", "\n\n".join(text for text, _ in parts), self.config.retention_days)
            await show(context, chat_id, parts)
            handoff = reply.handoff if reply else None
            if handoff is not None:
                # However it came (typed 转人工, /human, a complaint), a kept 转人工 would hand the chat off a second time.
                await spend_kept(context, chat_id, context.chat_data.pop("kept", None))
            if handoff is not None and self.config.staff_chat_id is not None:
                await notify_staff(update, context, handoff, message=shown or message,
                                   staff_chat_id=self.config.staff_chat_id, hotline=self.config.hotline,
                                   timezone=self.config.staff_timezone)
            elif typed and reply is not None and reply.answer is not None:
                context.chat_data["question"] = (time.time(), user_line(message))

    async def ask(self, sender: str, message: str) -> AssistantReply | None:
        """Rasa's reply, or None when Rasa or the action server cannot answer (after the retries)."""
        try:
            return await self.rasa.send(sender, message)
        except AssistantUnavailableError as error:
            log.warning("助手不可用（会话 %s）：%s", sender, error)
            return None


def reply_parts(reply: AssistantReply | None, hotline: str) -> list[Part]:
    """(text, buttons) per message to show; the polite hotline message when there is nothing."""
    parts: list[Part] = []
    for message in reply.messages if reply else []:
        buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in message.get("buttons") or []]
        text = str(message.get("text") or ("请选择：" if buttons else ""))
        if text.strip():
            parts.append((text, buttons))
    return parts or [(unavailable_text(hotline), [])]
