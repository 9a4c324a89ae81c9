"""The conversation's recent answers, so a rating names the answer it rates.

Every answer gets an id (`new_answer_id`), which travels in its custom payload and its rating
buttons (protocol.rating_payload). The answer action keeps the last RECENT_ANSWERS answers
``{id, question, guide_id, section, index_version}`` in the `answers` slot (`remember`), and a
rating looks its id up there (`find`): an old button rates its own answer, an id that is not
there (older than the last RECENT_ANSWERS answers, or from another conversation) rates nothing.

Kept in the tracker rather than in the records database: the lookup needs no database read while
the user waits, an id only means something in its own conversation (a guessed or copied id cannot
rate somebody else's answer), and the memory is bounded and goes with the conversation.

Usage::

    answer_id = new_answer_id()                      # "kqzvtmwrbahe"
    events = remember(tracker, events)               # after an action that answered
    find(tracker, "kqzvtmwrbahe")                    # {"id": …, "question": …, "guide_id": …} or None
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.conversation import bot_text_before
from actions.replies import answer_opening
from protocol import ANSWER_ID_PATTERN, SLOT_ANSWERS, SLOT_LAST_ANSWER

RECENT_ANSWERS = 10  # how many answers of a conversation its rating buttons can still rate
_ID = re.compile(ANSWER_ID_PATTERN)


def new_answer_id() -> str:
    """A fresh answer id: 12 random lowercase letters (protocol.ANSWER_ID_PATTERN)."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))


def is_answer_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def recent(tracker: Tracker) -> list[dict[str, Any]]:
    """The remembered answers, oldest first (whatever an older tracker holds is read defensively)."""
    answers = tracker.get_slot(SLOT_ANSWERS)
    return [a for a in answers if isinstance(a, dict) and is_answer_id(a.get("id"))] if isinstance(answers, list) else []


def remember(tracker: Tracker, events: list[EventType]) -> list[EventType]:
    """`events`, plus the new `answers` when they set `last_answer` (the action gave an answer)."""
    answered = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == SLOT_LAST_ANSWER
                and isinstance(e.get("value"), dict) and e["value"].get("id")]
    if not answered:
        return events
    kept = [*recent(tracker), *answered][-RECENT_ANSWERS:]
    return [*events, SlotSet(SLOT_ANSWERS, kept)]


def find(tracker: Tracker, answer_id: str | None) -> dict[str, Any] | None:
    """The remembered answer with this id; None when it is not (or no longer) remembered."""
    if not is_answer_id(answer_id):
        return None
    return next((a for a in reversed(recent(tracker)) if a["id"] == answer_id), None)


def latest(tracker: Tracker) -> dict[str, Any] | None:
    """The conversation's latest answer (what a typed "回答得很好" rates), or None before any."""
    last = tracker.get_slot(SLOT_LAST_ANSWER)
    return last if isinstance(last, dict) and last else None


def just_answered(tracker: Tracker, title_of: Callable[[str], str | None]) -> dict[str, Any] | None:
    """The conversation's latest answer when it is the assistant's last message before this one ("不是" right after it
    says the answer missed; after anything else it is a reply to that), else None. Told by the text alone (the action
    server gets only the messages' texts and times, bot/rasa/history_speedups.py): an answer opens with its guide's
    title in 【】 (replies.answer_opening); `title_of` gives a guide's title (None for a guide no longer published)."""
    last = latest(tracker)
    title = title_of(str(last.get("guide_id") or "")) if last else None
    if last is None or not title:
        return None
    said = bot_text_before(tracker)  # before the message being answered
    return last if said.startswith(answer_opening(title)) else None
