"""bot/rasa/speedups.py in the Rasa environment (Python 3.10): the compiled action-response validator
accepts and rejects exactly what Rasa 3.6's own does, with the same exception and message, is the one
RemoteAction.run uses, checks the schema once, and stays out when the versions are not the pinned ones;
event classes resolve as in Rasa; the SQL tracker store returns the trackers Rasa's own returns (new
turns, another process's writes, unsaved events, new sessions, purged rows) reading only new rows, within a bound on the events kept;
the server entry point hands Rasa its API token whatever the token's first character."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.launcher.processes import CHILD_ENV, RASA
from tests.support import ROOT

pytestmark = pytest.mark.integration  # runs in Rasa's Python 3.10 environment

RASA_PYTHON = RASA.parent / "python"

COMPARE = r"""
import asyncio, json, sys, tempfile
from pathlib import Path
import jsonschema
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from bot.rasa import history_speedups, speedups

RESULTS = {
    "empty": {},
    "typical": {"events": [{"event": "slot", "name": "item", "value": "开办企业", "timestamp": None},
                           {"event": "followup", "name": "action_listen"}],
                "responses": [{"text": "需要以下材料", "buttons": [{"title": "1", "payload": "/pick"}]}]},
    "no_events": {"responses": []},
    "unknown_event": {"events": [{"event": "no_such_event"}], "responses": []},
    "slot_without_name": {"events": [{"event": "slot", "value": 1}], "responses": []},
    "events_not_a_list": {"events": {"event": "slot"}, "responses": []},
    "responses_not_objects": {"events": [], "responses": ["text"]},
    "not_an_object": ["events"],
    "bad_timestamp": {"events": [{"event": "action", "name": "x", "timestamp": "yesterday"}]},
}

def outcomes():
    action = RemoteAction("action_answer", None)
    out = {}
    for name, result in RESULTS.items():
        try:
            out[name] = {"ok": action._validate_action_result(json.loads(json.dumps(result)))}
        except Exception as error:
            out[name] = {"type": f"{type(error).__module__}.{type(error).__qualname__}", "message": error.message,
                         "str": str(error), "path": list(error.absolute_path), "validator": error.validator}
    return out

original = RemoteAction._validate_action_result
before = outcomes()

pins = Path(tempfile.mkdtemp()) / "rasa.txt"
pins.write_text("rasa==0.0.1\njsonschema==4.17.3\n")
refused = speedups.apply({}, pins_file=pins)
untouched = RemoteAction._validate_action_result is original
off = speedups.apply({"GOVQA_RASA_SPEEDUPS": "0"})
still_untouched = RemoteAction._validate_action_result is original

# Count metaschema checks from here on: jsonschema.validate does one per call, we one in all.
checks = []
cls = validator_for(RemoteAction.action_response_format_spec())
real_check = cls.check_schema.__func__
cls.check_schema = classmethod(lambda c, schema, *a, **k: (checks.append(1), real_check(c, schema, *a, **k))[1])
applied = speedups.apply({})
after = outcomes()
checks_after = len(checks)
again = speedups.apply({})

# RemoteAction.run reaches the patched validator: an action server answering an invalid event.
class Endpoint(EndpointConfig):
    async def request(self, **kwargs):
        self.calls = getattr(self, "calls", 0) + 1
        return {"events": [{"event": "no_such_event"}], "responses": []}
endpoint = Endpoint(url="http://127.0.0.1:9/webhook")
domain = Domain.from_dict({"actions": ["action_answer"]})
tracker = DialogueStateTracker("u1", domain.slots)
calls_before_run = len(checks)
speedups._validators.clear()
try:
    asyncio.run(RemoteAction("action_answer", endpoint).run(None, None, tracker, domain))
    run_error = None
except Exception as error:
    run_error = f"{type(error).__module__}.{type(error).__qualname__}"
print(json.dumps({"before": before, "after": after, "refused": refused, "untouched": untouched, "off": off,
                  "still_untouched": still_untouched, "applied": applied, "again": again,
                  "is_ours": RemoteAction._validate_action_result is speedups._validate_action_result,
                  "checks": checks_after, "run_error": run_error, "run_checks": len(checks) - calls_before_run,
                  "endpoint_calls": getattr(endpoint, "calls", 0), "compiled": len(speedups._validators)},
                 ensure_ascii=False))
