"""Term counts reused from the serving version (terms.py) are the counts of tokenizing everything
again: same matrix, same term order, same BM25 weights bit for bit, after edits, deletions,
insertions and reordering; a damaged, foreign or missing table is not used."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from knowledge.index.bm25 import ChunkTerms
from knowledge.index.neighbours import chunk_keys
from knowledge.index.store import file_checksums
from knowledge.index.terms import TERMS_FILE, TermRows, TermTable

WORDS = [f"词{i}" for i in range(60)] + ["营业执照", "公司", "注销", "材料"]


def _corpus(seed: int, size: int) -> tuple[list[str], list[list[str]], list[str | None]]:
    rng = random.Random(seed)
    ids = [f"g{i // 4}#{i % 4}" for i in range(size)]
    tokens = [[rng.choice(WORDS) for _ in range(rng.randint(0, 12))] for _ in range(size)]
    units = [None if i % 13 == 0 else f"guide:g{i // 4}" for i in range(size)]
    return ids, tokens, units


def _keys(ids: list[str], tokens: list[list[str]]) -> np.ndarray:
    return chunk_keys(ids, ["\x1f".join(t) for t in tokens])  # same text, same key


def _same(built: ChunkTerms, expected: ChunkTerms) -> None:
    assert built.terms == expected.terms
    assert built.counts.shape == expected.counts.shape and (built.counts != expected.counts).nnz == 0
    for left_out in ((), (1, 5, 8)):
        a, b = built.index(left_out), expected.index(left_out)
        assert a.vocabulary == b.vocabulary and a.idf.tobytes() == b.idf.tobytes()
        assert a.weights.indptr.tobytes() == b.weights.indptr.tobytes()
        assert a.weights.indices.tobytes() == b.weights.indices.tobytes()
        assert a.weights.data.tobytes() == b.weights.data.tobytes()


def _stored(tmp_path: Path, rows: TermRows, keys: np.ndarray, fingerprint: str = "dict-1") -> Path:
    folder = tmp_path / "version"
    folder.mkdir(exist_ok=True)
    rows.save(folder / TERMS_FILE, fingerprint, keys)
    (folder / "manifest.json").write_text(json.dumps({"files": file_checksums(folder)}), encoding="utf-8")
    return folder


def test_from_scratch_rows_are_the_counts_of_the_tokens(tmp_path: Path) -> None:
    ids, tokens, units = _corpus(1, 80)
    rows = TermRows.build(_keys(ids, tokens), None, lambda wanted: [tokens[i] for i in wanted])
    _same(rows.chunk_terms(units), ChunkTerms(tokens, units))


def test_reused_rows_after_edits_deletions_insertions_and_moves(tmp_path: Path) -> None:
    ids, tokens, units = _corpus(2, 120)
    tokens[31].append("只在被删的指南里")
    first = TermRows.build(_keys(ids, tokens), None, lambda wanted: [tokens[i] for i in wanted])
    folder = _stored(tmp_path, first, _keys(ids, tokens))

    ids, tokens, units = list(ids), [list(t) for t in tokens], list(units)
    tokens[0] = ["全新的词", *tokens[0]]  # a term no chunk had, first in the corpus
    tokens[7] = [*tokens[7][::-1], "另一个新词"]  # edited: its terms' first appearance moves
    del ids[30:38], tokens[30:38], units[30:38]  # a guide deleted: its only terms drop out
    ids[50:50], tokens[50:50], units[50:50] = ["new#1"], [["公司", "插入"]], ["guide:new"]  # a guide added
    ids[60], ids[61] = ids[61], ids[60]  # two chunks swap places
    tokens[60], tokens[61] = tokens[61], tokens[60]
    asked: list[int] = []

    def tokenize(wanted: np.ndarray) -> list[list[str]]:
        asked.extend(wanted.tolist())
        return [tokens[i] for i in wanted]

    table = TermTable.load(folder, "dict-1")
    assert table is not None
    rows = TermRows.build(_keys(ids, tokens), table, tokenize)
    assert sorted(asked) == [0, 7, 50]  # only what changed is tokenized
    _same(rows.chunk_terms(units), ChunkTerms(tokens, units))


def test_a_damaged_or_foreign_table_is_not_used(tmp_path: Path) -> None:
    ids, tokens, _units = _corpus(3, 40)
    rows = TermRows.build(_keys(ids, tokens), None, lambda wanted: [tokens[i] for i in wanted])
    folder = _stored(tmp_path, rows, _keys(ids, tokens))
    assert TermTable.load(folder, "another-dictionary") is None  # a title or alias changed: tokens differ
    with np.load(folder / TERMS_FILE) as stored:
        damaged = {name: stored[name] for name in stored.files}
    damaged["counts"] = damaged["counts"] + 1  # plausible, wrong: only the checksum tells
    with open(folder / TERMS_FILE, "wb") as handle:
        np.savez(handle, **damaged)
    assert TermTable.load(folder, "dict-1") is None
    assert TermTable.load(tmp_path / "missing", "dict-1") is None
    assert TermTable.load(None, "dict-1") is None
