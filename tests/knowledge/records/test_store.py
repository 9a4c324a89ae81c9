"""The records database (knowledge/records/store.py): the question log, feedback ratings and
comments, handoff transcripts; personal numbers stored masked; retention purge; concurrent writers."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError

from knowledge.records.store import ALL_TABLES, ANSWERED, NOT_FOUND, TABLES, Records
from tests.support import age_row
from tests.support.records import BACKENDS, sqlite_only, store_on_backend
from tests.support.servers import stores  # noqa: F401  (the PostgreSQL variant's fixture)

pytestmark = pytest.mark.unit

MOBILE = "13812345678"
ID_NUMBER = "430102199001011234"


@pytest.fixture(params=BACKENDS)
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Records]:
    """Each test on the SQLite file and on PostgreSQL: one code path, one schema."""
    yield from store_on_backend(Records, request, tmp_path)


# --- questions -------------------------------------------------------------------------------

def test_a_question_is_logged_with_what_became_of_it(records: Records) -> None:
    before = dt.datetime.now().replace(microsecond=0)
    row_id = records.add_question("user-1", "开公司要带什么材料", outcome=ANSWERED, guide_id="company-setup",
                                  aspect="materials", confidence=0.83, index_version="v1")
    [row] = records.rows("questions")
    assert row["id"] == row_id and row_id > 0
    assert {key: row[key] for key in ("sender_id", "question", "outcome", "guide_id", "aspect", "confidence", "index_version")} == {
        "sender_id": "user-1", "question": "开公司要带什么材料", "outcome": "answered", "guide_id": "company-setup",
        "aspect": "materials", "confidence": 0.83, "index_version": "v1"}
    assert before <= dt.datetime.fromisoformat(row["time"]) <= dt.datetime.now()


def test_a_question_that_was_not_answered_keeps_empty_fields(records: Records) -> None:
    records.add_question("user-1", "今天天气怎么样", outcome=NOT_FOUND)
    [row] = records.rows("questions")
    assert row["outcome"] == "not_found"
    assert row["guide_id"] is None and row["aspect"] is None and row["confidence"] is None and row["index_version"] is None


def test_questions_are_listed_oldest_first_with_distinct_ids(records: Records) -> None:
    ids = [records.add_question(f"user-{n}", f"问题{n}", outcome=ANSWERED) for n in range(3)]
    rows = records.rows("questions")
    assert [row["id"] for row in rows] == ids == sorted(set(ids))
    assert [row["question"] for row in rows] == ["问题0", "问题1", "问题2"]


def test_personal_numbers_in_a_question_are_stored_masked(records: Records) -> None:
    records.add_question("user-1", f"我手机{MOBILE}，身份证{ID_NUMBER}丢了怎么补办", outcome=ANSWERED)
    stored = records.rows("questions")[0]["question"]
    assert MOBILE not in stored and ID_NUMBER not in stored
    assert "138****5678" in stored and "丢了怎么补办" in stored
    with records.engine.connect() as connection:
        raw = " ".join(row[0] for row in connection.exec_driver_sql("SELECT question FROM questions"))
    assert MOBILE not in raw  # not merely hidden by rows(): never written


# --- feedback and comments -------------------------------------------------------------------

def test_a_rating_is_stored_with_the_answer_it_rates(records: Records) -> None:
    records.add_feedback("user-1", "good", question="燃气开户多少钱", guide_id="gas-connection", section="收费标准",
                         index_version="v7")
    [row] = records.rows("feedback")
    assert (row["rating"], row["question"], row["guide_id"], row["section"], row["index_version"], row["comment"]) == (
        "good", "燃气开户多少钱", "gas-connection", "收费标准", "v7", None)


def test_a_rating_without_a_question_stores_none_not_an_empty_string(records: Records) -> None:
    records.add_feedback("user-1", "bad", question=None, guide_id=None, section=None, index_version=None)
    assert records.rows("feedback")[0]["question"] is None


def test_only_good_and_bad_are_accepted_as_ratings(records: Records) -> None:
    with pytest.raises(IntegrityError):
        records.add_feedback("user-1", "meh", question="q", guide_id=None, section=None, index_version=None)
    assert records.rows("feedback") == []


def test_feedback_question_is_masked(records: Records) -> None:
    records.add_feedback("user-1", "bad", question=f"回电{MOBILE}", guide_id=None, section=None, index_version=None)
    assert MOBILE not in records.rows("feedback")[0]["question"]


def test_a_comment_goes_to_the_users_latest_bad_rating(records: Records) -> None:
    first = records.add_feedback("user-1", "bad", question="一", guide_id="a", section=None, index_version=None)
    latest_bad = records.add_feedback("user-1", "bad", question="二", guide_id="b", section=None, index_version=None)
    records.add_feedback("user-1", "good", question="三", guide_id="c", section=None, index_version=None)
    other_user = records.add_feedback("user-2", "bad", question="四", guide_id="d", section=None, index_version=None)

    assert records.add_comment("user-1", f"没有说复印件要几份，打我{MOBILE}") is True
    comments = {row["id"]: row["comment"] for row in records.rows("feedback")}
    assert comments[first] is None and comments[other_user] is None
    assert comments[latest_bad] == "没有说复印件要几份，打我138****5678"
    assert [c for c in comments.values() if c] == [comments[latest_bad]]  # not the good rating either


def test_a_comment_without_a_bad_rating_is_refused(records: Records) -> None:
    assert records.add_comment("nobody", "随便说说") is False
    records.add_feedback("user-1", "good", question="q", guide_id=None, section=None, index_version=None)
    assert records.add_comment("user-1", "很好") is False
    assert records.rows("feedback")[0]["comment"] is None


def test_a_rating_names_its_answer_and_a_comment_goes_to_that_answers_bad_rating(records: Records) -> None:
    first = records.add_feedback("user-1", "bad", question="一", guide_id="a", section=None, index_version=None, answer_id="aaaaaaaaaaaa")
    later = records.add_feedback("user-1", "bad", question="二", guide_id="b", section=None, index_version=None, answer_id="bbbbbbbbbbbb")
    assert records.add_comment("user-1", "缺了一份材料", answer_id="aaaaaaaaaaaa") is True
    assert records.add_comment("user-1", "没有这条回答的差评", answer_id="cccccccccccc") is False
    rows = {row["id"]: row for row in records.rows("feedback")}
    assert (rows[first]["answer_id"], rows[first]["comment"]) == ("aaaaaaaaaaaa", "缺了一份材料")
    assert (rows[later]["answer_id"], rows[later]["comment"]) == ("bbbbbbbbbbbb", None)


def test_an_answer_has_one_rating_the_latest(records: Records) -> None:
    """A double click, 差评 typed after the button, or a change of mind: the report counts each answer once."""
    rate = lambda rating, answer="aaaaaaaaaaaa", sender="user-1": records.add_feedback(  # noqa: E731
        sender, rating, question="燃气开户多少钱", guide_id="gas-connection", section="收费标准", index_version="v1", answer_id=answer)
    first = rate("good")
    assert rate("good") == first and rate("bad") == first
    assert records.add_comment("user-1", "没说表具谁出", answer_id="aaaaaaaaaaaa") is True
    assert rate("bad") == first  # the same rating again keeps what the citizen said was missing
    assert [(row["rating"], row["comment"]) for row in records.rows("feedback")] == [("bad", "没说表具谁出")]
    assert rate("good") == first  # a change of mind: no 差评 comment under a 好评
    assert [(row["rating"], row["comment"]) for row in records.rows("feedback")] == [("good", None)]
    other_answer, other_user = rate("bad", answer="bbbbbbbbbbbb"), rate("bad", sender="user-2")
    assert len({first, other_answer, other_user}) == 3 and len(records.rows("feedback")) == 3
    records.add_feedback("user-1", "bad", question=None, guide_id=None, section=None, index_version=None)
    records.add_feedback("user-1", "bad", question=None, guide_id=None, section=None, index_version=None)
    assert len(records.rows("feedback")) == 5  # without an answer id nothing says two ratings are of one answer


def test_a_bad_rating_can_bring_its_comment_masked(records: Records) -> None:
    records.add_feedback("user-1", "bad", question="q", guide_id="a", section=None, index_version=None, answer_id="aaaaaaaaaaaa",
                         comment=f"没说清楚，回电{MOBILE}")
    assert records.rows("feedback")[0]["comment"] == "没说清楚，回电138****5678"


_OLD_FEEDBACK_TABLE = """CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, sender_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('good', 'bad')), question TEXT, guide_id TEXT, section TEXT, index_version TEXT, comment TEXT)"""


def test_a_records_file_of_an_older_version_gets_the_answer_id_column(tmp_path: Path) -> None:
    """`CREATE TABLE IF NOT EXISTS` leaves an existing table alone: the column is added, the rows kept."""
    db = tmp_path / "records.sqlite3"
    with sqlite3.connect(db) as connection:
        connection.execute(_OLD_FEEDBACK_TABLE)
        connection.execute("INSERT INTO feedback (time, sender_id, rating, guide_id) VALUES ('2026-01-01T00:00:00', 'u', 'bad', 'old')")
    connection.close()
    records = Records(db)
    records.add_feedback("u", "good", question="q", guide_id="new", section=None, index_version=None, answer_id="aaaaaaaaaaaa")
    assert [(row["guide_id"], row["answer_id"]) for row in records.rows("feedback")] == [("old", None), ("new", "aaaaaaaaaaaa")]
    Records(db).rows("feedback")  # opening a migrated file again changes nothing
    with sqlite3.connect(db) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(feedback)")]
    connection.close()
    assert columns.count("answer_id") == 1


def test_a_records_file_with_repeated_ratings_keeps_the_latest_of_each_answer(tmp_path: Path) -> None:
    """Before one rating per answer, each click added a row: the upgrade (migration 0002) keeps each answer's latest."""
    db = tmp_path / "records.sqlite3"
    with sqlite3.connect(db) as connection:
        connection.execute(_OLD_FEEDBACK_TABLE.replace("comment TEXT)", "comment TEXT, answer_id TEXT)"))
        for rating, answer in (("good", "aaaaaaaaaaaa"), ("bad", "aaaaaaaaaaaa"), ("good", "bbbbbbbbbbbb"), ("bad", None), ("bad", None)):
            connection.execute("INSERT INTO feedback (time, sender_id, rating, answer_id) VALUES ('2026-01-01T00:00:00', 'u', ?, ?)",
                               (rating, answer))
    connection.close()
    records = Records(db)
    assert [(row["rating"], row["answer_id"]) for row in records.rows("feedback")] == [
        ("bad", "aaaaaaaaaaaa"), ("good", "bbbbbbbbbbbb"), ("bad", None), ("bad", None)]
    records.add_feedback("u", "good", question="q", guide_id="g", section=None, index_version=None, answer_id="aaaaaaaaaaaa")
    assert len(records.rows("feedback")) == 4


