"""Pinned adaptations of Rasa's own code where Rasa offers no option: each removes work that need not
run on every turn, and none changes what Rasa accepts, rejects or answers.

Applied by bot/rasa/server.py before Rasa starts, unless GOVQA_RASA_SPEEDUPS=0 (benchmarks measure
both ways in one run: benchmarks/bench_turn_cpu.py). Each adaptation names the exact library
versions it was read against (requirements/rasa.txt); on any other version it refuses, logs a
warning and leaves Rasa untouched, so a Rasa upgrade can never run a patch written for other code.

1. ``RemoteAction._validate_action_result`` (rasa/core/actions/action.py, Rasa 3.6.21) calls
   ``jsonschema.validate(result, schema)`` on every action server response. jsonschema 4.17's
   ``validate`` first checks the schema against its metaschema (``cls.check_schema``), and Rasa's
   events schema is large: py-spy put ~30% of the Rasa server's CPU under load in that re-check
   (issue 14). The schema is a constant (``action_response_format_spec`` is a static method that
   returns the same structure every time), so it is checked once and compiled into one validator;
   each response is then validated exactly as ``jsonschema.validate`` does it: the same validator
   class (``validator_for``), the same error (``best_match`` over ``iter_errors``), the same
   message suffix Rasa adds, the same exception (``jsonschema.ValidationError``) re-raised.
2. ``Event.resolve_by_type`` (rasa/shared/core/events.py) walks every subclass of ``Event``
   (``all_subclasses``, with an ``inspect.isabstract`` test each) for every event it deserialises:
   ~16% of the Rasa server's CPU at turn 100 of a conversation (benchmarks/bench_long_conversation.py).
   The classes are fixed once Rasa is imported, so the first match per type name is looked up in a
   table built from the same walk, in the same order; an unknown name rebuilds the table before it
   falls back to Rasa's own answer (``default``, None for "topic", or the same ValueError).
3. ``SQLTrackerStore.retrieve`` (rasa/core/tracker_store.py) reads, parses and replays every event of
   the conversation's session on every turn, so a turn costs more the longer the conversation
   (turn 100 cost ~3x turn 5, ~60% of it in this retrieval; issue 14). The store now keeps the
   deserialised events of recently active conversations (at most history_speedups.CACHED_EVENTS) and reads only the rows
   added since (by any Rasa process sharing the database), then replays all of them into a new
   tracker exactly as Rasa's ``from_dict`` does. It rereads the whole session as Rasa does when a new
   session started (a ``session_started`` row), when rows it had read are gone (``index_builder.py
   purge``) and on first use; rows are kept with Rasa's own session filter (timestamp at or after the
   session's start). What is cached is only what the database holds: events a turn adds reach the
   cache only by being saved and read back. The tracker built from them is kept too: when the new rows
   only append events (no restart, undo, new session or loop change), they are applied to it, and the
   caller gets a clone of it (bot/rasa/history_speedups.py: clone, appends_only), not a replay of all.
4–5. RulePolicy's states replayed only for the events added since its last prediction, and the action
   server sent only the messages among the events: bot/rasa/history_speedups.py.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.rasa import history_speedups

logger = logging.getLogger(__name__)

ENABLE_ENV = "GOVQA_RASA_SPEEDUPS"  # "0" leaves Rasa exactly as installed
PINS_FILE = Path(__file__).resolve().parents[2] / "requirements" / "rasa.txt"
# The distributions whose code the adaptations below were read against.
PINNED_PACKAGES = ("rasa", "jsonschema", "sqlalchemy")
_MARK = history_speedups.MARK  # set on our replacement functions: applying twice is a no-op


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(ENABLE_ENV, "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


def pinned_versions(pins_file: Path = PINS_FILE) -> dict[str, str]:
    """{package: version} for PINNED_PACKAGES, from the exact pins in requirements/rasa.txt."""
    found: dict[str, str] = {}
    for line in pins_file.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)", line)
        if match and match.group(1).lower() in PINNED_PACKAGES:
            found[match.group(1).lower()] = match.group(2)
    return found


def installed_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for name in PINNED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    import rasa  # the version Rasa reports about itself, which is what its code is

    found["rasa"] = str(rasa.__version__)
    return found


def version_mismatches(pins_file: Path = PINS_FILE) -> list[str]:
    """'rasa 3.7.0 (pinned 3.6.21)' for every pinned package whose installed version differs."""
    try:
        pinned = pinned_versions(pins_file)
    except OSError as error:
        return [f"{pins_file} unreadable ({error})"]
    installed = installed_versions()
    return [f"{name} {installed.get(name)} (pinned {pinned.get(name, 'nowhere')})"
            for name in PINNED_PACKAGES if pinned.get(name) != installed.get(name)]


# --- 1. the action response schema, checked once -------------------------------------------------
_validators: dict[Callable[[], dict[str, Any]], Any] = {}


def _compiled_validator(spec: Callable[[], dict[str, Any]]) -> Any:
    """A jsonschema validator for spec()'s schema, built (and the schema checked) on first use.

    What jsonschema.validate does before validating, done once per schema function: pick the
    validator class for the schema's $schema (the latest draft when absent), check the schema
    against its metaschema (raises SchemaError, as validate would, and then nothing is cached)."""
    validator = _validators.get(spec)
    if validator is None:
        from jsonschema.validators import validator_for

        schema = spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[spec] = cls(schema)
    return validator


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result of Rasa 3.6.21 with a validator compiled once."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import DOCS_BASE_URL

    try:
        # type(self).action_response_format_spec: the static method itself, a stable cache key
        # (a subclass overriding it gets a validator of its own).
        error = best_match(_compiled_validator(type(self).action_response_format_spec).iter_errors(result))
        if error is not None:
            raise error
        return True
    except ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


setattr(_validate_action_result, _MARK, True)


# --- 2. the event class of a type name, looked up in a table ------------------------------------
_event_classes: dict[str, Any] = {}


def _resolve_event_type(type_name: str, default: Any = None) -> Any:
    """Event.resolve_by_type of Rasa 3.6.21: the first non-abstract subclass (in all_subclasses order)
    whose type_name matches; else None for "topic", else `default`, else ValueError."""
    if type_name not in _event_classes:
        from rasa.shared.core.events import Event
        from rasa.shared.utils.common import all_subclasses

        _event_classes.clear()
        for cls in all_subclasses(Event):
            _event_classes.setdefault(cls.type_name, cls)
    found = _event_classes.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # as Rasa: backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


setattr(_resolve_event_type, _MARK, True)


# --- 3. the tracker store reads only what is new --------------------------------------------------
# Sessions kept: history_speedups.CACHED_EVENTS events over all conversations (~600 of 10 turns, ~26 of 100).


@dataclass
class _Session:
    """The events of one sender's latest session as read from the database."""

    last_id: int  # the highest row id read
    rows: int  # rows read (an event Rasa cannot deserialise is a row without an event)
    start: float | None  # timestamp of the session's session_started row (Rasa's filter), None if none
    events: list[Any]
    # DialogueStateTracker.from_events of `events`, never handed out (callers get clones), and the names of
    # the loops activated in `events`: new events that only append are applied to it instead of a replay.
    tracker: Any = None
    loops: frozenset[str] = frozenset()


