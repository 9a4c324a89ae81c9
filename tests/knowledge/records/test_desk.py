"""The staff desk's records (knowledge/records/desk.py): the queue, take / reply / close with the
clerk's name, the held conversation whose messages go to the clerk, delivery of clerk lines, the
record of every staff action, masking, and retention."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.records.desk import CLOSED, TAKEN, WAITING, DeskError, DeskRecords
from knowledge.records.store import ALL_TABLES, ANSWERED
from tests.support import age_row
from tests.support.records import BACKENDS, store_on_backend
from tests.support.servers import stores  # noqa: F401  (the PostgreSQL variant's fixture)

pytestmark = pytest.mark.unit

MOBILE = "13812345678"


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeskRecords]:
    """Each test on the SQLite file and on PostgreSQL (the atomic take included)."""
    yield from store_on_backend(DeskRecords, request, tmp_path)


def handoff(desk: DeskRecords, sender: str = "kefu-web-1", question: str = "营业执照丢了怎么办") -> int:
    return desk.add_handoff(sender, reason="request_human", guide_id="license-reissue", question=question,
                            transcript=[{"from": "user", "text": question}, {"from": "bot", "text": "【营业执照补办】…"}])


def test_transcript_times_read_like_every_other_desk_time(desk: DeskRecords) -> None:
    """Handoffs recorded before the transcript's times were written on the deployment's clock hold Rasa's Unix
    timestamps: the desk shows them as ISO times like its other times; ISO times pass as they are, a line without one stays so."""
    desk.timezone = "Asia/Shanghai"
    old = desk.add_handoff("kefu-web-1", reason="request_human", guide_id=None, question="转人工", transcript=[
        {"from": "user", "text": "转人工", "time": "1796660568.4872663"}, {"from": "bot", "text": "好的", "time": "2026-12-07T16:00:01"},
        {"from": "bot", "text": "请稍候"}])
    assert [line.get("time") for line in desk.handoff(old)["transcript"]] == ["2026-12-08T00:22:48", "2026-12-07T16:00:01", None]


def test_a_new_handoff_waits_in_the_queue_with_its_question_and_guide(desk: DeskRecords) -> None:
    first, second = handoff(desk), handoff(desk, "tg-42", "转人工")
    queue = desk.queue()
    assert [(row["id"], row["status"]) for row in queue] == [(first, WAITING), (second, WAITING)]
    assert queue[0]["question"] == "营业执照丢了怎么办" and queue[0]["guide_id"] == "license-reissue"
    detail = desk.handoff(first)
    assert detail["transcript"][0] == {"from": "user", "text": "营业执照丢了怎么办"}
    assert detail["messages"] == [] and detail["actions"] == []


def test_take_reply_close_are_recorded_and_reach_the_citizen(desk: DeskRecords) -> None:
    number = handoff(desk)
    assert desk.held("kefu-web-1") is None
    taken = desk.take(number, "王芳")
    assert (taken["status"], taken["clerk"]) == (TAKEN, "王芳") and taken["taken_at"]
    assert desk.held("kefu-web-1")["id"] == number
    desk.reply(number, "王芳", f"请把手机号 {MOBILE} 以外的联系方式告诉我")
    lines = desk.messages_for("kefu-web-1")
    assert [line["author"] for line in lines] == ["desk", "clerk"]
    assert "工作人员已接入" in lines[0]["text"] and "王芳" in lines[0]["text"]
    assert MOBILE not in lines[1]["text"] and "138****5678" in lines[1]["text"]
    assert desk.messages_for("kefu-web-1", after=lines[-1]["id"]) == []
    closed = desk.close(number, "王芳", "answered", note="已告知补办流程")
    assert (closed["status"], closed["outcome"], closed["outcome_label"], closed["outcome_note"]) == (
        CLOSED, "answered", "已解答", "已告知补办流程")
    assert desk.held("kefu-web-1") is None
    [ended] = desk.messages_for("kefu-web-1", after=lines[-1]["id"])
    assert "已结束本次人工服务" in ended["text"] and "12345" in ended["text"]
    actions = desk.actions(number)
    assert [(a["action"], a["clerk"], a["handoff_id"]) for a in actions] == [
        ("take", "王芳", number), ("reply", "王芳", number), ("close", "王芳", number)]
    assert all(a["time"] for a in actions) and json.loads(actions[2]["detail"])["outcome"] == "answered"


def test_a_held_conversation_sends_the_citizens_messages_to_the_clerk_masked(desk: DeskRecords) -> None:
    number = handoff(desk)
    assert desk.citizen_message("kefu-web-1", "我的电话") is None  # waiting: the assistant still answers
    desk.take(number, "王芳")
    assert desk.citizen_message("kefu-web-1", f"我的电话是 {MOBILE}") == number
    assert desk.citizen_message("kefu-web-2", "别的会话") is None
    lines = desk.handoff(number)["messages"]
    assert lines[-1]["author"] == "citizen" and MOBILE not in lines[-1]["text"]
    assert all(line["author"] != "citizen" for line in desk.messages_for("kefu-web-1"))  # the citizen's own lines are not echoed


def test_another_clerk_cannot_take_reply_or_close_a_taken_handoff(desk: DeskRecords) -> None:
    number = handoff(desk)
    desk.take(number, "王芳")
    assert desk.take(number, "王芳")["clerk"] == "王芳"  # taking one's own again changes nothing
    for act in (lambda: desk.take(number, "李强"), lambda: desk.reply(number, "李强", "你好"),
                lambda: desk.close(number, "李强", "other")):
        with pytest.raises(DeskError, match="王芳") as refused:
            act()
        assert refused.value.status == 409
    assert [a["clerk"] for a in desk.actions(number)] == ["王芳"]


def test_refusals_say_why_in_chinese(desk: DeskRecords) -> None:
    number = handoff(desk)
    with pytest.raises(DeskError, match="先接入"):
        desk.reply(number, "王芳", "你好")
    with pytest.raises(DeskError, match="姓名") as refused:
        desk.take(number, "  ")
    assert refused.value.status == 422
    with pytest.raises(DeskError, match="已解答"):
        desk.close(number, "王芳", "done")
    with pytest.raises(DeskError, match="没有编号为 999") as missing:
        desk.take(999, "王芳")
    assert missing.value.status == 404
    desk.close(number, "王芳", "unreachable")  # a waiting handoff can be closed (e.g. nobody answers the phone)
    with pytest.raises(DeskError, match="已由 王芳 结束（无法联系）"):
        desk.take(number, "李强")


def test_two_clerks_taking_at_once_one_wins(desk: DeskRecords) -> None:
    number = handoff(desk)
    results: list[str] = []

    def take(clerk: str) -> None:
        try:
            desk.take(number, clerk)
            results.append(clerk)
        except DeskError:
            results.append("refused")

    threads = [threading.Thread(target=take, args=(f"工作人员{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("refused") == 3
    assert [a["action"] for a in desk.actions(number)] == ["take"]


def test_undelivered_lines_by_channel_prefix_and_marking_them(desk: DeskRecords) -> None:
    web, telegram = handoff(desk), handoff(desk, "tg-42")
    desk.take(web, "王芳")
    desk.take(telegram, "王芳")
    desk.reply(telegram, "王芳", "您好")
    desk.citizen_message("tg-42", "在吗")
    pending = desk.undelivered("tg-")
    assert [(line["sender_id"], line["author"]) for line in pending] == [("tg-42", "desk"), ("tg-42", "clerk")]
    desk.mark_delivered([pending[0]["id"]])
    assert [line["id"] for line in desk.undelivered("tg-")] == [pending[1]["id"]]
    assert desk.undelivered("tg_") == []  # the prefix is a prefix, not a LIKE pattern


def test_history_has_the_question_log_and_handoffs_of_the_conversation(desk: DeskRecords) -> None:
    desk.add_question("kefu-web-1", f"电话 {MOBILE} 能办营业执照补办吗", outcome=ANSWERED, guide_id="license-reissue")
    desk.add_question("kefu-web-2", "别人的问题", outcome=ANSWERED)
    handoff(desk)
    history = desk.history("kefu-web-1")
    assert [q["guide_id"] for q in history["questions"]] == ["license-reissue"]
    assert MOBILE not in history["questions"][0]["question"]
    assert [h["sender_id"] for h in history["handoffs"]] == ["kefu-web-1"]


def test_closed_handoffs_leave_the_open_queue_but_stay_listed_after_it(desk: DeskRecords) -> None:
    first, second = handoff(desk), handoff(desk, "tg-42")
    desk.close(first, "王芳", "offline")
    assert [(row["id"], row["status"]) for row in desk.queue()] == [(second, WAITING), (first, CLOSED)]


def test_purge_covers_the_desk_tables(desk: DeskRecords) -> None:
    number = handoff(desk)
    desk.take(number, "王芳")
    for table in ("handoffs", "desk_messages", "desk_actions"):
        for row in desk.rows(table):
            age_row(desk, table, row["id"], days=400)
    counts = desk.purge_older_than(days=180)
    assert counts["handoffs"] == 1 and counts["desk_messages"] == 1 and counts["desk_actions"] == 1
    assert all(desk.rows(table) == [] for table in ALL_TABLES)


def test_two_clerks_past_the_first_check_at_once_still_one_wins(desk: DeskRecords) -> None:
    """Both clerks read "waiting", then both write at the same moment: the conditional UPDATE decides."""
    number = handoff(desk)
    clerks = 4
    together = threading.Barrier(clerks)
    racing = type("Racing", (DeskRecords,), {"_execute": lambda self, work: (together.wait(10), DeskRecords._execute(self, work))[1]})
    results: list[str] = []

    def take(clerk: str) -> None:
        try:
            racing(desk.path, url=desk.url).take(number, clerk)
            results.append(clerk)
        except DeskError:
            results.append("refused")

    threads = [threading.Thread(target=take, args=(f"工作人员{i}",)) for i in range(clerks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("refused") == clerks - 1
    assert [a["action"] for a in desk.actions(number)] == ["take"]
    assert [m["author"] for m in desk.handoff(number)["messages"]] == ["desk"]  # one "工作人员已接入" line
