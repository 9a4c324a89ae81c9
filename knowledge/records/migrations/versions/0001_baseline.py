"""The records schema as the plain-sqlite3 versions left it (questions, feedback, handoffs with the
desk's columns, desk_messages, desk_actions).

Revision ID: 0001
Revises: -

Frozen here, as every revision is: knowledge/records/schema.py is today's schema, this is history.
Databases made before Alembic (SQLite files of the sqlite3 code, no version table) are brought to it
in place: a missing table is created, a table from an older version gets the columns that version
lacked (the old `_ADDED_COLUMNS`: feedback.answer_id, the handoffs' desk columns), rows are kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _tables() -> list[tuple[str, list, list[tuple[str, list[str]]]]]:
    """(table, columns and constraints, indexes) as of this revision."""
    text = sa.Text
    return [
        ("questions", [_id(), sa.Column("time", text, nullable=False), sa.Column("sender_id", text, nullable=False),
                       sa.Column("question", text, nullable=False), sa.Column("outcome", text, nullable=False),
                       sa.Column("guide_id", text), sa.Column("aspect", text), sa.Column("confidence", sa.Float),
                       sa.Column("index_version", text)],
         [("questions_time", ["time"])]),
        ("feedback", [_id(), sa.Column("time", text, nullable=False), sa.Column("sender_id", text, nullable=False),
                      sa.Column("rating", text, sa.CheckConstraint("rating IN ('good', 'bad')", name="feedback_rating"),
                                nullable=False),
                      sa.Column("question", text), sa.Column("guide_id", text), sa.Column("section", text),
                      sa.Column("index_version", text), sa.Column("comment", text), sa.Column("answer_id", text)],
         []),
        ("handoffs", [_id(), sa.Column("time", text, nullable=False), sa.Column("sender_id", text, nullable=False),
                      sa.Column("reason", text, nullable=False), sa.Column("guide_id", text), sa.Column("question", text),
                      sa.Column("transcript", text, nullable=False), sa.Column("status", text), sa.Column("clerk", text),
                      sa.Column("taken_at", text), sa.Column("closed_at", text), sa.Column("outcome", text),
                      sa.Column("outcome_note", text)],
         [("handoffs_sender", ["sender_id"])]),
        ("desk_messages", [_id(), sa.Column("time", text, nullable=False), sa.Column("handoff_id", sa.Integer, nullable=False),
                           sa.Column("sender_id", text, nullable=False),
                           sa.Column("author", text, sa.CheckConstraint("author IN ('citizen', 'clerk', 'desk')",
                                                                        name="desk_messages_author"), nullable=False),
                           sa.Column("clerk", text), sa.Column("text", text, nullable=False), sa.Column("delivered_at", text)],
         [("desk_messages_sender", ["sender_id", "id"])]),
        ("desk_actions", [_id(), sa.Column("time", text, nullable=False), sa.Column("handoff_id", sa.Integer, nullable=False),
                          sa.Column("clerk", text, nullable=False), sa.Column("action", text, nullable=False),
                          sa.Column("detail", text)],
         []),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, columns, indexes in _tables():
        if name not in existing:
            op.create_table(name, *columns, sqlite_autoincrement=True)
        else:  # a file of the plain-sqlite3 code: add what its version lacked (nullable TEXT columns)
            present = {column["name"] for column in inspector.get_columns(name)}
            for column in columns:
                if isinstance(column, sa.Column) and column.name not in present:
                    op.add_column(name, sa.Column(column.name, column.type))
        present_indexes = {index["name"] for index in inspector.get_indexes(name)} if name in existing else set()
        for index, index_columns in indexes:
            if index not in present_indexes:
                op.create_index(index, name, index_columns)
