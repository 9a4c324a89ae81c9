"""How the bot's replies reach a chat: texts split into Telegram messages, the chat's one live
inline keyboard, and "typing…" while Rasa thinks.

`formatting` decides what a message looks like; this module sends it, through the Application's
bot, whose Defaults make every text HTML (escaped by `to_html`) without link previews.

Usage::

    await show(context, chat_id, [("【开办企业】…", [{"title": "👍 好评", "payload": FEEDBACK_GOOD}])])
    async with typing(context.bot, chat_id):
        reply = await rasa.send(sender, text)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.channels.telegram.chats import Context, touch
from bot.channels.telegram.formatting import ButtonStore, inline_keyboard, split_text, to_html, used_keyboard

# One message to show: its text and Rasa's buttons ({title, payload}) under it.
Part = tuple[str, list[dict[str, str]]]

TYPING_EVERY = 4.0  # seconds; Telegram shows "typing…" for 5 s after each sendChatAction


async def send(context: Context, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None) -> Message | None:
    """Send `text` as messages of at most 4096 characters, split between lines; the keyboard on the last."""
    chunks = split_text(text)
    sent = None
    for number, chunk in enumerate(chunks, 1):
        sent = await context.bot.send_message(chat_id, to_html(chunk), reply_markup=keyboard if number == len(chunks) else None)
    return sent


async def show(context: Context, chat_id: int, parts: list[Part]) -> None:
    """Send each (text, buttons); a new keyboard replaces the chat's live one."""
    store = ButtonStore(context.bot_data.setdefault("buttons", {}))
    for text, buttons in parts:
        keyboard = inline_keyboard(buttons, store)
        if keyboard is not None:
            await retire_keyboard(context, chat_id)
        sent = await send(context, chat_id, text, keyboard)
        # Unless the user already tapped it (handlers.is_live_keyboard): then it is used, not live.
        if keyboard is not None and sent is not None and context.chat_data.get("clicked") != sent.message_id:
            context.chat_data["keyboard"] = sent.message_id
            touch(context)


async def retire_keyboard(context: Context, chat_id: int) -> None:
    """Remove the chat's live keyboard: its buttons are about a turn that is over."""
    message_id = context.chat_data.pop("keyboard", None)
    if message_id:
        context.chat_data["retired"] = message_id  # taps on it, or older ones, are expired
        await edit_keyboard(context, chat_id, message_id, None)


async def spend_kept(context: Context, chat_id: int, kept: tuple[int, str] | None) -> None:
    """Spend a kept 转人工 (chats.py "kept": its message and the pick above it): its keyboard keeps only the pick's mark."""
    if kept:
        await edit_keyboard(context, chat_id, kept[0], used_keyboard(kept[1]))


async def edit_keyboard(context: Context, chat_id: int, message_id: int, keyboard: InlineKeyboardMarkup | None) -> None:
    """Replace the keyboard of a message the bot sent (None: remove it); every keyboard edit of the channel goes here.

    Through the bot by ids, never a CallbackQuery's or Message's shortcut: those raise TypeError when Telegram sends the
    query's message as an InaccessibleMessage (an old one), whose ids are still known. Telegram refusing the edit
    (BadRequest "message is not modified", "message can't be edited", "message to edit not found") changes nothing: the
    keyboard is already so, or gone."""
    with contextlib.suppress(TelegramError):
        await context.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=keyboard)


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" in the chat for as long as the block runs (Rasa may take seconds)."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
