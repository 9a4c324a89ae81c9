"""The Telegram bot against the fake Bot API server alone (no Rasa, no action server: the proxy plays Rasa with the
replies the actions build, tests/support/telegram.py RasaProxy), for what the bot itself decides: what a keyboard
becomes once tapped, what a tap does while a clerk holds the chat (the desk's records in a file of this module's own).
The bot is the real python-telegram-bot client, started as `make run` starts it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions import contact_replies, replies
from bot.launcher.stack import Stack
from knowledge.records.desk import DeskRecords
from knowledge.retrieval.retriever import GuideCandidate
from protocol import REASON_REQUEST_HUMAN, REQUEST_HUMAN
from tests.support import parsed_guide
from tests.support.fake_bot_api import FakeBotApi
from tests.support.kefu import rest_output
from tests.support.telegram import Messages, RasaProxy, buttons, click, now, rated, say, sent_to_rasa, telegram_stack, text

# Telegram's protocol: end to end, though no assistant runs (conftest.py marks by fixture only `assistant` tests).
pytestmark = pytest.mark.e2e

HOTLINE = "12345"
TWO_CLOSE = "公司不开了怎么弄"
PICK = replies.pick_payload("company-deregistration")
PICKED = "1. " + parsed_guide("company-deregistration").title
TYPED_HUMAN = "转人工"  # the words: Rasa's NLU reads them as the handoff intent

# Each message's reply as the action server builds it (actions/replies.py), through Rasa's REST channel.
REPLIES = {
    TWO_CLOSE: rest_output(replies.not_found([GuideCandidate(guide_id, parsed_guide(guide_id).title, 0.5) for guide_id in
                                              ("company-deregistration", "simplified-deregistration")], HOTLINE), "tg-x"),
    # the matter picked, answered as anything else would be (its ratings are a keyboard of its own)
    PICK: [{"recipient_id": "tg-x", "text": f"【{parsed_guide('company-deregistration').title}】……",
            "buttons": replies.feedback_buttons("kqzvtmwrbahe")}],
    REQUEST_HUMAN: rest_output(contact_replies.handoff(None, reason=REASON_REQUEST_HUMAN, record_id=None, hotline=HOTLINE), "tg-x"),
    TYPED_HUMAN: rest_output(contact_replies.handoff(None, reason=REASON_REQUEST_HUMAN, record_id=None, hotline=HOTLINE), "tg-x"),
}


@pytest.fixture(scope="module")
def rasa() -> Iterator[RasaProxy]:
    proxy = RasaProxy("", "test-rest-token", REPLIES).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The records database the bot reads the desk from: the tests play the clerk in it."""
    return tmp_path_factory.mktemp("telegram-alone-records") / "records.sqlite3"


@pytest.fixture(scope="module")
def bot(api: FakeBotApi, rasa: RasaProxy, desk: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = telegram_stack(api, rasa, tmp_path_factory.mktemp("telegram-alone"), GOVQA_RECORDS_DB=str(desk),
                           GOVQA_DESK_POLL_SECONDS="0.5")
    stack.start_telegram()
    api.wait_until(lambda: bool(api.called("getUpdates")) or stack.telegram.poll() is not None, 60, "the bot to start polling")
    assert stack.telegram.poll() is None, (stack.logs / "telegram.log").read_text()
    yield stack
    stack.stop()


def rows(message: dict[str, Any]) -> list[list[str]]:
    """The keyboard of `message` as the user sees it: the buttons' titles, row by row."""
    return [[button["text"] for button in row] for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])]


def with_buttons(messages: Messages) -> bool:
    return bool(buttons(messages[-1]))


