"""The Telegram channel: a python-telegram-bot Application in front of the Rasa assistant.

Each Telegram chat is one Rasa conversation (sender ``tg-<chat id>``, a new one after /reset).
Text goes to Rasa through bot.channels.rasa_client; Rasa's buttons come back as inline keyboards; a
handoff is posted, with the chat's transcript, to the staff chat when one is configured.

    TELEGRAM_BOT_TOKEN=123456:ABC… python -m bot.channels.telegram.bot --rasa-url http://127.0.0.1:5005/webhooks/rest/webhook

`make run` starts it (bot/launcher/stack.py) when TELEGRAM_BOT_TOKEN is set. The environment:

- TELEGRAM_BOT_TOKEN      the bot's token (required; never logged, never in argv);
- TELEGRAM_API_BASE_URL   a self-hosted Bot API server, e.g. ``http://127.0.0.1:8081/bot``;
- TELEGRAM_STAFF_CHAT_ID  the chat (usually a group, e.g. ``-1001234567890``) that receives handoffs;
- TELEGRAM_WEBHOOK_SECRET the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (webhook mode;
  a random one per start when unset).

settings.yml chooses long polling (default) or a webhook (telegram_mode, telegram_webhook_*), the
longest accepted message (message_max_chars), Rasa's timeout and retries, the hotline, and how long
chats are remembered (retention_days: older transcript lines and idle chats are forgotten at start
and once a day, as `index_builder.py purge` forgets the records).

In code (tests build the application the same way)::

    config = BotConfig.from_environment("http://127.0.0.1:5005/webhooks/rest/webhook", load_settings())
    application = build_application(config)
    run(application, config)          # blocks; SIGINT / SIGTERM stop it cleanly
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import pickle
import secrets
import sys
import time
import weakref
from collections.abc import AsyncIterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from telegram import Bot, BotCommand, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    PersistenceInput,
    PicklePersistence,
    filters,
)

from bot.channels.rasa_client import REQUEST_HUMAN, AssistantReply, AssistantUnavailableError, RasaClient, too_long_text, unavailable_text
from bot.channels.telegram.formatting import (
    USED_BUTTON,
    ButtonStore,
    TranscriptLine,
    button_title,
    inline_keyboard,
    plain_text,
    recent_lines,
    split_text,
    staff_notice,
    to_html,
    used_keyboard,
)
from knowledge.records.privacy import mask_personal_data
from knowledge.settings import Settings, load_settings
from protocol import EXAMPLE_QUESTIONS

log = logging.getLogger("bot.telegram")

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
STAFF_CHAT_ENV = "TELEGRAM_STAFF_CHAT_ID"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"

TRANSCRIPT_LINES = 30  # per chat, for the staff: enough for a conversation, bounded in memory and state
TRANSCRIPT_LINE_CHARS = 1000
TYPING_EVERY = 4.0  # seconds; Telegram shows "typing…" for 5 s after each sendChatAction
CONCURRENT_UPDATES = 32  # one slow Rasa turn must not hold up other chats; one chat stays in order (a lock)
DAY = 24 * 3600.0
EXPIRE_EVERY = DAY  # how often chats are checked against retention_days while the bot runs
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]

COMMANDS = (("start", "开始使用"), ("help", "使用说明"), ("reset", "重新开始对话"), ("human", "转人工服务"))


def welcome_text(hotline: str) -> str:
    examples = "\n".join(f"· {question}" for question in EXAMPLE_QUESTIONS)
    return ("您好！我是政务服务智能问答助手，可以解答办事指南和惠企政策方面的问题：要带什么材料、多久办好、"
            f"去哪里办、收不收费、找谁咨询。\n\n直接输入您的问题就行，例如：\n{examples}\n\n"
            f"也可以点下面的例子试一试。需要人工服务请发 /human，或拨打政务服务热线 {hotline}。")


def help_text(hotline: str) -> str:
    return ("使用说明：\n"
            "· 直接用文字提问，说清要办的事项和想了解的内容，例如“开公司要带什么材料”；接着可以追问“那要多久？”“在哪里办？”。\n"
            "· 回答下方的按钮可以选择事项、评价回答（👍 好评 / 👎 差评）。\n\n"
            "命令：\n/start 开始使用\n/help 使用说明\n/reset 重新开始对话（之前的内容不再作为上下文）\n/human 转人工服务\n\n"
            f"急需办事可拨打政务服务热线 {hotline}。")


def reset_text() -> str:
    return "好的，已开始新的对话，之前的内容不再作为上下文。请问您想了解哪个事项？"


def non_text_hint() -> str:
    return "抱歉，我只能看懂文字消息，暂时无法识别图片、语音、贴纸或文件。请用文字描述您要办理的事项，例如“开办企业需要什么材料”。"


def unknown_command_text() -> str:
    return "抱歉，没有这个命令。可用的命令：/start 开始使用，/help 使用说明，/reset 重新开始对话，/human 转人工服务。"


def error_text(hotline: str) -> str:
    return f"抱歉，处理您的消息时出了点问题，请稍后再试。急需办事可拨打政务服务热线 {hotline}。"


BUTTON_EXPIRED = "这个按钮已过期，请直接输入您的问题。"
BUTTON_USED = "这个按钮已经用过了。"


@dataclass(frozen=True)
class BotConfig:
    """Everything the bot needs; `from_environment` reads it as `make run` provides it."""

    token: str
    rasa_url: str
    hotline: str = "12345"
    message_max_chars: int = 2000
    rasa_timeout: float = 30.0
    rasa_retries: int = 3
    base_url: str | None = None
    staff_chat_id: int | None = None
    state_file: Path | None = None
    mode: str = "polling"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_url: str = ""
    webhook_secret: str = ""
    retention_days: int = 180

    @classmethod
    def from_environment(cls, rasa_url: str, settings: Settings, env: Mapping[str, str] | None = None,
                         state_file: Path | None = None) -> BotConfig:
        env = os.environ if env is None else env
        token = env.get(TOKEN_ENV, "").strip()
        if not token:
            raise ValueError(f"没有设置环境变量 {TOKEN_ENV}（Telegram 机器人令牌）")
        staff = env.get(STAFF_CHAT_ENV, "").strip()
        if staff and not staff.lstrip("-").isdigit():
            raise ValueError(f"{STAFF_CHAT_ENV} 应是数字形式的会话 ID，例如 -1001234567890")
        if settings.telegram_mode not in ("polling", "webhook"):
            raise ValueError(f"telegram_mode 只能是 polling 或 webhook，而不是 {settings.telegram_mode!r}")
        if settings.telegram_mode == "webhook" and not settings.telegram_webhook_url:
            raise ValueError("webhook 模式需要配置 telegram_webhook_url（Telegram 推送更新的公网 HTTPS 地址）")
        return cls(
            token=token, rasa_url=rasa_url, hotline=settings.hotline, message_max_chars=settings.message_max_chars,
            rasa_timeout=settings.rasa_timeout_seconds, rasa_retries=settings.rasa_retries,
            base_url=env.get(BASE_URL_ENV, "").strip() or None, staff_chat_id=int(staff) if staff else None,
            state_file=state_file or settings.var_dir / "telegram" / "state.pickle", mode=settings.telegram_mode,
            webhook_listen=settings.telegram_webhook_host, webhook_port=settings.telegram_webhook_port,
            webhook_url=settings.telegram_webhook_url, retention_days=settings.retention_days,
            # Without a configured secret a fresh one per start still keeps strangers out: setWebhook registers it.
            webhook_secret=env.get(WEBHOOK_SECRET_ENV, "").strip() or secrets.token_urlsafe(32),
        )


def sender_id(chat_id: int, generation: int) -> str:
    """The Rasa sender of a chat: ``tg-<chat id>``, then ``tg-<chat id>-<n>`` after the n-th /reset."""
    return f"tg-{chat_id}" + (f"-{generation}" if generation else "")


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


def touch(context: Context) -> None:
    """Note that the chat did something now: retention counts from its last activity."""
    if context.chat_data is not None:
        context.chat_data["active"] = time.time()


def user_line(text: str) -> str:
    """What a user sent, as it is kept and shown to the staff: personal data masked, invisible characters removed."""
    return mask_personal_data(plain_text(text))


def file_base_url(base_url: str) -> str:
    """The file download URL that goes with a Bot API base URL (…/bot → …/file/bot)."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url


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


