"""One rating per answer: a unique index on feedback (sender_id, answer_id) for rows that name their answer.

Revision ID: 0002
Revises: 0001

Rating an answer again replaces its row (knowledge/records/store.py `add_feedback`, an upsert on this index), also when
two action servers behind the load balancer take two clicks at once. Databases from before keep one row per answer:
the latest (highest id) of each (sender_id, answer_id); ratings without an answer id are left as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "feedback_answer"
_NAMED = sa.text("answer_id IS NOT NULL")


def upgrade() -> None:
    op.execute("DELETE FROM feedback WHERE answer_id IS NOT NULL AND id NOT IN "
               "(SELECT MAX(id) FROM feedback WHERE answer_id IS NOT NULL GROUP BY sender_id, answer_id)")
    op.create_index(INDEX, "feedback", ["sender_id", "answer_id"], unique=True, sqlite_where=_NAMED, postgresql_where=_NAMED)


def downgrade() -> None:
    op.drop_index(INDEX, "feedback")
