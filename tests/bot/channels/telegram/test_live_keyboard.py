"""Which inline keyboard a tap may use (bot/channels/telegram/handlers.py is_live_keyboard): the chat's live one,
also in the moment between Telegram showing a new message and the bot recording it; never an older one."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.telegram.handlers import is_live_keyboard

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