# --- handoffs --------------------------------------------------------------------------------

def test_a_handoff_keeps_the_transcript_with_only_the_users_numbers_masked(records: Records) -> None:
    transcript = [
        {"from": "user", "text": f"身份证{ID_NUMBER}补办要什么"},
        {"from": "bot", "text": "请致电示例区政务服务中心 0000-7654321 或 13900001111"},
        {"from": "user", "text": "转人工"},
    ]
    row_id = records.add_handoff("user-1", reason="request_human", guide_id="license-reissue",
                                 question=f"我的手机{MOBILE}", transcript=transcript)
    [row] = records.rows("handoffs")
    assert row["id"] == row_id and row["reason"] == "request_human" and row["guide_id"] == "license-reissue"
    assert MOBILE not in row["question"]
    stored = json.loads(row["transcript"])
    assert [line["from"] for line in stored] == ["user", "bot", "user"]
    assert ID_NUMBER not in stored[0]["text"] and stored[0]["text"].endswith("1234补办要什么")
    assert stored[1] == transcript[1]  # the bot's answer, public phones included, is kept as said
    assert stored[2]["text"] == "转人工"
    assert transcript[0]["text"] == f"身份证{ID_NUMBER}补办要什么"  # the caller's list is not modified
    assert "补办" in row["transcript"]  # stored readable (ensure_ascii=False) for staff tools


