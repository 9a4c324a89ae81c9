"""Four more pinned adaptations of Rasa 3.6.21 (applied by bot/rasa/speedups.py, under the same version
check and switch): work that grew with the length of a conversation on every turn (issue 14: turn 100
cost 1.7x turn 5 after the first three adaptations; benchmarks/bench_long_conversation.py).

4. ``RulePolicy._prediction_states`` (inherited from ``Policy``) turns the whole tracker into states on
   every prediction, three times a turn: ``applied_events`` and a replay of every event of the session
   (``generate_all_prior_trackers``) with ``Domain.get_active_state`` before each ``ActionExecuted``
   (2.5 ms a call at 850 events, ~8 ms a turn at turn 100). The states before an action never change
   once the action is in the tracker, so the policy now keeps, per conversation, the replayed tracker
   and the states computed so far, and on the next call replays only the events added since. It
   returns exactly the list Rasa's does (prefix states already processed as ``prediction_states``
   leaves them: user text dropped where an intent is present; the last state is fresh every call).
   Whenever the new events could change how earlier ones apply (``applied_events``: a restart, a new
   session, an undo, a loop (de)activation or a loop action run), or the tracker's events are not the
   ones replayed before (another session, rows purged, the cache bound), or anything in the
   conversation re-applies differently when replayed (``EntitiesAdded``), it computes the states from
   scratch as Rasa does. (The events a turn added come back from the tracker store as new objects: they
   count as the ones replayed when their type and serialised form are the same.)
5. ``RemoteAction._action_call_format`` sends the action server every event of the session with every
   call (533 KB of JSON at turn 100: ~4 ms for Rasa to encode, ~3 ms for rasa-sdk to parse, per call).
   Of the events our actions read only the user's and the bot's messages (``actions/conversation.py``
   ``transcript``: the text and time of each, for the staff who take over; tests/bot/rasa/
   test_history_speedups.py fails if actions/ start reading anything else from ``tracker.events``).
   So ``events`` now holds just those, as ``{"event", "timestamp", "text"}``; everything else of the
   call (slots, latest_message, active_loop, latest_action_name, the domain, …) is what Rasa sends.
6. ``DialogueStateTracker.applied_events`` walks every event of the session, and Rasa asks for it on every
   turn (the session check asks twice, rebuilding the tracker from the store once more; ~0.8 ms each at
   850 events). Per conversation the last answer is kept with the events it came from; when the
   tracker's events extend those by events that only append (as in 4), the answer is the kept one plus
   them; otherwise it is Rasa's own computation.
7. ``DialogueStateTracker.copy`` (``travel_back_in_time(inf)``: a new tracker updated with every event;
   the processor copies the tracker for every action it runs) keeps, per conversation, the replayed
   tracker and continues it with the events added since, then returns a clone of it: its own events
   deque, slots, latest action and loop state (what a replay creates afresh), sharing the messages and
   slot values a replay shares too. Other slots or settings, other events, or an event that replays
   differently: Rasa's own copy.
"""

from __future__ import annotations

import json
import operator
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

MARK = "__govqa_speedup__"  # set on every replacement function here and in speedups.py: applying twice is a no-op
# Events covered by each cache of these adaptations and of speedups.py (3: the tracker store's sessions), over all
# conversations: ~2.7 KB each there (the event and its parsed JSON, ~80 MB at most), here references to the same
# events plus ~0.5 KB of states per action (4) or one replayed tracker per conversation (7); least recently used
# conversations are dropped first.
CACHED_EVENTS = 30_000
# What a transcript of the conversation needs of each message (actions/conversation.py transcript).
MESSAGE_EVENTS = ("user", "bot")
# Read-back events compared by their JSON before starting afresh is cheaper: a turn adds ~10, and a whole
# session re-read (the tracker store's cache dropped it) is cheaper to compute from scratch than to compare.
ADOPT_AT_MOST = 64


# --- 4. RulePolicy's states, computed once per action ---------------------------------------------
@dataclass
class _History:
    """What the states of one conversation were computed from, and the states so far."""

    events: list[Any]  # the tracker's events covered, the very objects (compared by identity)
    loop_names: frozenset[str]  # names of loops activated in them (applied_events undoes their reruns)
    replay: Any  # a tracker with every applied event of `events` applied, as generate_all_prior_trackers builds it
    states: list[dict[str, Any]]  # the state before each applied ActionExecuted, processed
    replays_differently: bool  # whether `events` hold an event that re-applies differently (never kept then)


