"""Chunk term counts kept with a version, so a rebuild after editing one guide tokenizes and counts
only the chunks that changed.

Why: at 5,000 guides (94,000 chunks, ~3 million tokens) reading every chunk's tokens back from
the token cache and counting them again took ~3 s of a ~12 s rebuild, for counts that one edit
barely changes. A version stores each chunk's distinct terms in the order they first occur in
it, with their counts (``chunk_terms.npz``, by chunk key and tokenizer fingerprint, checksummed
in the manifest like every file). The next build takes unchanged chunks' rows from it, tokenizes
only the others (through the token cache) and numbers the terms by first appearance over the
chunks in order, exactly as `bm25.term_counts` numbers them while counting every token: so the
counts, the BM25 weights and the published vocabulary are those of a build from scratch (tests
compare them byte for byte).

Usage::

    previous = TermTable.load(store.current_folder(), tokenizer.fingerprint)   # None: nothing to reuse
    rows = TermRows.build(keys, previous, tokenize)    # tokenize(rows) -> token lists of those chunks
    chunk_terms = rows.chunk_terms(units)             # bm25.ChunkTerms, as from the tokens
    rows.save(staging / TERMS_FILE, tokenizer.fingerprint, keys)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from knowledge.index.bm25 import ChunkTerms
from knowledge.index.neighbours import rows_in
from knowledge.index.store import vouching_manifest

TERMS_FILE = "chunk_terms.npz"


class TermTable:
    """The stored rows of one version (see TermRows), with each row's chunk key."""

    def __init__(self, keys: np.ndarray, rows: TermRows) -> None:
        self.keys, self.rows = keys, rows

    @classmethod
    def load(cls, folder: Path | None, fingerprint: str) -> TermTable | None:
        """The table of a published version, or None (none stored, another dictionary, damaged)."""
        if folder is None or not (folder / TERMS_FILE).is_file():
            return None
        try:
            # Wrong counts would silently change every BM25 weight: only from a version that vouches for them.
            if vouching_manifest(folder, TERMS_FILE) is None:
                return None
            with np.load(folder / TERMS_FILE, allow_pickle=False) as stored:
                if str(stored["fingerprint"]) != fingerprint:
                    return None
                terms = json.loads(stored["terms"].tobytes().decode("utf-8"))
                rows = TermRows(stored["indptr"].astype(np.int64), stored["ids"].astype(np.int32),
                                stored["counts"].astype(np.int32), terms)
                return cls(stored["keys"], rows)
        except (OSError, ValueError, KeyError):
            return None


