"""Recent questions' embeddings are reused, and retrieval answers exactly as without the cache."""

from __future__ import annotations

import numpy as np

from knowledge.index.builder import BuildReport
from knowledge.index.embedding import Embedder
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings

QUESTIONS = ["开公司要带什么材料", "那要多久？", "公司注销要多久", "燃气开户多少钱", "今天天气怎么样", "开公司要带什么材料",
             "施工许可证在哪里办", "那要多久？", "ETC办理需要什么", "开公司要带什么材料"]


def test_repeated_questions_get_the_same_vector_without_the_model(embedder: Embedder) -> None:
    cached = Embedder(embedder.spec, lowercase=embedder.lowercase, threads=1, query_cache_size=2)
    first = cached.encode(["开公司要带什么材料"])
    calls: list[int] = []
    real = cached._encode
    cached._encode = lambda texts, **kw: calls.append(len(texts)) or real(texts, **kw)  # type: ignore[method-assign]
    again = cached.encode(["开公司要带什么材料"])
    assert calls == [] and np.array_equal(first, again)
    again[0, 0] = 99.0  # a caller changing its copy does not change the cache
    assert np.array_equal(cached.encode(["开公司要带什么材料"]), first)
    cached.encode(["公司注销要多久"])
    cached.encode(["燃气开户多少钱"])  # size 2: the oldest question drops out
    cached.encode(["开公司要带什么材料"])
    assert calls == [1, 1, 1]


def test_retrieval_with_the_cache_answers_exactly_as_without(bundled: tuple[Settings, BuildReport], embedder: Embedder) -> None:
    settings, _report = bundled
    plain = Retriever.from_published_index(settings, Embedder(embedder.spec, threads=1, query_cache_size=0))
    cached = Retriever.from_published_index(settings, Embedder(embedder.spec, threads=1, query_cache_size=1024))
    for question in QUESTIONS * 2:
        a, b = plain.run(question), cached.run(question)
        assert (a.decision, a.guide_id, a.confidence, a.in_scope) == (b.decision, b.guide_id, b.confidence, b.in_scope)
        assert [(h.chunk.id, h.score) for h in a.hits] == [(h.chunk.id, h.score) for h in b.hits]