async def _retrieve_latest_session(self: Any, sender_id: str) -> Any:
    """SQLTrackerStore.retrieve of Rasa 3.6.21 (the latest session's tracker, None when there are no
    events or no domain), reading from the database only the rows added since the last call."""
    from rasa.shared.core.events import SessionStarted, deserialise_events

    cache = history_speedups.by_conversation(self, "_govqa_sessions")
    table = self.SQLEvent
    with self.session_scope() as session:
        known = cache.take(sender_id)
        if known is not None:
            rows = (session.query(table.id, table.type_name, table.timestamp, table.data)
                    .filter(table.sender_id == sender_id, table.id > known.last_id).order_by(table.id).all())
            old = session.query(table.id).filter(table.sender_id == sender_id, table.id <= known.last_id)
            if known.start is not None:
                old = old.filter(table.timestamp >= known.start)
            # A new session, or rows read before that are gone: read the session again, as Rasa does.
            if any(row.type_name == SessionStarted.type_name for row in rows) or old.count() != known.rows:
                known = None
            elif known.start is not None:
                rows = [row for row in rows if row.timestamp is not None and row.timestamp >= known.start]
        if known is None:
            rows = (self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                    .with_entities(table.id, table.type_name, table.timestamp, table.data).all())
            starts = [row.timestamp for row in rows if row.type_name == SessionStarted.type_name]
            known = _Session(last_id=0, rows=0, start=max(starts) if starts else None, events=[])
        new_events = deserialise_events([json.loads(row.data) for row in rows])
        known.events.extend(new_events)
        known.rows += len(rows)
        known.last_id = max([known.last_id, *(row.id for row in rows)])
    if not known.rows:
        return None
    cache.keep(sender_id, known)
    if not self.domain:
        return None
    return _tracker_of(known, sender_id, new_events, self.domain.slots)