Context = ContextTypes.DEFAULT_TYPE


class TelegramAssistant:
    """The bot's handlers around one RasaClient.

    Per chat (context.chat_data, persisted): "generation" (the /reset count, part of the Rasa
    sender), "transcript" (the last TRANSCRIPT_LINES lines, for the staff; personal data such as
    ID and phone numbers masked, as everywhere we keep what users typed), "question" ((when, text)
    of the last typed question that got an answer), "keyboard" (the message whose inline keyboard
    is live: Rasa's buttons are about its latest turn, so older keyboards are removed), "clicked"
    (the message whose keyboard was used last) and "active" (when the chat last did something).
    Everything is forgotten after retention_days (`expire`).
    """

    def __init__(self, config: BotConfig, rasa: RasaClient | None = None) -> None:
        self.config = config
        self.rasa = rasa or RasaClient(config.rasa_url, timeout=config.rasa_timeout, retries=config.rasa_retries)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._expiry: asyncio.Task[None] | None = None

    def register(self, application: Application) -> None:
        # New messages only, and never from the staff chat: what staff write there is not a question.
        users = filters.UpdateType.MESSAGE
        if self.config.staff_chat_id is not None:
            users = users & ~filters.Chat(chat_id=self.config.staff_chat_id)
        application.add_handler(CommandHandler("start", self.start, filters=users))
        application.add_handler(CommandHandler("help", self.help, filters=users))
        application.add_handler(CommandHandler("reset", self.reset, filters=users))
        application.add_handler(CommandHandler("human", self.human, filters=users))
        application.add_handler(MessageHandler(filters.COMMAND & users, self.unknown_command))
        application.add_handler(MessageHandler(filters.TEXT & users, self.text))
        application.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & users, self.non_text))
        application.add_handler(CallbackQueryHandler(self.button))
        application.add_error_handler(self.error)

    # --- handlers ---------------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        examples = [{"title": question, "payload": question} for question in EXAMPLE_QUESTIONS]
        await self.show(context, update.effective_chat.id, [(welcome_text(self.config.hotline), examples)])

    async def help(self, update: Update, context: Context) -> None:
        await self.send(context, update.effective_chat.id, help_text(self.config.hotline))

    async def reset(self, update: Update, context: Context) -> None:
        chat_id = update.effective_chat.id
        async with self._lock(chat_id):
            touch(context)
            context.chat_data["generation"] = context.chat_data.get("generation", 0) + 1
            for key in ("transcript", "question"):
                context.chat_data.pop(key, None)
            await self.retire_keyboard(context, chat_id)
        await self.send(context, chat_id, reset_text())

    async def human(self, update: Update, context: Context) -> None:
        await self.converse(update, context, REQUEST_HUMAN, shown="/human（转人工）")

    async def text(self, update: Update, context: Context) -> None:
        await self.converse(update, context, update.effective_message.text, typed=True)

    async def non_text(self, update: Update, context: Context) -> None:
        await self.send(context, update.effective_chat.id, non_text_hint())

    async def unknown_command(self, update: Update, context: Context) -> None:
        await self.send(context, update.effective_chat.id, unknown_command_text())

    async def button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query.data == USED_BUTTON:
            await query.answer(BUTTON_USED)
            return
        payload = ButtonStore(context.bot_data.setdefault("buttons", {})).payload(query.data or "")
        message_id = query.message.message_id if query.message is not None else None
        chat = context.chat_data if context.chat_data is not None else {}
        if payload is not None and message_id is not None and message_id == chat.get("keyboard"):
            # Claimed before the first await: updates run concurrently, and a double tap on the
            # button must not send its payload to Rasa twice. The second tap finds it "clicked".
            chat["keyboard"], chat["clicked"] = None, message_id
            touch(context)
        elif message_id is not None and message_id == chat.get("clicked"):
            await query.answer(BUTTON_USED)  # its keyboard is (being) marked used by the first tap: leave it
            return
        else:
            await query.answer(BUTTON_EXPIRED, show_alert=True)
            with contextlib.suppress(TelegramError):
                await query.edit_message_reply_markup(None)
            return
        await query.answer()  # stops the spinner on the user's button at once; the answer follows
        title = button_title(query.message.reply_markup if isinstance(query.message, Message) else None, query.data) or payload
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(used_keyboard(title))
        await self.converse(update, context, payload, shown=f"[点击按钮] {title}")

    async def error(self, update: object, context: Context) -> None:
        """Log the trace; tell the user, in Chinese, that something went wrong. The bot goes on."""
        if isinstance(context.error, NetworkError) and not isinstance(update, Update):
            log.warning("Telegram 网络错误（将自动重试）：%s", context.error)  # polling hiccups: PTB retries
            return
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("处理 Telegram 更新 %s 时出错", update_id, exc_info=context.error)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None and chat.id != self.config.staff_chat_id:
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(chat.id, to_html(error_text(self.config.hotline)))

    # --- a conversation turn ------------------------------------------------------------------

    async def converse(self, update: Update, context: Context, message: str, *, shown: str | None = None, typed: bool = False) -> None:
        """Send one user message to Rasa and show the reply; the chat's turns are handled in order."""
        chat_id = update.effective_chat.id
        if len(message) > self.config.message_max_chars:
            await self.send(context, chat_id, too_long_text(self.config.message_max_chars))
            return
        touch(context)  # before the first await: a chat in the middle of a turn is never expired
        async with self._lock(chat_id):
            async with typing(context.bot, chat_id):
                reply = await self.ask(sender_id(chat_id, context.chat_data.get("generation", 0)), message)
            parts = self.reply_parts(reply)
            self.remember(context, "user", shown or message)
            self.remember(context, "bot", "\n\n".join(text for text, _ in parts))
            await self.show(context, chat_id, parts)
            handoff = reply.handoff if reply else None
            if handoff is not None and self.config.staff_chat_id is not None:
                await self.notify_staff(update, context, handoff, message=shown or message)
            elif typed and reply is not None and reply.answer is not None:
                context.chat_data["question"] = (time.time(), user_line(message))

    async def ask(self, sender: str, message: str) -> AssistantReply | None:
        """Rasa's reply, or None when Rasa or the action server cannot answer (after the retries)."""
        try:
            return await self.rasa.send(sender, message)
        except AssistantUnavailableError as error:
            log.warning("助手不可用（会话 %s）：%s", sender, error)
            return None

    def reply_parts(self, reply: AssistantReply | None) -> list[tuple[str, list[dict[str, str]]]]:
        """(text, buttons) per message to show; the polite hotline message when there is nothing."""
        parts: list[tuple[str, list[dict[str, str]]]] = []
        for message in reply.messages if reply else []:
            buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in message.get("buttons") or []]
            text = str(message.get("text") or ("请选择：" if buttons else ""))
            if text.strip():
                parts.append((text, buttons))
        return parts or [(unavailable_text(self.config.hotline), [])]

    def remember(self, context: Context, who: str, text: str) -> None:
        """Add a line to the chat's transcript; what the user typed is kept with personal data masked.

        Lines older than retention_days go here too, so an active chat does not wait for the daily check.
        """
        now = time.time()
        text = user_line(text) if who == "user" else text
        transcript: list[TranscriptLine] = recent_lines(context.chat_data.get("transcript", []), now - self.config.retention_days * DAY)
        transcript.append((who, now, text[:TRANSCRIPT_LINE_CHARS]))
        context.chat_data["transcript"] = transcript[-TRANSCRIPT_LINES:]
        touch(context)

    # --- sending ------------------------------------------------------------------------------

    async def show(self, context: Context, chat_id: int, parts: list[tuple[str, list[dict[str, str]]]]) -> None:
        """Send each (text, buttons); a new keyboard replaces the chat's live one."""
        store = ButtonStore(context.bot_data.setdefault("buttons", {}))
        for text, buttons in parts:
            keyboard = inline_keyboard(buttons, store)
            if keyboard is not None:
                await self.retire_keyboard(context, chat_id)
            sent = await self.send(context, chat_id, text, keyboard)
            if keyboard is not None and sent is not None:
                context.chat_data["keyboard"] = sent.message_id
                touch(context)

    async def send(self, context: Context, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None) -> Message | None:
        """Send `text` as messages of at most 4096 characters, split between lines; the keyboard on the last."""
        chunks = split_text(text)
        sent = None
        for number, chunk in enumerate(chunks, 1):
            sent = await context.bot.send_message(chat_id, to_html(chunk), reply_markup=keyboard if number == len(chunks) else None)
        return sent

    async def retire_keyboard(self, context: Context, chat_id: int) -> None:
        message_id = context.chat_data.pop("keyboard", None)
        if message_id:
            with contextlib.suppress(TelegramError):  # already gone or edited: nothing to retire
                await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)

    async def notify_staff(self, update: Update, context: Context, handoff: dict[str, Any], *, message: str) -> None:
        """Post the message that led to the handoff, the last question and the transcript to the staff chat.

        A failure is logged: the user already has the hotline and the contacts.
        """
        user = update.effective_user
        # Names are the user's own text too: a direction override in one would turn the notice around.
        label = plain_text(user.full_name + (f" @{user.username}" if user.username else "") + f"，Telegram 用户 ID {user.id}") if user else "未知用户"
        chat_id = update.effective_chat.id
        question = context.chat_data.get("question")
        notice = staff_notice(handoff=handoff, user=label, sender=sender_id(chat_id, context.chat_data.get("generation", 0)),
                              message=user_line(message), question=question[1] if isinstance(question, tuple) else "",
                              transcript=context.chat_data.get("transcript", []), hotline=self.config.hotline)
        try:
            await self.send(context, self.config.staff_chat_id, notice)
        except TelegramError as error:
            log.error("转人工通知没有发到工作人员会话 %s：%s", self.config.staff_chat_id, error)

    def _lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    # --- retention ----------------------------------------------------------------------------

    def expire(self, application: Application, now: float | None = None) -> int:
        """Forget chat data and button payloads older than retention_days; how many chats went.

        Runs between awaits, so no handler sees a chat half expired; a chat in the middle of a
        turn was touched when the turn began, so it is never dropped under its handler.
        """
        now = time.time() if now is None else now
        before = now - self.config.retention_days * DAY
        dropped = [chat_id for chat_id, chat in list(application.chat_data.items()) if not expire_chat(chat, before)]
        for chat_id in dropped:
            application.drop_chat_data(chat_id)  # from the state file too, at the next persistence update
        application.mark_data_for_update_persistence(chat_ids=list(application.chat_data))
        buttons = ButtonStore(application.bot_data.setdefault("buttons", {})).expire(before, now)
        if dropped or buttons:
            log.info("已按保留期限（%d 天）清除 %d 个会话的记录和 %d 个按钮", self.config.retention_days, len(dropped), buttons)
        return len(dropped)

    async def expire_daily(self, application: Application) -> None:
        """`expire` every EXPIRE_EVERY seconds while the bot runs (no JobQueue: it needs APScheduler)."""
        while True:
            await asyncio.sleep(EXPIRE_EVERY)
            try:
                self.expire(application)
            except Exception:  # a failed check is retried tomorrow; answering users matters more
                log.exception("按保留期限清除会话记录失败")

    # --- lifecycle ----------------------------------------------------------------------------

    async def post_init(self, application: Application) -> None:
        self.expire(application)  # the state file as loaded: what is past retention goes before anything else
        self._expiry = asyncio.create_task(self.expire_daily(application), name="telegram-retention")
        try:
            await application.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
        except TelegramError as error:  # the menu is a convenience; the bot works without it
            log.warning("设置命令菜单失败：%s", error)
        log.info("Telegram 机器人 @%s 已启动（%s），Rasa：%s", application.bot.username,
                 "长轮询" if self.config.mode == "polling" else "webhook", self.config.rasa_url)

    async def post_shutdown(self, application: Application) -> None:
        if self._expiry is not None:  # here, not in post_stop: PTB skips that when starting failed after post_init
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
            self._expiry = None
        await self.rasa.aclose()
        log.info("Telegram 机器人已停止")


