"""Action tests run the actions in-process on the bundled index, with a private records file:
the actions get their services the way the action server hands them over (actions/server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.knowledge_service import KnowledgeService
from actions.services import RecordWriter, Services
from knowledge.index.builder import BuildReport
from knowledge.records.store import Records
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings


@pytest.fixture
def services(tmp_path: Path, bundled: tuple[Settings, BuildReport], retriever: Retriever) -> Services:
    settings = bundled[0].replace(records_db=tmp_path / "records.sqlite3")
    return Services(settings, KnowledgeService.serving(retriever, settings), RecordWriter(Records(settings.records_db)))


@pytest.fixture
def records(services: Services) -> Records:
    return services.records.store