class ByConversation:
    """Something per conversation (a tracker store's session, a policy's history), least recently used first,
    bounded by the events they cover (CACHED_EVENTS): each value has an `events` list. Shared with speedups.py."""

    def __init__(self) -> None:
        self.by_sender: OrderedDict[str, Any] = OrderedDict()
        self.events = 0

    def take(self, sender_id: str) -> Any:
        value = self.by_sender.pop(sender_id, None)
        if value is not None:
            self.events -= len(value.events)
        return value

    def keep(self, sender_id: str, value: Any) -> None:
        self.by_sender[sender_id] = value
        self.events += len(value.events)
        while self.events > CACHED_EVENTS and self.by_sender:
            _sender, dropped = self.by_sender.popitem(last=False)
            self.events -= len(dropped.events)


def by_conversation(owner: Any, attribute: str) -> ByConversation:
    """`owner`'s ByConversation under `attribute`, made on first use (one per policy / tracker store object)."""
    cache = owner.__dict__.get(attribute)
    if cache is None:
        cache = owner.__dict__[attribute] = ByConversation()
    return cache


def _processed_state(policy: Any, domain: Any, tracker: Any) -> dict[str, Any]:
    """The state of `tracker` as states_for_tracker_history makes it and prediction_states leaves it
    when it is not the last state (user text removed where an intent is present)."""
    state = domain._clean_state(domain.get_active_state(tracker))
    policy.featurizer._remove_user_text_if_intent([[state]])
    return state


def loop_names(events: Any) -> frozenset[str]:
    from rasa.shared.core.events import ActiveLoop

    return frozenset(event.name for event in events if isinstance(event, ActiveLoop) and event.name)


def replays_differently(events: Any) -> bool:
    """Events whose re-application changes a shared message (Rasa replays them on every call)."""
    from rasa.shared.core.events import EntitiesAdded

    return any(isinstance(event, EntitiesAdded) for event in events)


def appends_only(new_events: list[Any], names_of_loops: frozenset[str]) -> bool:
    """Whether applied_events of (old + new) is applied_events of old + new: none of the new events
    resets, undoes, or (de)activates a loop, and none runs an activated loop's action."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
    )

    for event in new_events:
        if isinstance(event, (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted, ActiveLoop)):
            return False
        if isinstance(event, ActionExecuted) and event.action_name in names_of_loops:
            return False
    return True


def _from_scratch(policy: Any, tracker: Any, domain: Any) -> _History:
    """generate_all_prior_trackers with the state before each action, as states_for_tracker_history."""
    from rasa.shared.core.events import ActionExecuted

    replay = tracker.init_copy()
    states = []
    for event in tracker.applied_events():
        if isinstance(event, ActionExecuted):
            states.append(_processed_state(policy, domain, replay))
        replay.update(event)
    return _History(events=list(tracker.events), loop_names=loop_names(tracker.events), replay=replay, states=states,
                    replays_differently=replays_differently(tracker.events))


def _serialised(event: Any) -> str:
    """The event as the tracker store writes it (tuples and lists alike, as in JSON)."""
    return json.dumps(event.as_dict(), sort_keys=True)


def _same_events(known: list[Any], events: Any) -> dict[int, Any] | None:
    """Whether `events` begins with the events `known`: the same objects, or (for the events the tracker
    store read back after a turn saved them, new objects) of the same type and the same JSON. The states
    depend only on what is serialised (UserUttered's featurization flag is set by the
    DefinePrevUserUtteredFeaturization event after it, replayed in both cases). Adopts the new objects
    into `known`; returns {id(old): new} of those adopted (empty when all were the same), None if not."""
    if all(map(operator.is_, known, events)):
        return {}
    adopted = {}
    for index, (old, new) in enumerate(zip(known, events, strict=False)):  # `events` may go on
        if old is not new:
            if len(adopted) >= ADOPT_AT_MOST or type(old) is not type(new) or _serialised(old) != _serialised(new):
                return None
            known[index] = adopted[id(old)] = new
    return adopted


def _extended(policy: Any, history: _History | None, tracker: Any, domain: Any) -> _History | None:
    """`history` brought up to `tracker`'s events by replaying only the new ones; None when it cannot be."""
    if history is None or len(tracker.events) < len(history.events) or _same_events(history.events, tracker.events) is None:
        return None  # not the events replayed before
    from itertools import islice

    from rasa.shared.core.events import ActionExecuted

    new_events = list(islice(tracker.events, len(history.events), None))
    if not appends_only(new_events, history.loop_names) or replays_differently(new_events):
        return None
    for event in new_events:
        if isinstance(event, ActionExecuted):
            history.states.append(_processed_state(policy, domain, history.replay))
        history.replay.update(event)
    history.events.extend(new_events)
    return history


