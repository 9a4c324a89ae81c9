"""The Telegram channel: a python-telegram-bot Application in front of the Rasa assistant, and the
command line that runs it.

Each Telegram chat is one Rasa conversation (sender ``tg-<chat id>``, a new one after /reset).
Text goes to Rasa through bot.channels.rasa_client; Rasa's buttons come back as inline keyboards; a
handoff is posted, with the chat's transcript, to the staff chat when one is configured.

    TELEGRAM_BOT_TOKEN=123456:ABC… python -m bot.channels.telegram.app --rasa-url http://127.0.0.1:5005/webhooks/rest/webhook

`make run` starts it (bot/launcher/stack.py) when TELEGRAM_BOT_TOKEN is set; config.py lists the
environment and settings it reads. The package's modules:

- app.py           building the Application, starting and stopping it, main();
- config.py        BotConfig, from the environment and settings.yml;
- handlers.py      one handler per kind of update, and their wiring;
- conversation.py  a turn: the message to Rasa, the reply to the chat;
- chats.py         what is kept per chat, and its retention;
- sending.py       messages, keyboards and "typing…" on their way to the chat;
- staff.py         the handoff notice to the staff chat;
- desk.py          the staff desk: clerks' replies delivered to chats, held chats' messages to the clerk;
- formatting.py    splitting, HTML, keyboards: what a message looks like;
- texts.py         what the bot says itself;
- logs.py          logging, without the token.

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
import pickle
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults, PersistenceInput, PicklePersistence

from bot.channels.rasa_client import RasaClient
from bot.channels.telegram.chats import expire, expire_daily
from bot.channels.telegram.config import TOKEN_ENV, BotConfig
from bot.channels.telegram.conversation import TelegramAssistant
from bot.channels.telegram.desk import DeskDelivery
from bot.channels.telegram.handlers import register
from bot.channels.telegram.logs import configure_logging
from bot.channels.telegram.texts import COMMANDS
from knowledge.records.logs import private_process
from knowledge.settings import load_settings

log = logging.getLogger("bot.telegram")  # one name for the whole channel (see chats.py)

CONCURRENT_UPDATES = 32  # one slow Rasa turn must not hold up other chats; one chat stays in order (a lock)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]  # what the handlers handle; Telegram sends nothing else


class Lifecycle:
    """What runs as the Application starts and stops: the retention check, the staff desk's delivery of
    clerks' replies (desk.py), the command menu, closing Rasa's client."""

    def __init__(self, assistant: TelegramAssistant) -> None:
        self.assistant = assistant
        self.config = assistant.config
        self._expiry: asyncio.Task[None] | None = None
        self._delivery: asyncio.Task[None] | None = None

    async def post_init(self, application: Application) -> None:
        expire(application, self.config.retention_days)  # the state file as loaded: what is past retention goes before anything else
        self._expiry = asyncio.create_task(expire_daily(application, self.config.retention_days), name="telegram-retention")
        if self.config.records_db is not None:
            delivery = DeskDelivery(self.config.records_db, interval=self.config.desk_poll_seconds, url=self.config.database_url,
                                    timezone=self.config.staff_timezone)
            self._delivery = asyncio.create_task(delivery.run(application.bot), name="telegram-desk-delivery")
        try:
            await application.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
        except TelegramError as error:  # the menu is a convenience; the bot works without it
            log.warning("设置命令菜单失败：%s", error)
        log.info("Telegram 机器人 @%s 已启动（%s），Rasa：%s", application.bot.username,
                 "长轮询" if self.config.mode == "polling" else "webhook", self.config.rasa_url)

    async def post_shutdown(self, application: Application) -> None:
        for task in (self._expiry, self._delivery):  # here, not in post_stop: PTB skips that when starting failed after post_init
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._expiry = self._delivery = None
        await self.assistant.rasa.aclose()
        log.info("Telegram 机器人已停止")


def build_application(config: BotConfig, rasa: RasaClient | None = None) -> Application:
    """The PTB Application with the assistant's handlers, rate limiter, defaults and persistence."""
    assistant = TelegramAssistant(config, rasa)
    lifecycle = Lifecycle(assistant)
    builder: ApplicationBuilder = (
        Application.builder()
        .token(config.token)
        .rate_limiter(AIORateLimiter(max_retries=3))  # waits out Telegram's 429 "retry after" instead of failing
        .concurrent_updates(CONCURRENT_UPDATES)
        # Every text is escaped by to_html(), so HTML is safe and lets titles be bold.
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(lifecycle.post_init)
        .post_shutdown(lifecycle.post_shutdown)
    )
    if config.base_url:
        builder = builder.base_url(config.base_url).base_file_url(file_base_url(config.base_url))
    if config.state_file is not None:
        usable_state_file(config.state_file)
        builder = builder.persistence(PicklePersistence(
            config.state_file, store_data=PersistenceInput(bot_data=True, chat_data=True, user_data=False, callback_data=False),
            update_interval=30))
    application = builder.build()
    register(application, assistant)
    return application


def file_base_url(base_url: str) -> str:
    """The file download URL that goes with a Bot API base URL (…/bot → …/file/bot)."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url


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


def main(argv: list[str] | None = None) -> int:
    """The command line: 0 when stopped, 1 when Telegram refuses the token, 2 when the configuration is unusable."""
    parser = argparse.ArgumentParser(description="政务服务智能问答助手：Telegram 机器人（令牌取自环境变量 TELEGRAM_BOT_TOKEN）")
    parser.add_argument("--rasa-url", required=True, help="Rasa REST 渠道地址，例如 http://127.0.0.1:5005/webhooks/rest/webhook")
    parser.add_argument("--state-file", type=Path, help="保存会话状态的文件（默认 var/telegram/state.pickle）")
    args = parser.parse_args(argv)
    private_process()
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
