"""The records store under test on each backend: the SQLite file (the default) and PostgreSQL from the
`stores` fixture (tests/support/servers.py; skipped with its reason when the servers cannot be installed).
A test module imports `stores` and parametrizes its store fixture with BACKENDS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from knowledge.records.database import dispose_all
from knowledge.records.store import Records

# The PostgreSQL variant needs a server: left out of `make test-fast` like the other server tests.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
Store = TypeVar("Store", bound=Records)


def store_on_backend(kind: type[Store], request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = request.getfixturevalue("stores").new_database("records") if request.param == "postgresql" else ""
    try:
        yield kind(tmp_path / "records.sqlite3", url=url)
    finally:
        dispose_all()  # a fresh database per test: do not keep a pool of connections to each


def sqlite_only(records: Records) -> None:
    if records.url:
        pytest.skip("只有 SQLite 记录文件才有这一项（文件、WAL、文件里的残留）")