def _rule_prediction_states(self: Any, tracker: Any, domain: Any, use_text_for_last_user_input: bool = False,
                            rule_only_data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Policy._prediction_states of Rasa 3.6.21 for RulePolicy, replaying only the events added since
    the last call for the same conversation."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.policy import Policy, SupportedData
    from rasa.shared.core.trackers import DialogueStateTracker

    if (type(self.featurizer) is not MaxHistoryTrackerFeaturizer or self.supported_data() == SupportedData.ML_DATA
            or type(tracker) is not DialogueStateTracker):
        # Rule-only turns are ignored (ML policies) or another featurizer or tracker: Rasa's own way.
        return Policy._prediction_states(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    histories = by_conversation(self, "_govqa_histories")
    history = _extended(self, histories.take(tracker.sender_id), tracker, domain)
    if history is None:
        history = _from_scratch(self, tracker, domain)
    if not history.replays_differently:
        histories.keep(tracker.sender_id, history)
    # The last state: fresh each call (prediction_states changes it in place for text or intent).
    last = domain._clean_state(domain.get_active_state(history.replay))
    self.featurizer._choose_last_user_input([[last]], use_text_for_last_user_input)
    return self.featurizer.slice_state_history([*history.states, last], self.featurizer.max_history)


setattr(_rule_prediction_states, MARK, True)


# --- 5. the action server gets the messages, not every event ---------------------------------------
def message_events(events: Any) -> list[dict[str, Any]]:
    """The user's and the bot's messages among `events`, each {"event", "timestamp", "text"}."""
    found = []
    for event in events:
        if event.type_name in MESSAGE_EVENTS:
            found.append({"event": event.type_name, "timestamp": event.timestamp, "text": event.text})
    return found


def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    """RemoteAction._action_call_format of Rasa 3.6.21, with only the messages as the tracker's events."""
    import rasa
    from rasa.shared.core.trackers import EventVerbosity

    tracker_state = tracker.current_state(EventVerbosity.NONE)  # everything but the events
    tracker_state["events"] = message_events(tracker.events)
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": tracker_state,
              "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


setattr(_action_call_format, MARK, True)


# --- 6. applied_events extended with the events added since ----------------------------------------
@dataclass
class _Applied:
    """The applied events of a conversation's tracker as Rasa computed them, and the events they came from."""

    events: list[Any]  # as _History.events
    loop_names: frozenset[str]
    applied: list[Any]


_applied_cache = ByConversation()
_original_applied_events: Any = None  # DialogueStateTracker.applied_events as installed


def _applied_events(self: Any) -> list[Any]:
    """DialogueStateTracker.applied_events of Rasa 3.6.21: the previous answer for the same conversation plus
    the events added since, when they only append (as _appends_only); else Rasa's own computation."""
    from rasa.shared.core.trackers import DialogueStateTracker

    if type(self) is not DialogueStateTracker:  # e.g. training's TrackerWithCachedStates: Rasa's own
        return _original_applied_events(self)
    known = _applied_cache.take(self.sender_id)
    adopted = _same_events(known.events, self.events) if known is not None and len(self.events) >= len(known.events) else None
    if known is not None and adopted is not None:
        from itertools import islice

        if adopted:  # return the tracker's own objects, as Rasa does
            known.applied = [adopted.get(id(event), event) for event in known.applied]
        new_events = list(islice(self.events, len(known.events), None))
        if appends_only(new_events, known.loop_names):
            known.events.extend(new_events)
            known.applied.extend(new_events)
        else:
            known = None
    else:
        known = None
    if known is None:
        known = _Applied(events=list(self.events), loop_names=loop_names(self.events),
                         applied=list(_original_applied_events(self)))
    _applied_cache.keep(self.sender_id, known)
    return list(known.applied)  # a new list each call, as Rasa's (callers may change it)


setattr(_applied_events, MARK, True)


# --- 7. copy() replays only the events added since -----------------------------------------------
@dataclass
class _Replayed:
    """A tracker replaying a conversation's events as DialogueStateTracker.copy does, and those events."""

    events: list[Any]  # as _History.events
    replay: Any  # init_copy() updated with every event of `events`, in order


_copy_cache = ByConversation()
_original_copy: Any = None  # DialogueStateTracker.copy as installed


def slot_signature(slots: Any) -> list[tuple[Any, ...]]:
    """Slots without their values: what a new tracker copies of them."""
    return [(slot.name, type(slot), {key: value for key, value in vars(slot).items() if key not in ("_value", "_has_been_set")})
            for slot in slots]


def _slot_definitions(tracker: Any) -> list[tuple[Any, ...]]:
    """What init_copy takes from the tracker: its slots without their values, and its settings."""
    return [(tracker.sender_id, tracker._max_event_history, tracker.is_rule_tracker, type(tracker.slots)),
            *slot_signature(tracker.slots.values())]


def clone(replay: Any) -> Any:
    """A new tracker in `replay`'s state: its own events deque, slots, latest action and loop (the
    containers a replay creates afresh); messages and values shared, as a replay shares the events'."""
    import copy

    clone = copy.copy(replay)
    clone.events = replay._create_events(list(replay.events))  # a new deque of the same events
    clone.slots = type(replay.slots)((name, copy.copy(slot)) for name, slot in replay.slots.items())
    clone.latest_action = copy.copy(replay.latest_action)
    clone.active_loop = copy.copy(replay.active_loop)
    return clone


def _copy(self: Any) -> Any:
    """DialogueStateTracker.copy of Rasa 3.6.21 (travel_back_in_time(inf): init_copy() updated with every
    event): the same replay, kept per conversation and continued with the events added since."""
    from itertools import islice

    from rasa.shared.core.trackers import DialogueStateTracker

    if type(self) is not DialogueStateTracker:
        return _original_copy(self)
    known = _copy_cache.take(self.sender_id)
    adopted = None
    if known is not None and len(self.events) >= len(known.events) and _slot_definitions(known.replay) == _slot_definitions(self):
        adopted = _same_events(known.events, self.events)
    if known is None or adopted is None:
        known, adopted = _Replayed(events=[], replay=self.init_copy()), {}
    new_events = list(islice(self.events, len(known.events), None))
    if replays_differently(new_events) or not all(event.timestamp <= float("inf") for event in new_events):
        return _original_copy(self)  # re-applied differently, or travel_back_in_time stops there (NaN)
    replay = known.replay
    if adopted:  # the events read back from the store: the replay holds the tracker's own objects, as Rasa's would
        replay.events = replay._create_events(list(known.events))
        replay.latest_message = adopted.get(id(replay.latest_message), replay.latest_message)
        replay.latest_bot_utterance = adopted.get(id(replay.latest_bot_utterance), replay.latest_bot_utterance)
    for event in new_events:
        replay.update(event)
    known.events.extend(new_events)
    _copy_cache.keep(self.sender_id, known)
    return clone(replay)


setattr(_copy, MARK, True)


def apply() -> None:
    """Install 4 to 6 (the caller has checked the versions and the switch)."""
    global _original_applied_events, _original_copy
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    if not getattr(DialogueStateTracker.applied_events, MARK, False):
        _original_applied_events = DialogueStateTracker.applied_events
        DialogueStateTracker.applied_events = _applied_events  # type: ignore[method-assign]
    if not getattr(DialogueStateTracker.copy, MARK, False):
        _original_copy = DialogueStateTracker.copy
        DialogueStateTracker.copy = _copy  # type: ignore[method-assign]
    if not getattr(RulePolicy._prediction_states, MARK, False):
        RulePolicy._prediction_states = _rule_prediction_states  # type: ignore[method-assign]
    if not getattr(RemoteAction._action_call_format, MARK, False):
        RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]


def applied() -> bool:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    return all(getattr(function, MARK, False) for function in
               (RulePolicy._prediction_states, RemoteAction._action_call_format, DialogueStateTracker.applied_events,
                DialogueStateTracker.copy))
