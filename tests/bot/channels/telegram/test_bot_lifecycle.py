"""The Telegram bot's lifecycle end to end: SIGTERM and a restart that keeps buttons and
conversations, chats past the retention period forgotten at start, a rejected token, and webhook
mode with its secret token.

The bot is the real python-telegram-bot client, started as `make run` starts it, against a local
fake Bot API server and the real Rasa and action servers (fixtures in conftest.py, the user's side
in tests/support/telegram.py)."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.channels.telegram.formatting import callback_key
from bot.launcher.stack import Stack
from protocol import FEEDBACK_GOOD
from tests.support import ROOT, free_port
from tests.support.fake_bot_api import FakeBotApi
from tests.support.stack import Assistant
from tests.support.telegram import RasaProxy, ask, assert_answers, click, say, telegram_stack, text, wait_records


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_stops_the_bot_cleanly_and_a_restart_keeps_buttons_and_conversations(
        api: FakeBotApi, bot: Stack, assistant: Assistant) -> None:
    answer = ask(api, 1014, "用气报装多少钱")
    assert_answers(text(answer), "gas-connection", "收费标准")
    process = bot.telegram
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(20) == 0
    assert "Telegram 机器人已停止" in (bot.logs / "telegram.log").read_text()

    polls = len(api.called("getUpdates"))
    bot.start_telegram()  # the same state file: the chat's keyboard, button keys and Rasa sender survive
    api.wait_until(lambda: len(api.called("getUpdates")) > polls, 60, "the restarted bot to poll")
    assert "感谢" in text(click(api, 1014, answer[-1], "好评"))
    rows = wait_records(assistant, "feedback", 1014)
    assert len(rows) == 1 and rows[0]["rating"] == "good" and rows[0]["guide_id"] == "gas-connection"


DAY = 24 * 3600


def test_chats_past_the_retention_period_are_forgotten_at_start(rasa: RasaProxy, tmp_path: Path) -> None:
    """The state file holds what users typed: after retention_days it goes, as the records do."""
    now = time.time()
    old, recent = now - 200 * DAY, now - 10 * DAY
    gas = '/choose{"pick": "gas-connection"}'
    chats = {
        3001: {"active": old, "generation": 2, "keyboard": 5, "question": (old, "开办企业需要什么材料"),
               "transcript": [("user", old, "我的手机是138****5678"), ("bot", old, "【开办企业】……")]},
        3002: {"active": recent, "generation": 1, "keyboard": 9, "question": (old, "用水报装要什么材料"),
               "transcript": [("user", old, "用水报装要什么材料"), ("bot", old, "【用水报装】……"),
                              ("user", recent, "用气报装多少钱"), ("bot", recent, "【燃气开户】……")]},
        3003: {"generation": 1, "transcript": [("user", "05-14 10:21", "旧格式的一行，没有年份")]},  # cannot be dated
        3004: {},  # a chat that only ever sent a sticker
    }
    state = tmp_path / "var" / "telegram" / "state.pickle"
    state.parent.mkdir(parents=True)
    state.write_bytes(pickle.dumps({"user_data": {}, "chat_data": chats, "conversations": {}, "callback_data": None,
                                    "bot_data": {"buttons": {callback_key(FEEDBACK_GOOD): (FEEDBACK_GOOD, old),
                                                             callback_key(gas): (gas, recent)}}}))
    with FakeBotApi() as own_api:  # its own server: the module's bot keeps polling the shared one
        stack = telegram_stack(own_api, rasa, tmp_path, GOVQA_RETENTION_DAYS="180")
        stack.start_telegram()
        try:
            own_api.wait_until(lambda: bool(own_api.called("getUpdates")) or stack.telegram.poll() is not None, 60,
                               "the bot to start polling")
            assert stack.telegram.poll() is None, (stack.logs / "telegram.log").read_text()
        finally:
            process = stack.telegram
            stack.stop()  # SIGTERM: the bot writes its state as it stops
    assert process.returncode == 0
    assert "已按保留期限（180 天）清除 3 个会话的记录和 1 个按钮" in (tmp_path / "logs" / "telegram.log").read_text()
    saved = pickle.loads(state.read_bytes())
    assert set(saved["chat_data"]) == {3002}
    kept = saved["chat_data"][3002]
    assert kept["transcript"] == [("user", recent, "用气报装多少钱"), ("bot", recent, "【燃气开户】……")]
    assert "question" not in kept and (kept["generation"], kept["keyboard"]) == (1, 9)
    assert saved["bot_data"]["buttons"] == {callback_key(gas): (gas, recent)}


def test_a_rejected_token_stops_the_bot_with_a_clear_message_and_is_not_printed(api: FakeBotApi, tmp_path: Path) -> None:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "999:Revoked-token-secret", "TELEGRAM_API_BASE_URL": api.base_url}
    done = subprocess.run([sys.executable, "-m", "bot.channels.telegram.app", "--rasa-url", "http://127.0.0.1:9/webhooks/rest/webhook",
                           "--state-file", str(tmp_path / "state.pickle")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "令牌" in output
    assert "Revoked-token-secret" not in output  # PTB puts the token in InvalidToken's message: redacted


def test_webhook_mode_checks_the_secret_token(api: FakeBotApi, rasa: RasaProxy, tmp_path: Path) -> None:
    port = free_port()
    webhook = f"http://127.0.0.1:{port}/telegram-hook"
    stack = telegram_stack(api, rasa, tmp_path, TELEGRAM_WEBHOOK_SECRET="hook-secret_123", GOVQA_TELEGRAM_MODE="webhook",
                           GOVQA_TELEGRAM_WEBHOOK_PORT=str(port), GOVQA_TELEGRAM_WEBHOOK_URL=webhook)
    stack.start_telegram()
    try:
        api.wait_until(lambda: listening(port) or stack.telegram.poll() is not None, 60, "the webhook server")
        assert api.webhook["url"] == webhook and api.webhook["secret_token"] == "hook-secret_123"
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1013, "type": "private"}, "text": "/help"}}
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            request = urllib.request.Request(webhook, json.dumps(update).encode(), {"Content-Type": "application/json", **headers})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 403
        # Telegram's own delivery carries the secret: the bot answers.
        assert "/reset" in text(say(api, 1013, "/help"))
        assert_answers(text(ask(api, 1013, "用水报装要多久")), "water-connection", "办理时限")
    finally:
        process = stack.telegram
        stack.stop()
        api.webhook = {"url": ""}
    assert process.returncode == 0
