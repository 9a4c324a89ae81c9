"""The records tables (questions, feedback, handoffs and the staff desk's lines and actions) as one
SQLAlchemy MetaData: the single definition that SQLite and PostgreSQL share.

The migrations in knowledge/records/migrations/versions/ create and change these tables; a test
checks that a database upgraded to the latest revision has exactly this schema, so a change here
without a revision (or the other way round) fails. Times are ISO text ("2026-12-05T06:15:00"), as the
SQLite file has always stored them: comparisons and the admin report read them alike on both engines.
Table names stay clear of Rasa's tracker store (`events`), so the records may share its database.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Float, Index, Integer, MetaData, Table, Text, text

metadata = MetaData()
# Alembic's own bookkeeping table, named so it cannot be mistaken for another tool's in a shared database.
VERSION_TABLE = "govqa_records_version"


def _id() -> Column:
    return Column("id", Integer, primary_key=True)


# sqlite_autoincrement: ids are never reused after a purge (the web page polls desk lines "after id N").
questions = Table(
    "questions", metadata, _id(),
    Column("time", Text, nullable=False), Column("sender_id", Text, nullable=False),
    Column("question", Text, nullable=False), Column("outcome", Text, nullable=False),
    Column("guide_id", Text), Column("aspect", Text), Column("confidence", Float), Column("index_version", Text),
    Index("questions_time", "time"),
    sqlite_autoincrement=True,
)
feedback = Table(
    "feedback", metadata, _id(),
    Column("time", Text, nullable=False), Column("sender_id", Text, nullable=False),
    Column("rating", Text, CheckConstraint("rating IN ('good', 'bad')", name="feedback_rating"), nullable=False),
    Column("question", Text), Column("guide_id", Text), Column("section", Text), Column("index_version", Text),
    Column("comment", Text), Column("answer_id", Text),
    # one rating per answer (store.add_feedback upserts on it; migration 0002)
    Index("feedback_answer", "sender_id", "answer_id", unique=True,
          sqlite_where=text("answer_id IS NOT NULL"), postgresql_where=text("answer_id IS NOT NULL")),
    sqlite_autoincrement=True,
)
handoffs = Table(
    "handoffs", metadata, _id(),
    Column("time", Text, nullable=False), Column("sender_id", Text, nullable=False),
    Column("reason", Text, nullable=False), Column("guide_id", Text), Column("question", Text),
    Column("transcript", Text, nullable=False),
    # The staff desk's state (knowledge/records/desk.py): NULL status = waiting.
    Column("status", Text), Column("clerk", Text), Column("taken_at", Text), Column("closed_at", Text),
    Column("outcome", Text), Column("outcome_note", Text),
    Index("handoffs_sender", "sender_id"),
    sqlite_autoincrement=True,
)
desk_messages = Table(
    "desk_messages", metadata, _id(),
    Column("time", Text, nullable=False), Column("handoff_id", Integer, nullable=False),
    Column("sender_id", Text, nullable=False),
    Column("author", Text, CheckConstraint("author IN ('citizen', 'clerk', 'desk')", name="desk_messages_author"),
           nullable=False),
    Column("clerk", Text), Column("text", Text, nullable=False), Column("delivered_at", Text),
    Index("desk_messages_sender", "sender_id", "id"),
    sqlite_autoincrement=True,
)
desk_actions = Table(
    "desk_actions", metadata, _id(),
    Column("time", Text, nullable=False), Column("handoff_id", Integer, nullable=False),
    Column("clerk", Text, nullable=False), Column("action", Text, nullable=False), Column("detail", Text),
    sqlite_autoincrement=True,
)
