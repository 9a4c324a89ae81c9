"""FlatVectors stands in for a faiss.IndexFlatIP during a build: the same search results (ties
included) and the same dense.faiss bytes as faiss.write_index; read_flat maps such a file back."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from knowledge.index.flat import FlatVectors, PlannedVectors, read_flat, write_rows


def _vectors(count: int, dimension: int = 16, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, dimension)).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
    if count > 10:
        vectors[7] = vectors[3]  # equal scores: the order of ties must match too
        vectors[10] = vectors[3]
    return vectors


def _index(vectors: np.ndarray) -> faiss.IndexFlatIP:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


@pytest.mark.parametrize("count", [0, 1, 300])
def test_the_file_is_what_faiss_writes(tmp_path: Path, count: int) -> None:
    vectors = _vectors(count)
    faiss.write_index(_index(vectors), str(tmp_path / "faiss.index"))
    FlatVectors(vectors).write(tmp_path / "flat.index")
    assert (tmp_path / "flat.index").read_bytes() == (tmp_path / "faiss.index").read_bytes()
    assert faiss.read_index(str(tmp_path / "flat.index")).ntotal == count


def test_search_is_the_index_search_bit_for_bit() -> None:
    vectors = _vectors(500)
    index, flat = _index(vectors), FlatVectors(vectors)
    for queries in (vectors[3:4], vectors[:1], vectors[40:65], _vectors(30, seed=9)):  # one query, and a BLAS-sized batch
        for k in (1, 12, 500):
            expected, got = index.search(queries, k), flat.search(queries, k)
            assert expected[0].tobytes() == got[0].tobytes() and expected[1].tobytes() == got[1].tobytes()
    rows = np.array([5, 0, 499])
    assert flat.reconstruct_batch(rows).tobytes() == index.reconstruct_batch(rows).tobytes()
    assert flat.ntotal == index.ntotal and flat.d == index.d


def test_read_flat_maps_the_vectors_back_and_rejects_other_files(tmp_path: Path) -> None:
    vectors = _vectors(50)
    path = tmp_path / "dense.faiss"
    faiss.write_index(_index(vectors), str(path))
    mapped = read_flat(path, 50, 16)
    assert mapped is not None and np.asarray(mapped).tobytes() == vectors.tobytes()
    assert read_flat(path, 49, 16) is None and read_flat(path, 50, 8) is None  # another size or dimension
    assert read_flat(tmp_path / "missing.faiss", 50, 16) is None
    faiss.write_index(faiss.IndexFlatL2(16), str(tmp_path / "l2.faiss"))
    assert read_flat(tmp_path / "l2.faiss", 0, 16) is None  # another index type
    with pytest.raises(ValueError):
        FlatVectors(vectors[:, :8])  # not contiguous


@pytest.mark.parametrize("case", ["same order", "edited", "deleted and added", "shuffled", "all new"])
def test_rows_copied_file_to_file_give_the_file_of_the_new_vectors(tmp_path: Path, case: str) -> None:
    old = _vectors(300, seed=5)
    FlatVectors(old).write(tmp_path / "old.faiss")
    source = np.arange(300)
    if case == "edited":
        source[[0, 41, 299]] = -1
    elif case == "deleted and added":
        source = np.concatenate([np.arange(0, 50), [-1, -1], np.arange(80, 300), [-1]])
    elif case == "shuffled":
        source = np.random.default_rng(2).permutation(300)
        source[7] = -1
    elif case == "all new":
        source = np.full(120, -1)
    fresh = _vectors(int((source < 0).sum()), seed=8)
    expected = np.empty((len(source), 16), dtype=np.float32)
    expected[source >= 0] = old[source[source >= 0]]
    expected[source < 0] = fresh
    stored = write_rows(tmp_path / "new.faiss", 16, source, tmp_path / "old.faiss", fresh)
    FlatVectors(expected).write(tmp_path / "expected.faiss")
    assert (tmp_path / "new.faiss").read_bytes() == (tmp_path / "expected.faiss").read_bytes()
    flat = FlatVectors(expected)
    assert stored.ntotal == len(source) and stored.d == 16
    assert stored[3].tobytes() == expected[3].tobytes() and stored.reconstruct_batch(np.array([1, 0])).tobytes() == expected[[1, 0]].tobytes()
    for query in (expected[:1], _vectors(25, seed=1)):
        assert stored.search(query, 9)[1].tolist() == flat.search(query, 9)[1].tolist()
    # The same vectors before the file exists (the build reads them while a thread writes it)
    planned = PlannedVectors(16, source, tmp_path / "old.faiss", fresh)
    assert planned.ntotal == len(source) and planned.d == 16
    assert all(planned[row].tobytes() == expected[row].tobytes() for row in range(len(source)))
    assert planned.reconstruct_batch(np.array([2, 0, len(source) - 1])).tobytes() == expected[[2, 0, len(source) - 1]].tobytes()
    for query in (expected[:1], _vectors(25, seed=1)):
        found, planned_found = flat.search(query, 9), planned.search(query, 9)
        assert planned_found[1].tolist() == found[1].tolist() and planned_found[0].tobytes() == found[0].tobytes()
