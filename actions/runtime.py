"""What every action shares: settings, the records store and its background writer, and small
readers of the tracker. Tests replace `settings` and `records` here (monkeypatch) to point the
actions at a private records file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from knowledge.records.store import Records
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings, load_settings

logger = logging.getLogger("actions")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def records() -> Records:
    return Records(settings().records_db)


# Records are written on one background thread: a locked or full database (a backup, a purge, a
# report being read) costs a log line, never a user's wait. The handoff record is the exception:
# its number goes into the reply, so it is awaited, but only for HANDOFF_WRITE_SECONDS.
writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
HANDOFF_WRITE_SECONDS = 2.0


def record_later(what: str, sender_id: str, write: Callable[[], object]) -> None:
    def run() -> None:
        try:
            write()
        except Exception:
            logger.exception("%s写入失败（对话 %s）", what, sender_id)

    writer.submit(run)


def wait_for_records() -> None:
    """Block until every record submitted so far is written (tests, shutdown)."""
    writer.submit(lambda: None).result()


def send(dispatcher: CollectingDispatcher, reply: replies.Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None)
    if reply.custom:
        dispatcher.utter_message(json_message=reply.custom)


def options(retriever: Retriever, guide_ids: list[str]) -> list[tuple[str, str, list[str]]]:
    options = []
    for guide_id in guide_ids:
        guide = retriever.guide(guide_id)
        if guide is not None:  # a guide removed by a newer index is no longer offered
            options.append((guide_id, guide["title"], guide["aliases"]))
    return options


def entity(tracker: Tracker, name: str) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def transcript(tracker: Tracker) -> list[dict[str, str]]:
    """The conversation so far, user and bot texts, for the staff who take over."""
    lines = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            lines.append({"from": event["event"], "text": event["text"], "time": str(event.get("timestamp", ""))})
    return lines

