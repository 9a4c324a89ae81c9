"""The dense nearest chunks of the questions every build asks (calibration examples, evaluation
questions), kept with a version so the next build updates them instead of searching again.

Why: calibration scores ~4,000 examples and evaluation ~400 questions; at 5,000 guides (94,000
chunks) each exact search costs ~5 ms, so a rebuild spent ~20 s searching for answers that one
edited guide barely changes. A version stores, for each such query vector, its best
``depth`` chunks and their scores (``neighbours.npz``). The next build maps them onto its own
rows and repairs them exactly:

- chunks that are gone (edited or deleted) are dropped from every list;
- chunks that are new (or edited) are scored against every query with the same FAISS kernel the
  retriever uses (a one-query flat search), and merged in;
- a list is reused only while it still holds at least as many entries as a search asks for:
  every chunk left out of it scored no higher than its last entry, so its top k is the full
  search's top k. Otherwise (and for queries not seen before) the search runs for real.

So the retrieval scores calibration and evaluation see are those of a full search (ties at the
cut-off aside, which a full search orders arbitrarily too). `NeighbourIndex` stands in for the
FAISS index during calibration and evaluation only; the published dense.faiss is untouched.

Usage::

    table = NeighbourTable.load(previous_folder, model_id)        # None: nothing to reuse
    index = NeighbourIndex(dense, chunk_keys(ids, digests), depth, table)
    data.dense = index                                            # search() answers from the table
    ...                                                           # calibrate, evaluate
    index.save(staging / NEIGHBOURS_FILE, model_id)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from knowledge.index.flat import read_flat
from knowledge.index.store import vouching_manifest

NEIGHBOURS_FILE = "neighbours.npz"


def chunk_keys(ids: Sequence[str], digests: Sequence[str]) -> np.ndarray:
    """A 16-byte key per chunk row: its id and text hash (same key, same vector)."""
    return np.array([hashlib.sha256(f"{i}\0{d}".encode()).digest()[:16] for i, d in zip(ids, digests, strict=True)],
                    dtype="S16")


def vector_key(vector: np.ndarray) -> bytes:
    # Without trailing NUL bytes: that is how a stored "S16" key reads back (numpy strips them), so
    # the 1 in 256 queries whose hash ends in 0x00 are found in the next build's table too.
    return hashlib.sha256(np.ascontiguousarray(vector, dtype=np.float32).tobytes()).digest()[:16].rstrip(b"\0")


def rows_in(wanted: np.ndarray, have: np.ndarray) -> np.ndarray:
    """For each key of `wanted`, its row in `have` (the last one of equal keys, as a dict built from it
    would keep), else -1. Sorted search instead of a dict: ~0.03 s instead of ~0.1 s for two arrays
    of 94,000 keys (5,000 guides), and a rebuild maps several."""
    if not len(have) or not len(wanted):
        return np.full(len(wanted), -1, dtype=np.int64)
    order = np.argsort(have, kind="stable")
    ordered = have[order]
    at = np.searchsorted(ordered, wanted, side="right") - 1  # the last equal key: the highest row (stable)
    found = at >= 0
    found[found] = ordered[at[found]] == wanted[found]
    return np.where(found, order[np.maximum(at, 0)], -1).astype(np.int64)


class NeighbourTable:
    """Stored lists of one version: per query key, chunk keys and scores, best first."""

    def __init__(self, queries: np.ndarray, rows: np.ndarray, scores: np.ndarray, lengths: np.ndarray,
                 keys: np.ndarray) -> None:
        self.queries, self.rows, self.scores, self.lengths, self.keys = queries, rows, scores, lengths, keys

    @classmethod
    def load(cls, folder: Path | None, model_id: str) -> NeighbourTable | None:
        """The table of a published version, or None (none stored, other model, unreadable)."""
        if folder is None or not (folder / NEIGHBOURS_FILE).is_file():
            return None
        try:
            # A damaged table would silently skew calibration: use it only if the version vouches for it.
            if vouching_manifest(folder, NEIGHBOURS_FILE) is None:
                return None
            with np.load(folder / NEIGHBOURS_FILE, allow_pickle=False) as stored:
                if str(stored["model"]) != model_id:
                    return None
                return cls(stored["queries"], stored["rows"], stored["scores"], stored["lengths"], stored["keys"])
        except (OSError, ValueError, KeyError):
            return None


class NeighbourIndex:
    """A FAISS flat inner-product index whose one-query searches of known vectors come from a
    repaired neighbour table (see the module docstring); anything else is searched for real."""

    def __init__(self, dense: faiss.Index, keys: np.ndarray, depth: int, previous: NeighbourTable | None = None) -> None:
        self.dense = dense
        self.ntotal = dense.ntotal
        self.d = dense.d
        self.keys = keys
        self.depth = depth
        self._lists: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self._previous: dict[bytes, int] = {}
        self.reused = self.searched = 0
        if previous is not None and len(previous.queries):
            self._table = previous
            self._previous = {query: index for index, query in enumerate(previous.queries.tolist())}
            self._new_row = rows_in(previous.keys, keys)
            self._added = np.flatnonzero(rows_in(keys, previous.keys) < 0).astype(np.int64)
            self._extra: faiss.Index | None = None
            if len(self._added):
                self._extra = faiss.IndexFlatIP(self.d)
                self._extra.add(np.ascontiguousarray(dense.reconstruct_batch(self._added), dtype=np.float32))

    def _repaired(self, query: bytes, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The previous version's list for this query, on this version's rows (None: not stored)."""
        index = self._previous.pop(query, None)
        if index is None:
            return None
        table = self._table
        length = int(table.lengths[index])
        rows = self._new_row[table.rows[index, :length]]
        scores = table.scores[index, :length]
        kept = rows >= 0  # chunks that are gone (edited or deleted) drop out
        rows, scores = rows[kept], scores[kept]
        if self._extra is not None and length:
            found, at = self._extra.search(vector.reshape(1, -1), len(self._added))
            rows = np.concatenate([rows, self._added[at[0]]])
            scores = np.concatenate([scores, found[0]])
            order = np.argsort(-scores, kind="stable")
            rows, scores = rows[order], scores[order]
            # Every old chunk missing from the list scored at most the old list's last entry: below
            # it, old chunks may hide between the new ones, so the list ends there.
            cut = int(np.searchsorted(-scores, -table.scores[index, length - 1], side="right"))
            rows, scores = rows[:cut], scores[:cut]
        return rows.astype(np.int64), scores.astype(np.float32)

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if len(x) != 1:
            return self.dense.search(x, k)
        key = vector_key(x[0])
        stored = self._lists.get(key)
        if stored is None:
            stored = self._repaired(key, x[0])
        if stored is None or len(stored[0]) < min(k, self.ntotal):
            self.searched += 1
            scores, rows = self.dense.search(x, max(k, min(self.depth, self.ntotal)))
            valid = rows[0] >= 0
            stored = (rows[0][valid].astype(np.int64), scores[0][valid])
        else:
            self.reused += 1
        self._lists[key] = stored
        return stored[1][None, :k].copy(), stored[0][None, :k].copy()

    def save(self, path: Path, model_id: str) -> None:
        """This version's lists, for the next build."""
        queries = list(self._lists)
        depth = max((len(rows) for rows, _ in self._lists.values()), default=0)
        rows = np.full((len(queries), depth), -1, dtype=np.int32)
        scores = np.zeros((len(queries), depth), dtype=np.float32)
        lengths = np.zeros(len(queries), dtype=np.int32)
        for index, query in enumerate(queries):
            found, values = self._lists[query]
            found, values = found[: self.depth], values[: self.depth]
            rows[index, : len(found)] = found
            scores[index, : len(found)] = values
            lengths[index] = len(found)
        with open(path, "wb") as handle:
            np.savez(handle, model=np.array(model_id), queries=np.array(queries, dtype="S16"), rows=rows,
                     scores=scores, lengths=lengths, keys=self.keys)


def previous_vectors(folder: Path | None, model_id: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the vectors of unchanged chunks are in a published version's dense.faiss: (rows of
    `keys` found there, their rows in that file, a read-only memory map of its vectors). Reading
    them back is ~10x faster than the embedding cache's SQLite rows at 5,000 guides, and the map
    lets the caller copy them once, straight into the new array. Only from a version whose files
    match its manifest, built with the same model; otherwise nothing (the embedding cache serves
    every chunk)."""
    nothing = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))
    table = NeighbourTable.load(folder, model_id)  # same model, checksum verified; holds the chunk keys
    if folder is None or table is None or len(table.keys) == 0:
        return nothing
    try:
        manifest = vouching_manifest(folder, "dense.faiss")
        if manifest is None:
            return nothing
        stored = read_flat(folder / "dense.faiss", len(table.keys), int(manifest["embedding"]["dimension"]))
    except (OSError, ValueError, KeyError, TypeError):
        return nothing
    if stored is None:
        return nothing
    old = rows_in(keys, table.keys)
    rows = np.flatnonzero(old >= 0)
    if not len(rows):
        return nothing
    return rows, old[rows], stored