def _tracker_of(known: _Session, sender_id: str, new_events: list[Any], slots: Any) -> Any:
    """A new tracker replaying the session's events, as DialogueStateTracker.from_dict does after
    deserialising: DialogueStateTracker.from_events. When the events read this time only append
    (history_speedups.appends_only: applied_events of the session is the previous one plus them), they
    are applied, in order, to the tracker built last time, which is then cloned (history_speedups.clone)."""
    from rasa.shared.core.trackers import DialogueStateTracker

    base = known.tracker
    if (base is None or len(base.events) + len(new_events) != len(known.events)
            or not history_speedups.appends_only(new_events, known.loops) or history_speedups.replays_differently(new_events)
            or history_speedups.slot_signature(base.slots.values()) != history_speedups.slot_signature(slots)):
        base = DialogueStateTracker.from_events(sender_id, list(known.events), slots)
        known.loops = history_speedups.loop_names(known.events)
    else:
        for event in new_events:  # as recreate_from_dialogue: the events, then each applied to the tracker
            base.events.append(event)
            event.apply_to(base)
    known.tracker = base
    return history_speedups.clone(base)


setattr(_retrieve_latest_session, _MARK, True)


def apply(environ: Mapping[str, str] | None = None, *, pins_file: Path = PINS_FILE) -> bool:
    """Install the adaptations into the imported Rasa; False (with a log line) when they were not."""
    if not enabled(environ):
        logger.info("Rasa speedups off (%s=0): Rasa runs as installed", ENABLE_ENV)
        return False
    mismatches = version_mismatches(pins_file)
    if mismatches:
        logger.warning("Rasa speedups NOT applied, Rasa left untouched: they were written for the versions pinned in "
                       "requirements/rasa.txt, installed are %s", ", ".join(mismatches))
        return False
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import Event

    if not getattr(RemoteAction._validate_action_result, _MARK, False):
        RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    if not getattr(Event.resolve_by_type, _MARK, False):
        Event.resolve_by_type = staticmethod(_resolve_event_type)  # type: ignore[method-assign,assignment]
    if not getattr(SQLTrackerStore.retrieve, _MARK, False):
        SQLTrackerStore.retrieve = _retrieve_latest_session  # type: ignore[method-assign]
    history_speedups.apply()
    logger.info("Rasa speedups applied: action responses validated with a schema compiled once, event classes "
                "looked up in a table, the SQL tracker store reading only new events, rule states computed once "
                "per action, only the messages sent to the action server")
    return True


def applied() -> bool:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import Event

    return history_speedups.applied() and all(getattr(function, _MARK, False) for function in
                                              (RemoteAction._validate_action_result, Event.resolve_by_type, SQLTrackerStore.retrieve))
