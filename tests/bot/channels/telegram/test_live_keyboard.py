"""Which inline keyboard a tap may use (bot/channels/telegram/handlers.py is_live_keyboard): the chat's live one,
also in the moment between Telegram showing a new message and the bot recording it; never an older one, except for
the 转人工 a pick left beside its choice (claim_tap)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.telegram.handlers import TAP_EXPIRED, TAP_KEPT, TAP_LIVE, TAP_USED, claim_tap, is_live_keyboard
from protocol import FEEDBACK_GOOD, REQUEST_HUMAN

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("chat", "message_id", "live"), [
    ({"keyboard": 12}, 12, True),                     # the recorded live keyboard
    ({"keyboard": 12}, 10, False),                    # an older one
    ({"keyboard": 12, "retired": 10}, 14, False),     # a live keyboard is recorded: nothing else is live
    ({"retired": 10}, 12, True),                      # sent, shown, not yet recorded: the tap wins the race
    ({"retired": 10}, 10, False),                     # the keyboard just retired for the new turn
    ({"retired": 10}, 8, False),
    ({"clicked": 12}, 12, False),                     # used (the handler says so, once)
    ({"clicked": 12}, 14, True),                      # the next turn's keyboard, not yet recorded
    ({"clicked": 12, "retired": 14}, 13, False),
    ({}, 5, True),                                    # the chat's first keyboard, not yet recorded
])
def test_a_tap_is_live_only_on_the_newest_keyboard(chat: dict[str, Any], message_id: int, live: bool) -> None:
    assert is_live_keyboard(chat, message_id) is live


PICK = '/choose{"pick": "company-deregistration"}'


@pytest.mark.parametrize(("chat", "message_id", "payload", "tap"), [
    ({"keyboard": 12}, 12, PICK, TAP_LIVE),
    ({"keyboard": 12}, 12, None, TAP_EXPIRED),                              # its payload forgotten (retention)
    ({"clicked": 12}, 12, PICK, TAP_USED),                                 # the second of a double tap
    ({"keyboard": 14, "clicked": 12, "kept": (12, "1. 企业注销登记")}, 12, REQUEST_HUMAN, TAP_KEPT),  # turns later
    ({"keyboard": 14, "clicked": 12, "kept": (12, "1. 企业注销登记")}, 12, PICK, TAP_USED),  # only its 转人工 is kept
    ({"keyboard": 14, "kept": (12, "1. 企业注销登记")}, 10, REQUEST_HUMAN, TAP_EXPIRED),   # another keyboard's 转人工
    ({"keyboard": 14, "handed": 12}, 12, REQUEST_HUMAN, TAP_USED),          # the kept 转人工, tapped twice
    ({"keyboard": 14, "clicked": 12, "kept": (12, "1. 企业注销登记")}, 14, FEEDBACK_GOOD, TAP_LIVE),
])
def test_a_tap_is_claimed_once(chat: dict[str, Any], message_id: int, payload: str | None, tap: str) -> None:
    before = dict(chat)
    assert claim_tap(chat, message_id, payload) == tap
    if tap == TAP_LIVE:
        assert (chat["keyboard"], chat["clicked"]) == (None, message_id)
    elif tap == TAP_KEPT:
        assert (chat["kept"], chat["handed"]) == (None, message_id) and chat["keyboard"] == before["keyboard"]
        assert claim_tap(chat, message_id, payload) == TAP_USED  # the double tap's second
    else:
        assert chat == before