def test_a_handoff_without_a_question_or_guide(records: Records) -> None:
    records.add_handoff("user-1", reason="complain", guide_id=None, question=None, transcript=[])
    [row] = records.rows("handoffs")
    assert row["question"] is None and row["guide_id"] is None and json.loads(row["transcript"]) == []


# --- reading ---------------------------------------------------------------------------------

def test_reading_before_anything_was_written_creates_no_file(records: Records) -> None:
    for table in TABLES:
        assert records.rows(table) == []
    assert not records.path.exists()


def test_an_unknown_table_is_refused(records: Records) -> None:
    records.add_question("user-1", "q", outcome=ANSWERED)
    with pytest.raises(ValueError, match="unknown table"):
        records.rows("sqlite_master")


def test_a_second_records_object_reads_what_the_first_wrote(records: Records) -> None:
    records.add_question("user-1", "q", outcome=ANSWERED)
    assert [row["question"] for row in Records(records.path, url=records.url).rows("questions")] == ["q"]


def test_the_database_uses_wal_so_reports_can_read_while_actions_write(records: Records) -> None:
    sqlite_only(records)
    records.add_question("user-1", "first", outcome=ANSWERED)
    reader = sqlite3.connect(records.path)
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM questions").fetchone()[0] == 1  # an open read transaction
        records.add_question("user-1", "second", outcome=ANSWERED)  # does not wait for the reader
        assert reader.execute("SELECT count(*) FROM questions").fetchone()[0] == 1  # the reader's snapshot
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert len(records.rows("questions")) == 2


