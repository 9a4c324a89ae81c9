"""protocol.py is what the processes agree on; domain.yml says the same for Rasa. Keep them in step."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

import protocol
from tests.support import ROOT

pytestmark = pytest.mark.unit


def _domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_every_slot_the_actions_use_is_declared_in_the_domain() -> None:
    slots = set(_domain()["slots"])
    used = {value for name, value in vars(protocol).items() if name.startswith("SLOT_")}
    assert used and used <= slots


def test_every_button_payload_is_an_intent_of_the_domain() -> None:
    intents = set(_domain()["intents"])
    payloads = [protocol.FEEDBACK_GOOD, protocol.FEEDBACK_BAD, protocol.REQUEST_HUMAN, protocol.AFFIRM, protocol.DENY]
    assert {payload.lstrip("/") for payload in payloads} <= intents


def test_the_rating_replies_carry_their_payload() -> None:
    responses = _domain()["responses"]
    kinds = {name: variation[0].get("custom", {}).get(protocol.PAYLOAD_FEEDBACK) for name, variation in responses.items()}
    assert {protocol.FEEDBACK_THANKS, protocol.FEEDBACK_ASK_COMMENT, protocol.FEEDBACK_COMMENT_SAVED} <= set(kinds.values())


def test_protocol_imports_only_the_standard_library() -> None:
    """Rasa's Python 3.10 environment and the app's 3.11 both import it."""
    tree = ast.parse(Path(protocol.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "hmac"}
