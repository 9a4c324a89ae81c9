"""`Retriever.features_many` (calibration's batch scoring) gives `features()`'s numbers bit for bit:
same features, same best guide, ties included, for every exclusion."""

from __future__ import annotations

import random
from pathlib import Path

import faiss
import numpy as np

from knowledge.index.bm25 import BM25Index, Tokenizer
from knowledge.index.calibration import examples_from
from knowledge.index.chunks import ANCHOR, OVERVIEW, PASSAGE, SECTION, Chunk, lexical_unit
from knowledge.retrieval.index_data import IndexData
from knowledge.retrieval.retriever import RetrievalParams, Retriever

WORDS = ["营业执照", "公司", "注销", "材料", "多久", "窗口", "收费", "燃气", "开户", "施工", "许可", "天气"]


class _NoModel:
    model_id = "test-model"


def _synthetic(tmp_path: Path) -> Retriever:
    """Guides with several chunks, policy passages and anchors; some vectors repeated so that
    scores tie (the order of equal hits is where a vectorised rewrite would go wrong)."""
    rng = np.random.default_rng(7)
    chunks: list[Chunk] = []
    for g in range(12):
        title = f"事项{g}"
        for s in range(1 + g % 4):
            text = title + "".join(rng.choice(WORDS, size=4))
            chunks.append(Chunk(f"g{g}#{s}", OVERVIEW if s == 0 else SECTION, text, title, f"g{g}", None, text))
    for p in range(5):
        text = "政策" + "".join(rng.choice(WORDS, size=5))
        chunks.append(Chunk(f"doc#{p}", PASSAGE, text, "文件", None, "一", text))
    for a in range(4):
        chunks.append(Chunk(f"out-of-scope#t-{a}", ANCHOR, "天气怎么样", "t", None, None, "天气怎么样"))
    vectors = rng.normal(size=(len(chunks), 8)).astype(np.float32)
    vectors[5] = vectors[2]  # ties between guides' chunks
    vectors[len(chunks) - 7] = vectors[9]  # a passage tied with a guide chunk
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    dense = faiss.IndexFlatIP(8)
    dense.add(vectors)
    tokenizer = Tokenizer([f"事项{g}" for g in range(12)])
    units = list(dict.fromkeys(lexical_unit(c) for c in chunks if c.kind != ANCHOR))
    by_unit: dict[str | None, list[str]] = {unit: [] for unit in units}
    for chunk in chunks:
        if chunk.kind != ANCHOR:
            by_unit[lexical_unit(chunk)] += tokenizer.tokenize(chunk.text)
    bm25 = BM25Index.build([by_unit[unit] for unit in units])
    guides = {f"g{g}": {"id": f"g{g}", "title": f"事项{g}", "aliases": [f"别名{g}"] if g % 3 == 0 else []} for g in range(12)}
    manifest = {"embedding": {"spec": "test", "id": _NoModel.model_id}}
    data = IndexData.from_parts(tmp_path / "v", manifest, chunks, guides, dense, bm25, tokenizer, [u for u in units if u])
    params = RetrievalParams(dense_candidates=6, alias_bonus=0.04, name_pairs_bonus=0.02)
    return Retriever(data, params, _NoModel())  # type: ignore[arg-type]


def _vectors_and_guides(data: IndexData) -> tuple[np.ndarray, dict[str, set[int]]]:
    """Every chunk's stored vector, and each guide's chunk rows (what calibration leaves out)."""
    vectors = np.vstack([data.dense.reconstruct(i) for i in range(data.dense.ntotal)])
    chunks_of: dict[str, set[int]] = {}
    for index, chunk in enumerate(data.chunks):
        if chunk.guide_id:
            chunks_of.setdefault(chunk.guide_id, set()).add(index)
    return vectors, chunks_of


def test_batch_scoring_matches_one_by_one_on_ties_passages_and_anchors(tmp_path: Path) -> None:
    retriever = _synthetic(tmp_path)
    data = retriever.data
    vectors, chunks_of = _vectors_and_guides(data)
    rng = random.Random(3)
    questions = ["事项3要什么材料", "别名6多久", "天气怎么样", "", "公司注销窗口收费吗", "事项1 事项10", "项3和项11"]
    checked = 0
    for row in range(len(vectors)):
        excludes = [set(), {row}, chunks_of.get(data.chunks[row].guide_id or "", {row}), set(rng.sample(range(len(vectors)), 5))]
        names_without = [None, None, data.chunks[row].guide_id, None]  # the whole guide left out: its names too
        question = rng.choice(questions)
        batch = retriever.features_many(question, vectors[row], excludes, names_without=names_without)
        for exclude, without, batched in zip(excludes, names_without, batch, strict=True):
            assert batched == retriever.features(question, vectors[row], exclude=exclude, names_without=without), (row, question, exclude)
            checked += 1
    assert checked == 4 * len(vectors)


def test_batch_scoring_matches_on_the_sample_knowledge_base(retriever: Retriever) -> None:
    data = retriever.data
    vectors, chunks_of = _vectors_and_guides(data)
    for example in (e for e in examples_from(retriever, vectors) if e.vector is not None):
        excludes = [set(example.exclude)] + ([chunks_of[example.guide_id]] if example.guide_id else [])
        names_without = (None, example.guide_id)  # as calibration asks them (calibration._score_examples)
        batch = retriever.features_many(example.text, example.vector, excludes, names_without=names_without)
        for exclude, without, batched in zip(excludes, names_without, batch, strict=False):
            assert batched == retriever.features(example.text, example.vector, exclude=exclude, names_without=without), example.text
