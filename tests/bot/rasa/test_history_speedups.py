"""bot/rasa/history_speedups.py in the Rasa environment (Python 3.10): RulePolicy, trained on our rules
and domain, gets exactly the states and makes exactly the predictions unpatched Rasa does at every step
of conversations with forms, restarts, undos, new sessions and trackers rebuilt from stored events,
while replaying only new events; the action server call is Rasa's own but for the events, which are
the messages, and our actions read nothing else of the events (the transcript is the same); the
tracker's applied events are Rasa's, the very objects, computed by Rasa only when events did not just append; a
copy of the tracker is Rasa's copy (attributes, events, slots, messages, state) and independent of the next."""

from __future__ import annotations

import ast

import pytest
from rasa_sdk import Tracker

from actions.conversation import transcript
from tests.bot.rasa.test_speedups import run_in_rasa
from tests.support import ROOT

pytestmark = pytest.mark.integration  # runs in Rasa's Python 3.10 environment

COMPARE = r"""
import asyncio, json, operator, tempfile
from pathlib import Path
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, BotUttered, DefinePrevUserUtteredFeaturization,
                                     Restarted, SessionStarted, SlotSet, UserUttered, UserUtteranceReverted)
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.utils.endpoints import EndpointConfig
from bot.rasa import history_speedups, speedups

domain = Domain.load("domain.yml")
trackers = TrainingDataGenerator(StoryGraph(YAMLStoryReader(domain).read_from_file("data/rules.yml")), domain,
                                 augmentation_factor=0).generate()
policy = RulePolicy.create({**RulePolicy.get_default_config(), "core_fallback_threshold": 0.3,
                            "core_fallback_action_name": "action_answer", "enable_fallback_prediction": True},
                           LocalModelStorage(Path(tempfile.mkdtemp())), Resource("rules"), ExecutionContext(GraphSchema({}), "test"))
policy.train(trackers, domain)
original_states = RulePolicy._prediction_states
original_format = RemoteAction._action_call_format
assert speedups.apply({})
history_speedups.ADOPT_AT_MOST = 8  # these conversations are short: a turn's 3 read back, not a whole one

replayed = []
real_update = DialogueStateTracker.update
def counting_update(self, event, domain=None):
    replayed.append(1)
    return real_update(self, event, domain)

def user(text, intent, featurize=True):
    return [UserUttered(text, {"name": intent, "confidence": 0.9}), *([DefinePrevUserUtteredFeaturization(False)] if featurize else [])]

def answer(action="action_answer", guide="g1"):
    return [ActionExecuted(action), SlotSet("guide_id", guide), BotUttered(f"回答 {guide}", {"custom": {"kind": "answer"}}),
            ActionExecuted("action_listen")]

start = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
form = [*user("回答得不好", "feedback_bad"), ActionExecuted("action_record_feedback"), ActionExecuted("feedback_form"),
        ActiveLoop("feedback_form"), SlotSet("requested_slot", "feedback_comment"), BotUttered("缺了什么？"),
        ActionExecuted("action_listen"), *user("没说费用", "nlu_fallback", False), ActionExecuted("feedback_form"),
        SlotSet("feedback_comment", "没说费用"), ActiveLoop(None), SlotSet("requested_slot", None),
        ActionExecuted("action_save_feedback_comment"), BotUttered("谢谢"), ActionExecuted("action_listen")]
CONVERSATIONS = {
    "plain": [*start, *user("要什么材料", "ask_materials"), *answer(), *user("要多久", "ask_time_limit"), *answer(guide="g2"),
              *user("你好", "greet"), ActionExecuted("action_greet"), BotUttered("您好"), ActionExecuted("action_listen"),
              *user("谢谢", "thank"), *answer()],
    "form": [*start, *user("要什么材料", "ask_materials"), *answer(), *form, *user("要多久", "ask_time_limit"), *answer(),
             *user("差评", "feedback_bad"), ActionExecuted("action_record_feedback"), ActionExecuted("feedback_form"),
             ActiveLoop("feedback_form"), BotUttered("缺了什么？"), ActionExecuted("action_listen"), *user("转人工", "request_human")],
    "restart": [*start, *user("要什么材料", "ask_materials"), *answer(), Restarted(), ActionExecuted("action_listen"),
                *user("要多久", "ask_time_limit"), *answer()],
    "undo": [*start, *user("要什么材料", "ask_materials"), *answer(), UserUtteranceReverted(), *user("要多久", "ask_time_limit"),
             ActionExecuted("action_answer"), ActionReverted(), *answer(action="action_handoff")],
    "sessions": [*start, *user("要什么材料", "ask_materials"), *answer(), *start, *user("要多久", "ask_time_limit"), *answer()],
    "no_session": [ActionExecuted("action_listen"), *user("要什么材料", "ask_materials"), *answer()],
}
# Conversations the assistant can have: every action one of them runs is in domain.yml (or Rasa's own).
unknown = {e.action_name for events in CONVERSATIONS.values() for e in events if isinstance(e, ActionExecuted)} - set(domain.action_names_or_texts)
assert not unknown, f"not in domain.yml: {sorted(unknown)}"

def copy_differences(ours, reference):
    # What differs between two copies of a tracker (nothing, for copies that behave the same).
    found = []
    if sorted(vars(ours)) != sorted(vars(reference)):
        found.append("attributes")
    if len(ours.events) != len(reference.events) or not all(map(operator.is_, ours.events, reference.events)):
        found.append("events")
    if ours.events is reference.events or ours.slots is reference.slots:
        found.append("shared containers")
    if {n: (type(v), vars(v)) for n, v in ours.slots.items()} != {n: (type(v), vars(v)) for n, v in reference.slots.items()}:
        found.append("slots")
    for name in ("latest_message", "latest_bot_utterance"):
        a, b = getattr(ours, name), getattr(reference, name)
        in_events = any(b is event for event in reference.events)
        if (in_events and a is not b) or (not in_events and (type(a) is not type(b) or
                                                            {**a.as_dict(), "timestamp": 0} != {**b.as_dict(), "timestamp": 0})):
            found.append(name)
    for name in ("latest_action", "active_loop", "_paused", "followup_action", "model_id", "assistant_id", "sender_source",
                 "is_rule_tracker", "_max_event_history", "sender_id"):
        if getattr(ours, name) != getattr(reference, name):
            found.append(name)
    if {**ours.current_state(EventVerbosity.ALL), "latest_message": None} != {**reference.current_state(EventVerbosity.ALL), "latest_message": None}:
        found.append("current_state")
    return found

def outcomes(tracker):
    out = {}
    replayed.clear()
    ours = tracker.copy()
    out["copy_replayed"] = len(replayed)
    out["copy"] = copy_differences(ours, history_speedups._original_copy(tracker))
    ours.update(SlotSet("guide_id", "只改副本"))  # a change to a copy stays in that copy
    ours.update(BotUttered("只在副本里"))
    out["copy_after_change"] = copy_differences(tracker.copy(), history_speedups._original_copy(tracker))
    original_calls = len(applied_calls)
    ours, reference = tracker.applied_events(), history_speedups._original_applied_events(tracker)
    out["applied_same"] = len(ours) == len(reference) and all(map(operator.is_, ours, reference))
    out["applied_computed"] = len(applied_calls) - original_calls - 1  # Rasa's own computation run by ours
    for use_text in (True, False):
        RulePolicy._prediction_states = original_states
        reference = policy._prediction_states(tracker, domain, use_text)
        RulePolicy._prediction_states = history_speedups._rule_prediction_states
        replayed.clear()
        ours = policy._prediction_states(tracker, domain, use_text)
        out[use_text] = {"same": ours == reference, "replayed": len(replayed), "states": len(reference)}
    prediction = policy.predict_action_probabilities(tracker, domain)
    RulePolicy._prediction_states = original_states
    reference = policy.predict_action_probabilities(tracker, domain)
    RulePolicy._prediction_states = history_speedups._rule_prediction_states
    out["prediction_same"] = (prediction.probabilities == reference.probabilities and prediction.events == reference.events
                              and prediction.is_no_user_prediction == reference.is_no_user_prediction
                              and prediction.hide_rule_turn == reference.hide_rule_turn)
    return out

applied_calls = []
real_applied = history_speedups._original_applied_events
def counting_applied(self):
    applied_calls.append(1)
    return real_applied(self)
history_speedups._original_applied_events = counting_applied

DialogueStateTracker.update = counting_update
results = {}
for name, events in CONVERSATIONS.items():
    steps = []
    tracker = DialogueStateTracker(name, domain.slots)
    for number, event in enumerate(events):
        DialogueStateTracker.update = real_update
        if number % 5 == 4:  # a new turn: the tracker store rebuilds the tracker, the last turn's events read back
            events = list(tracker.events)
            read_back = [type(e).from_parameters(json.loads(json.dumps(e.as_dict()))) for e in events[-3:]]
            tracker = DialogueStateTracker.from_events(name, [*events[:-3], *read_back], domain.slots)
        tracker.update(event)
        DialogueStateTracker.update = counting_update
        steps.append(outcomes(tracker))
    copied = DialogueStateTracker.from_dict(name, [e.as_dict() for e in tracker.events], domain.slots)  # all read back
    steps.append(outcomes(copied))
    changed = [e.as_dict() for e in tracker.events]
    changed[4]["timestamp"] = 1.0  # another history with the same length
    steps.append(outcomes(DialogueStateTracker.from_dict(name, changed, domain.slots)))
    results[name] = steps
DialogueStateTracker.update = real_update

# The action server call: Rasa's own, but for the events.
tracker = DialogueStateTracker.from_events("u1", [e for events in CONVERSATIONS.values() for e in events], domain.slots)
calls = {}
for name, endpoint in (("full_domain", None), ("selective", EndpointConfig(url="http://x", enable_selective_domain=True))):
    action = RemoteAction("action_answer", endpoint)
    reference = original_format(action, tracker, domain)
    ours = RemoteAction._action_call_format(action, tracker, domain)
    calls[name] = {"reference": json.loads(json.dumps(reference)), "ours": json.loads(json.dumps(ours))}
print(json.dumps({"results": results, "calls": calls, "applied": speedups.applied() and history_speedups.applied(),
                  "is_ours": RemoteAction._action_call_format is history_speedups._action_call_format}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def compared() -> dict:
    return run_in_rasa(COMPARE)


def test_rule_policy_gets_the_states_and_predictions_of_unpatched_rasa(compared: dict) -> None:
    assert compared["applied"]
    for name, steps in compared["results"].items():
        for number, step in enumerate(steps):
            assert step["true"]["same"] and step["false"]["same"] and step["prediction_same"], (name, number, step)
            assert step["applied_same"], (name, number, step)
            assert step["copy"] == step["copy_after_change"] == [], (name, number, step)


def test_a_growing_conversation_replays_only_its_new_events(compared: dict) -> None:
    steps = compared["results"]["plain"]
    # Rasa replays every applied event at every call; ours, after the session's start, only the event added
    # since (and none on the second call for the same events).
    # The events of the last turn come back from the tracker store as new objects: still only the new one.
    assert [step["true"]["replayed"] for step in steps[2:-2]] == [1] * (len(steps) - 4)
    assert all(step["false"]["replayed"] == 0 for step in steps[2:-2])
    # Every event read back (the tracker store re-read the session): more than ADOPT_AT_MOST differ as
    # objects, so from scratch (a cheap walk compared with the JSON of every event).
    assert steps[-2]["true"]["replayed"] > 20 and steps[-2]["applied_computed"] == 1
    # applied_events likewise: Rasa's own walk only for the session's start, a tracker that differs, and
    # (in the other conversations) restarts, undos, loops and new sessions.
    assert [step["applied_computed"] for step in steps[2:-2]] == [0] * (len(steps) - 4)
    assert steps[-1]["applied_computed"] == 1
    # Copies too: the replay kept for the conversation goes on with the one new event.
    assert [step["copy_replayed"] for step in steps[2:-2]] == [1] * (len(steps) - 4)
    assert steps[-1]["copy_replayed"] > 20
    for name in ("form", "restart", "undo", "sessions"):
        assert max(step["applied_computed"] for step in compared["results"][name]) == 1, name
    assert steps[-1]["true"]["replayed"] > 20  # one event differs: computed from scratch
    # A form's loop actions, a restart, an undo or a new session: from scratch, as Rasa does.
    for name in ("form", "restart", "undo", "sessions"):
        assert max(step["true"]["replayed"] for step in compared["results"][name]) > 5, name


def test_the_action_server_call_is_rasas_but_for_the_events(compared: dict) -> None:
    assert compared["is_ours"]
    for name, call in compared["calls"].items():
        reference, ours = call["reference"], call["ours"]
        assert ("domain" in ours) == ("domain" in reference) == (name == "full_domain")
        assert {**ours, "tracker": None} == {**reference, "tracker": None}
        assert {**ours["tracker"], "events": None} == {**reference["tracker"], "events": None}
        messages = [{"event": e["event"], "timestamp": e["timestamp"], "text": e.get("text")}
                    for e in reference["tracker"]["events"] if e["event"] in ("user", "bot")]
        assert ours["tracker"]["events"] == messages and len(messages) < len(reference["tracker"]["events"]) / 2
        # What our actions read of the events (the handoff transcript) is the same either way.
        assert transcript(Tracker.from_dict(ours["tracker"])) == transcript(Tracker.from_dict(reference["tracker"]))
        assert len(transcript(Tracker.from_dict(ours["tracker"]))) > 10


# rasa_sdk.Tracker members that read the events; actions/conversation.py's transcript reads `.events` itself.
_EVENT_READERS = {"events", "applied_events", "get_last_event_for", "events_after_latest_restart", "slots_to_validate",
                  "idx_after_latest_restart", "get_intent_of_latest_message"}


def test_our_actions_read_only_the_messages_of_the_events() -> None:
    """history_speedups sends the action server only the messages: an action that starts reading other
    events (or uses a rasa-sdk helper that does, such as FormValidationAction) must change it too."""
    readers = []
    for path in sorted((ROOT / "actions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Attribute) and node.attr in _EVENT_READERS:
                    readers.append((path.name, getattr(function, "name", ""), node.attr))
                if isinstance(node, ast.Name) and node.id in {"FormValidationAction", "ValidationAction"}:
                    readers.append((path.name, getattr(function, "name", ""), node.id))
    # Each read appears once for its function and once for the module walking over it.
    # All read only what message_events keeps: the user's and the bot's texts and their times.
    assert sorted(set(readers)) == [("conversation.py", "", "events"), ("conversation.py", "bot_text_before", "events"),
                                    ("conversation.py", "earlier_events", "events"),
                                    ("conversation.py", "transcript", "events")], readers


UNTOUCHED = r"""
import json, tempfile
from pathlib import Path
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.trackers import DialogueStateTracker
from bot.rasa import history_speedups, speedups

functions = lambda: [RulePolicy._prediction_states, RemoteAction._action_call_format, DialogueStateTracker.applied_events,
                     DialogueStateTracker.copy]
before = functions()
pins = Path(tempfile.mkdtemp()) / "rasa.txt"
pins.write_text("rasa==0.0.1\njsonschema==4.17.3\n")
refused = speedups.apply({}, pins_file=pins)
off = speedups.apply({"GOVQA_RASA_SPEEDUPS": "0"})
untouched = functions() == before and not history_speedups.applied()
applied = speedups.apply({})
once = functions()
again = speedups.apply({})
print(json.dumps({"refused": refused, "off": off, "untouched": untouched, "applied": applied and history_speedups.applied(),
                  "idempotent": again and functions() == once}))
"""


def test_other_versions_or_the_switch_leave_these_untouched_and_applying_twice_changes_nothing() -> None:
    outcome = run_in_rasa(UNTOUCHED)
    assert outcome == {"refused": False, "off": False, "untouched": True, "applied": True, "idempotent": True}
