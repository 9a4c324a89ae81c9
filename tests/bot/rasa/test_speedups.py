"""bot/rasa/speedups.py in the Rasa environment (Python 3.10): the compiled action-response validator
accepts and rejects exactly what Rasa 3.6's own does, with the same exception and message, is the one
RemoteAction.run uses, checks the schema once, and stays out when the versions are not the pinned ones."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.launcher.stack import CHILD_ENV, RASA
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
from bot.rasa import speedups

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


@pytest.fixture(scope="module")
def compared() -> dict:
    done = subprocess.run([str(RASA_PYTHON), "-c", COMPARE], cwd=ROOT, env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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