def build_application(config: BotConfig, rasa: RasaClient | None = None) -> Application:
    """The PTB Application with the assistant's handlers, rate limiter, defaults and persistence."""
    assistant = TelegramAssistant(config, rasa)
    builder: ApplicationBuilder = (
        Application.builder()
        .token(config.token)
        .rate_limiter(AIORateLimiter(max_retries=3))  # waits out Telegram's 429 "retry after" instead of failing
        .concurrent_updates(CONCURRENT_UPDATES)
        # Every text is escaped by to_html(), so HTML is safe and lets titles be bold.
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(assistant.post_init)
        .post_shutdown(assistant.post_shutdown)
    )
    if config.base_url:
        builder = builder.base_url(config.base_url).base_file_url(file_base_url(config.base_url))
    if config.state_file is not None:
        usable_state_file(config.state_file)
        builder = builder.persistence(PicklePersistence(
            config.state_file, store_data=PersistenceInput(bot_data=True, chat_data=True, user_data=False, callback_data=False),
            update_interval=30))
    application = builder.build()
    assistant.register(application)
    return application


def usable_state_file(path: Path) -> None:
    """Make sure the state file can be loaded: a damaged one is moved aside, so the bot still starts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return
    try:
        with open(path, "rb") as handle:
            pickle.load(handle)
    except Exception as error:  # whatever broke the file, starting fresh beats not starting
        broken = path.with_name(path.name + f".broken-{int(time.time())}")
        path.rename(broken)
        log.warning("状态文件无法读取（%s），已移到 %s，从空状态开始", error, broken)


def run(application: Application, config: BotConfig) -> None:
    """Long polling or a webhook, until SIGINT / SIGTERM; network failures at start are retried."""
    if config.mode == "webhook":
        application.run_webhook(
            listen=config.webhook_listen, port=config.webhook_port, url_path=urlparse(config.webhook_url).path.lstrip("/"),
            webhook_url=config.webhook_url, secret_token=config.webhook_secret, allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=-1)
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1)


class RedactSecrets(logging.Filter):
    """Replaces secrets (the bot token) in log records, traces included, wherever they come from."""

    def __init__(self, *secret_values: str) -> None:
        super().__init__()
        self.secrets = [value for value in secret_values if value]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(value in message for value in self.secrets):
            record.msg, record.args = self._redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True

    def _redact(self, text: str) -> str:
        for value in self.secrets:
            text = text.replace(value, "<TELEGRAM_BOT_TOKEN>")
        return text


def configure_logging(token: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(token, token.partition(":")[2]))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # httpx logs every request URL at INFO, and the Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="政务服务智能问答助手：Telegram 机器人（令牌取自环境变量 TELEGRAM_BOT_TOKEN）")
    parser.add_argument("--rasa-url", required=True, help="Rasa REST 渠道地址，例如 http://127.0.0.1:5005/webhooks/rest/webhook")
    parser.add_argument("--state-file", type=Path, help="保存会话状态的文件（默认 var/telegram/state.pickle）")
    args = parser.parse_args(argv)
    try:
        config = BotConfig.from_environment(args.rasa_url, load_settings(), state_file=args.state_file)
    except ValueError as error:
        print(f"✗ {error}", file=sys.stderr)
        return 2
    configure_logging(config.token)
    try:
        run(build_application(config), config)
    except InvalidToken:
        log.error("Telegram 拒绝了机器人令牌（%s 无效或已被撤销）", TOKEN_ENV)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
