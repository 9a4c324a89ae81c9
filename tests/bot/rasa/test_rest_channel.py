"""Rasa's REST channel under bad input and faults (bot/rasa/rest_channel.py), against the real servers:
never a 500, never silence; a clear JSON error or a polite answer."""

from __future__ import annotations

import os
import signal
import sqlite3

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Chat, assert_guide_answer
from tests.support.stack import Assistant


def _post(assistant: Assistant, **kwargs: object) -> httpx.Response:
    kwargs["headers"] = {**assistant.stack.rest_headers, **kwargs.get("headers", {})}
    return httpx.post(assistant.stack.rest_url, timeout=60, **kwargs)


@pytest.mark.parametrize("message", [
    "",
    "   \n\t ",
    "\u200b\u200d\ufeff",
    "😀😀😀",
    "\u202e开办企业需要什么材料",
    "مرحبا كيف حالك",
    "<script>alert('x')</script>",
    "'; DROP TABLE events; --",
    "../../etc/passwd",
    "开办\x00企业\x07需要什么\x1b材料",
])
def test_strange_messages_get_a_polite_answer(assistant: Assistant, message: str) -> None:
    response = _post(assistant, json={"sender": "strange", "message": message})
    assert response.status_code == 200
    texts = "".join(m.get("text") for m in response.json() if m.get("text"))
    assert texts, f"no reply to {message!r}"
    assert "Traceback" not in texts and "Error" not in texts
    if len(message.strip()) > 3:
        assert message.strip() not in texts  # a reply of our own, never the input echoed back


def _texts(response: httpx.Response) -> str:
    return "".join(m.get("text") or "" for m in response.json())


@pytest.mark.parametrize("command", ["/start", "/help", "/START"])
def test_a_typed_start_or_help_gets_the_welcome(assistant: Assistant, command: str) -> None:
    """Telegram users type /start out of habit: it was answered "再见！"."""
    reply = _texts(_post(assistant, json={"sender": "typed-start", "message": command}))
    assert "您好" in reply and "再见" not in reply


def test_a_typed_restart_starts_afresh_and_says_so(assistant: Assistant) -> None:
    """Rasa's own /restart leaves no reply, which the channel took for an outage."""
    assert_guide_answer(Chat(assistant.stack.rest_url, "typed-restart", assistant.stack.rest_headers).say("开公司要带什么材料"),
                        "company-setup", "申请材料")
    restarted = _post(assistant, json={"sender": "typed-restart", "message": "/restart"})
    assert "已重新开始" in _texts(restarted) and not any("unavailable" in (m.get("custom") or {}) for m in restarted.json())
    follow = _texts(_post(assistant, json={"sender": "typed-restart", "message": "那要多久？"}))
    assert "哪个事项" in follow  # nothing of the old matter is remembered


@pytest.mark.parametrize("command", ["/session_start", "/out_of_scope", "/abc"])
def test_any_other_typed_command_is_read_as_words_never_as_an_outage(assistant: Assistant, command: str) -> None:
    response = _post(assistant, json={"sender": "typed-other", "message": command})
    assert _texts(response) and not any("unavailable" in (m.get("custom") or {}) for m in response.json())


def test_control_characters_do_not_hide_the_question(assistant: Assistant) -> None:
    response = _post(assistant, json={"sender": "controls", "message": "开办\u200b企业需要什么\x07材料"})
    guides = [m["custom"]["answer"]["guide"]["id"] for m in response.json() if "answer" in (m.get("custom") or {})]
    assert guides == ["company-setup"]


def test_a_message_over_the_limit_is_refused_politely(assistant: Assistant) -> None:
    response = _post(assistant, json={"sender": "long", "message": "开办企业" * 25_000})  # 100,000 characters
    assert response.status_code == 200
    [reply] = response.json()
    assert "太长" in reply["text"] and str(assistant.settings.message_max_chars) in reply["text"]


@pytest.mark.parametrize("body", [
    b"{not json",
    b"[1, 2, 3]",
    b'"just a string"',
    b'{"sender": "x", "message": 42}',
    b'{"sender": 7, "message": "hi"}',
    b'{"message": "no sender"}',
    b'{"sender": "x"}',
])
def test_malformed_or_mistyped_bodies_get_a_json_400(assistant: Assistant, body: bytes) -> None:
    response = _post(assistant, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_huge_json_body_is_refused_without_a_crash(assistant: Assistant) -> None:
    response = _post(assistant, json={"sender": "huge", "message": "字" * 3_000_000})
    assert response.status_code == 413
    assert response.json()  # a JSON error, not an HTML page
    assert _post(assistant, json={"sender": "after-huge", "message": "你好"}).json()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=st.text(max_size=300))
def test_any_text_gets_an_answer(assistant: Assistant, message: str) -> None:
    response = _post(assistant, json={"sender": "hypothesis", "message": message})
    assert response.status_code == 200
    assert any(m.get("text") for m in response.json())


def test_action_server_killed_gives_a_polite_fallback_and_the_conversation_goes_on(assistant: Assistant) -> None:
    chat = assistant.chat("fault")
    assert_guide_answer(chat.say("用水报装要什么材料"), "water-connection", "申请材料")
    stack = assistant.stack
    os.killpg(stack.actions.pid, signal.SIGKILL)
    stack.actions.wait()
    try:
        turn = chat.say("那要多久？")
        assert assistant.settings.hotline in turn.text and "抱歉" in turn.text
        assert "Traceback" not in turn.text
    finally:
        stack.start_actions()
    assert_guide_answer(chat.say("那要多久？"), "water-connection", "办理时限")


def test_personal_numbers_never_reach_the_tracker_store(assistant: Assistant) -> None:
    chat = assistant.chat("privacy")
    chat.say("我的身份证430102199001011234丢了，手机13812345678，营业执照怎么补办")
    with sqlite3.connect(assistant.settings.tracker_db) as connection:
        stored = "\n".join(row[0] for row in connection.execute("SELECT data FROM events WHERE sender_id = ?", (chat.sender,)))
    assert stored and "430102199001011234" not in stored and "13812345678" not in stored
    assert "138****5678" in stored
