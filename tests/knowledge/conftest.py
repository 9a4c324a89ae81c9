"""Fixtures shared by the knowledge layer's tests."""

from __future__ import annotations

import shutil

import pytest

from knowledge.index.builder import build_index
from knowledge.index.embedding import Embedder
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings
from tests.support import GUIDES, SMALL_GUIDES


@pytest.fixture
def small(kb_copy: Settings, embedder: Embedder) -> Retriever:
    """Ten sample guides, no policy documents: a knowledge base none of whose numbers were tuned."""
    shutil.rmtree(kb_copy.guides_dir)
    kb_copy.guides_dir.mkdir()
    for guide_id in SMALL_GUIDES:
        shutil.copy(GUIDES / f"{guide_id}.md", kb_copy.guides_dir)
    shutil.rmtree(kb_copy.documents_dir)
    kb_copy.documents_dir.mkdir()
    build_index(kb_copy, embedder=embedder, gate=False)
    return Retriever.from_published_index(kb_copy, embedder)
