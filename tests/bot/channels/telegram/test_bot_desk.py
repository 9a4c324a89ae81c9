"""The staff desk and Telegram end to end: a Telegram user's 转人工 appears in the desk's queue; the
clerk takes it ("工作人员已接入" arrives in the chat), what the user types meanwhile reaches the clerk
and not the assistant, the clerk's reply arrives in that chat as a sendMessage, and closing it tells
the user and gives the conversation back to the assistant.

The bot is the real python-telegram-bot client, started as `make run` starts it, against the fake
Bot API server (tests/support/fake_bot_api) and the real Rasa and action servers; it shares the
running assistant's records database, where the hall API's desk (called over HTTP with the staff
token, as the desk page calls it) writes the clerk's lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.launcher.stack import Stack
from tests.support import wait_for_rows
from tests.support.fake_bot_api import FakeBotApi
from tests.support.stack import STAFF_TOKEN, Assistant
from tests.support.telegram import RasaProxy, ask, records, say, sent_to_rasa, telegram_stack, text

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
CHAT = 1101
MOBILE = "13812345678"


@pytest.fixture(scope="module")
def bot(api: FakeBotApi, rasa: RasaProxy, assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The bot as `make run` starts it, on the running assistant's records database (shared with the desk)."""
    stack = telegram_stack(api, rasa, tmp_path_factory.mktemp("telegram-desk"),
                           GOVQA_RECORDS_DB=str(assistant.settings.records_db), GOVQA_DESK_POLL_SECONDS="0.5")
    stack.start_telegram()
    api.wait_until(lambda: bool(api.called("getUpdates")) or stack.telegram.poll() is not None, 60, "the bot to start polling")
    assert stack.telegram.poll() is None, (stack.logs / "telegram.log").read_text()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def desk(assistant: Assistant) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=assistant.stack.kefu_url, headers=STAFF, timeout=60) as client:
        yield client


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def test_a_telegram_handoff_is_taken_answered_and_closed_from_the_desk(api: FakeBotApi, bot: Stack, rasa: RasaProxy,
                                                                       assistant: Assistant, desk: httpx.Client) -> None:
    api.add_user(CHAT, first_name="赵六")
    ask(api, CHAT, "营业执照丢了怎么补办")
    handoff_reply = text(say(api, CHAT, "转人工"))
    [row] = [r for r in records(assistant, "handoffs", CHAT) if r["sender_id"] == f"tg-{CHAT}"][-1:]
    assert f"记录编号：{row['id']}" in handoff_reply and "12345" in handoff_reply

    queue = ok(desk.get("/desk/api/queue"))["handoffs"]
    [entry] = [h for h in queue if h["id"] == row["id"]]
    assert entry["sender_id"] == f"tg-{CHAT}" and entry["status"] == "waiting" and entry["guide"]["id"] == "license-reissue"

    mark = api.mark(CHAT)
    ok(desk.post(f"/desk/api/handoffs/{row['id']}/take", json={"clerk": "王芳"}))
    [joined] = api.wait_messages(CHAT, since=mark)
    assert "工作人员已接入" in joined["text"] and "王芳" in joined["text"]

    # held: the user's message goes to the clerk (masked), not to Rasa
    asked = len(rasa.requests)
    held = text(say(api, CHAT, f"我的电话是 {MOBILE}，材料要原件吗"))
    assert "已发给工作人员（王芳）" in held
    assert sent_to_rasa(rasa, CHAT, since=asked) == []
    lines = ok(desk.get(f"/desk/api/handoffs/{row['id']}"))["messages"]
    assert lines[-1]["author"] == "citizen" and "材料要原件吗" in lines[-1]["text"] and MOBILE not in lines[-1]["text"]

    mark = api.mark(CHAT)
    ok(desk.post(f"/desk/api/handoffs/{row['id']}/reply", json={"clerk": "王芳", "text": "需要原件，请带身份证到3号窗口。"}))
    [reply] = api.wait_messages(CHAT, since=mark)
    assert "工作人员（王芳）" in reply["text"] and "需要原件，请带身份证到3号窗口。" in reply["text"]
    assert [call for call in api.called("sendMessage") if "需要原件" in str(call.get("text"))]

    mark = api.mark(CHAT)
    ok(desk.post(f"/desk/api/handoffs/{row['id']}/close", json={"clerk": "王芳", "outcome": "answered"}))
    [ended] = api.wait_messages(CHAT, since=mark)
    assert "已结束本次人工服务（已解答）" in ended["text"]
    # each line is marked delivered once sent (marked just after the sendMessage: wait for it), and sent once
    delivered = wait_for_rows(assistant.settings.records_db, "desk_messages",
                              lambda line: line["handoff_id"] == row["id"] and line["author"] != "citizen",
                              until=lambda lines: len(lines) == 3 and all(line["delivered_at"] for line in lines))
    assert all(line["delivered_at"] for line in delivered)
    assert len([m for m in api.messages_to(CHAT) if "工作人员" in m["text"] and "需要原件" in m["text"]]) == 1

    # the assistant answers again
    asked = len(rasa.requests)
    ask(api, CHAT, "那要多久？")
    assert sent_to_rasa(rasa, CHAT, since=asked) == ["那要多久？"]
    actions = ok(desk.get(f"/desk/api/handoffs/{row['id']}"))["actions"]
    assert [(a["action"], a["clerk"]) for a in actions] == [("take", "王芳"), ("reply", "王芳"), ("close", "王芳")]
