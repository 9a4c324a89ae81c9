"""The Telegram bot's configuration: `BotConfig`, read from the environment and settings.yml.

The environment (secrets and per-deployment ids, never in settings.yml or argv):

- TELEGRAM_BOT_TOKEN      the bot's token (required; never logged, never in argv);
- TELEGRAM_API_BASE_URL   a self-hosted Bot API server, e.g. ``http://127.0.0.1:8081/bot``;
- TELEGRAM_STAFF_CHAT_ID  the chat (usually a group, e.g. ``-1001234567890``) that receives handoffs;
- TELEGRAM_WEBHOOK_SECRET the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (webhook mode;
  a random one per start when unset).

settings.yml chooses long polling (default) or a webhook (telegram_mode, telegram_webhook_*), the
longest accepted message (message_max_chars), Rasa's timeout and retries, the hotline, how long
chats are remembered (retention_days), and the records database the staff desk shares with the bot
(records_db, desk_poll_seconds: bot/channels/telegram/desk.py).

Usage::

    config = BotConfig.from_environment("http://127.0.0.1:5005/webhooks/rest/webhook", load_settings())
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.settings import Settings

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
STAFF_CHAT_ENV = "TELEGRAM_STAFF_CHAT_ID"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"


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
    records_db: Path | None = None  # the staff desk's lines (knowledge/records/desk.py); None: no desk
    database_url: str = field(default="", repr=False)  # the records on PostgreSQL (holds a password: never shown)
    staff_timezone: str | None = None  # the clock the desk's lines are stamped on (settings.yml); None: the server's
    desk_poll_seconds: float = 2.0
    index_dir: Path | None = None  # the published knowledge base: /start's example questions (knowledge/examples.py)

    @classmethod
    def from_environment(cls, rasa_url: str, settings: Settings, env: Mapping[str, str] | None = None,
                         state_file: Path | None = None) -> BotConfig:
        """The configuration `make run` provides; ValueError (in Chinese, for the operator) when it is unusable."""
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
            records_db=settings.records_db, database_url=settings.database_url, desk_poll_seconds=settings.desk_poll_seconds,
            staff_timezone=settings.staff_timezone,
            index_dir=settings.index_dir,
            # Without a configured secret a fresh one per start still keeps strangers out: setWebhook registers it.
            webhook_secret=env.get(WEBHOOK_SECRET_ENV, "").strip() or secrets.token_urlsafe(32),
        )
