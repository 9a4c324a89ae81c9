"""Which chat a desk line goes to and how it reads there (bot/channels/telegram/desk.py)."""

from __future__ import annotations

import pytest

from bot.channels.telegram.desk import chat_of, shown

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("sender", "chat"), [("tg-42", 42), ("tg-42-3", 42), ("tg--1001234567890", -1001234567890),
                                              ("tg--100123-2", -100123), ("kefu-web-1", None), ("tg-", None), ("tg-abc", None),
                                              ("42", None)])
def test_the_chat_of_a_sender(sender: str, chat: int | None) -> None:
    assert chat_of(sender) == chat


def test_a_clerks_line_names_the_clerk_and_a_desk_notice_reads_as_is() -> None:
    assert shown({"author": "clerk", "clerk": "王芳", "text": "您好"}) == "👤 工作人员（王芳）：\n您好"
    assert shown({"author": "desk", "clerk": "王芳", "text": "工作人员已接入（王芳）"}) == "工作人员已接入（王芳）"
