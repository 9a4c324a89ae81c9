"""The Telegram bot's logging: one stream handler, with the bot token redacted everywhere.

PTB puts the token in InvalidToken's message and httpx in every request URL (…/bot<token>/…), so
the token is replaced in every record, traces included, and httpx's request lines are not logged.

Usage::

    configure_logging(config.token)
"""

from __future__ import annotations

import logging


class RedactSecrets(logging.Filter):
    """Replaces secrets (the bot token) in log records, traces included, wherever they come from."""

    def __init__(self, *secret_values: str) -> None:
        super().__init__()
        self.secrets = [value for value in secret_values if value]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(value in message for value in self.secrets):
            record.msg, record.args = self._redact(message), None
        # Format the trace now, so that the text the handler prints is the redacted one.
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
    """INFO and up to stderr (the launcher sends it to logs/telegram.log), without the token."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # The part after the colon alone too: that is the secret (the bot id before it is public), wherever it shows up.
    handler.addFilter(RedactSecrets(token, token.partition(":")[2]))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # httpx logs every request URL at INFO, and the Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