def test_picking_a_matter_leaves_the_handoff_button_beside_it_usable(api: FakeBotApi, bot: Stack, rasa: RasaProxy) -> None:
    """As on the web page: the pick may not be what the user needed, so 转人工 stays under the choice, turns later too;
    once tapped, it is spent like any other choice (a double tap sends it once)."""
    question = say(api, 2001, TWO_CLOSE, until=with_buttons)
    assert rows(question[-1])[-1] == ["转人工"], rows(question[-1])
    asked = len(rasa.requests)
    answer = click(api, 2001, question[-1], PICKED, until=rated)
    assert rows(now(api, 2001, question[-1])) == [[f"✓ 已选：{PICKED}"], ["转人工"]]

    mark = api.mark(2001)
    taps = api.click(2001, question[-1], "转人工", taps=2)  # after the answer and its own keyboard came
    assert "已为您转接人工服务" in text(api.wait_messages(2001, since=mark))
    api.wait_until(lambda: all(api.callback_queries[q]["answered"] is not None for q in taps), 60, "both taps answered")
    told = sorted(str(api.callback_queries[q]["answered"].get("text") or "") for q in taps)
    assert told[0] == "" and "用过" in told[1], told
    assert sent_to_rasa(rasa, 2001, since=asked) == [PICK, REQUEST_HUMAN]
    assert rows(now(api, 2001, question[-1])) == [[f"✓ 已选：{PICKED}"], ["✓ 已选：转人工"]]
    assert rows(now(api, 2001, answer[-1])) == [["👍 好评", "👎 差评"]]  # the answer's ratings are still there to use


def test_the_handoff_button_tapped_first_spends_the_keyboard(api: FakeBotApi, bot: Stack) -> None:
    question = say(api, 2002, TWO_CLOSE, until=with_buttons)
    assert "已为您转接人工服务" in text(click(api, 2002, question[-1], "转人工"))
    assert rows(now(api, 2002, question[-1])) == [["✓ 已选：转人工"]]


def test_a_new_conversation_spends_the_kept_handoff_button(api: FakeBotApi, bot: Stack) -> None:
    """/reset: the 转人工 kept from the old conversation would hand over the new one; the choice's mark stays."""
    question = say(api, 2003, TWO_CLOSE, until=with_buttons)
    click(api, 2003, question[-1], PICKED, until=rated)
    assert "新的对话" in text(say(api, 2003, "/reset"))
    api.wait_until(lambda: rows(now(api, 2003, question[-1])) == [[f"✓ 已选：{PICKED}"]], 60, "the kept 转人工 spent")


@pytest.mark.parametrize(("chat", "words"), [(2004, TYPED_HUMAN), (2005, "/human")])
def test_a_handoff_asked_for_in_words_spends_the_kept_handoff_button(api: FakeBotApi, bot: Stack, chat: int, words: str) -> None:
    """The kept 转人工 would hand the chat off a second time (a second queue record, the staff told twice)."""
    question = say(api, chat, TWO_CLOSE, until=with_buttons)
    click(api, chat, question[-1], PICKED, until=rated)
    assert "已为您转接人工服务" in text(say(api, chat, words))
    api.wait_until(lambda: rows(now(api, chat, question[-1])) == [[f"✓ 已选：{PICKED}"]], 60, "the kept 转人工 spent")


def test_the_handoff_button_while_a_clerk_holds_the_chat_answers_as_the_desk_does(api: FakeBotApi, bot: Stack, rasa: RasaProxy,
                                                                                  desk: Path) -> None:
    """A 转人工 tapped while a clerk holds the chat (its handoff made on another keyboard, or in another way): no second
    handoff, the assistant silent; the user is told the clerk has it, as after typing 转人工 or /human."""
    chat = 2006
    question = say(api, chat, TWO_CLOSE, until=with_buttons)
    click(api, chat, question[-1], PICKED, until=rated)
    records = DeskRecords(desk)
    handoff = records.add_handoff(f"tg-{chat}", reason=REASON_REQUEST_HUMAN, guide_id=None, question=TWO_CLOSE, transcript=[])
    mark = api.mark(chat)
    records.take(handoff, "王芳")
    api.wait_messages(chat, since=mark, until=lambda messages: "工作人员已接入" in text(messages))
    asked = len(rasa.requests)
    held = click(api, chat, question[-1], "转人工")
    assert "已发给工作人员（王芳）" in text(held), text(held)
    assert sent_to_rasa(rasa, chat, since=asked) == []
    assert rows(now(api, chat, question[-1])) == [[f"✓ 已选：{PICKED}"], ["✓ 已选：转人工"]]


