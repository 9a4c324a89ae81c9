"""The channels' client of Rasa's REST webhook (bot/channels/rasa_client.py), against a local HTTP
server playing Rasa: the reply's texts, buttons and custom payloads; retries while Rasa is
unreachable or has no instance up (503); no retry once Rasa may have handled the message (502/504 from a
balancer, other errors, timeouts); `AssistantUnavailableError` when nothing usable comes back."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from bot.channels.rasa_client import AssistantReply, AssistantUnavailableError, RasaClient, unavailable_text
from protocol import FEEDBACK_ASK_COMMENT
from tests.support import free_port, serve_http, stop_http

pytestmark = pytest.mark.unit

WEBHOOK = "/webhooks/rest/webhook"
REPLY = [
    {"recipient_id": "tg-42", "text": "【企业开办】\n\n申请材料：…", "buttons": [{"title": "👍 好评", "payload": "/feedback_good"},
                                                                         {"title": "👎 差评", "payload": "/feedback_bad"}]},
    {"recipient_id": "tg-42", "custom": {"answer": {"guide": {"id": "company-setup"}, "aspect": "materials"}}},
    {"recipient_id": "tg-42", "text": "还有别的问题吗？"},
]


class FakeRasa:
    """What the fake Rasa answers, in order (the last answer repeats), and what it received."""

    def __init__(self) -> None:
        self.server: Any = None
        self.script()

    def script(self, *answers: tuple[int, Any]) -> FakeRasa:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.release = threading.Event()  # a "hang" answer waits for it
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{WEBHOOK}"

    def start(self, port: int = 0) -> FakeRasa:
        self.server = serve_http(self.handler(), port)
        return self

    def stop(self) -> None:
        self.release.set()
        stop_http(self.server)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        rasa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                rasa.paths.append(self.path)
                rasa.requests.append(json.loads(body))
                status, answer = rasa.answers[min(len(rasa.requests), len(rasa.answers)) - 1]
                if answer == "hang":
                    rasa.release.wait(10)
                    return
                data = answer if isinstance(answer, bytes) else json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[FakeRasa]:
    """One server for the module (stopping one takes half a second); each test scripts it anew."""
    fake = FakeRasa().start()
    yield fake
    fake.stop()


@pytest.fixture
def rasa(server: FakeRasa) -> Iterator[Callable[..., FakeRasa]]:
    yield server.script
    server.release.set()  # a handler still hanging from a timeout test


def _send(client: RasaClient, sender: str = "tg-42", message: str = "开办企业需要什么材料") -> AssistantReply:
    async def go() -> AssistantReply:
        try:
            return await client.send(sender, message)
        finally:
            await client.aclose()

    return asyncio.run(go())


# --- a reply ---------------------------------------------------------------------------------

def test_a_message_is_posted_as_rasa_expects_and_the_reply_parsed(rasa: Callable[..., FakeRasa]) -> None:
    fake = rasa((200, REPLY))
    reply = _send(RasaClient(fake.url), "tg-42", "开办企业需要什么材料")
    assert fake.requests == [{"sender": "tg-42", "message": "开办企业需要什么材料"}]
    assert fake.paths == [WEBHOOK]
    assert reply.texts == ["【企业开办】\n\n申请材料：…", "还有别的问题吗？"]
    assert reply.text == "【企业开办】\n\n申请材料：…\n\n还有别的问题吗？"
    assert reply.buttons == [{"title": "👍 好评", "payload": "/feedback_good"}, {"title": "👎 差评", "payload": "/feedback_bad"}]
    assert reply.answer == {"guide": {"id": "company-setup"}, "aspect": "materials"}
    assert reply.handoff is None


def test_messages_that_are_not_objects_are_dropped(rasa: Callable[..., FakeRasa]) -> None:
    fake = rasa((200, ["stray", {"text": "您好"}, 3, None]))
    reply = _send(RasaClient(fake.url))
    assert reply.messages == [{"text": "您好"}] and reply.text == "您好"


# --- AssistantReply, as the channels read it -------------------------------------------------

def test_payload_finds_the_first_custom_payload_of_that_name() -> None:
    reply = AssistantReply([
        {"text": "转人工"},
        {"custom": "not a dict"},
        {"custom": {"handoff": "not a dict either"}},
        {"custom": {"handoff": {"record_id": 7}, "answer": None}},
        {"custom": {"handoff": {"record_id": 8}}},
    ])
    assert reply.handoff == {"record_id": 7}
    assert reply.answer is None and reply.payload("clarify") is None


def test_a_rating_reply_says_what_it_is_as_text() -> None:
    reply = AssistantReply([{"text": "抱歉没帮上忙，请告诉我缺了什么"}, {"custom": {"feedback": {"not": "text"}}},
                            {"custom": {"feedback": FEEDBACK_ASK_COMMENT}}])
    assert reply.feedback == FEEDBACK_ASK_COMMENT
    assert reply.payload("feedback") == {"not": "text"} and reply.payload_text("answer") is None
    assert AssistantReply([{"text": "您好"}]).feedback is None


def test_buttons_always_have_a_string_title_and_payload() -> None:
    reply = AssistantReply([{"text": "选一个", "buttons": [{"title": 1, "payload": "/choose"}, {"payload": "/deny"}]},
                            {"text": "无按钮", "buttons": None}])
    assert reply.buttons == [{"title": "1", "payload": "/choose"}, {"title": "", "payload": "/deny"}]


def test_an_empty_reply_has_no_text() -> None:
    reply = AssistantReply()
    assert reply.text == "" and reply.texts == [] and reply.buttons == [] and reply.answer is None


def test_a_reply_of_only_a_custom_payload_has_no_text() -> None:
    reply = AssistantReply([{"custom": {"not_found": {"near": []}}}, {"text": ""}])
    assert reply.text == "" and reply.payload("not_found") == {"near": []}


# --- Rasa answers, but not usefully: no retry, the message may have been handled ----------------

def test_an_empty_reply_means_the_action_server_is_down(rasa: Callable[..., FakeRasa]) -> None:
    fake = rasa((200, []))
    with pytest.raises(AssistantUnavailableError, match="没有给出回复"):
        _send(RasaClient(fake.url, backoff=0.01))
    assert len(fake.requests) == 1


@pytest.mark.parametrize(("status", "body", "problem"), [
    (500, {"error": "boom"}, "HTTP 500"),
    (400, {"error": "bad"}, "HTTP 400"),
    (200, b"<html>not json</html>", "不是 JSON"),
    (200, {"text": "an object, not a list"}, "没有给出回复"),
])
def test_an_unusable_answer_is_not_retried(rasa: Callable[..., FakeRasa], status: int, body: Any, problem: str) -> None:
    fake = rasa((status, body), (200, REPLY))
    with pytest.raises(AssistantUnavailableError, match=problem):
        _send(RasaClient(fake.url, backoff=0.01))
    assert len(fake.requests) == 1  # sending again could answer the user twice


def test_a_timeout_is_not_retried(rasa: Callable[..., FakeRasa]) -> None:
    fake = rasa((200, "hang"), (200, REPLY))
    started = time.monotonic()
    with pytest.raises(AssistantUnavailableError, match="请求失败"):
        _send(RasaClient(fake.url, timeout=0.2, backoff=0.01))
    assert time.monotonic() - started < 3
    assert len(fake.requests) == 1


# --- Rasa restarting or unreachable: retried with backoff --------------------------------------

def test_a_restarting_rasa_is_retried_until_it_answers(rasa: Callable[..., FakeRasa], caplog: pytest.LogCaptureFixture) -> None:
    fake = rasa((503, {"error": "starting"}), (503, {"error": "starting"}), (200, REPLY))
    with caplog.at_level(logging.WARNING, logger="bot.channels.rasa_client"):
        reply = _send(RasaClient(fake.url, retries=3, backoff=0.01))
    assert reply.answer is not None
    assert len(fake.requests) == 3 and fake.requests[0] == fake.requests[2]
    assert sum("重试" in record.getMessage() for record in caplog.records) == 2


@pytest.mark.parametrize("status", [502, 504])
def test_a_balancers_broken_or_timed_out_request_is_not_sent_twice(rasa: Callable[..., FakeRasa], status: int) -> None:
    """Behind HAProxy a 502 or 504 means the instance may have handled the message: no retry."""
    fake = rasa((status, {"error": "upstream"}), (200, REPLY))
    with pytest.raises(AssistantUnavailableError, match=f"HTTP {status}"):
        _send(RasaClient(fake.url, retries=3, backoff=0.01))
    assert len(fake.requests) == 1


def test_rasa_that_stays_unavailable_gives_up_after_the_retries(rasa: Callable[..., FakeRasa]) -> None:
    fake = rasa((503, {"error": "starting"}))
    with pytest.raises(AssistantUnavailableError, match="HTTP 503"):
        _send(RasaClient(fake.url, retries=2, backoff=0.01))
    assert len(fake.requests) == 3  # the first attempt and two retries


def test_the_backoff_doubles_between_attempts(rasa: Callable[..., FakeRasa]) -> None:
    fake = rasa((503, {"error": "starting"}))
    started = time.monotonic()
    with pytest.raises(AssistantUnavailableError):
        _send(RasaClient(fake.url, retries=3, backoff=0.05))
    assert time.monotonic() - started >= 0.05 + 0.1 + 0.2  # 0.05, 0.1, 0.2: no sleep after the last attempt


def test_unreachable_rasa_raises_after_the_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}{WEBHOOK}"  # nothing listens there
    with pytest.raises(AssistantUnavailableError, match="无法连接"):
        _send(RasaClient(url, retries=2, backoff=0.01))


def test_a_rasa_that_comes_up_during_the_retries_answers() -> None:
    port = free_port()
    late = FakeRasa().script((200, REPLY))
    timer = threading.Timer(0.3, late.start, kwargs={"port": port})
    timer.start()
    try:
        reply = _send(RasaClient(f"http://127.0.0.1:{port}{WEBHOOK}", retries=6, backoff=0.1))
    finally:
        timer.join()
        if late.server is not None:
            late.stop()
    assert reply.answer is not None
    assert len(late.requests) == 1  # the refused attempts never reached it


def test_the_unavailable_message_gives_the_hotline() -> None:
    assert "12345" in unavailable_text("12345") and "稍后再试" in unavailable_text("12345")
