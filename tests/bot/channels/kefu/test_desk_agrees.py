"""The staff desk reads what the action server writes: each reason action_handoff records a handoff under, and each
button the actions offer, is named on the desk page (page.py render_desk fills data-reasons and data-buttons), both
sides taking them from protocol.py."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from actions import replies
from actions.handoff import ActionHandoff
from actions.services import Services
from bot.channels.kefu.page import render_desk
from knowledge.settings import load_settings
from knowledge.sources.aspects import GENERAL
from protocol import HANDOFF_REASONS, PAYLOAD_HANDOFF, REQUEST_HUMAN
from tests.support import custom, parsed_guide, run_action, tracker_for

pytestmark = pytest.mark.unit


def desk_data(name: str) -> Any:
    """The JSON of the desk page's data-<name>, as its script reads it."""
    found = re.search(rf'data-{name}="([^"]*)"', render_desk())
    assert found, name
    return json.loads(unescape(found.group(1)))


@pytest.mark.parametrize(("text", "intent"), [(REQUEST_HUMAN, "request_human"), ("我要投诉，跑了三趟都没办成", "complain")])
def test_each_reason_a_handoff_is_recorded_under_is_named_on_the_desk(tmp_path: Path, text: str, intent: str) -> None:
    services = Services.from_settings(load_settings().replace(records_db=tmp_path / "records.sqlite3"))
    messages, _slots = run_action(ActionHandoff(services), tracker_for(text, intent))  # neither needs the index
    [row] = services.records.store.rows("handoffs")
    marker = custom(messages, PAYLOAD_HANDOFF)
    assert marker is not None and row["reason"] == marker["reason"] == intent
    assert sorted(desk_data("reasons")) == sorted(HANDOFF_REASONS) and intent in desk_data("reasons")


def test_each_button_the_actions_offer_reads_on_the_desk_as_it_says() -> None:
    """"（点击了“好评”）" for the button that says "👍 好评": the desk's title is the button's, its emoji aside."""
    desk = dict(desk_data("buttons"))
    offered = [replies.handoff_button(), *replies.feedback_buttons("kqzvtmwrbahe"),
               *replies.confirm(parsed_guide("water-connection").as_dict(), GENERAL).buttons]
    read = {}
    for button in offered:
        # a payload with entities ('/feedback_good{"answer_id": …}') is its button too, as the desk's script reads it
        [payload] = [p for p in desk if button["payload"] == p or button["payload"].startswith(p + "{")]
        read[payload] = button["title"]
        assert button["title"] in (desk[payload], f"👍 {desk[payload]}", f"👎 {desk[payload]}"), button
    assert set(read) == set(desk)  # every button the desk names is one the actions offer
