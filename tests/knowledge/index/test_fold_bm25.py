"""Calibration's per-term fold BM25 (fold_bm25.py) gives the coverage of the whole fold index bit for
bit: random corpora, chunks left out (some taking a term's last occurrence with them), repeated,
unknown and vanished tokens."""

from __future__ import annotations

import random

import numpy as np
import pytest

from knowledge.index.bm25 import ChunkTerms

WORDS = [f"词{i}" for i in range(80)] + ["公司", "注销", "材料", "用水"]


def _corpus(seed: int, size: int) -> tuple[list[list[str]], list[str | None]]:
    rng = random.Random(seed)
    tokens = [[rng.choice(WORDS) for _ in range(rng.randint(0, 14))] for _ in range(size)]
    tokens[3] = ["独有", "独有", "公司"]  # "独有" only here: leaving chunk 3 out removes the term
    units = [None if i % 11 == 0 else f"guide:g{i // 5}" if i % 7 else f"passage:{i}" for i in range(size)]
    return tokens, units


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fold_coverage_is_the_fold_index_coverage_bit_for_bit(seed: int) -> None:
    tokens, units = _corpus(seed, 300)
    terms = ChunkTerms(tokens, units)
    rng = random.Random(seed + 100)
    questions = [[rng.choice(WORDS) for _ in range(rng.randint(1, 6))] for _ in range(40)]
    questions += [["独有"], ["独有", "公司", "公司"], ["没见过", "公司"], ["没见过"], []]
    for left_out in ({3}, set(rng.sample(range(300), 60)), {0, 11, 22}, set(range(0, 300, 2))):
        whole = terms.index(left_out)
        fold = terms.fold(left_out)
        assert fold.max_idf == whole.max_idf
        for question in questions + questions[:5]:  # asked again: the cached columns
            expected = whole.coverage(question)
            got = fold.coverage(question)
            assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes(), (left_out, question)


def test_a_term_left_with_no_unit_counts_as_unknown() -> None:
    tokens, units = _corpus(5, 60)
    terms = ChunkTerms(tokens, units)
    fold = terms.fold({3})
    assert "独有" not in terms.index({3}).vocabulary
    assert np.array_equal(fold.coverage(["独有"]), terms.index({3}).coverage(["独有"]))
    assert fold.coverage(["独有"]).max() == 0.0
    assert terms.fold({4}).coverage(["独有"]).max() > 0.0
