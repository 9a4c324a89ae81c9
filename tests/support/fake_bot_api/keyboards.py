"""Inline keyboards as Telegram validates them: an array of arrays of buttons, each with a text and
either a URL or callback_data of 1-64 bytes."""

from __future__ import annotations

from typing import Any

from tests.support.fake_bot_api.errors import bad_request


def check_keyboard(markup: Any) -> dict[str, Any] | None:
    """An InlineKeyboardMarkup as Telegram validates it (None for no markup)."""
    if markup is None:
        return None
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an Object with inline_keyboard")
    for row in markup["inline_keyboard"]:
        if not isinstance(row, list):
            raise bad_request("can't parse inline keyboard button: Field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode("utf-8"))
                if not 1 <= size <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif "url" not in button:
                raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must have exactly one of the optional fields")
    return markup
