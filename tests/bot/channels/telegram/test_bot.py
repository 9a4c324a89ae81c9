"""The Telegram bot end to end: the real python-telegram-bot client, started as `make run` starts
it (`python -m bot.channels.telegram.app` through bot.launcher.stack), against a local fake Bot API server and the
real Rasa and action servers. The tests play a Telegram user: they post updates to the fake
server and read what the bot sent, as the user would see it.

Every wait has a definite end (so many messages, the message with the answer's 👍/👎 buttons, a
record in the database) and a generous timeout, never a quiet period: on a loaded two-core machine
the messages of one reply can be seconds apart. One Rasa turn is one message here (the actions
say one text per turn) unless the answer is longer than Telegram's 4096 characters."""

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
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.channels.telegram.formatting import callback_key
from bot.launcher.stack import Stack
from protocol import FEEDBACK_GOOD, SENDER_PREFIX_TELEGRAM
from tests.support import ROOT, free_port, parsed_guide, run_cli, serve_http, stop_http, wait_for_rows, write_guide
from tests.support.fake_bot_api import FakeBotApi
from tests.support.stack import Assistant

Messages = list[dict[str, Any]]

STAFF_CHAT = -1001234567890


class RasaProxy:
    """Stands between the bot and Rasa: forwards, or plays Rasa down (port closed) or the action
    server down (Rasa answers [])."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.mode = "forward"  # or "empty"
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
                else:
                    request = urllib.request.Request(proxy.upstream + self.path, body, {"Content-Type": "application/json"})
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


@pytest.fixture(scope="module")
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        fake.add_group(STAFF_CHAT, "政务服务中心人工坐席")
        yield fake


@pytest.fixture(scope="module")
def rasa(assistant: Assistant) -> Iterator[RasaProxy]:
    proxy = RasaProxy(assistant.stack.rasa_url).start()
    yield proxy
    proxy.stop()


def telegram_stack(api: FakeBotApi, rasa: RasaProxy, root: Path, **extra_env: str) -> Stack:
    """A Stack whose Rasa is the proxy; start_telegram() then starts the bot exactly as `make run` does."""
    (root / "logs").mkdir(parents=True, exist_ok=True)
    # Everything set here, so a developer's own TELEGRAM_* or GOVQA_TELEGRAM_* variables cannot leak in.
    env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url, "TELEGRAM_STAFF_CHAT_ID": "",
           "TELEGRAM_WEBHOOK_SECRET": "", "GOVQA_TELEGRAM_MODE": "polling", "GOVQA_VAR_DIR": str(root / "var"),
           "GOVQA_SECRETS_DIR": str(root / "secrets"), **extra_env}
    return Stack(ports=(rasa.port, free_port()), kefu_port=free_port(), env=env, logs=root / "logs")


@pytest.fixture(scope="module")
def bot(api: FakeBotApi, rasa: RasaProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = telegram_stack(api, rasa, tmp_path_factory.mktemp("telegram"), TELEGRAM_STAFF_CHAT_ID=str(STAFF_CHAT))
    stack.start_telegram()
    api.wait_until(lambda: bool(api.called("getUpdates")) or stack.telegram.poll() is not None, 60, "the bot to start polling")
    assert stack.telegram.poll() is None, (stack.logs / "telegram.log").read_text()
    yield stack
    stack.stop()


# --- helpers: the user's side --------------------------------------------------------------------------


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


def with_buttons(messages: Messages) -> bool:
    """A question back (which one do you mean?) is complete: its message carries the choices."""
    return bool(buttons(messages[-1]))


def staff_notice_complete(messages: Messages) -> bool:
    """The notice (several messages when the transcript is long) ends with this line."""
    return "请尽快联系用户" in messages[-1]["text"]


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


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


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


# --- the tests -------------------------------------------------------------------------------------------


def test_start_welcomes_with_example_questions_that_can_be_clicked(api: FakeBotApi, bot: Stack) -> None:
    assert {c["command"] for c in api.commands} == {"start", "help", "reset", "human"}
    welcome = say(api, 1001, "/start")
    assert len(welcome) == 1 and "政务服务智能问答助手" in welcome[0]["text"] and "12345" in welcome[0]["text"]
    examples = [b["text"] for b in buttons(welcome[0])]
    assert "开办企业需要什么材料？" in examples and all(e in welcome[0]["text"] for e in examples)
    answer = click(api, 1001, welcome[0], "开办企业", until=rated)
    assert_answers(text(answer), "company-setup", "申请材料")
    assert [b["text"] for b in buttons(now(api, 1001, welcome[0]))] == ["✓ 已选：开办企业需要什么材料？"]


def test_a_whole_conversation_with_a_follow_up(api: FakeBotApi, bot: Stack) -> None:
    answer = ask(api, 1002, "开办企业需要什么材料")
    assert_answers(text(answer), "company-setup", "申请材料")
    assert (1002, "typing") in api.chat_actions
    assert {b["text"] for b in buttons(answer[-1])} == {"👍 好评", "👎 差评"}
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(answer[-1]))
    assert any(e["type"] == "bold" for e in answer[0].get("entities", [])), "the title is bold"

    follow_up = ask(api, 1002, "那要多久？")
    assert_answers(text(follow_up), "company-setup", "办理时限")
    # Rasa's buttons are about its latest answer: the older keyboard is gone.
    assert buttons(now(api, 1002, answer[-1])) == [] and buttons(follow_up[-1])


def test_a_clarifying_question_is_answered_by_a_button(api: FakeBotApi, bot: Stack) -> None:
    question = say(api, 1003, "注销公司", until=with_buttons)
    titles = [b["text"] for b in buttons(question[-1])]
    assert any("简易注销" in t for t in titles) and any("一般注销" in t for t in titles), titles
    answer = click(api, 1003, question[-1], "简易注销", until=rated)
    assert_answers(text(answer), "simplified-deregistration")
    marked = buttons(now(api, 1003, question[-1]))
    assert len(marked) == 1 and marked[0]["text"].startswith("✓ 已选：") and "简易注销" in marked[0]["text"]

    # The used keyboard cannot send anything again: the query is answered "used" instead of a turn.
    mark = api.mark(1003)
    [query] = api.click(1003, question[-1], "已选")
    api.wait_until(lambda: api.callback_queries[query]["answered"] is not None, 60, "the answer to the query")
    assert "用过" in api.callback_queries[query]["answered"]["text"] and api.mark(1003) == mark


def test_a_double_tap_on_a_button_sends_it_to_rasa_once(api: FakeBotApi, bot: Stack, rasa: RasaProxy,
                                                        assistant: Assistant) -> None:
    answer = ask(api, 1016, "燃气开户要什么材料")
    assert_answers(text(answer), "gas-connection", "申请材料")
    mark, asked = api.mark(1016), len(rasa.requests)
    taps = api.click(1016, answer[-1], "好评", taps=2)  # fetched together, handled concurrently
    api.wait_until(lambda: all(api.callback_queries[q]["answered"] is not None for q in taps), 60, "both taps answered")
    assert "感谢" in text(api.wait_messages(1016, since=mark))
    # One tap made the turn; the other was told the button is used (it never went on to Rasa).
    told = sorted(str(api.callback_queries[q]["answered"].get("text") or "") for q in taps)
    assert told[0] == "" and "用过" in told[1], told
    assert sent_to_rasa(rasa, 1016, since=asked) == [FEEDBACK_GOOD]
    assert len(wait_records(assistant, "feedback", 1016)) == 1
    assert [b["text"] for b in buttons(now(api, 1016, answer[-1]))] == ["✓ 已选：👍 好评"]  # the mark stays


def test_a_good_rating_is_stored_with_the_answer(api: FakeBotApi, bot: Stack, assistant: Assistant) -> None:
    answer = ask(api, 1004, "办施工许可证要交钱吗")
    assert_answers(text(answer), "construction-permit", "收费标准")
    thanks = click(api, 1004, answer[-1], "好评")
    assert "感谢" in text(thanks)
    rows = wait_records(assistant, "feedback", 1004)
    assert len(rows) == 1 and rows[0]["rating"] == "good" and rows[0]["guide_id"] == "construction-permit"
    assert rows[0]["question"] == "办施工许可证要交钱吗"


def test_reset_starts_a_new_conversation(api: FakeBotApi, bot: Stack) -> None:
    assert_answers(text(ask(api, 1005, "用水报装要多久")), "water-connection", "办理时限")
    done = say(api, 1005, "/reset")
    assert "新的对话" in text(done)
    assert all(not buttons(m) for m in api.messages_to(1005)), "no keyboard of the old conversation stays usable"
    after = say(api, 1005, "那要多久？")
    assert "哪个事项" in text(after) and parsed_guide("water-connection").contacts[0].phone not in text(after)


def test_human_hands_over_and_the_staff_chat_gets_the_transcript(api: FakeBotApi, bot: Stack, assistant: Assistant) -> None:
    api.add_user(1006, first_name="李<四>&", username="lisi")
    assert_answers(text(ask(api, 1006, "用水报装要什么材料")), "water-connection", "申请材料")
    say(api, 1006, "我的手机是13812345678")
    staff_mark = api.mark(STAFF_CHAT)
    handoff = text(say(api, 1006, "/human"))
    water = parsed_guide("water-connection")
    assert "人工" in handoff and water.contacts[0].phone in handoff and "12345" in handoff

    notice = text(api.wait_messages(STAFF_CHAT, since=staff_mark, until=staff_notice_complete))
    rows = records(assistant, "handoffs", 1006)
    assert rows and rows[-1]["reason"] == "request_human"
    assert f"记录编号：{rows[-1]['id']}" in notice
    assert "用户的消息：/human（转人工）" in notice and "此前咨询的问题：用水报装要什么材料" in notice
    assert "water-connection" in notice
    assert "李<四>& @lisi" in notice and f"{SENDER_PREFIX_TELEGRAM}1006" in notice  # the name is escaped, not dropped
    assert "用户：用水报装要什么材料" in notice and "助手：【用水报装】" in notice and "/human" in notice
    assert "138****5678" in notice and "13812345678" not in notice  # personal data masked, as in the records


def test_a_complaint_reaches_the_staff_with_what_the_user_said(api: FakeBotApi, bot: Stack, assistant: Assistant) -> None:
    assert_answers(text(ask(api, 1015, "开办企业需要什么材料")), "company-setup", "申请材料")
    staff_mark = api.mark(STAFF_CHAT)
    reply = text(say(api, 1015, "我要投诉，跑了三趟都没办成"))
    assert "抱歉" in reply and "12345" in reply

    notice = text(api.wait_messages(STAFF_CHAT, since=staff_mark, until=staff_notice_complete))
    assert "用户投诉或反映办事困难" in notice
    assert "用户的消息：我要投诉，跑了三趟都没办成" in notice  # the complaint itself, not the earlier question
    assert "此前咨询的问题：开办企业需要什么材料" in notice  # which the complaint is probably about
    assert records(assistant, "handoffs", 1015)[-1]["reason"] == "complain"


def test_the_staff_chat_is_not_a_conversation(api: FakeBotApi, bot: Stack, rasa: RasaProxy) -> None:
    asked, mark = len(rasa.requests), api.mark(STAFF_CHAT)
    api.user_says(STAFF_CHAT, "收到，我来联系这位用户", user_id=2001)
    # A barrier: a question from another chat, sent after the staff message and answered through
    # Rasa. Updates are handled in the order they are fetched; had the staff message been taken
    # for a question, its "typing…" and its request to Rasa would have come before this answer.
    assert_answers(text(ask(api, 1030, "用水报装要多久")), "water-connection", "办理时限")
    assert api.mark(STAFF_CHAT) == mark
    assert sent_to_rasa(rasa, STAFF_CHAT, since=asked) == [] and sent_to_rasa(rasa, 1030, since=asked) == ["用水报装要多久"]
    assert all(chat != STAFF_CHAT for chat, _action in api.chat_actions)


def test_a_long_answer_is_split_into_messages_between_lines(api: FakeBotApi, bot: Stack, assistant: Assistant) -> None:
    items = [f"第{n}号古树名木的树种鉴定报告、胸径和冠幅测量记录及东南西北四个方向的现场照片原件1份（由具备资质的园林绿化鉴定机构出具）"
             for n in range(1, 81)]
    guide = LONG_GUIDE.replace("{items}", "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1)))
    path = write_guide(assistant.settings.guides_dir, "ancient-tree-relocation", text=guide)
    try:
        # --no-gate: publishing through the evaluation gate is test_new_guide's subject; here only the answer's length matters.
        built = run_cli(assistant.settings, "build", "--no-gate")
        assert built.returncode == 0, built.stdout + built.stderr
        # The action server picks the new index up within index_poll_seconds: seen through the REST channel,
        # so that the Telegram chat asks once and gets an answer (which ends with 👍/👎).
        probe, deadline = assistant.chat("tree"), time.monotonic() + 60
        while "古树名木迁移审批" not in probe.say("迁移古树名木要准备哪些材料").text:
            assert time.monotonic() < deadline, "the new guide was not picked up within 60 s"
            time.sleep(0.5)
        answer = ask(api, 1007, "迁移古树名木要准备哪些材料")
        assert "古树名木迁移审批" in text(answer)
        assert len(answer) >= 2, f"expected a split answer, got {[len(m['text']) for m in answer]}"
        assert all(len(m["text"].encode("utf-16-le")) // 2 <= 4096 for m in answer)
        lines = [line for m in answer for line in m["text"].split("\n")]
        for n, item in enumerate(items, 1):
            assert f"{n}. {item}" in lines, f"item {n} missing or cut"
        assert "0000-7777088" in text(answer)
        assert not any(buttons(m) for m in answer[:-1]) and {b["text"] for b in buttons(answer[-1])} == {"👍 好评", "👎 差评"}
    finally:
        path.unlink()
        rebuilt = run_cli(assistant.settings, "build", "--no-gate")  # back to the knowledge base the other tests expect
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr


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


def test_help_and_unknown_commands(api: FakeBotApi, bot: Stack) -> None:
    assert "/reset" in text(say(api, 1010, "/help")) and "/human" in text(say(api, 1010, "/help"))
    assert "没有这个命令" in text(say(api, 1010, "/foo"))


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


LONG_GUIDE = """---
id: ancient-tree-relocation
title: 古树名木迁移审批
aliases: [古树迁移, 移植古树, 古树名木移植]
category: 园林绿化
department: 示例区园林绿化局
contacts:
  - unit: 示例区政务服务中心园林绿化窗口
    phone: "0000-7777088"
    address: 示例区政务服务中心三楼C区25号窗口
    hours: 工作日 9:00-17:00
updated: 2026-11-01
source: 《示例区古树名木迁移审批办事指南》
questions:
  - 迁移古树名木要准备哪些材料
  - 古树移植审批要多久
  - 古树名木迁移去哪里办
---
## 申请材料
{items}
## 办理流程
1. 提交申请
2. 专家论证
3. 审批
## 办理时限
承诺15个工作日（法定20个工作日）
## 收费标准
不收费
## 办理地点
示例区政务服务中心三楼C区25号窗口
"""
