"""Faults with the real servers: a records database that cannot be written never stops the chat;
the failure is logged for the operator."""

from __future__ import annotations

import sqlite3
import time

from tests.support import assert_guide_answer
from tests.support.stack import Assistant


def _log_mentions(assistant: Assistant, text: str, timeout: float = 60) -> bool:
    log = assistant.stack.logs / "actions.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.5)
    return False


def test_a_locked_records_database_never_stops_the_chat(assistant: Assistant) -> None:
    assistant.chat("warm").say("开办企业需要什么材料")  # the records file and its tables exist
    locker = sqlite3.connect(assistant.settings.records_db, timeout=1)
    locker.execute("BEGIN EXCLUSIVE")  # as a long backup or a stuck admin tool would
    try:
        chat = assistant.chat("locked")
        assert_guide_answer(chat.say("用水报装要什么材料"), "water-connection", "申请材料")
        rating = chat.say("/feedback_good")
        assert rating.text
        handoff = chat.say("转人工")
        assert handoff.payload("handoff") is not None
        assert assistant.settings.hotline in handoff.text
        # Held until the writer gives up (sqlite's busy timeout), so the failure is really hit.
        assert _log_mentions(assistant, "写入失败"), "the failed write was not logged"
    finally:
        locker.rollback()
        locker.close()
