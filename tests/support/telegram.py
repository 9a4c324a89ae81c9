"""Helpers for the Telegram bot tests (tests/bot/channels/telegram/test_bot_*.py, fixtures in its
conftest.py): a proxy standing between the bot and Rasa, a Stack that starts the bot as `make run`
does, and the user's side: the tests play a Telegram user, post updates to the fake Bot API server
(tests/support/fake_bot_api) and read what the bot sent, as the user would see it.

Every wait has a definite end (so many messages, the message with the answer's 👍/👎 buttons, a
record in the database) and a generous timeout, never a quiet period: on a loaded two-core machine
the messages of one reply can be seconds apart. One Rasa turn is one message here (the actions
say one text per turn) unless the answer is longer than Telegram's 4096 characters."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.launcher.stack import Stack
from protocol import REST_TOKEN_ENV, SENDER_PREFIX_TELEGRAM
from tests.support import free_port, parsed_guide, serve_http, stop_http, wait_for_rows
from tests.support.fake_bot_api import FakeBotApi
from tests.support.stack import Assistant

Messages = list[dict[str, Any]]

STAFF_CHAT = -1001234567890


class RasaProxy:
    """Stands between the bot and Rasa: forwards (with the bot's REST channel token), or plays Rasa
    down (port closed) or the action server down (Rasa answers []). Given `replies` instead of a Rasa,
    it plays Rasa itself, for tests of the bot alone: the reply for each message received (the REST
    channel's output, tests/support/kefu.py rest_output), none for any other."""

    def __init__(self, upstream: str, rest_token: str, replies: Mapping[str, Messages] | None = None) -> None:
        self.upstream = upstream
        self.rest_token = rest_token  # Rasa's REST channel token, which telegram_stack hands the bot
        self.port = free_port()
        self.mode = "forward" if replies is None else "replies"  # or "empty"
        self.replies = dict(replies or {})
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RasaProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append(json.loads(body))
                if proxy.mode == "empty":
                    status, answer = 200, b"[]"
                elif proxy.mode == "replies":
                    status, answer = 200, json.dumps(proxy.replies.get(json.loads(body).get("message"), [])).encode()
                else:
                    headers = {"Content-Type": "application/json"}
                    if self.headers.get("Authorization"):  # the bot's REST channel token, passed on as it came
                        headers["Authorization"] = self.headers["Authorization"]
                    request = urllib.request.Request(proxy.upstream + self.path, body, headers)
                    try:
                        with urllib.request.urlopen(request, timeout=60) as response:
                            status, answer = response.status, response.read()
                    except urllib.error.HTTPError as error:
                        status, answer = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = serve_http(Handler, self.port)
        return self

    def stop(self) -> None:
        """Close the port: connections are refused, as when Rasa is not running."""
        if self._server is not None:
            stop_http(self._server)
            self._server = None


def telegram_stack(api: FakeBotApi, rasa: RasaProxy, root: Path, **extra_env: str) -> Stack:
    """A Stack whose Rasa is the proxy; start_telegram() then starts the bot exactly as `make run` does."""
    (root / "logs").mkdir(parents=True, exist_ok=True)
    # Everything set here, so a developer's own TELEGRAM_* or GOVQA_TELEGRAM_* variables cannot leak in; the REST
    # channel token is the running assistant's (a new secrets folder would make the bot a token Rasa refuses).
    env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url, "TELEGRAM_STAFF_CHAT_ID": "",
           "TELEGRAM_WEBHOOK_SECRET": "", "GOVQA_TELEGRAM_MODE": "polling", "GOVQA_VAR_DIR": str(root / "var"),
           "GOVQA_SECRETS_DIR": str(root / "secrets"), REST_TOKEN_ENV: rasa.rest_token, **extra_env}
    return Stack(ports=(rasa.port, free_port()), kefu_port=free_port(), env=env, logs=root / "logs")


# --- the user's side ------------------------------------------------------------------------------------


def say(api: FakeBotApi, chat_id: int, text: str, until: Callable[[Messages], bool] | None = None) -> Messages:
    """The user sends `text`; the bot's reply: one message, or the messages up to the one `until` accepts."""
    mark = api.mark(chat_id)
    api.user_says(chat_id, text)
    return api.wait_messages(chat_id, since=mark, until=until)


def ask(api: FakeBotApi, chat_id: int, question: str) -> Messages:
    """The user asks a question the assistant answers: the messages up to the one with 👍/👎 (a long answer is several)."""
    return say(api, chat_id, question, until=rated)


def click(api: FakeBotApi, chat_id: int, message: dict[str, Any], title_part: str,
          until: Callable[[Messages], bool] | None = None) -> Messages:
    """The user presses a button; the query is answered, the keyboard marked used, the reply sent."""
    mark = api.mark(chat_id)
    [query_id] = api.click(chat_id, message, title_part)
    replies = api.wait_messages(chat_id, since=mark, until=until)
    assert api.callback_queries[query_id]["answered"] is not None, "the spinner on the button must stop"
    return replies


def text(messages: Messages) -> str:
    return "\n".join(message["text"] for message in messages)


def buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    return [button for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for button in row]


def rated(messages: Messages) -> bool:
    """An answer is complete: its last message carries the feedback buttons."""
    return any(button["text"] == "👍 好评" for button in buttons(messages[-1]))


def assert_answers(reply: str, guide_id: str, heading: str | None = None) -> None:
    """The reply answers the guide as its file has it: title, every item of `heading`, contacts."""
    guide = parsed_guide(guide_id)
    assert guide.title in reply, reply[:500]
    if heading:
        section = guide.section(heading)
        for item in section.items or [section.text.strip().splitlines()[0]]:
            assert item in reply, f"{heading} incomplete, missing {item!r}"
    for contact in guide.contacts:
        assert contact.phone in reply and contact.unit in reply
    assert guide.department in reply


def now(api: FakeBotApi, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
    """`message` as the user sees it now (its keyboard edited or removed since)."""
    return next(m for m in api.messages_to(chat_id) if m["message_id"] == message["message_id"])


def _of_chat(chat_id: int) -> Callable[[dict[str, Any]], bool]:
    """Rows of this chat (its Rasa senders are tg-<chat id>[-<n>])."""
    return lambda row: of_chat_sender(row["sender_id"], chat_id)


def of_chat_sender(sender: str, chat_id: int) -> bool:
    """The Rasa sender is the chat's: tg-<chat id>, or tg-<chat id>-<n> after the n-th /reset."""
    own = f"{SENDER_PREFIX_TELEGRAM}{chat_id}"
    return sender == own or sender.startswith(f"{own}-")


def records(assistant: Assistant, table: str, chat_id: int) -> list[dict[str, Any]]:
    """The chat's rows in the records database, as they are now."""
    return wait_for_rows(assistant.settings.records_db, table, _of_chat(chat_id), until=lambda _rows: True)


def wait_records(assistant: Assistant, table: str, chat_id: int, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
    """The chat's rows, once there are `count`: the action server writes feedback after replying."""
    rows = wait_for_rows(assistant.settings.records_db, table, _of_chat(chat_id), until=lambda rows: len(rows) >= count,
                         timeout=timeout)
    assert len(rows) >= count, f"timed out after {timeout:.0f} s waiting for {count} {table} row(s) of chat {chat_id}: {rows}"
    return rows


def sent_to_rasa(rasa: RasaProxy, chat_id: int, since: int = 0) -> list[str]:
    """The messages the bot passed on to Rasa for the chat, after the first `since` requests."""
    return [r["message"] for r in rasa.requests[since:] if of_chat_sender(r["sender"], chat_id)]
