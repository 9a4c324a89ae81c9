"""The bot's update handlers, one small function per kind of update, and `register`, which wires
them into an Application.

Commands (/start, /help, /reset, /human), typed text, anything else a user sends, button taps
(callback queries) and errors. Handlers that reach Rasa or the configuration take the
`TelegramAssistant` as their first argument; `register` binds it, so PTB calls each as
``handler(update, context)``.

Usage::

    register(application, TelegramAssistant(config))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from functools import partial
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.error import NetworkError, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.channels.telegram.chats import Context, chat_sender, remember, touch
from bot.channels.telegram.conversation import TelegramAssistant
from bot.channels.telegram.desk import HELD_TEXT as DESK_HELD_TEXT
from bot.channels.telegram.desk import to_clerk
from bot.channels.telegram.formatting import (
    USED_BUTTON,
    ButtonStore,
    button_beside,
    button_title,
    marks_of,
    picked_keyboard,
    to_html,
    used_keyboard,
)
from bot.channels.telegram.sending import edit_keyboard, retire_keyboard, send, show, spend_kept
from bot.channels.telegram.texts import (
    BUTTON_EXPIRED,
    BUTTON_USED,
    error_text,
    help_text,
    non_text_hint,
    reset_text,
    unknown_command_text,
    welcome_text,
)
from protocol import BUTTON_TITLES, REQUEST_HUMAN

log = logging.getLogger("bot.telegram")  # one name for the whole channel (see chats.py)

# A handler that needs the assistant, before `register` binds it.
AssistantHandler = Callable[[TelegramAssistant, Update, Context], Awaitable[None]]


def register(application: Application, assistant: TelegramAssistant) -> None:
    """Add the handlers to `application`, in the order PTB tries them (the first that matches runs)."""

    def bound(handler: AssistantHandler) -> Callable[[Update, Context], Awaitable[None]]:
        return partial(handler, assistant)

    # New messages only, and never from the staff chat: what staff write there is not a question.
    users = filters.UpdateType.MESSAGE
    if assistant.config.staff_chat_id is not None:
        users = users & ~filters.Chat(chat_id=assistant.config.staff_chat_id)
    application.add_handler(CommandHandler("start", bound(start), filters=users))
    application.add_handler(CommandHandler("help", bound(help_command), filters=users))
    application.add_handler(CommandHandler("reset", bound(reset), filters=users))
    application.add_handler(CommandHandler("human", bound(human), filters=users))
    application.add_handler(MessageHandler(filters.COMMAND & users, unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & users, bound(text_message)))
    application.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & users, bound(non_text_message)))
    application.add_handler(CallbackQueryHandler(bound(button)))
    application.add_error_handler(partial(error, assistant))  # not `bound`: an error handler's update may be anything


async def start(assistant: TelegramAssistant, update: Update, context: Context) -> None:
    """/start: the welcome, with the example questions as buttons that ask them."""
    examples = assistant.examples()  # the published guides' (knowledge/examples.py): each names a guide it has
    asks = [{"title": question, "payload": question} for question in examples.questions]
    await show(context, update.effective_chat.id, [(welcome_text(assistant.config.hotline, examples), asks)])


async def help_command(assistant: TelegramAssistant, update: Update, context: Context) -> None:
    """/help: how to ask, and the commands."""
    await send(context, update.effective_chat.id, help_text(assistant.config.hotline, assistant.examples()))


async def reset(assistant: TelegramAssistant, update: Update, context: Context) -> None:
    """/reset: a new Rasa sender, so Rasa starts a new conversation; the old transcript and keyboard go."""
    chat_id = update.effective_chat.id
    # After the chat's taps so far (a pick's keyboard edited before the 转人工 it kept is spent here), and not in the middle
    # of a turn of the old conversation.
    async with assistant.taps(chat_id), assistant.lock(chat_id):
        touch(context)
        context.chat_data["generation"] = context.chat_data.get("generation", 0) + 1
        for key in ("transcript", "question"):
            context.chat_data.pop(key, None)
        await retire_keyboard(context, chat_id)
        await spend_kept(context, chat_id, context.chat_data.pop("kept", None))  # it would hand over the new conversation
    await send(context, chat_id, reset_text())


async def human(assistant: TelegramAssistant, update: Update, context: Context) -> None:
    """/human: Rasa's handoff, as if the user had asked for a person in words (a clerk already on it says so)."""
    async with assistant.taps(update.effective_chat.id):  # after the chat's taps so far (`text_message`)
        if await held_by_clerk(assistant, update, context, None):
            return
        await assistant.converse(update, context, REQUEST_HUMAN, shown="/human（转人工）")