class TermRows:
    """Per chunk: its distinct terms in order of first appearance (ids into `terms`) and their
    counts, as CSR arrays (row i is ids[indptr[i]:indptr[i + 1]])."""

    def __init__(self, indptr: np.ndarray, ids: np.ndarray, counts: np.ndarray, terms: list[str]) -> None:
        self.indptr, self.ids, self.counts, self.terms = indptr, ids, counts, terms

    @classmethod
    def from_tokens(cls, token_lists: Sequence[Sequence[str]], terms: list[str] | None = None,
                    vocabulary: dict[str, int] | None = None) -> TermRows:
        """Rows of these token lists; new terms are appended to `terms` (and `vocabulary`, its index)."""
        terms = [] if terms is None else terms
        vocabulary = {term: index for index, term in enumerate(terms)} if vocabulary is None else vocabulary
        ids: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(token_lists), dtype=np.int64)
        for row, tokens in enumerate(token_lists):
            counted = Counter(tokens)  # insertion order: the order terms first occur in the chunk
            lengths[row] = len(counted)
            for term, count in counted.items():
                index = vocabulary.get(term)
                if index is None:
                    index = vocabulary[term] = len(terms)
                    terms.append(term)
                ids.append(index)
                counts.append(count)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return cls(indptr, np.array(ids, dtype=np.int32), np.array(counts, dtype=np.int32), terms)

    @classmethod
    def build(cls, keys: np.ndarray, previous: TermTable | None,
              tokenize: Callable[[np.ndarray], list[list[str]]]) -> TermRows:
        """Rows for the chunks with these keys: from `previous` where it has the key, from
        `tokenize(rows)` (the token lists of those chunk rows) for the rest; terms renumbered by
        first appearance."""
        old_row = np.full(len(keys), -1, dtype=np.int64)
        if previous is not None and len(previous.keys):
            old_row = rows_in(keys, previous.keys)
        missing = np.flatnonzero(old_row < 0)
        base = previous.rows if previous is not None else cls(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32),
                                                              np.zeros(0, dtype=np.int32), [])
        terms = list(base.terms)
        fresh = cls.from_tokens(tokenize(missing) if len(missing) else [], terms)
        # Each chunk's slice of a pool (the previous rows, then the fresh ones), gathered in chunk order.
        start = np.zeros(len(keys), dtype=np.int64)
        length = np.zeros(len(keys), dtype=np.int64)
        reused = np.flatnonzero(old_row >= 0)
        start[reused] = base.indptr[old_row[reused]]
        length[reused] = base.indptr[old_row[reused] + 1] - start[reused]
        start[missing] = len(base.ids) + fresh.indptr[:-1]
        length[missing] = np.diff(fresh.indptr)
        indptr = np.concatenate([[0], np.cumsum(length)]).astype(np.int64)
        ids = _gather(start, length, base.ids, fresh.ids)
        counts = _gather(start, length, base.counts, fresh.counts)
        # Number the terms in order of first appearance (term_counts' order); terms of removed chunks drop out.
        # Each term's first position without sorting ~3 million ids (np.unique: ~0.3 s at 5,000 guides),
        # a block at a time (no 3-million-entry temporaries: fresh memory's page faults are slow here).
        first = np.full(len(terms), len(ids), dtype=np.int64)
        block = np.arange(min(len(ids), 1 << 18), dtype=np.int64)
        for at in range(0, len(ids), len(block)):
            part = ids[at : at + len(block)]
            np.minimum.at(first, part, block[: len(part)] + at)
        seen = np.flatnonzero(first < len(ids))
        used = seen[np.argsort(first[seen], kind="stable")]
        number = np.zeros(len(terms), dtype=np.int32)
        number[used] = np.arange(len(used), dtype=np.int32)
        return cls(indptr, number[ids], counts, [terms[i] for i in used.tolist()])

    def chunk_terms(self, chunk_units: Sequence[str | None]) -> ChunkTerms:
        """bm25.ChunkTerms of these rows: the same matrix and terms as ChunkTerms(tokens, units)."""
        counts = sparse.csr_matrix((self.counts.copy(), self.ids.copy(), self.indptr.copy()),
                                   shape=(len(self.indptr) - 1, len(self.terms)))
        counts.sort_indices()  # term_counts' matrix is canonical: sorted, no duplicates
        return ChunkTerms.from_counts(counts, self.terms, chunk_units)

    def save(self, path: Path, fingerprint: str, keys: np.ndarray) -> None:
        """These rows for the next build (written into the staged version)."""
        terms = np.frombuffer(json.dumps(self.terms, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        # The narrowest integer types that hold them (~3 million entries: 10 MB instead of 28 to write,
        # checksum and read back); read back as int32.
        ids = self.ids.astype(_narrow(len(self.terms)))
        counts = self.counts.astype(_narrow(int(self.counts.max()) + 1 if len(self.counts) else 0))
        with open(path, "wb") as handle:
            np.savez(handle, fingerprint=np.array(fingerprint), keys=keys, indptr=self.indptr, ids=ids,
                     counts=counts, terms=terms)


def _gather(start: np.ndarray, length: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The slices [start, start + length) of the pool old + new, one after another: consecutive slices
    are copied as one run (a one-guide edit leaves a handful of runs), with no index array as long as
    the ~3 million entries."""
    if not len(start):
        return np.zeros(0, dtype=old.dtype)
    in_new = start >= len(old)
    ends = start + length
    # A run breaks where a slice does not follow the previous one, or moves from `old` to `new`.
    breaks = np.flatnonzero((start[1:] != ends[:-1]) | (in_new[1:] != in_new[:-1])) + 1
    firsts = np.concatenate([[0], breaks])
    lasts = np.concatenate([breaks, [len(start)]]) - 1
    pieces = []
    for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
        begin, end = int(start[first]), int(ends[last])
        pieces.append(new[begin - len(old) : end - len(old)] if in_new[first] else old[begin:end])
    return np.concatenate(pieces)


def _narrow(bound: int) -> type[np.integer]:
    """The smallest unsigned type holding 0 .. bound - 1 (int32 beyond 16 bits, as the matrices use)."""
    return np.uint8 if bound <= 1 << 8 else np.uint16 if bound <= 1 << 16 else np.int32
