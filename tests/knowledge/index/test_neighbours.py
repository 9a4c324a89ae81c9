"""Reused nearest-chunk lists give exactly what a full FAISS search gives, after chunks are edited,
deleted or added; fold BM25 by subtraction equals BM25 rebuilt from the remaining words; and BM25
scores summed column by column equal the sparse slice-and-sum they replace, bit for bit."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import faiss
import numpy as np

from knowledge.index.bm25 import BM25Index, ChunkTerms, term_counts
from knowledge.index.neighbours import NeighbourIndex, NeighbourTable, chunk_keys


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _flat(vectors: np.ndarray) -> faiss.IndexFlatIP:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _saved_table(tmp_path: Path, index: NeighbourIndex, model: str = "m") -> NeighbourTable:
    """What the next build reads back (the checksum check is the builder's; here the file itself)."""
    path = tmp_path / "neighbours.npz"
    index.save(path, model)
    with np.load(path) as stored:
        return NeighbourTable(stored["queries"], stored["rows"], stored["scores"], stored["lengths"], stored["keys"])


def test_repaired_lists_equal_a_full_search_after_edits_deletions_and_additions(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    old_vectors = _unit(rng.normal(size=(3000, 32)))
    old_ids = [f"c{i}" for i in range(3000)]
    old = NeighbourIndex(_flat(old_vectors), chunk_keys(old_ids, old_ids), depth=80)
    queries = _unit(rng.normal(size=(60, 32)))
    for query in queries:
        old.search(query[None, :], 40)
    table = _saved_table(tmp_path, old)

    # Next build: chunk 5 edited (same id, new text), 100-199 deleted, 20 chunks added, some close to the queries.
    new_ids = [i for n, i in enumerate(old_ids) if not 100 <= n < 200] + [f"n{i}" for i in range(20)]
    digests = ["edited" if i == "c5" else i for i in new_ids]
    vectors = np.concatenate([np.delete(old_vectors, range(100, 200), axis=0), _unit(queries[:20] + 0.05 * rng.normal(size=(20, 32)))])
    vectors[5] = _unit(queries[7:8] + 0.01)[0]
    dense = _flat(vectors)
    new = NeighbourIndex(dense, chunk_keys(new_ids, digests), depth=80, previous=table)
    for query in queries:
        for k in (40, 60):
            scores, rows = new.search(query[None, :], k)
            expected_scores, expected_rows = dense.search(query[None, :], k)
            assert rows.tolist() == expected_rows.tolist()
            assert np.array_equal(scores, expected_scores)
    assert new.reused > 0  # most answers came from the repaired lists, not a new search


def test_a_query_whose_key_ends_in_a_zero_byte_is_found_in_the_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    vectors = _unit(rng.normal(size=(400, 16)))
    ids = [f"c{i}" for i in range(400)]
    candidates = _unit(rng.normal(size=(4000, 16)))
    raw = [hashlib.sha256(np.ascontiguousarray(q, dtype=np.float32).tobytes()).digest()[:16] for q in candidates]
    queries = [q for q, digest in zip(candidates, raw, strict=True) if digest.endswith(b"\0")][:3]
    assert queries  # 1 in 256 keys end in 0x00: a stored "S16" key reads back without it
    old = NeighbourIndex(_flat(vectors), chunk_keys(ids, ids), depth=30)
    for query in queries:
        old.search(query[None, :], 20)
    new = NeighbourIndex(_flat(vectors), chunk_keys(ids, ids), depth=30, previous=_saved_table(tmp_path, old))
    for query in queries:
        assert new.search(query[None, :], 20)[1].tolist() == _flat(vectors).search(query[None, :], 20)[1].tolist()
    assert new.reused == len(queries) and new.searched == 0


def test_a_list_too_short_for_the_search_is_searched_again(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors = _unit(rng.normal(size=(500, 16)))
    ids = [f"c{i}" for i in range(500)]
    old = NeighbourIndex(_flat(vectors), chunk_keys(ids, ids), depth=30)
    query = vectors[:1]
    old.search(query, 20)
    table = _saved_table(tmp_path, old)
    nearest = [int(row) for row in _flat(vectors).search(query, 15)[1][0]]
    kept = [n for n in range(500) if n not in nearest]  # the query's 15 nearest chunks deleted
    dense = _flat(vectors[kept])
    new = NeighbourIndex(dense, chunk_keys([ids[n] for n in kept], [ids[n] for n in kept]), depth=30, previous=table)
    _scores, rows = new.search(query, 20)
    assert rows.tolist() == dense.search(query, 20)[1].tolist()
    assert new.searched == 1 and new.reused == 0


def test_fold_bm25_by_subtraction_equals_bm25_of_the_remaining_words() -> None:
    chunk_tokens = [["公司", "注销", "材料"], ["公司", "设立"], ["注销", "公示"], ["用水", "报装", "水表"], ["天气"], ["用水", "公司"]]
    units = ["g1", "g1", "g2", "g3", None, "p1"]
    terms = ChunkTerms(chunk_tokens, units)
    for left_out in (set(), {0}, {2}, {0, 3}):
        words: dict[str, list[str]] = {unit: [] for unit in terms.units}
        for index, (tokens, unit) in enumerate(zip(chunk_tokens, units, strict=True)):
            if unit is not None and index not in left_out:
                words[unit].extend(tokens)
        expected = BM25Index.build([words[unit] for unit in terms.units])
        got = terms.index(left_out)
        assert set(got.vocabulary) == set(expected.vocabulary)  # "公示" gone with chunk 2, no zero column
        assert got.max_idf == expected.max_idf
        for question in (["公司", "注销"], ["用水", "天气"], ["公示"], ["水表", "公司", "公司"]):
            assert np.array_equal(got.coverage(question), expected.coverage(question))


def test_term_counts_count_each_document_in_first_appearance_order() -> None:
    counts, terms = term_counts([["a", "b", "a"], [], ["c", "a"]])
    assert terms == ["a", "b", "c"]
    assert counts.toarray().tolist() == [[2, 1, 0], [0, 0, 0], [1, 0, 1]]
    assert Counter(["a", "b", "a"]) == Counter({terms[i]: int(n) for i, n in enumerate(counts.toarray()[0]) if n})


def test_scores_add_columns_exactly_as_the_sparse_slice_sum() -> None:
    from scipy import sparse

    rng = np.random.default_rng(11)
    weights = sparse.random(400, 120, density=0.08, random_state=4, dtype=np.float32).tocsc()
    index = BM25Index({f"t{i}": i for i in range(120)}, weights, np.ones(120, dtype=np.float32))
    for _ in range(300):
        tokens = [f"t{i}" for i in rng.integers(0, 125, size=rng.integers(0, 9))]  # t120+ are unknown words
        columns = [int(t[1:]) for t in tokens if int(t[1:]) < 120]
        expected = (np.asarray(weights[:, columns].sum(axis=1), dtype=np.float32).ravel() if columns
                    else np.zeros(400, dtype=np.float32))
        assert np.array_equal(index.scores(tokens), expected)
