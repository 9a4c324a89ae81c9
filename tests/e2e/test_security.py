"""Closed by default, against the real servers: every port that accepts a message needs its
credential, personal numbers are masked in every stored form, odd input never crashes a turn or
forges a log line, and files with conversations are this user's alone."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.stack import Assistant

pytestmark = pytest.mark.e2e


def _rest(assistant: Assistant, body: object, headers: dict[str, str] | None = None, **kwargs: object) -> httpx.Response:
    return httpx.post(assistant.stack.rest_url, json=body, headers=headers, timeout=60, **kwargs)


# --- the REST channel (Rasa, 5005) ----------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_the_rest_channel_needs_the_channels_token(assistant: Assistant, headers: dict[str, str]) -> None:
    response = _rest(assistant, {"sender": "kefu-anyone", "message": "/request_human"}, headers)
    assert response.status_code == 401 and response.json()["error"]


def test_the_rest_channel_takes_only_json(assistant: Assistant) -> None:
    """A text/plain body is what a web page elsewhere can post across sites without a preflight."""
    body = json.dumps({"sender": "kefu-x", "message": "开办企业需要什么材料"})
    response = httpx.post(assistant.stack.rest_url, content=body, timeout=60,
                          headers={**assistant.stack.rest_headers, "Content-Type": "text/plain"})
    assert response.status_code == 415


@pytest.mark.parametrize("sender", ["x\nINFO 伪造的日志行", "a b", "", "x" * 129, "对话"])
def test_a_sender_that_is_no_channel_id_is_refused(assistant: Assistant, sender: str) -> None:
    response = _rest(assistant, {"sender": sender, "message": "你好"}, assistant.stack.rest_headers)
    assert response.status_code == 400
    log = (assistant.stack.logs / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "\nINFO 伪造的日志行" not in log


@pytest.mark.parametrize("message", ["\ud800", "开办企业\udfff需要什么材料", "\ufdd0\uffff"])
def test_invalid_unicode_gets_an_answer_not_a_crash(assistant: Assistant, message: str) -> None:
    response = httpx.post(assistant.stack.rest_url, timeout=60, content=json.dumps({"sender": "sec-u", "message": message}),
                          headers={**assistant.stack.rest_headers, "Content-Type": "application/json"})
    assert response.status_code == 200
    replies = response.json()
    assert replies and not any("unavailable" in (m.get("custom") or {}) for m in replies)


@pytest.mark.parametrize("number", ["138.1234.5678", "138/1234/5678", "138_1234_5678", "138－1234－5678", "138–1234–5678",
                                    "138\u00ad1234\u00ad5678", "6222,0202,1234,5678,901", "110101.19900307.7777"])
def test_personal_numbers_with_any_separator_are_masked_in_the_tracker_store(assistant: Assistant, number: str) -> None:
    chat = assistant.chat("sec-mask")
    chat.say(f"转人工，我的号码是{number}")
    digits = "".join(c for c in number if c.isdigit())
    with sqlite3.connect(assistant.settings.tracker_db) as db:
        rows = [json.loads(row[0]) for row in db.execute("SELECT data FROM events WHERE sender_id = ?", (chat.sender,))]
    said = [event.get("text") or "" for event in rows if event.get("event") == "user"]
    assert said and all("*" in text for text in said)
    for text in said:
        assert digits[3:-4] not in "".join(c for c in text if c.isdigit()), text
    assert number not in json.dumps(rows, ensure_ascii=False)


# --- the action server (5055) ---------------------------------------------------------------------

def _call(assistant: Assistant, body: object, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(assistant.stack.action_url + "/webhook", json=body, headers=headers, timeout=60)


FORGED = {"next_action": "action_handoff", "tracker": {"sender_id": "kefu-victim", "slots": {}, "events": [],
          "latest_message": {"text": "转人工", "intent": {"name": "request_human"}}}, "domain": {}}


@pytest.mark.parametrize("token", [None, "wrong"])
def test_the_action_server_runs_nothing_without_rasas_token(assistant: Assistant, token: str | None) -> None:
    before = _handoffs(assistant)
    response = _call(assistant, FORGED, token)
    assert response.status_code == 401 and _handoffs(assistant) == before


MARK = "echo-mark-7731"


@pytest.mark.parametrize("body", [{"next_action": "action_answer", "note": MARK}, {"tracker": {"sender_id": MARK}}, [MARK],
                                  {**FORGED, "tracker": {**FORGED["tracker"], "sender_id": MARK, "latest_message": {"text": 12345}}}])
def test_bad_action_calls_get_a_4xx_json_without_an_echo(assistant: Assistant, body: object) -> None:
    response = _call(assistant, body, assistant.stack.action_token)
    assert 400 <= response.status_code < 500 and "error" in response.json()
    assert MARK not in response.text


def _handoffs(assistant: Assistant) -> int:
    if not assistant.settings.records_db.exists():
        return 0
    with sqlite3.connect(assistant.settings.records_db) as db:
        return db.execute("SELECT COUNT(*) FROM handoffs").fetchone()[0]


# --- processes and files --------------------------------------------------------------------------

def test_no_secret_is_on_a_command_line(assistant: Assistant) -> None:
    stack = assistant.stack
    secrets = [stack.token, stack.rest_token, stack.action_token, stack.kefu_token]
    for process in (stack.rasa, stack.actions, stack.kefu):
        command = " ".join(psutil.Process(process.pid).cmdline())
        assert not [secret for secret in secrets if secret in command], command


def test_files_with_conversations_are_private(assistant: Assistant) -> None:
    assistant.chat("sec-files").say("开办企业需要什么材料")
    stack = assistant.stack
    files = [assistant.settings.tracker_db, *stack.logs.glob("*.log")]
    if assistant.settings.records_db.exists():
        files.append(assistant.settings.records_db)
    assert len(files) >= 4
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(Path(stack.logs).stat().st_mode) == 0o700