async def text_message(assistant: TelegramAssistant, update: Update, context: Context) -> None:
    """Typed text: a question or an answer to Rasa's question; to the clerk while one holds the chat.

    Taken before any await, as a tap takes it (`button`): after the chat's taps so far. A pick, then 转人工 typed at once:
    /choose reaches Rasa first, and the handoff spends the kept 转人工 after the pick's keyboard edit, not before it."""
    text = update.effective_message.text
    async with assistant.taps(update.effective_chat.id):
        if await held_by_clerk(assistant, update, context, text):
            return
        await assistant.converse(update, context, text, typed=True)


async def held_by_clerk(assistant: TelegramAssistant, update: Update, context: Context, text: str | None) -> bool:
    """While a clerk on the staff desk holds this chat (desk.py), its messages go to the clerk, not to
    Rasa: one voice at a time. `text` None (/human) is not stored, only answered."""
    chat_id = update.effective_chat.id
    sender = chat_sender(chat_id, context)
    if text is not None and len(text) > assistant.config.message_max_chars:
        return False  # the assistant's turn refuses it politely, held or not
    clerk = await to_clerk(assistant.config.records_db, sender, text, url=assistant.config.database_url,
                           timezone=assistant.config.staff_timezone)
    if clerk is None:
        return False
    touch(context)
    if text is not None:
        remember(context, "user", text, assistant.config.retention_days)
    await send(context, chat_id, DESK_HELD_TEXT.format(clerk=clerk))
    return True


async def non_text_message(assistant: TelegramAssistant, update: Update, context: Context) -> None:
    """A sticker, photo, voice message or file: the bot reads text only."""
    await send(context, update.effective_chat.id, non_text_hint(assistant.examples()))


async def unknown_command(update: Update, context: Context) -> None:
    """A /command the bot does not have (the known four are handled before)."""
    await send(context, update.effective_chat.id, unknown_command_text())


def is_live_keyboard(chat: Mapping[str, Any], message_id: int) -> bool:
    """Whether a tap on `message_id` is on the chat's live keyboard: the recorded one, or one newer than every
    keyboard the chat retired or used. The second case is a tap that beats the bot to recording the message it
    has just sent (the user sees it as soon as Telegram has it); an older keyboard is never newer than those."""
    if message_id == chat.get("keyboard"):
        return True
    return chat.get("keyboard") is None and message_id > max(chat.get("retired") or 0, chat.get("clicked") or 0)


# What a tap is (`claim_tap`): a button of the live keyboard, the 转人工 a pick left usable, or on a keyboard used or expired.
TAP_LIVE, TAP_KEPT, TAP_USED, TAP_EXPIRED = "live", "kept", "used", "expired"


def claim_tap(chat: MutableMapping[str, Any], message_id: int | None, payload: str | None) -> str:
    """What a tap on `message_id`'s button sending `payload` is, claimed in the chat's state there and then: updates run
    concurrently, and a double tap must not send its payload to Rasa twice (the second tap finds the keyboard used).

    The 转人工 a pick kept (chats.py "kept") works however many turns later, unlike the rest of an old keyboard: asking
    for a person is never about a turn that is over (the user can type /human at any time as well)."""
    kept = chat.get("kept")
    if payload == REQUEST_HUMAN and kept and kept[0] == message_id:
        chat["kept"], chat["handed"] = None, message_id
        return TAP_KEPT
    if payload is not None and message_id is not None and is_live_keyboard(chat, message_id):
        chat["keyboard"], chat["clicked"] = None, message_id
        return TAP_LIVE
    if message_id is not None and message_id in (chat.get("clicked"), chat.get("handed")):
        return TAP_USED  # its keyboard is (being) marked used by the first tap: leave it
    return TAP_EXPIRED


