"""Reading the tracker and sending replies: the small glue every action shares."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import CONFIRM_OPENER, REFUSAL_OPENING, Reply
from knowledge.records.store import time_on
from knowledge.retrieval.removed import RemovedGuides
from knowledge.retrieval.retriever import Retriever
from knowledge.simplified import as_read
from protocol import SLOT_GUIDE


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    """The text with its buttons, then the machine-readable payload the channels read."""
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None)
    if reply.custom:
        dispatcher.utter_message(json_message=reply.custom)


def text_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def intent_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def intent_ranking(tracker: Tracker) -> list[tuple[str, float]]:
    """The NLU's intents for the latest message, most likely first (without nlu_fallback, which only
    says the first is below the threshold)."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    return [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking
            if isinstance(r, dict) and r.get("name") and r.get("name") != "nlu_fallback"]


def entity(tracker: Tracker, name: str) -> str | None:
    for found in tracker.latest_message.get("entities") or []:
        if found.get("entity") == name and found.get("value"):
            return str(found["value"])
    return None


def options(retriever: Retriever, guide_ids: list[str]) -> list[tuple[str, str, list[str]]]:
    """(id, title, aliases) of the offered guides that still exist in the index."""
    found = []
    for guide_id in guide_ids:
        guide = retriever.guide(guide_id)
        if guide is not None:  # a guide removed by a newer index is no longer offered
            found.append((guide_id, guide["title"], guide["aliases"]))
    return found


def offered_options(retriever: Retriever, guide_ids: list[str]) -> list[tuple[str, str, list[str]]]:
    """(id, title, aliases) of every guide offered, in the order offered: a guide removed by a newer index keeps
    its place (and the name the index remembers, knowledge/retrieval/removed.py), so "1" still picks the first
    one offered, not the guide that moved up into its place."""
    removed = RemovedGuides.of(retriever.data)
    found = []
    for guide_id in guide_ids:
        guide = retriever.guide(guide_id) or removed.get(guide_id) or {"title": "", "aliases": []}
        found.append((guide_id, str(guide["title"]), list(guide.get("aliases") or [])))
    return found


def earlier_messages(tracker: Tracker, within_seconds: float, limit: int) -> list[str]:
    """The user's typed messages before the latest one, most recent first: at most `limit`, sent at most
    `within_seconds` before it (buttons, "/…", are skipped). The action server sees only the messages of the
    tracker (bot/rasa/history_speedups.py), so the caller knows from its slots whether they were answered."""
    return [text for _index, text in earlier_events(tracker, within_seconds, limit) if not text.startswith("/")]


def bot_text_before(tracker: Tracker, index: int | None = None) -> str:
    """The assistant's last words before the user event at `index` (a confirm's "您问的是【X】…吗？"), or ""; by
    default before the message being answered (the last event)."""
    events = tracker.events[:-1] if index is None else tracker.events[:index]
    for event in reversed(events):
        if event.get("event") == "bot" and event.get("text"):
            return str(event["text"])
        if event.get("event") == "user":
            return ""
    return ""


def matter_at_hand(tracker: Tracker, retriever: Retriever) -> str | None:
    """The conversation's guide, if the published index still has it (a removed guide is forgotten). With one, questions
    are retrieved without the names' pairs (`Retriever.run(names=False)`: they would hold the matter whose name the
    question's subject shares, "个体户怎么注销" after 个体工商户设立)."""
    current = tracker.get_slot(SLOT_GUIDE)
    return current if current and retriever.guide(current) else None


def refused_messages(tracker: Tracker, limit: int = 5) -> list[str]:
    """The user's messages the assistant refused as none of its business, one after another right before this one,
    most recent first, in simplified characters (a 转人工 right after "抱歉，这个问题不在我的服务范围内…" is about the last
    refused question). Told by the refusal's opening words, as `bot_text_before` tells a confirm: the action server
    gets only the messages' texts."""
    found: list[str] = []
    before: int | None = None  # the event the refusal answered: the latest message first
    for index, text in earlier_events(tracker, float("inf"), limit):
        if text.startswith("/") or not bot_text_before(tracker, before).startswith(REFUSAL_OPENING):
            break
        found.append(text)
        before = index
    return found


def confirm_ignored_before(tracker: Tracker, title: str) -> bool:
    """Whether the user's previous message, too, went on asking instead of answering a confirm of the guide `title`
    ("您问的是【X】的申请材料吗？" "要钱不" "您问的是【X】的收费标准吗？" "在哪办"): asking a third time would never answer."""
    earlier = earlier_events(tracker, float("inf"), 1)
    opener = f"{CONFIRM_OPENER}{title}】"
    return bool(earlier) and bot_text_before(tracker).startswith(opener) and bot_text_before(tracker, earlier[0][0]).startswith(opener)


def earlier_events(tracker: Tracker, within_seconds: float, limit: int) -> list[tuple[int, str]]:
    """Like `earlier_messages`, with buttons ("/deny") too, each with its index in `tracker.events`; buttons do
    not count towards `limit`. Texts in simplified characters, as the latest message's."""
    found: list[tuple[int, str]] = []
    typed = 0
    latest: float | None = None
    for index in range(len(tracker.events) - 1, -1, -1):
        event = tracker.events[index]
        if event.get("event") != "user":
            continue
        if not isinstance(event.get("timestamp"), (int, float)):
            return []  # how long ago cannot be told: nothing is carried
        stamp = float(event["timestamp"])
        if latest is None:  # the message being answered
            latest = stamp
            continue
        if latest - stamp > within_seconds:
            break
        # As the NLU read it (its first component, bot/rasa/simplified_text.py): the events keep what was typed.
        text = as_read((event.get("text") or "").strip())
        if text:
            found.append((index, text))
            typed += not text.startswith("/")
            if typed >= limit:
                break
    return found


def transcript(tracker: Tracker, timezone: str | None = None) -> list[dict[str, str]]:
    """The conversation so far, user and bot texts, for the staff who take over; each line's time on the deployment's
    clock (settings.yml `staff_timezone`), written like every other time in the records."""
    lines = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            stamp = event.get("timestamp")
            when = time_on(float(stamp), timezone) if isinstance(stamp, (int, float)) else ""
            lines.append({"from": event["event"], "text": event["text"], "time": when})
    return lines


def changes_only(tracker: Tracker, events: list[EventType]) -> list[EventType]:
    """`events` without the slot events that set a slot to the value it already has.

    Every event is stored and replayed by Rasa on every later turn of the conversation: an answer
    used to reset six slots that were already empty, half the slot events of a long chat. The
    comparison runs along the list, so a slot cleared and then set again in one turn keeps both."""
    values: dict[str, Any] = dict(tracker.slots)
    kept = []
    for event in events:
        if event.get("event") == "slot":
            name, value = event.get("name"), event.get("value")
            if name in values and values[name] == value:
                continue
            values[name] = value
        kept.append(event)
    return kept
