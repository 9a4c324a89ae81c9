"""The question log, feedback ratings and handoff records: the SQLite file settings.records_db, or
PostgreSQL when settings.database_url is set (knowledge/records/database.py; tables in schema.py).

Every write is its own short transaction; a failed write is logged by the caller and never breaks a
conversation. What users typed is stored masked (knowledge/records/privacy.py: ID, mobile and bank card
numbers), whichever database holds it.

Usage::

    records = Records.from_settings(settings)     # or Records(path) for a SQLite file, Records(path, url=…)
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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, Executable, Table, case, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from knowledge.records import schema
from knowledge.records.database import engine_for
from knowledge.records.privacy import mask_personal_data

# What the answer action did with a question (the admin report counts them).
ANSWERED, CLARIFIED, NOT_FOUND, OUT_OF_SCOPE, ASKED_ITEM, UNAVAILABLE = (
    "answered", "clarified", "not_found", "out_of_scope", "asked_item", "unavailable")
TABLES = ("questions", "feedback", "handoffs")  # what the admin report reads
# The staff desk's conversation lines and its clerks' actions (knowledge/records/desk.py): purged like the rest.
DESK_TABLES = ("desk_messages", "desk_actions")
ALL_TABLES = TABLES + DESK_TABLES


T = TypeVar("T")


def _zone(timezone: str | None) -> ZoneInfo | None:
    """The deployment's timezone; None (the server's own clock) when unset or mistyped: a mistyped setting must not
    lose a row (StaffHours.parse says what is wrong with it)."""
    try:
        return ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def time_on(seconds: float, timezone: str | None) -> str:
    """A Unix timestamp (Rasa's events carry them) as records write times: ISO, naive, on the deployment's clock."""
    return dt.datetime.fromtimestamp(seconds, _zone(timezone)).replace(tzinfo=None).isoformat(timespec="seconds")


def now_on(timezone: str | None) -> dt.datetime:
    """Now on the deployment's clock (settings.yml `staff_timezone`), naive; the server's own clock when None. Records
    are stamped with it, so the staff desk, the admin report and retention read the times people live by, whatever
    timezone the server runs in (a UTC server stamped a 15:55 Beijing handoff 07:55)."""
    return dt.datetime.now(_zone(timezone)).replace(tzinfo=None)


def _table(name: str) -> Table:
    return schema.metadata.tables[name]


class Records:
    def __init__(self, path: Path, *, url: str = "", timezone: str | None = None) -> None:
        self.path = path
        self.url = url  # PostgreSQL (settings.database_url); empty: the SQLite file `path`
        self.timezone = timezone  # the clock rows are stamped on (settings.staff_timezone); None: the server's

    @classmethod
    def from_settings(cls, settings: Any) -> Self:
        return cls(settings.records_db, url=settings.database_url, timezone=settings.staff_timezone)

    def now(self) -> str:
        """The time a row is stamped with (`now_on`), ISO to the second."""
        return now_on(self.timezone).isoformat(timespec="seconds")

    @property
    def engine(self) -> Engine:
        return engine_for(self.path, self.url)  # cached per process; upgraded on first use

    def exists(self) -> bool:
        """False while there is no SQLite file yet: reading must not create one (a report on a fresh install)."""
        return bool(self.url) or self.path.exists()

    def _insert(self, table: Table, **values: Any) -> int:
        with self.engine.begin() as connection:
            return int(connection.execute(insert(table).values(**values)).inserted_primary_key[0])

    def add_question(self, sender_id: str, question: str, *, outcome: str, guide_id: str | None = None,
                     aspect: str | None = None, confidence: float | None = None, index_version: str | None = None) -> int:
        """Log one question and what became of it (answered, clarified, not found, …)."""
        return self._insert(schema.questions, time=self.now(), sender_id=sender_id, question=mask_personal_data(question),
                            outcome=outcome, guide_id=guide_id, aspect=aspect, confidence=confidence,
                            index_version=index_version)

    def add_feedback(self, sender_id: str, rating: str, *, question: str | None, guide_id: str | None,
                     section: str | None, index_version: str | None, answer_id: str | None = None,
                     comment: str | None = None) -> int:
        """The rating of one answer (`answer_id`, with that answer's question, guide and section). An answer has one
        rating: rating it again (a double click, 差评 typed after the button, a change of mind) replaces the earlier
        row, so the report counts each answer once. The earlier comment stays when the rating is the same (a second
        click on 差评 after saying what was missing) and goes when it changes (no 差评 comment under a 好评)."""
        values = {"time": self.now(), "sender_id": sender_id, "rating": rating,
                  "question": mask_personal_data(question or "") or None, "guide_id": guide_id, "section": section,
                  "index_version": index_version, "answer_id": answer_id,
                  "comment": mask_personal_data(comment) if comment else None}
        if answer_id is None:  # nothing says two such ratings are of one answer
            return self._insert(schema.feedback, **values)
        feedback = schema.feedback
        # One statement, so two action servers taking two clicks at once still leave one row (the unique index
        # feedback_answer, migration 0002); the same on SQLite and PostgreSQL.
        dialect_insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(feedback).values(**values)
        kept_comment = case((statement.excluded.comment.is_(None) & (feedback.c.rating == statement.excluded.rating), feedback.c.comment),
                            else_=statement.excluded.comment)
        statement = statement.on_conflict_do_update(
            index_elements=[feedback.c.sender_id, feedback.c.answer_id], index_where=feedback.c.answer_id.is_not(None),
            set_={**{key: statement.excluded[key] for key in values if key not in ("sender_id", "answer_id", "comment")},
                  "comment": kept_comment}).returning(feedback.c.id)
        with self.engine.begin() as connection:
            return int(connection.execute(statement).scalar_one())

    def add_comment(self, sender_id: str, comment: str, *, answer_id: str | None = None) -> bool:
        """Attach a comment to this user's latest 差评 (of the answer `answer_id`, when given); False when there is none."""
        feedback = schema.feedback
        query = select(feedback.c.id).where(feedback.c.sender_id == sender_id, feedback.c.rating == "bad")
        if answer_id is not None:
            query = query.where(feedback.c.answer_id == answer_id)
        with self.engine.begin() as connection:
            row = connection.execute(query.order_by(feedback.c.id.desc()).limit(1)).first()
            if row is None:
                return False
            connection.execute(update(feedback).where(feedback.c.id == row.id).values(comment=mask_personal_data(comment)))
        return True

    def add_handoff(self, sender_id: str, *, reason: str, guide_id: str | None, question: str | None,
                    transcript: list[dict[str, str]]) -> int:
        return self._insert(schema.handoffs, time=self.now(), sender_id=sender_id, reason=reason, guide_id=guide_id,
                            question=mask_personal_data(question or "") or None,
                            transcript=json.dumps([_masked_line(line) for line in transcript], ensure_ascii=False))

    def purge_older_than(self, days: int) -> dict[str, int]:
        """Delete rows older than `days` days from every table (the retention setting); counts per table."""
        cutoff = (now_on(self.timezone) - dt.timedelta(days=days)).isoformat(timespec="seconds")
        if not self.exists():
            return {table: 0 for table in ALL_TABLES}
        sqlite = not self.url
        with self.engine.connect() as connection:
            if sqlite:  # retention: deleted rows are overwritten in the file too
                connection.exec_driver_sql("PRAGMA secure_delete=ON")
            counts = {name: connection.execute(delete(_table(name)).where(_table(name).c.time < cutoff)).rowcount
                      for name in ALL_TABLES}
            connection.commit()
            if sqlite:  # the deleted pages also live in the -wal file
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.commit()
        return counts

    def rows(self, table: str) -> list[dict[str, Any]]:
        """All rows of one of ALL_TABLES, oldest first (for the admin report, staff tools and tests)."""
        if table not in ALL_TABLES:
            raise ValueError(f"unknown table {table}")
        return self._select(select(_table(table)).order_by(_table(table).c.id))

    def _select(self, query: Executable) -> list[dict[str, Any]]:
        if not self.exists():
            return []
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def _execute(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)` in one transaction (the desk's multi-statement actions)."""
        with self.engine.begin() as connection:
            return work(connection)


def _masked_line(line: dict[str, str]) -> dict[str, str]:
    """A transcript line with the user's personal numbers masked (the bot's public phones stay)."""
    return {**line, "text": mask_personal_data(line.get("text", ""))} if line.get("from") == "user" else line
