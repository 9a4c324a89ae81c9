"""The Telegram bot end to end when things go wrong: messages over the limit, bad input, stickers and
photos, Rasa or the action server down, Telegram's errors; and the token kept out of the log those
leave (that test comes last, so the log holds them).

The bot is the real python-telegram-bot client, started as `make run` starts it, against a local
fake Bot API server and the real Rasa and action servers (fixtures in conftest.py, the user's side
in tests/support/telegram.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.launcher.stack import Stack
from tests.support.fake_bot_api import FakeBotApi
from tests.support.telegram import RasaProxy, ask, assert_answers, say, text


def test_a_message_over_the_limit_is_refused_without_asking_rasa(api: FakeBotApi, bot: Stack, rasa: RasaProxy) -> None:
    asked = len(rasa.requests)
    reply = text(say(api, 1008, "开" * (bot.settings.message_max_chars + 1)))
    assert "太长" in reply and str(bot.settings.message_max_chars) in reply
    assert len(rasa.requests) == asked


# Bad input as a Telegram user can send it (Telegram itself never delivers an empty text message).
BAD_INPUTS = {
    "spaces": "   ",
    "ideographic-spaces-and-line-breaks": "\u3000\n\u3000\n\n",
    "zero-width-only": "\u200b\u200c\u200d\u2060\ufeff",
    "100000-characters": "办" * 100_000,
    "emoji": "😀🙏🏻👍🏢❓👨‍👩‍👧",
    "control-characters": "开办\x00企业\x07需要\x1b[31m什么\x7f材料\x08",
    "zero-width-inside-words": "开\u200b办\u200d企\u200c业\ufeff需要什么材料",
    "right-to-left": "\u202eأريد تسجيل شركة جديدة، ما هي المستندات المطلوبة؟\u202c שלום",
    "html-and-script": "<script>alert('x')</script><b>开办企业</b> & <a href=\"javascript:alert(1)\">材料</a> &amp; &#0;",
    "sql": "'; DROP TABLE feedback; -- 开办企业 OR '1'='1",
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_a_polite_answer_and_the_bot_goes_on(api: FakeBotApi, bot: Stack, name: str) -> None:
    chat_id = 1100 + list(BAD_INPUTS).index(name)
    log = bot.logs / "telegram.log"
    traces = log.read_text().count("Traceback")
    reply = text(say(api, chat_id, BAD_INPUTS[name]))
    # Well-formed HTML (the fake server refuses what Telegram refuses), and no error on the way.
    assert [error for method, params, error in api.refused if str(params.get("chat_id")) == str(chat_id)] == []
    assert reply.strip() and "出了点问题" not in reply, reply
    assert any(word in reply for word in ("您", "请", "抱歉")), reply  # a sentence to the user, not an error
    assert log.read_text().count("Traceback") == traces and bot.telegram.poll() is None
    # The chat goes on: a normal question gets its answer.
    assert_answers(text(ask(api, chat_id, "用水报装要多久")), "water-connection")


def test_stickers_and_photos_get_a_text_only_hint(api: FakeBotApi, bot: Stack) -> None:
    for send in (api.user_sends_sticker, api.user_sends_photo):
        mark = api.mark(1009)
        send(1009)
        assert "文字" in text(api.wait_messages(1009, since=mark))


def test_rasa_down_gets_the_hotline_and_the_bot_recovers(api: FakeBotApi, bot: Stack, rasa: RasaProxy) -> None:
    rasa.stop()
    try:
        started = time.monotonic()
        down = text(say(api, 1011, "用水报装要多久"))
        assert "12345" in down and "抱歉" in down
        assert time.monotonic() - started > 2, "the bot retries with backoff before giving up"
        assert bot.telegram.poll() is None, "the bot keeps running"
    finally:
        rasa.start()
    assert_answers(text(ask(api, 1011, "用水报装要多久")), "water-connection", "办理时限")

    rasa.mode = "empty"  # Rasa up, the action server down: Rasa answers nothing
    try:
        assert "12345" in text(say(api, 1011, "用气报装多少钱"))
    finally:
        rasa.mode = "forward"
    assert_answers(text(ask(api, 1011, "用气报装多少钱")), "gas-connection", "收费标准")


def test_telegram_errors_are_survived(api: FakeBotApi, bot: Stack) -> None:
    # Flood control: the rate limiter waits out "retry after" and the message still arrives.
    api.fail_next("sendMessage", retry_after=1)
    assert "/reset" in text(say(api, 1012, "/help"))
    # An unexpected error: the user is told, in Chinese with the hotline, and the bot goes on.
    api.fail_next("sendMessage", 400, "Bad Request: something unexpected")
    sorry = text(say(api, 1012, "/help"))
    assert "出了点问题" in sorry and "12345" in sorry
    log = (bot.logs / "telegram.log").read_text()
    assert "Traceback" in log and "something unexpected" in log.lower()
    assert "/reset" in text(say(api, 1012, "/help"))


def test_the_token_is_never_in_logs_or_argv(api: FakeBotApi, bot: Stack) -> None:
    secret = api.token.partition(":")[2]
    assert secret not in (bot.logs / "telegram.log").read_text()
    assert secret not in Path(f"/proc/{bot.telegram.pid}/cmdline").read_bytes().decode()
