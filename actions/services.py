"""What the actions need from outside the process, handed to each action when the server starts
(rasa-sdk style: the knowledge base is passed into the action, not reached through globals).

Usage::

    services = Services.from_settings(load_settings())
    services.knowledge.start()
    action = ActionAnswer(services)

Tests build `Services` over an already loaded retriever and a records file in a temporary folder.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from actions.knowledge_service import KnowledgeService
from knowledge.records.store import Records
from knowledge.settings import Settings

logger = logging.getLogger("actions")
T = TypeVar("T")


class RecordWriter:
    """The records store behind one background thread.

    A locked or full database (a backup, a purge, a report being read) costs a log line, never a
    user's wait. The handoff record is the exception: its number goes into the reply, so it is
    awaited (`now`), but only for `wait_seconds`.
    """

    def __init__(self, store: Records, wait_seconds: float = 2.0) -> None:
        self.store = store
        self.wait_seconds = wait_seconds
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")

    def later(self, what: str, sender_id: str, write: Callable[[Records], object]) -> None:
        """Write in the background; `what` names the record in the log line if it fails."""
        def run() -> None:
            try:
                write(self.store)
            except Exception:
                logger.exception("%s写入失败（对话 %s）", what, sender_id)

        self._thread.submit(run)

    async def now(self, what: str, sender_id: str, write: Callable[[Records], T]) -> T | None:
        """Write and wait at most `wait_seconds` for the result; None if it failed or is late."""
        future = self._thread.submit(write, self.store)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.wait_seconds)
        except Exception:
            # Timed out (the write may still land later) or failed: the user still gets an answer.
            logger.exception("%s写入失败或超时（对话 %s）", what, sender_id)
            return None

    def wait(self) -> None:
        """Block until every record submitted so far is written (tests, shutdown)."""
        self._thread.submit(lambda: None).result()


@dataclass
class Services:
    """The settings, the knowledge base (one index version per turn) and the records."""

    settings: Settings
    knowledge: KnowledgeService
    records: RecordWriter

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """The production wiring; the knowledge base is loaded later, by `knowledge.start()`."""
        return cls(settings, KnowledgeService(settings), RecordWriter(Records.from_settings(settings)))
