"""Action tests run the actions in-process on the bundled index, with a private records file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actions import knowledge_service, runtime
from knowledge.records.store import Records
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings


@pytest.fixture
def records(tmp_path: Path, retriever: Retriever, monkeypatch: pytest.MonkeyPatch) -> Iterator[Records]:
    settings: Settings = retriever.settings.replace(records_db=tmp_path / "records.sqlite3")
    store = Records(settings.records_db)
    monkeypatch.setattr(runtime, "settings", lambda: settings)
    monkeypatch.setattr(runtime, "records", lambda: store)
    knowledge_service.use(retriever)
    yield store