"""


def run_in_rasa(script: str) -> dict:
    """Run a script in Rasa's interpreter; its last line of output, as JSON."""
    done = subprocess.run([str(RASA_PYTHON), "-c", script], cwd=ROOT, env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def compared() -> dict:
    return run_in_rasa(COMPARE)


def test_valid_results_pass_and_invalid_ones_fail_exactly_as_in_unpatched_rasa(compared: dict) -> None:
    before, after = compared["before"], compared["after"]
    assert after == before
    assert before["empty"] == before["typical"] == before["no_events"] == {"ok": True}
    rejected = [name for name, outcome in before.items() if "ok" not in outcome]
    assert len(rejected) == 6
    for name in rejected:
        assert after[name]["type"] == "jsonschema.exceptions.ValidationError"
        assert "Failed to validate Action server response from API" in after[name]["message"]


def test_the_schema_is_checked_once_and_the_patched_function_is_the_one_used(compared: dict) -> None:
    assert compared["applied"] and compared["again"] and compared["is_ours"]
    assert compared["checks"] == 1  # 9 validations; unpatched jsonschema.validate checks the schema on each
    # RemoteAction.run validated the action server's answer with our compiled validator, and failed as Rasa does.
    assert compared["endpoint_calls"] == 1 and compared["compiled"] == 1 and compared["run_checks"] == 1
    assert compared["run_error"] == "jsonschema.exceptions.ValidationError"


def test_other_versions_or_the_switch_leave_rasa_untouched(compared: dict) -> None:
    assert compared["refused"] is False and compared["untouched"]
    assert compared["off"] is False and compared["still_untouched"]


def test_the_server_entry_point_applies_them_before_rasa_starts() -> None:
    for value, state in (("1", "applied"), ("0", "off")):
        done = subprocess.run([str(RASA_PYTHON), "-m", "bot.rasa.server", "--version"], cwd=ROOT,
                              env={**os.environ, **CHILD_ENV, "GOVQA_RASA_SPEEDUPS": value},
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"govqa: Rasa speedups {state}" in done.stderr


PARSE = r"""
import json, sys
from rasa.__main__ import create_argument_parser
from bot.rasa.server import rasa_arguments
argv = rasa_arguments(["run", "--model", "m.tar.gz", "--enable-api"], sys.argv[1])
print(json.dumps(vars(create_argument_parser().parse_args(argv[1:]))["auth_token"]))
"""


@pytest.mark.parametrize("token", ["-Abc_1", "--x", "plain-token_2"])
def test_the_api_token_reaches_rasa_whatever_its_first_character(token: str) -> None:
    # A generated token starts with "-" once in 64: Rasa must still read it as the token, not exit with code 2.
    done = subprocess.run([str(RASA_PYTHON), "-c", PARSE, token], cwd=ROOT, env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == token


TRACKER_STORE = r"""
import asyncio, json, sqlite3, tempfile
from pathlib import Path
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core import events as rasa_events
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.utils.common import all_subclasses
from bot.rasa import history_speedups, speedups

original_retrieve = SQLTrackerStore.retrieve
original_resolve = Event.resolve_by_type
type_names = sorted({cls.type_name for cls in all_subclasses(Event)})

def resolve_outcomes():
    out = {}
    for name, default in [*((name, None) for name in type_names), ("topic", None), ("no_such", None), ("no_such", SlotSet)]:
        try:
            found = Event.resolve_by_type(name, default)
            out[f"{name}/{default is not None}"] = found.__name__ if found else None
        except ValueError as error:
            out[f"{name}/{default is not None}"] = f"ValueError: {error}"
    return out

resolved_before = resolve_outcomes()
assert speedups.apply({})
resolved_after = resolve_outcomes()

domain = Domain.from_dict({"intents": ["ask"], "actions": ["action_answer"],
                           "slots": {"guide_id": {"type": "text", "mappings": [{"type": "custom"}]}}})
db = Path(tempfile.mkdtemp()) / "tracker.sqlite3"
store = SQLTrackerStore(domain, db=str(db))
other = SQLTrackerStore(domain, db=str(db))  # another Rasa process on the same database
deserialised = []
real_deserialise = rasa_events.deserialise_events
rasa_events.deserialise_events = lambda dicts: (deserialised.append(len(dicts)), real_deserialise(dicts))[1]

def turn(number, guide):
    return [UserUttered(f"问题 {number}", {"name": "ask", "confidence": 0.9}), ActionExecuted("action_answer"),
            SlotSet("guide_id", guide), BotUttered(f"回答 {number}"), ActionExecuted("action_listen")]

async def append(via, sender, new_events):
    tracker = await original_retrieve(via, sender) or DialogueStateTracker(sender, domain.slots)
    for event in new_events:
        tracker.update(event)
    await via.save(tracker)

async def compare(sender):
    deserialised.clear()
    ours = await store.retrieve(sender)
    read = sum(deserialised)
    reference = await original_retrieve(store, sender)
    same = (ours is None and reference is None) or (
        ours is not None and reference is not None
        and ours.current_state(EventVerbosity.ALL) == reference.current_state(EventVerbosity.ALL)
        and ours.current_slot_values() == reference.current_slot_values()
        and sorted(vars(ours)) == sorted(vars(reference))  # the same tracker, attribute by attribute
        and {n: (type(v), vars(v)) for n, v in ours.slots.items()} == {n: (type(v), vars(v)) for n, v in reference.slots.items()}
        and all(getattr(ours, name) == getattr(reference, name) for name in
                ("latest_action", "active_loop", "_paused", "followup_action", "model_id", "sender_id", "_max_event_history"))
        and ours.latest_message.as_dict() == reference.latest_message.as_dict()
        and ours.latest_bot_utterance.as_dict() == reference.latest_bot_utterance.as_dict())
    return {"same": same, "read": read, "events": len(reference.events) if reference else 0}

async def scenario():
    steps = {"unknown": await compare("u1")}
    await append(store, "u1", [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                               *turn(1, "a")])
    steps["first"] = await compare("u1")
    await append(store, "u1", turn(2, "b"))
    steps["one_more_turn"] = await compare("u1")
    unsaved = await store.retrieve("u1")
    unsaved.update(SlotSet("guide_id", "never saved"))
    steps["unsaved_events_stay_out"] = await compare("u1")
    changed = await store.retrieve("u1")  # what is done to a retrieved tracker stays in it
    changed.model_id = "set by the processor"
    changed.slots["guide_id"].value = "changed in place"
    changed.latest_action["action_name"] = "changed in place"
    steps["changes_stay_in_the_tracker"] = await compare("u1")
    await append(other, "u1", turn(3, "c"))
    steps["written_by_another_process"] = await compare("u1")
    await append(store, "u1", [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                               *turn(4, "d")])
    steps["new_session"] = await compare("u1")
    await append(store, "u1", turn(5, "e"))
    steps["after_new_session"] = await compare("u1")
    with sqlite3.connect(db) as connection:  # index_builder.py purge deletes rows under a running Rasa
        connection.execute("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE sender_id = 'u1' "
                           "ORDER BY id DESC LIMIT 3 OFFSET 2)")
    steps["rows_purged"] = await compare("u1")
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM events WHERE sender_id = 'u1'")
    steps["conversation_purged"] = await compare("u1")
    history_speedups.CACHED_EVENTS = 10  # a bound on memory: conversations beyond it are read whole, as Rasa does
    for number in range(3):
        await append(store, "u2", [*([ActionExecuted("action_session_start"), SessionStarted(),
                                     ActionExecuted("action_listen")] if number == 0 else []), *turn(number, "f")])
        steps[f"over_the_bound_{number}"] = {**await compare("u2"), "cached": history_speedups.by_conversation(store, "_govqa_sessions").events}
    return steps

print(json.dumps({"resolved_same": resolved_before == resolved_after, "resolved": len(resolved_after),
                  "is_ours": SQLTrackerStore.retrieve is speedups._retrieve_latest_session and speedups.applied(),
                  "steps": asyncio.run(scenario())}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def tracker_store() -> dict:
    return run_in_rasa(TRACKER_STORE)


def test_event_classes_resolve_as_in_unpatched_rasa(tracker_store: dict) -> None:
    assert tracker_store["resolved_same"] and tracker_store["resolved"] > 20


def test_the_tracker_store_returns_what_rasa_does_and_reads_only_new_rows(tracker_store: dict) -> None:
    steps = tracker_store["steps"]
    assert tracker_store["is_ours"]
    assert all(step["same"] for step in steps.values()), steps
    assert steps["unknown"] == {"same": True, "read": 0, "events": 0}
    # Rasa's session filter (timestamp at or after session_started) leaves out action_session_start: 7 of 8.
    assert steps["first"]["read"] == steps["first"]["events"] == 7
    # Known conversations: only the rows saved since (by this process or another) are read.
    assert steps["one_more_turn"]["read"] == 5 and steps["one_more_turn"]["events"] == 12
    assert steps["unsaved_events_stay_out"]["read"] == 0 and steps["unsaved_events_stay_out"]["events"] == 12
    assert steps["written_by_another_process"]["read"] == 5
    # A new session or vanished rows: the whole session is read again, as Rasa does.
    assert steps["new_session"]["read"] == steps["new_session"]["events"] == 7
    assert steps["after_new_session"]["read"] == 5
    assert steps["rows_purged"]["read"] == steps["rows_purged"]["events"] == 9
    assert steps["conversation_purged"] == {"same": True, "read": 0, "events": 0}
    # Over CACHED_EVENTS the least recently active conversations are dropped and read whole next time.
    assert steps["over_the_bound_0"] == {"same": True, "read": 7, "events": 7, "cached": 7}
    assert steps["over_the_bound_1"] == {"same": True, "read": 5, "events": 12, "cached": 0}
    assert steps["over_the_bound_2"] == {"same": True, "read": 17, "events": 17, "cached": 0}