def test_the_folder_of_the_database_is_created(tmp_path: Path) -> None:
    records = Records(tmp_path / "var" / "records" / "records.sqlite3")
    records.add_question("user-1", "q", outcome=ANSWERED)
    assert len(records.rows("questions")) == 1


# --- concurrent writers ----------------------------------------------------------------------

def test_concurrent_writers_from_a_fresh_file_lose_nothing(records: Records) -> None:
    """The action server writes from several threads; the first writes also create the schema."""
    threads, per_thread = 6, 8
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                records.add_question(f"user-{n}", f"问题{n}-{i}", outcome=ANSWERED)
                records.add_feedback(f"user-{n}", "bad", question=f"问题{n}-{i}", guide_id=None, section=None, index_version=None)
                records.add_comment(f"user-{n}", f"意见{n}-{i}")
        except BaseException as error:  # reported below, with the thread's error
            errors.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    questions = records.rows("questions")
    assert len(questions) == threads * per_thread and len({row["id"] for row in questions}) == threads * per_thread
    feedback = records.rows("feedback")
    assert len(feedback) == threads * per_thread
    # each comment landed on the rating its own user had just given, never on another user's
    assert all(row["comment"] == "意见" + row["question"][2:] for row in feedback)


# --- retention -------------------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_rows_are_stamped_on_the_deployments_clock_whatever_the_servers(tmp_path: Path, zone: str) -> None:
    """A handoff at 15:55 in Beijing reads 15:55 on the desk, also on a server that runs in UTC (settings.staff_timezone)."""
    records = Records(tmp_path / "records.sqlite3", timezone=zone)
    records.add_handoff("kefu-1", reason="request_human", guide_id=None, question="转人工", transcript=[])
    stamped = dt.datetime.fromisoformat(records.rows("handoffs")[0]["time"])
    expected = dt.datetime.now(ZoneInfo(zone)).replace(tzinfo=None)
    assert abs((expected - stamped).total_seconds()) < 60
    assert records.purge_older_than(days=1)["handoffs"] == 0  # retention reads the same clock


def test_a_mistyped_timezone_still_stores_the_row(tmp_path: Path) -> None:
    records = Records(tmp_path / "records.sqlite3", timezone="Asia/Beijing")  # no such zone
    records.add_question("kefu-1", "开办企业需要什么材料", outcome=ANSWERED)
    assert [row["question"] for row in records.rows("questions")] == ["开办企业需要什么材料"]


def test_purge_deletes_only_rows_older_than_the_retention(records: Records) -> None:
    old_q = records.add_question("user-1", "旧问题", outcome=ANSWERED)
    records.add_question("user-1", "新问题", outcome=ANSWERED)
    old_f = records.add_feedback("user-1", "good", question="旧反馈", guide_id=None, section=None, index_version=None)
    old_h = records.add_handoff("user-1", reason="complain", guide_id=None, question="旧转人工", transcript=[])
    records.add_handoff("user-1", reason="complain", guide_id=None, question="新转人工", transcript=[])
    age_row(records, "questions", old_q, days=200)
    age_row(records, "feedback", old_f, days=181)
    age_row(records, "handoffs", old_h, days=365)

    assert records.purge_older_than(days=180) == {"questions": 1, "feedback": 1, "handoffs": 1, "desk_messages": 0, "desk_actions": 0}
    assert [row["question"] for row in records.rows("questions")] == ["新问题"]
    assert records.rows("feedback") == []
    assert [row["question"] for row in records.rows("handoffs")] == ["新转人工"]
    assert records.purge_older_than(days=180) == {table: 0 for table in ALL_TABLES}


