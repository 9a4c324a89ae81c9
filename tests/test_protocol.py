"""protocol.py is what the processes agree on; domain.yml says the same for Rasa. Keep them in step."""

from __future__ import annotations

import ast
import json
import re
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


def test_the_domain_titles_its_buttons_as_the_actions_do() -> None:
    """domain.yml's responses offer buttons too (转人工 after a comment is saved): the same title for the same payload."""
    offered = [button for variations in _domain()["responses"].values() for variation in variations
               for button in variation.get("buttons") or []]
    assert offered and all(protocol.BUTTON_TITLES[button["payload"]] == button["title"] for button in offered), offered
    assert set(protocol.BUTTON_TITLES) == {protocol.REQUEST_HUMAN, protocol.FEEDBACK_GOOD, protocol.FEEDBACK_BAD,
                                           protocol.AFFIRM, protocol.DENY}


def test_a_handoff_reason_is_the_intent_that_asks_for_it() -> None:
    """action_handoff records the intent that asked for people as the reason (actions/handoff.py)."""
    assert set(protocol.HANDOFF_REASONS) <= set(_domain()["intents"])
    assert protocol.REASON_REQUEST_HUMAN == protocol.REQUEST_HUMAN.lstrip("/")


def test_a_rating_payload_names_its_answer_in_entities_of_the_domain() -> None:
    """Rasa's "/intent{json}" syntax: the intent, then entities the domain declares, on one line."""
    entities = set(_domain()["entities"])
    assert {protocol.ENTITY_ANSWER_ID, protocol.ENTITY_COMMENT} <= entities
    assert protocol.rating_payload("good", "kqzvtmwrbahe") == '/feedback_good{"answer_id": "kqzvtmwrbahe"}'
    assert protocol.rating_payload("good", "kqzvtmwrbahe", "ignored: only a 差评 has a comment") == '/feedback_good{"answer_id": "kqzvtmwrbahe"}'
    assert protocol.rating_payload("bad", None) == protocol.FEEDBACK_BAD  # no id: the latest answer
    tricky = '没说"表具"费用}\n谁出\n第二行 {"answer_id": "x"}'
    payload = protocol.rating_payload("bad", "kqzvtmwrbahe", tricky)
    match = re.fullmatch(r"/(?P<intent>[^{@]+)(?P<entities>\{.+\})", payload)  # Rasa's pattern (no DOTALL)
    assert match and match["intent"] == "feedback_bad"
    assert json.loads(match["entities"]) == {"answer_id": "kqzvtmwrbahe", "comment": tricky}
    assert re.fullmatch(protocol.ANSWER_ID_PATTERN, "kqzvtmwrbahe") and not re.fullmatch(protocol.ANSWER_ID_PATTERN, "138123456789")


def test_the_rating_replies_carry_their_payload() -> None:
    responses = _domain()["responses"]
    kinds = {name: variation[0].get("custom", {}).get(protocol.PAYLOAD_FEEDBACK) for name, variation in responses.items()}
    assert {protocol.FEEDBACK_THANKS, protocol.FEEDBACK_ASK_COMMENT, protocol.FEEDBACK_COMMENT_SAVED,
            protocol.FEEDBACK_UNKNOWN_ANSWER} <= set(kinds.values())


def test_protocol_imports_only_the_standard_library() -> None:
    """Rasa's Python 3.10 environment and the app's 3.11 both import it."""
    tree = ast.parse(Path(protocol.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "hmac", "json"}


@pytest.mark.parametrize(("typed", "meant"), [
    ("/affirm", "/affirm"),
    ('/choose{"pick": "company-setup"}', '/choose{"pick": "company-setup"}'),
    ('/feedback_bad{"answer_id": "kqzvtmwrbahe"}', '/feedback_bad{"answer_id": "kqzvtmwrbahe"}'),
    ("/start", "/greet"),
    ("/Help", "/greet"),
    ("/restart", "/restart"),
    ("/reset", "/restart"),
    ("/session_start", "session_start"),
    ("/out_of_scope", "out_of_scope"),
    ("//", ""),
    ("/ /session_start", "session_start"),  # no second slash comes out in front (a review found it)
    ("/\t/out_of_scope", "out_of_scope"),
    ("/ /chitchat@1.0", "chitchat@1.0"),
    ("/AFFIRM", "AFFIRM"),  # buttons send lower case: anything else is words
    ("/ /start", "/greet"),
    ("开办企业需要什么材料", "开办企业需要什么材料"),
])
def test_a_typed_command_means_a_button_the_welcome_a_restart_or_words(typed: str, meant: str) -> None:
    assert protocol.typed_command(typed) == meant