def test_a_pick_and_a_fast_tap_on_its_handoff_button_go_in_the_order_tapped(api: FakeBotApi, bot: Stack, rasa: RasaProxy) -> None:
    """Both taps handled at once, the pick's answerCallbackQuery slow: the 转人工 tapped second still reaches Rasa
    second, and its "✓ 已选" mark is not edited back into a live-looking 转人工 by the pick's keyboard."""
    chat = 2007
    question = say(api, chat, TWO_CLOSE, until=with_buttons)
    mark, asked = api.mark(chat), len(rasa.requests)
    api.delay_next("answerCallbackQuery", 2.0)
    api.click(chat, question[-1], PICKED)
    api.click(chat, question[-1], "转人工")
    api.wait_messages(chat, since=mark, until=lambda messages: "已为您转接人工服务" in text(messages) and "……" in text(messages))
    assert sent_to_rasa(rasa, chat, since=asked) == [PICK, REQUEST_HUMAN]
    edited = lambda: [e for e in api.edits if (int(e["chat_id"]), int(e["message_id"])) == (chat, question[-1]["message_id"])]  # noqa: E731
    api.wait_until(lambda: len(edited()) == 2, 60, "both taps' edits of the keyboard")
    assert rows(now(api, chat, question[-1])) == [[f"✓ 已选：{PICKED}"], ["✓ 已选：转人工"]]


def test_the_kept_handoff_button_of_a_message_telegram_no_longer_sends_keeps_its_title(api: FakeBotApi, bot: Stack) -> None:
    """An old message comes back in the query as an inaccessible one (no keyboard to read the title from): the mark,
    the transcript and the staff notice still say 转人工, not its payload."""
    chat = 2008
    question = say(api, chat, TWO_CLOSE, until=with_buttons)
    click(api, chat, question[-1], PICKED, until=rated)
    mark = api.mark(chat)
    api.click(chat, question[-1], "转人工", inaccessible=True)
    assert "已为您转接人工服务" in text(api.wait_messages(chat, since=mark))
    api.wait_until(lambda: rows(now(api, chat, question[-1])) != [[f"✓ 已选：{PICKED}"], ["转人工"]], 60, "the kept 转人工 spent")
    assert rows(now(api, chat, question[-1])) == [[f"✓ 已选：{PICKED}"], ["✓ 已选：转人工"]]


def test_a_stale_tap_on_a_spent_handoff_button_keeps_the_mark_of_the_pick(api: FakeBotApi, bot: Stack) -> None:
    """A later pick beside another 转人工 spends the kept one; tapped still on the user's screen, it has expired, and the
    keyboard keeps its "✓ 已选" of the pick made there."""
    chat = 2009
    first = say(api, chat, TWO_CLOSE, until=with_buttons)
    click(api, chat, first[-1], PICKED, until=rated)
    on_screen = now(api, chat, first[-1])  # the pick's mark, 转人工 under it
    second = say(api, chat, TWO_CLOSE, until=with_buttons)
    click(api, chat, second[-1], PICKED, until=rated)
    api.wait_until(lambda: rows(now(api, chat, first[-1])) == [[f"✓ 已选：{PICKED}"]], 60, "the first kept 转人工 spent")
    handled = lambda: len(api.edits) + len(api.refused)  # noqa: E731 - an edit made, or refused as changing nothing
    before = handled()
    [query] = api.click(chat, on_screen, "转人工", on_screen=True)
    api.wait_until(lambda: handled() > before, 60, "the expired keyboard's edit")
    assert "过期" in str(api.callback_queries[query]["answered"].get("text")), api.callback_queries[query]["answered"]
    assert rows(now(api, chat, first[-1])) == [[f"✓ 已选：{PICKED}"]]