def test_purged_text_is_gone_from_the_files_too(records: Records) -> None:
    """Retention means deleted, not just hidden: no copy stays in the database or its WAL file."""
    sqlite_only(records)  # PostgreSQL: deleted rows stay in its files until (auto)vacuum reuses the space
    secret = "这是一条应当被彻底删除的旧问题甲乙丙丁"
    old = records.add_question("user-1", secret, outcome=ANSWERED)
    records.add_question("user-1", "新问题", outcome=ANSWERED)
    age_row(records, "questions", old, days=400)
    records.purge_older_than(days=180)
    encoded = secret.encode("utf-8")
    for path in records.path.parent.glob(records.path.name + "*"):
        assert encoded not in path.read_bytes(), f"purged text still in {path.name}"
    assert [row["question"] for row in records.rows("questions")] == ["新问题"]


def test_purge_without_a_database_creates_none(records: Records) -> None:
    assert records.purge_older_than(days=30) == {table: 0 for table in ALL_TABLES}
    assert not records.path.exists()


# --- schema migrations (Alembic, knowledge/records/migrations/) -------------------------------

# The oldest records file the plain-sqlite3 code made: three tables, no answer_id, no desk columns or tables.
_OLDEST_SCHEMA = """
CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, sender_id TEXT NOT NULL,
    question TEXT NOT NULL, outcome TEXT NOT NULL, guide_id TEXT, aspect TEXT, confidence REAL, index_version TEXT);
CREATE INDEX questions_time ON questions (time);
""" + _OLD_FEEDBACK_TABLE + """;
CREATE TABLE handoffs (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, sender_id TEXT NOT NULL,
    reason TEXT NOT NULL, guide_id TEXT, question TEXT, transcript TEXT NOT NULL);
INSERT INTO questions (time, sender_id, question, outcome) VALUES ('2026-01-01T00:00:00', 'u', '旧问题', 'answered');
INSERT INTO feedback (time, sender_id, rating, guide_id) VALUES ('2026-01-01T00:00:00', 'u', 'bad', 'old');
INSERT INTO handoffs (time, sender_id, reason, transcript) VALUES ('2026-01-01T00:00:00', 'u', 'complain', '[]');
"""


def _schema_differences(records: Records, *, structure_only: bool = False) -> list:
    """What Alembic's autogenerate would change to reach schema.py; `structure_only`: tables, columns and
    indexes (an old file's `id INTEGER PRIMARY KEY` and `REAL` are spelled differently, and mean the same)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from knowledge.records.schema import VERSION_TABLE, metadata

    with records.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        differences = compare_metadata(context, metadata)
    if structure_only:  # modifications come as lists of tuples, additions and removals as tuples
        differences = [change for change in differences if isinstance(change, tuple)]
    return differences


def test_an_oldest_format_file_is_upgraded_in_place_and_keeps_its_rows(tmp_path: Path) -> None:
    from knowledge.records.desk import DeskRecords

    db = tmp_path / "records.sqlite3"
    with sqlite3.connect(db) as connection:
        connection.executescript(_OLDEST_SCHEMA)
    connection.close()
    desk = DeskRecords(db)
    assert [row["question"] for row in desk.rows("questions")] == ["旧问题"]
    assert [(row["guide_id"], row["answer_id"]) for row in desk.rows("feedback")] == [("old", None)]
    [old] = desk.queue()
    assert old["status"] == "waiting" and old["reason"] == "complain"
    desk.take(old["id"], "王芳")  # the desk's columns and tables exist now
    new_id = desk.add_question("u", "新问题", outcome=ANSWERED)
    assert new_id == 2  # AUTOINCREMENT kept: ids go on from the old rows
    assert _schema_differences(desk, structure_only=True) == []
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT version_num FROM govqa_records_version").fetchall() == [("0002",)]
    connection.close()


def test_a_migrated_database_has_exactly_the_schema_of_schema_py(records: Records) -> None:
    """One schema: the migrations and knowledge/records/schema.py agree, on both backends."""
    records.add_question("u", "q", outcome=ANSWERED)
    assert _schema_differences(records) == []
