"""Private log lines: every record of a process masks personal numbers and escapes control characters.

A log keeps what users sent only masked (the same rule as the records: knowledge/records/privacy.py),
URLs included ("/api/v1/guides?q=13812345678", percent-encoded or not), and no one can forge a log
line by sending a newline: control characters are written as escapes ("\\n"). Installed once per
process, before anything logs; it works for every logger (ours, Rasa's, Sanic's, uvicorn's access
log) because it cleans the record when it is created, keeping the shape of its arguments (uvicorn's
access formatter unpacks them).

Usage::

    from knowledge.records.logs import install_private_logging
    install_private_logging()
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from knowledge.records.privacy import mask_personal_data

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def private_text(text: str) -> str:
    """`text` as a log may keep it: percent-encoding decoded (so "%E6%89%8B138…" cannot hide a
    number), personal numbers masked, control characters escaped."""
    if "%" in text:
        text = unquote(text, errors="replace")
    return _CONTROL.sub(_escape, mask_personal_data(text))


class Public(str):
    """A string the program made itself (an index version such as 20261205-074728-9c80ed, a file name), logged
    as it is: masking would turn the version's digits into an ID number's mask and the operator could not
    tell which version a server serves. Never wrap anything a user typed in it."""


def _clean(value: Any) -> Any:
    if isinstance(value, Public):  # not masked, but still one line (it may come from a file, e.g. CURRENT)
        return _CONTROL.sub(_escape, value)
    return private_text(value) if isinstance(value, str) else value


def install_private_logging() -> None:
    """Clean every log record this process creates from now on (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "private", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.msg = _clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            # A trace can quote what the user sent (an encoding error shows the string): mask it too;
            # its own line breaks stay, they are the trace's.
            record.exc_text = mask_personal_data(logging.Formatter().formatException(record.exc_info))
        return record

    factory.private = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def private_process() -> None:
    """For a server's main(): what it writes is its user's alone (umask 077: files 600, folders 700;
    conversations, records, logs and secrets live under var/), and its log lines are private."""
    os.umask(0o077)
    install_private_logging()


def tighten(*paths: Path) -> None:
    """Make existing files 600 and folders 700 (created before the umask was set, e.g. by an older
    version); missing paths are skipped."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.chmod(0o700 if path.is_dir() else 0o600)
