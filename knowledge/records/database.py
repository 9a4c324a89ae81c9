"""Where the records live: one SQLAlchemy engine per database, upgraded to the latest schema on first use.

- `database_url` unset (the default, one machine): the SQLite file settings.records_db, in WAL mode so
  the action server writes while an admin reads a report, created with mode 600 (it holds what citizens
  typed, masked). A connection per operation (NullPool), as the plain sqlite3 code did: the file may be
  purged, moved or replaced between operations and nothing keeps a handle on an old one.
- `database_url` set (several machines, issue 15): PostgreSQL, the same tables in the same database as
  Rasa's tracker store is fine (our names never clash with its `events`). A small pool per process with
  pre-ping, so a PostgreSQL restart costs the operations during the restart only.

Migrations (Alembic, knowledge/records/migrations/) run the first time a process touches a database:
every process may be first, so on PostgreSQL they run under an advisory lock held by the migrating
transaction, and on SQLite under an exclusive flock on a sidecar `<file>.migrate-lock` (a flock on the
database file itself would be dropped with SQLite's own POSIX locks when any descriptor is closed).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_ID = 0x6F76_7161  # "govqa": one advisory lock id for this schema's migrations
DatabaseError = SQLAlchemyError  # what a caller catches for "the records database cannot be used"

_engines: dict[str, Engine] = {}
_migrated: set[tuple[str, int]] = set()  # (engine key, SQLite file inode or 0): upgraded in this process
_lock = threading.Lock()


def normalized_url(url: str) -> str:
    """postgres:// (Heroku style, common in the wild) and postgresql:// as the driver we install: SQLAlchemy 2.1
    would pick psycopg 3 for a bare postgresql://; psycopg2 is also what Rasa's tracker store uses."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme):]
    return url


def engine_for(path: Path, url: str = "") -> Engine:
    """The engine of the records database (PostgreSQL at `url`, else the SQLite file `path`), upgraded."""
    key = normalized_url(url) if url else "sqlite:///" + str(path.resolve())
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _postgresql(key) if url else _sqlite(key)
        inode = 0
        if not url:
            inode = _create_private_file(path)
        if (key, inode) not in _migrated:
            _upgrade(engine, path if not url else None)
            _migrated.add((key, inode))
    return engine


def dispose_all() -> None:
    """Close every pooled connection (tests drop their databases; a forked process must not share them)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _migrated.clear()


def _sqlite(url: str) -> Engine:
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 5, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _wal(connection, _record) -> None:
        connection.execute("PRAGMA journal_mode=WAL")

    return engine


def _postgresql(url: str) -> Engine:
    # pool_pre_ping: a connection broken by a PostgreSQL restart is replaced, not handed to a request.
    return create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True, pool_recycle=1800)


def _create_private_file(path: Path) -> int:
    """Create the SQLite file with mode 600 before SQLite does (it would use the umask); its inode.

    Only when it is missing: closing any descriptor of an existing database file would drop the POSIX
    locks this process's SQLite connections hold on it. A new file has no connection yet (callers hold _lock)."""
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # another process created it a moment ago
            pass
        return path.stat().st_ino


def _upgrade(engine: Engine, sqlite_file: Path | None) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if sqlite_file is None:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return
    lock_file = sqlite_file.with_name(sqlite_file.name + ".migrate-lock")
    with os.fdopen(os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
