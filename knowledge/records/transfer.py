"""Moving a deployment's records from its SQLite file to PostgreSQL, when it scales out (settings.database_url).

`index_builder.py copy-records` copies every row of every records table (questions, feedback, handoffs and
the staff desk's lines and actions) from the SQLite file into the PostgreSQL database, ids included (a
rating names its answer, a desk line its handoff), in one transaction: all rows or none. It refuses a
database whose records tables already hold rows, so running it twice cannot duplicate anything. It reads a
snapshot of the SQLite file (consistent even while a process writes it), which it upgrades to the current
schema; the file itself is left exactly as it was. Stop the SQLite deployment first, or what it writes after
the snapshot stays behind.

    counts = copy_records(Path("var/records.sqlite3"), "postgresql://govqa:…@db:5432/govqa")
    # {"questions": 1520, "feedback": 210, "handoffs": 12, "desk_messages": 30, "desk_actions": 24}
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from knowledge.records.database import engine_for
from knowledge.records.schema import metadata

BATCH_ROWS = 1000  # rows per INSERT: a large question log is copied without holding it all in memory


class TransferError(RuntimeError):
    """Why the copy was refused (in Chinese, for the admin); nothing was written."""


def copy_records(source: Path, target_url: str) -> dict[str, int]:
    """Copy every records row of the SQLite file `source` into PostgreSQL at `target_url`; rows per table."""
    if not source.exists():
        raise TransferError(f"找不到 SQLite 记录文件：{source}")
    if not target_url:
        raise TransferError("没有设置 GOVQA_DATABASE_URL（目标 PostgreSQL）")
    with tempfile.TemporaryDirectory(prefix="govqa-copy-") as scratch:
        # A consistent snapshot (SQLite's backup API, WAL included) even if a process still writes the file;
        # it is upgraded to the current schema, the file itself is left exactly as it was.
        snapshot = Path(scratch) / "records.sqlite3"
        with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(snapshot)) as copy:
            original.backup(copy)
        return _copy(engine_for(snapshot), engine_for(source, target_url))


def _copy(reader: Engine, writer: Engine) -> dict[str, int]:
    counts: dict[str, int] = {}
    tables = metadata.sorted_tables  # parents first: desk lines after their handoffs
    with reader.connect() as rows_in, writer.begin() as rows_out:
        # No process may write the records while they are checked empty and filled (it would wait for the commit).
        rows_out.execute(text(f"LOCK TABLE {', '.join(table.name for table in tables)} IN EXCLUSIVE MODE"))
        occupied = [table.name for table in tables if rows_out.execute(select(func.count()).select_from(table)).scalar_one()]
        if occupied:
            raise TransferError(f"PostgreSQL 里的记录表已有数据（{'、'.join(occupied)}），为免重复不复制；"
                                "要重新复制，请先清空这些表")
        for table in tables:
            result = rows_in.execution_options(stream_results=True).execute(select(table).order_by(table.c.id))
            counts[table.name] = 0
            while batch := result.fetchmany(BATCH_ROWS):
                rows_out.execute(insert(table), [_storable(row._mapping) for row in batch])
                counts[table.name] += len(batch)
            if counts[table.name]:
                # Ids were copied as they were: the next row PostgreSQL numbers must come after them.
                rows_out.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                      f"(SELECT MAX(id) FROM {table.name}))"))
    return counts


def _storable(row: Mapping[str, Any]) -> dict[str, Any]:
    # PostgreSQL text cannot hold NUL, which SQLite keeps if a user typed one: drop it rather than fail the copy.
    return {key: value.replace("\x00", "") if isinstance(value, str) else value for key, value in row.items()}
