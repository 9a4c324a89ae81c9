"""How the button handler (bot/channels/telegram/handlers.py button) edits keyboards when Telegram sends the tapped
message as an InaccessibleMessage (an old one: ids and chat, no keyboard). PTB's shortcuts raise TypeError on such a
message (CallbackQuery.edit_message_reply_markup), so every edit goes through the bot by ids (sending.edit_keyboard);
Telegram refusing one (BadRequest) changes nothing. The handler runs here on a recording bot, without PTB's Application
(test_bot_alone.py has the fake Bot API's side)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import CallbackQuery, Chat, InaccessibleMessage, Update, User
from telegram.error import BadRequest

from bot.channels.telegram import handlers
from bot.channels.telegram.chats import ChatLocks
from bot.channels.telegram.formatting import ButtonStore, used_keyboard
from bot.channels.telegram.texts import BUTTON_EXPIRED
from protocol import REQUEST_HUMAN

pytestmark = pytest.mark.unit

CHAT, OLD = 3001, 7
PICK = '/choose{"pick": "company-deregistration"}'
PICKED = "1. 公司注销登记"


class RecordingBot:
    """The Bot API methods a tap calls, recorded; an edit may be refused as Telegram refuses it."""

    def __init__(self, refuse_edits: str | None = None) -> None:
        self.answers: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []
        self.refuse_edits = refuse_edits

    async def answer_callback_query(self, **params: Any) -> bool:
        self.answers.append(params)
        return True

    async def edit_message_reply_markup(self, **params: Any) -> bool:
        self.edits.append(params)
        if self.refuse_edits:
            raise BadRequest(self.refuse_edits)
        return True


class Assistant:
    """What the handler uses of TelegramAssistant: the tap lock, and the turn (recorded, not sent to Rasa)."""

    def __init__(self) -> None:
        self.taps = ChatLocks()
        self.sent: list[tuple[str, str | None]] = []

    async def converse(self, update: Update, context: Any, message: str, *, shown: str | None = None) -> None:
        self.sent.append((message, shown))


def tap(payload: str, chat: dict[str, Any], bot: RecordingBot) -> Assistant:
    """The user taps the button sending `payload` on message OLD, which the query carries inaccessible."""
    bot_data: dict[str, Any] = {"buttons": {}}
    data = ButtonStore(bot_data["buttons"]).key(payload)
    query = CallbackQuery("q1", User(CHAT, "张三", False), "ci", message=InaccessibleMessage(Chat(CHAT, "private"), OLD),
                          data=data)
    query.set_bot(bot)  # type: ignore[arg-type]  # the methods the tap calls
    assistant = Assistant()
    context = SimpleNamespace(bot=bot, chat_data=chat, bot_data=bot_data)
    asyncio.run(handlers.button(assistant, Update(1, callback_query=query), context))  # type: ignore[arg-type]
    return assistant


def test_a_live_tap_on_an_inaccessible_message_reaches_rasa_and_edits_by_ids() -> None:
    bot = RecordingBot()
    assistant = tap(PICK, {"keyboard": OLD}, bot)
    assert [message for message, _ in assistant.sent] == [PICK]
    assert [(e["chat_id"], e["message_id"]) for e in bot.edits] == [(CHAT, OLD)]
    assert len(bot.answers) == 1


def test_the_kept_handoff_button_on_an_inaccessible_message_keeps_the_pick_s_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_clerk(*_args: Any) -> bool:
        return False

    monkeypatch.setattr(handlers, "held_by_clerk", no_clerk)
    bot = RecordingBot()
    chat: dict[str, Any] = {"kept": (OLD, PICKED), "clicked": OLD, "keyboard": 9}
    assistant = tap(REQUEST_HUMAN, chat, bot)
    assert assistant.sent == [(REQUEST_HUMAN, "[点击按钮] 转人工")]
    assert bot.edits == [{"chat_id": CHAT, "message_id": OLD, "reply_markup": used_keyboard(PICKED, "转人工")}]
    assert chat["kept"] is None and chat["handed"] == OLD


@pytest.mark.parametrize("refusal", ["Message is not modified: specified new message content and reply markup are exactly "
                                     "the same as a current content and reply markup of the message",
                                     "Message can't be edited"])
def test_a_refused_edit_still_lets_the_tap_reach_rasa(refusal: str) -> None:
    bot = RecordingBot(refuse_edits=refusal)
    assistant = tap(PICK, {"keyboard": OLD}, bot)
    assert [message for message, _ in assistant.sent] == [PICK]
    assert len(bot.edits) == 1


def test_an_expired_tap_on_an_inaccessible_message_is_answered_and_its_keyboard_left() -> None:
    bot = RecordingBot()
    assistant = tap(PICK, {"keyboard": 12, "retired": 10}, bot)
    assert assistant.sent == []
    assert [(a.get("text"), a.get("show_alert")) for a in bot.answers] == [(BUTTON_EXPIRED, True)]
    assert bot.edits == []  # its keyboard is unknown: its marks cannot be kept, so it is left as it is
