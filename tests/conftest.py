"""Fixtures: settings pointing at temporary folders, one index of the bundled knowledge base built
once per test session (the embedding cache under var/ is shared, so reruns are fast), the running
stack for end-to-end tests; and the markers that say what each test needs:

- ``unit``: nothing but the code under test and tiny fixtures (``make test-fast`` runs these);
- ``integration``: the real embedding model, FAISS and BM25 index, or a subprocess of the CLI;
- ``e2e``: the running stack (Rasa server, action server, hall API), a browser or Telegram's protocol.

A test gets its marker from the fixtures it uses (`assistant` → e2e; `embedder`, `bundled`,
`retriever`, `services` → integration) or from its module's ``pytestmark``; otherwise it is a unit test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.index.builder import BuildReport, build_index
from knowledge.index.embedding import Embedder
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings, load_settings
from tests.support import DOCUMENTS, GUIDES
from tests.support.stack import Assistant, running_assistant

NEEDS = {"e2e": {"assistant"}, "integration": {"embedder", "bundled", "retriever", "services", "records", "kb_copy"}}
LEVELS = ("e2e", "integration", "unit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add the marker a test's fixtures imply; the heaviest one counts (`make test-fast` runs
    ``-m "not integration and not e2e"``, so a module marked unit with one stack test skips that test)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        needed = [level for level in LEVELS if fixtures & NEEDS.get(level, set()) or item.get_closest_marker(level)]
        item.add_marker(getattr(pytest.mark, needed[0] if needed else "unit"))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    settings = load_settings()
    return Embedder(settings.embedding_model, lowercase=settings.embedding_lowercase, threads=1)


@pytest.fixture(scope="session")
def bundled(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Settings, BuildReport]:
    """The bundled guides and documents, built and published (eval gate on) into a temp index."""
    var = tmp_path_factory.mktemp("var")
    settings = load_settings(index_dir=var / "index", reports_dir=var / "reports")
    report = build_index(settings, embedder=embedder)
    return settings, report


@pytest.fixture(scope="session")
def retriever(bundled: tuple[Settings, BuildReport], embedder: Embedder) -> Retriever:
    settings, _report = bundled
    return Retriever.from_published_index(settings, embedder)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Iterator[Settings]:
    """A private copy of the knowledge base and an empty index folder, free to edit and break."""
    guides, documents = tmp_path / "guides", tmp_path / "documents"
    shutil.copytree(GUIDES, guides)
    shutil.copytree(DOCUMENTS, documents)
    yield load_settings(guides_dir=guides, documents_dir=documents, index_dir=tmp_path / "index", reports_dir=tmp_path / "reports")


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Assistant]:
    """The whole stack (action server, Rasa, hall API) on free ports, shared by the end-to-end tests."""
    with running_assistant(tmp_path_factory.mktemp("assistant"), embedder) as running:
        yield running