def test_a_live_tap_on_a_message_telegram_no_longer_sends_reaches_rasa(api: FakeBotApi, bot: Stack, rasa: RasaProxy) -> None:
    """The query carries the live keyboard's message inaccessible (ids and chat only): the keyboard is edited by its ids,
    the pick reaches Rasa and is answered; nothing goes wrong for the user."""
    chat = 2010
    question = say(api, chat, TWO_CLOSE, until=with_buttons)
    asked = len(rasa.requests)
    mark = api.mark(chat)
    api.click(chat, question[-1], PICKED, inaccessible=True)
    answer = api.wait_messages(chat, since=mark, until=rated)
    assert "……" in text(answer) and "出了点问题" not in text(answer), text(answer)
    assert sent_to_rasa(rasa, chat, since=asked) == [PICK]
    api.wait_until(lambda: rows(now(api, chat, question[-1])) != rows(question[-1]), 60, "the tapped keyboard edited")
    assert all(row[0].startswith("✓ 已选") for row in rows(now(api, chat, question[-1])))


def test_an_expired_tap_on_a_message_telegram_no_longer_sends_is_answered(api: FakeBotApi, bot: Stack, rasa: RasaProxy) -> None:
    """An older keyboard, still on the user's screen, its message sent inaccessible: the tap is told it has expired,
    nothing reaches Rasa, and the message is left as it is (its keyboard is unknown)."""
    chat = 2011
    first = say(api, chat, TWO_CLOSE, until=with_buttons)
    say(api, chat, TWO_CLOSE, until=with_buttons)  # a newer turn retires the first keyboard
    asked, edits, mark = len(rasa.requests), len(api.edits), api.mark(chat)
    [query] = api.click(chat, first[-1], PICKED, inaccessible=True, on_screen=True)
    api.wait_until(lambda: api.callback_queries[query]["answered"] is not None, 60, "the tap answered")
    assert "过期" in str(api.callback_queries[query]["answered"].get("text")), api.callback_queries[query]["answered"]
    assert sent_to_rasa(rasa, chat, since=asked) == [] and api.messages_to(chat)[mark:] == []
    assert [e for e in api.edits[edits:] if int(e["chat_id"]) == chat] == []


@pytest.mark.parametrize(("chat", "words", "to_rasa"), [(2012, TYPED_HUMAN, TYPED_HUMAN), (2013, "/human", REQUEST_HUMAN)])
def test_a_pick_and_a_typed_handoff_at_once_go_in_the_order_sent(api: FakeBotApi, bot: Stack, rasa: RasaProxy, chat: int,
                                                                words: str, to_rasa: str) -> None:
    """A pick, its answerCallbackQuery slow, and 转人工 typed right after: the typed message waits for the tap's turn, so
    /choose reaches Rasa first and the kept 转人工 the handoff spends is not edited back to a live-looking one."""
    question = say(api, chat, TWO_CLOSE, until=with_buttons)
    mark, asked = api.mark(chat), len(rasa.requests)
    api.delay_next("answerCallbackQuery", 2.0)
    api.click(chat, question[-1], PICKED)
    api.user_says(chat, words)
    api.wait_messages(chat, since=mark, until=lambda messages: "已为您转接人工服务" in text(messages) and "……" in text(messages))
    assert sent_to_rasa(rasa, chat, since=asked) == [PICK, to_rasa]
    edited = lambda: [e for e in api.edits if (int(e["chat_id"]), int(e["message_id"])) == (chat, question[-1]["message_id"])]  # noqa: E731
    api.wait_until(lambda: len(edited()) == 2, 60, "the pick's edit of the keyboard and the handoff's")
    assert rows(now(api, chat, question[-1])) == [[f"✓ 已选：{PICKED}"]]
