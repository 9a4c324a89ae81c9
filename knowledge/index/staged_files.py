"""What a build computes and writes beside its main thread: every chunk's vector (`VectorsAhead`, a
thread started once the chunks are known, while the main thread tokenizes) and the version's big files
(`StagedFiles`, a thread writing them while the main thread calibrates).

Why threads: at 5,000 guides the vectors of a one-guide rebuild are ~0.5 s of reading the serving
version's rows, checking its checksum and loading the embedding model for the edited guide (numpy
and file work that mostly releases the GIL), and the files are ~300 MB copied in the kernel; the
main thread's tokenizing and calibration do not need either until later (`result()`, `join()`).

Usage (builder.build_index)::

    ahead = VectorsAhead(store, settings, embedder, chunks, chunks.keys, progress)
    ...                                              # tokenize, term counts
    plan, embedded = ahead.result()
    files = StagedFiles(plan, staging, chunks, chunk_terms)
    ...                                              # calibrate
    line_at, entry_at = files.join()
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.index.bm25 import BM25Index, ChunkTerms
from knowledge.index.chunk_rows import ChunkRows
from knowledge.index.chunks import Chunk
from knowledge.index.embedding import Embedder, EmbeddingCache
from knowledge.index.flat import FlatVectors, PlannedVectors, write_rows
from knowledge.index.neighbours import previous_vectors
from knowledge.index.store import GUIDES_FILE, IndexStore, file_sha256
from knowledge.settings import Settings


def write_jsonl(path: Path, chunks: ChunkRows) -> np.ndarray:
    """chunks.jsonl (one place to fail, for the tests of a full disk); each guide chunk's line offset."""
    return chunks.write_chunks(path)


@dataclass
class VectorPlan:
    """Where every chunk's vector comes from: row source[i] of the serving version's dense.faiss
    (`stored`), or, where source[i] < 0, the next row of `fresh` (embedded or from the cache)."""

    source: np.ndarray
    fresh: np.ndarray
    stored: Path | None
    dimension: int

    def vectors(self) -> FlatVectors | PlannedVectors:
        """The vectors, readable before the file is written (the writer thread writes it meanwhile)."""
        if self.stored is None:
            return FlatVectors(np.ascontiguousarray(self.fresh, dtype=np.float32))
        return PlannedVectors(self.dimension, self.source, self.stored, self.fresh)

    def write(self, path: Path) -> None:
        """The version's dense.faiss; unchanged rows are copied file to file, never through memory."""
        if self.stored is None:
            FlatVectors(np.ascontiguousarray(self.fresh, dtype=np.float32)).write(path)
        else:
            write_rows(path, self.dimension, self.source, self.stored, self.fresh)


class StagedFiles:
    """The BM25 index (built and saved), dense.faiss, chunks.jsonl and guides.json written in a thread
    while the build calibrates.

    Why: at 5,000 guides the files are ~300 MB, mostly copied from the serving version in the kernel
    (copy_file_range): 0.2-1 s of system time that holds no GIL; the BM25 weights of ~1.5 million
    entries (~0.3 s, then ~0.2 s to save) are numpy and scipy work that mostly releases it too, and
    calibration does not read them (its folds compute their own: fold_bm25.py). So the other core
    does this while this one calibrates. Nothing reads the new files before `join` (the build reads
    vectors and chunks from the serving version's files and memory); `bm25()` waits for the index
    (evaluation and the gate search with it); both re-raise the writer's error."""

    NAMES = ("dense.faiss", "chunks.jsonl", GUIDES_FILE)

    def __init__(self, plan: VectorPlan, staging: Path, chunks: ChunkRows, terms: ChunkTerms,
                 also: Callable[[], None] | None = None) -> None:
        """`also`: another file to write after these (the term counts), off the build thread too."""
        self.checksums: dict[str, str] = {}  # their sha256, taken while the bytes are in the page cache
        self._result: tuple[np.ndarray, np.ndarray] | None = None
        self._error: BaseException | None = None
        self._bm25: BM25Index | None = None
        self._bm25_done = threading.Event()
        self._thread = threading.Thread(target=self._write, args=(plan, staging, chunks, terms, also), name="staged-files",
                                        daemon=True)
        self._thread.start()

    def bm25(self) -> BM25Index:
        """The version's BM25 index, once built and saved."""
        self._bm25_done.wait()
        if self._bm25 is None:
            self.join()  # raises the writer's error
            raise RuntimeError("BM25 index missing")  # not reached: the writer failed before making it
        return self._bm25

    def _write(self, plan: VectorPlan, staging: Path, chunks: ChunkRows, terms: ChunkTerms, also: Callable[[], None] | None) -> None:
        try:
            try:
                index = terms.index()
                index.save(staging)
                self._bm25 = index
            finally:
                self._bm25_done.set()
            plan.write(staging / "dense.faiss")
            line_at = write_jsonl(staging / "chunks.jsonl", chunks)
            entry_at = chunks.write_guides(staging / GUIDES_FILE)  # validation refused duplicate ids
            self.checksums = {name: file_sha256(staging / name) for name in self.NAMES}
            if also is not None:
                also()
            # To disk now, while the build calibrates: publishing (store.finalize) then finds them clean.
            for path in staging.iterdir():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
            self._result = (line_at, entry_at)
        except BaseException as error:  # handed to the build thread by join()
            self._error = error

    def join(self) -> tuple[np.ndarray, np.ndarray]:
        """(line_at, entry_at) of the written files, for the guide table; the writer's error if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def chunk_vectors(store: IndexStore, settings: Settings, embedder: Embedder, chunks: Sequence[Chunk], keys: np.ndarray,
                  progress: bool) -> tuple[VectorPlan, int]:
    """Every chunk's vector: unchanged chunks from the serving version's dense.faiss, the rest from
    the embedding cache (which embeds what it has not seen). Returns (the plan, newly embedded)."""
    rows, old_rows, stored = previous_vectors(store.current_folder(), embedder.model_id, keys)
    missing = np.setdiff1d(np.arange(len(chunks)), rows)
    cache = EmbeddingCache(settings.embedding_cache)
    try:
        fresh, embedded = cache.encode(embedder, [chunks[i].text for i in missing], [chunks[i].digest for i in missing],
                                       progress=progress)
    finally:
        cache.close()
    if not len(rows):
        return VectorPlan(np.full(len(chunks), -1, dtype=np.int64), fresh, None, int(fresh.shape[1])), embedded
    source = np.full(len(chunks), -1, dtype=np.int64)
    source[rows] = old_rows
    return VectorPlan(source, fresh, Path(stored.filename), int(stored.shape[1])), embedded


class VectorsAhead:
    """`chunk_vectors` in a thread of its own; `result()` waits for it and re-raises its error. Its
    SQLite connection (the embedding cache) is its own; the embedder is not used elsewhere meanwhile."""

    def __init__(self, store: IndexStore, settings: Settings, embedder: Embedder, chunks: Sequence[Chunk], keys: np.ndarray,
                 progress: bool) -> None:
        self._result: tuple[VectorPlan, int] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(store, settings, embedder, chunks, keys, progress),
                                        name="chunk-vectors", daemon=True)
        self._thread.start()

    def _run(self, *args: object) -> None:
        try:
            self._result = chunk_vectors(*args)  # type: ignore[arg-type]
        except BaseException as error:  # handed to the build thread by result()
            self._error = error

    def result(self) -> tuple[VectorPlan, int]:
        """(the plan, chunks newly embedded)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result
