"""BM25 coverage over the lexical units with some chunks left out, computed only for the terms a
question asks about: calibration's folds.

Why: calibration scores each fold's examples against BM25 with the fold's own chunks removed.
Building that index whole (`ChunkTerms.index(left_out)`: every weight of ~1.5 million unit × term
entries, once per fold) took ~1 s of a 5,000-guide rebuild, for the few thousand distinct terms the
fold's questions contain. Leaving chunks out changes every weight (the average unit length moves),
so nothing can be patched; but a weight depends only on its own term's document frequency, its
unit's length and its count, so a column can be computed alone, on first use.

The numbers are those of ``ChunkTerms.index(left_out).coverage(tokens)`` bit for bit
(tests/knowledge/index/test_fold_bm25.py): the same float32 operations per entry, idf computed over
the same array of present terms (a vectorised log could round differently at another position),
columns added in the question's order.

Usage::

    fold = FoldBM25(chunk_terms, left_out={3, 17})   # what ChunkTerms.fold(left_out) returns
    fold.coverage(["公司", "注销"])                    # == chunk_terms.index(left_out).coverage(...)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from knowledge.index.bm25 import K1, B

if TYPE_CHECKING:
    from knowledge.index.bm25 import ChunkTerms


def row_sums(counts: sparse.csr_matrix) -> np.ndarray:
    """`counts.sum(axis=1)` of an integer CSR matrix, exactly (int64), summed row by row in place:
    scipy's sum took ~0.2 s and a cumulative sum over the ~1.5 million entries of 5,000 guides ~0.15 s
    (its two 12 MB arrays are fresh memory, whose page faults are slow on this machine)."""
    lengths = np.zeros(counts.shape[0], dtype=np.int64)
    filled = np.flatnonzero(np.diff(counts.indptr))  # reduceat would give an empty row its next entry
    if len(filled):
        lengths[filled] = np.add.reduceat(counts.data, counts.indptr[filled], dtype=np.int64)
    return lengths


class FoldBase:
    """What every fold of one ChunkTerms shares: unit × term counts by column, unit lengths, and
    each term's document frequency (units containing it). Copies: after it is made, folds never read
    `terms.unit_counts` (BM25Index.from_counts may sort it in place in the build's writer thread)."""

    def __init__(self, terms: ChunkTerms) -> None:
        counts = terms.unit_counts.tocsc()
        counts.sum_duplicates()  # canonical, as from_counts reads its counts (a product has no duplicates)
        counts.eliminate_zeros()
        self.counts = counts
        self.lengths = row_sums(terms.unit_counts)
        self.df = np.diff(counts.indptr).astype(np.int64)
        self.column = {term: index for index, term in enumerate(terms.terms)}


class FoldBM25:
    """The coverage of `BM25Index.from_counts(unit counts minus the left-out chunks' counts)`."""

    def __init__(self, terms: ChunkTerms, left_out: Iterable[int]) -> None:
        base = terms.fold_base()
        self._base = base
        removed = sorted(set(left_out))
        minus = (terms.members[:, removed] @ terms.counts[removed]).tocsc()
        minus.sum_duplicates()
        minus.eliminate_zeros()
        minus.sort_indices()
        self._minus = minus
        # Entries the removal empties: their unit no longer contains the term.
        coo = minus.tocoo()
        full = np.asarray(base.counts[coo.row, coo.col]).ravel() if coo.nnz else np.zeros(0, dtype=np.int64)
        df = base.df.copy()
        np.subtract.at(df, coo.col[full == coo.data], 1)
        self._present = df > 0
        lengths = (base.lengths - np.asarray(minus.sum(axis=1)).ravel()).astype(np.float32)
        n_rows = len(lengths)
        n_docs = max(n_rows, 1)
        average = float(lengths.mean()) if n_rows else 1.0
        # from_counts computes the norm per entry from its row: the same float32 steps per row
        self._norm = K1 * (1 - B + B * lengths / max(average, 1e-6))
        present = np.flatnonzero(self._present)
        frequency = df[present].astype(np.float32)
        self._idf = np.zeros(len(df), dtype=np.float32)
        self._idf[present] = np.log(1.0 + (n_docs - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
        self.max_idf = float(self._idf[present].max()) if len(present) else 1.0
        self._rows = n_rows
        self._columns: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _column_of(self, token: str) -> int | None:
        column = self._base.column.get(token)
        return column if column is not None and self._present[column] else None

    def _weights(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        """(unit rows, BM25 weights) of one term's column, as from_counts computes them."""
        known = self._columns.get(column)
        if known is not None:
            return known
        counts = self._base.counts
        start, end = counts.indptr[column], counts.indptr[column + 1]
        rows, tf_int = counts.indices[start:end], counts.data[start:end]
        m_start, m_end = self._minus.indptr[column], self._minus.indptr[column + 1]
        if m_end > m_start:
            tf_int = tf_int.copy()
            tf_int[np.searchsorted(rows, self._minus.indices[m_start:m_end])] -= self._minus.data[m_start:m_end]
            kept = tf_int != 0
            rows, tf_int = rows[kept], tf_int[kept]
        tf = tf_int.astype(np.float32)
        values = self._idf[column] * tf * (K1 + 1) / (tf + self._norm[rows])
        self._columns[column] = (rows, values)
        return rows, values

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """Raw BM25 of every unit for these tokens (BM25Index.scores: columns in the question's order)."""
        total = np.zeros(self._rows, dtype=np.float32)
        for token in tokens:
            column = self._column_of(token)
            if column is not None:
                rows, values = self._weights(column)
                total[rows] += values
        return total

    def coverage(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25Index.coverage: BM25 divided by the question's upper bound."""
        if not tokens:
            return np.zeros(self._rows, dtype=np.float32)
        columns = [self._column_of(token) for token in tokens]
        bound = sum((float(self._idf[column]) if column is not None else self.max_idf) * (K1 + 1) for column in columns)
        return self.scores(tokens) / max(bound, 1e-6)

