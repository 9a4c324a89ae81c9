"""Moving a deployment's records from its SQLite file to PostgreSQL, when it scales out (settings.database_url).

`index_builder.py copy-records` copies every row of every records table (questions, feedback, handoffs and
the staff desk's lines and actions) from the SQLite file into the PostgreSQL database, ids included (a
rating names its answer, a desk line its handoff), in one transaction: all rows or none. It refuses a
database whose records tables already hold rows, so running it twice cannot duplicate anything; the
SQLite file is left as it was (upgraded to the current schema first, like every process that opens it).

    counts = copy_records(Path("var/records.sqlite3"), "postgresql://govqa:…@db:5432/govqa")
    # {"questions": 1520, "feedback": 210, "handoffs": 12, "desk_messages": 30, "desk_actions": 24}
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, insert, select, text

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
    reader, writer = engine_for(source), engine_for(source, target_url)
    counts: dict[str, int] = {}
    with reader.connect() as rows_in, writer.begin() as rows_out:
        occupied = [table.name for table in metadata.sorted_tables
                    if rows_out.execute(select(func.count()).select_from(table)).scalar_one()]
        if occupied:
            raise TransferError(f"PostgreSQL 里的记录表已有数据（{'、'.join(occupied)}），为免重复不复制；"
                                "要重新复制，请先清空这些表")
        for table in metadata.sorted_tables:  # parents first: desk lines after their handoffs
            result = rows_in.execution_options(stream_results=True).execute(select(table).order_by(table.c.id))
            counts[table.name] = 0
            while batch := result.fetchmany(BATCH_ROWS):
                rows_out.execute(insert(table), [dict(row._mapping) for row in batch])
                counts[table.name] += len(batch)
            if counts[table.name]:
                # Ids were copied as they were: the next row PostgreSQL numbers must come after them.
                rows_out.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                      f"(SELECT MAX(id) FROM {table.name}))"))
    return counts
