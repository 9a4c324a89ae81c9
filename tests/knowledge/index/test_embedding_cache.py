"""The embedding cache: interrupted runs keep finished slices; cached texts are never re-embedded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.index import embedding
from knowledge.index.embedding import EmbeddingCache


class CountingEmbedder:
    """Stands in for the model only to count calls; the cache logic under test is the real one."""

    model_id = "counting-test"

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls = 0
        self.texts = 0
        self.fail_on_call = fail_on_call

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt  # the admin pressed Ctrl-C mid-build
        self.texts += len(texts)
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def test_interrupted_run_keeps_finished_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "CACHE_SLICE", 2)
    texts = [f"文本{i}" for i in range(5)]
    digests = [f"d{i}" for i in range(5)]
    cache = EmbeddingCache(tmp_path / "cache.sqlite3")
    with pytest.raises(KeyboardInterrupt):
        cache.encode(CountingEmbedder(fail_on_call=3), texts, digests)
    resumed = CountingEmbedder()
    vectors, embedded = cache.encode(resumed, texts, digests)
    assert embedded == 1 and resumed.texts == 1  # the two finished slices (4 texts) were kept
    assert vectors.shape == (5, 2)
    again = CountingEmbedder()
    assert cache.encode(again, texts, digests)[1] == 0 and again.calls == 0
    cache.close()
