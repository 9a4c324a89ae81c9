"""The question log, feedback ratings and handoff records, in one SQLite file (settings.records_db).

WAL mode so the action server can write while an admin reads a report. Every write is its own
short transaction; a failed write is logged by the caller and never breaks a conversation.
What users typed is stored masked (knowledge/records/privacy.py: ID, mobile and bank card numbers).

Usage::

    records = Records(settings.records_db)
    records.add_feedback("user-1", "bad", question="开公司要带什么材料", guide_id="company-setup",
                         section="申请材料", index_version="20261130-…", answer_id="kqzvtmwrbahe")
    records.add_comment("user-1", "没有说复印件要几份", answer_id="kqzvtmwrbahe")
    records.add_handoff("user-1", reason="request_human", guide_id=None, question="转人工",
                        transcript=[{"from": "user", "text": "转人工"}])
    records.add_question("user-1", "开公司要带什么材料", outcome="answered", guide_id="company-setup",
                         aspect="materials", confidence=0.83, index_version="20261130-…")
    records.purge_older_than(days=180)
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from knowledge.records.privacy import mask_personal_data

# What the answer action did with a question (the admin report counts them).
ANSWERED, CLARIFIED, NOT_FOUND, OUT_OF_SCOPE, ASKED_ITEM, UNAVAILABLE = (
    "answered", "clarified", "not_found", "out_of_scope", "asked_item", "unavailable")
TABLES = ("questions", "feedback", "handoffs")  # what the admin report reads
# The staff desk's conversation lines and its clerks' actions (knowledge/records/desk.py): purged like the rest.
DESK_TABLES = ("desk_messages", "desk_actions")
ALL_TABLES = TABLES + DESK_TABLES

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    question TEXT NOT NULL,
    outcome TEXT NOT NULL,
    guide_id TEXT,
    aspect TEXT,
    confidence REAL,
    index_version TEXT
);
CREATE INDEX IF NOT EXISTS questions_time ON questions (time);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('good', 'bad')),
    question TEXT,
    guide_id TEXT,
    section TEXT,
    index_version TEXT,
    comment TEXT,
    answer_id TEXT
);
CREATE TABLE IF NOT EXISTS handoffs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    guide_id TEXT,
    question TEXT,
    transcript TEXT NOT NULL,
    status TEXT,
    clerk TEXT,
    taken_at TEXT,
    closed_at TEXT,
    outcome TEXT,
    outcome_note TEXT
);
CREATE INDEX IF NOT EXISTS handoffs_sender ON handoffs (sender_id);
CREATE TABLE IF NOT EXISTS desk_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    handoff_id INTEGER NOT NULL,
    sender_id TEXT NOT NULL,
    author TEXT NOT NULL CHECK (author IN ('citizen', 'clerk', 'desk')),
    clerk TEXT,
    text TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS desk_messages_sender ON desk_messages (sender_id, id);
CREATE TABLE IF NOT EXISTS desk_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    handoff_id INTEGER NOT NULL,
    clerk TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT
);
"""
# Columns added after a table was first created, (table, column, type): `CREATE TABLE IF NOT EXISTS`
# leaves an existing file's table as it was, so each is added when a store opens a file without it.
_ADDED_COLUMNS = (("feedback", "answer_id", "TEXT"),  # the id of the rated answer (actions/memory.py)
                  # the staff desk's state of a handoff (knowledge/records/desk.py): NULL status = waiting
                  *(("handoffs", column, "TEXT") for column in ("status", "clerk", "taken_at", "closed_at", "outcome",
                                                                "outcome_note")))


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring a records file created by an older version up to _SCHEMA (idempotent)."""
    for table, column, kind in _ADDED_COLUMNS:
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            try:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            except sqlite3.OperationalError as error:  # another process added it a moment ago
                if "duplicate column" not in str(error):
                    raise


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class Records:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # before connecting: sqlite cannot create folders
        connection = sqlite3.connect(self.path, timeout=5)
        if not self._ready:
            with self._lock:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
                _migrate(connection)
                self._ready = True
        return connection

    def _write(self, sql: str, values: tuple[Any, ...]) -> int:
        connection = self._connect()
        try:
            with connection:
                cursor = connection.execute(sql, values)
            return int(cursor.lastrowid or 0)
        finally:
            connection.close()

    def add_question(self, sender_id: str, question: str, *, outcome: str, guide_id: str | None = None,
                     aspect: str | None = None, confidence: float | None = None, index_version: str | None = None) -> int:
        """Log one question and what became of it (answered, clarified, not found, …)."""
        return self._write(
            "INSERT INTO questions (time, sender_id, question, outcome, guide_id, aspect, confidence, index_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (_now(), sender_id, mask_personal_data(question), outcome, guide_id, aspect, confidence, index_version),
        )

    def add_feedback(self, sender_id: str, rating: str, *, question: str | None, guide_id: str | None,
                     section: str | None, index_version: str | None, answer_id: str | None = None,
                     comment: str | None = None) -> int:
        """One rating of one answer (`answer_id`, with that answer's question, guide and section)."""
        return self._write(
            "INSERT INTO feedback (time, sender_id, rating, question, guide_id, section, index_version, answer_id, comment)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_now(), sender_id, rating, mask_personal_data(question or "") or None, guide_id, section, index_version, answer_id,
             mask_personal_data(comment) if comment else None),
        )

    def add_comment(self, sender_id: str, comment: str, *, answer_id: str | None = None) -> bool:
        """Attach a comment to this user's latest 差评 (of the answer `answer_id`, when given); False when there is none."""
        connection = self._connect()
        try:
            with connection:
                row = connection.execute(
                    "SELECT id FROM feedback WHERE sender_id = ? AND rating = 'bad' AND (? IS NULL OR answer_id = ?)"
                    " ORDER BY id DESC LIMIT 1", (sender_id, answer_id, answer_id)
                ).fetchone()
                if row is None:
                    return False
                connection.execute("UPDATE feedback SET comment = ? WHERE id = ?", (mask_personal_data(comment), row[0]))
            return True
        finally:
            connection.close()

    def add_handoff(self, sender_id: str, *, reason: str, guide_id: str | None, question: str | None,
                    transcript: list[dict[str, str]]) -> int:
        return self._write(
            "INSERT INTO handoffs (time, sender_id, reason, guide_id, question, transcript) VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), sender_id, reason, guide_id, mask_personal_data(question or "") or None,
             json.dumps([_masked_line(line) for line in transcript], ensure_ascii=False)),
        )

    def purge_older_than(self, days: int) -> dict[str, int]:
        """Delete rows older than `days` days from every table (the retention setting); counts per table."""
        cutoff = (dt.datetime.now() - dt.timedelta(days=days)).isoformat(timespec="seconds")
        if not self.path.exists():
            return {table: 0 for table in ALL_TABLES}
        connection = self._connect()
        try:
            connection.execute("PRAGMA secure_delete=ON")  # retention: deleted rows are overwritten in the file too
            with connection:
                counts = {table: connection.execute(f"DELETE FROM {table} WHERE time < ?", (cutoff,)).rowcount
                          for table in ALL_TABLES}
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the deleted pages also live in the -wal file
            return counts
        finally:
            connection.close()

    def rows(self, table: str) -> list[dict[str, Any]]:
        """All rows of one of ALL_TABLES, oldest first (for the admin report, staff tools and tests)."""
        if table not in ALL_TABLES:
            raise ValueError(f"unknown table {table}")
        if not self.path.exists():
            return []
        connection = self._connect()
        connection.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in connection.execute(f"SELECT * FROM {table} ORDER BY id")]
        finally:
            connection.close()


def _masked_line(line: dict[str, str]) -> dict[str, str]:
    """A transcript line with the user's personal numbers masked (the bot's public phones stay)."""
    return {**line, "text": mask_personal_data(line.get("text", ""))} if line.get("from") == "user" else line
