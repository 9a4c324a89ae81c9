"""Alembic's environment for the records schema: always given a connection by
knowledge/records/database.py (which holds the migration lock); never run from a URL of its own."""

from __future__ import annotations

from alembic import context

from knowledge.records.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
# render_as_batch: SQLite alters most tables by copying them; Alembic's batch mode does that.
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