async def button(assistant: TelegramAssistant, update: Update, context: Context) -> None:
    """A tap on an inline button: its payload goes to Rasa once, and the keyboard says what was chosen.

    Only the chat's live keyboard works, and the 转人工 a pick on it left beside the choice; an older keyboard keeps
    only its "✓ 已选" marks, a used one only says so.
    """
    query = update.callback_query
    if query.data == USED_BUTTON:
        await query.answer(BUTTON_USED)
        return
    store = ButtonStore(context.bot_data.setdefault("buttons", {}))
    payload = store.payload(query.data or "")
    message_id = query.message.message_id if query.message is not None else None
    chat = context.chat_data if context.chat_data is not None else {}
    kept = chat.get("kept")  # before this tap: the one it uses, or the one a new pick replaces
    tap = claim_tap(chat, message_id, payload)
    if tap in (TAP_USED, TAP_EXPIRED) or payload is None or query.message is None:
        await refuse_tap(context, query, tap)
        return
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    # Not in the markup when Telegram no longer sends the message (an old kept 转人工): the title the buttons have.
    title = button_title(markup, query.data or "") or BUTTON_TITLES.get(payload, payload)
    handoff = button_beside(markup, query.data or "", REQUEST_HUMAN, store) if tap == TAP_LIVE else None
    if handoff is not None:  # before any await: from now on a tap on it is the kept 转人工's
        chat["kept"] = (message_id, title)
    touch(context)
    if tap == TAP_KEPT:
        spent = used_keyboard(kept[1], title)  # the pick's mark stays, 转人工's under it
    else:
        spent = used_keyboard(title) if handoff is None else picked_keyboard(title, handoff)
    answered = asyncio.ensure_future(query.answer())  # the spinner stops at once, even while an earlier tap goes first
    # Taken before any await: the chat's taps (and typed messages, /human, /reset) reach Rasa and edit their keyboards in
    # the order they came (a pick and a fast tap on the 转人工 it kept: /choose first, and the pick's keyboard never edited
    # back over 转人工's mark).
    chat_id = query.message.chat.id  # an InaccessibleMessage has its ids too (sending.edit_keyboard)
    async with assistant.taps(chat_id):
        await answered
        await edit_keyboard(context, chat_id, query.message.message_id, spent)
        if handoff is not None and kept:
            await spend_kept(context, chat_id, kept)  # one kept 转人工 at a time: the newest
        if payload == REQUEST_HUMAN and await held_by_clerk(assistant, update, context, None):
            return  # a clerk has the chat: the user is told so, as after /human; no second handoff, nothing to Rasa
        await assistant.converse(update, context, payload, shown=f"[点击按钮] {title}")


async def refuse_tap(context: Context, query: CallbackQuery, tap: str) -> None:
    """A tap that sends nothing: on a used keyboard, it says so; on an expired one, it says so and the keyboard goes, but
    for its "✓ 已选" marks (a kept 转人工 tapped as a later pick spends it: the mark of the pick above it stays)."""
    if tap == TAP_USED:
        await query.answer(BUTTON_USED)
        return
    await query.answer(BUTTON_EXPIRED, show_alert=True)
    message = query.message
    if isinstance(message, Message) and message.is_accessible:  # else its keyboard is unknown: left as it is
        await edit_keyboard(context, message.chat.id, message.message_id, marks_of(message.reply_markup))


async def error(assistant: TelegramAssistant, update: object, context: Context) -> None:
    """Log the trace; tell the user, in Chinese, that something went wrong. The bot goes on."""
    if isinstance(context.error, NetworkError) and not isinstance(update, Update):
        log.warning("Telegram 网络错误（将自动重试）：%s", context.error)  # polling hiccups: PTB retries
        return
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("处理 Telegram 更新 %s 时出错", update_id, exc_info=context.error)
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is not None and chat.id != assistant.config.staff_chat_id:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat.id, to_html(error_text(assistant.config.hotline)))
