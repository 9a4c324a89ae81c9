"""Run ``index_builder.py`` in-process with timers (or cProfile) around the internals of build_index.

Used by bench_build and bench_large to say where a build's time goes; not a benchmark itself::

    var/venv-app/bin/python benchmarks/_instrumented_build.py --phases out.json -- build --no-gate
    var/venv-app/bin/python benchmarks/_instrumented_build.py --cprofile out.prof -- build --no-gate

``--phases`` wraps the functions build_index calls (validation, chunking, digests, the embedding
cache, the model (torch or the numpy engine), jieba, BM25, FAISS, the neighbour lists,
calibration, evaluation, the gate, serialisation, writing, checksums, fsync/rename, publish, prune)
with ``perf_counter`` timers. Each phase reports its *exclusive* time (nested timed calls are
subtracted, e.g. "embedding cache" excludes the model forward pass it triggers; "calibration"
excludes the searches and feature computations inside it); the gate is one phase with nothing
timed inside it. "build_index (untimed remainder)" is what is left in
build_index itself. The wrappers cost about a microsecond per call (~0.2 s for 100k chunks).

Timers are per thread: the files the build writes in a thread of its own (dense.faiss, chunks.jsonl,
guides.json) are timed there, overlapping the main thread's phases.

``--cprofile`` runs the same command under cProfile (no phase wrappers), writes the .prof file
and a text summary (top functions by own time and by cumulative time) next to it.

Settings come from the GOVQA_* environment variables, exactly as for index_builder.py.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import pstats
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common  # noqa: F401 - importing it puts the repository root on sys.path (index_builder, knowledge)


class Phases:
    """Exclusive and inclusive time per label, for wrapped callables that may nest."""

    def __init__(self) -> None:
        self.inclusive: dict[str, float] = defaultdict(float)
        self.exclusive: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._local = threading.local()  # per thread (the build writes files in one): open frames, absorbing

    @property
    def _children(self) -> list[float]:  # time of timed callees, per open frame of this thread
        if not hasattr(self._local, "children"):
            self._local.children = []
        return self._local.children  # type: ignore[no-any-return]

    @property
    def _absorbing(self) -> int:
        return getattr(self._local, "absorbing", 0)  # type: ignore[no-any-return]

    @_absorbing.setter
    def _absorbing(self, value: int) -> None:
        self._local.absorbing = value

    def wrap(self, label: str, func: Callable[..., Any], *, absorb: bool = False) -> Callable[..., Any]:
        """`func` timed under `label`; with absorb, timed calls inside it count as part of it."""

        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._absorbing:
                return func(*args, **kwargs)
            self._children.append(0.0)
            self._absorbing += absorb
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self._absorbing -= absorb
                children = self._children.pop()
                self.inclusive[label] += elapsed
                self.exclusive[label] += elapsed - children
                self.calls[label] += 1
                if self._children:
                    self._children[-1] += elapsed

        return timed

    def patch(self, owner: Any, name: str, label: str, *, absorb: bool = False) -> None:
        """Wrap owner.name if it exists (the package evolves; a missing name is just not timed)."""
        if hasattr(owner, name):
            setattr(owner, name, self.wrap(label, getattr(owner, name), absorb=absorb))

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            label: {"exclusive_s": round(self.exclusive[label], 4), "inclusive_s": round(self.inclusive[label], 4),
                    "calls": self.calls[label]}
            for label in sorted(self.exclusive, key=self.exclusive.__getitem__, reverse=True)
        }


class _TimedIndex:
    """A FAISS index whose add() is timed; unwrapped again by the timed write_index."""

    def __init__(self, real: Any, phases: Phases) -> None:
        self.real = real
        self.add = phases.wrap("FAISS IndexFlatIP.add", real.add)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _FaissProxy:
    """Stands in for the faiss module inside knowledge.index.builder."""

    def __init__(self, module: Any, phases: Phases) -> None:
        self._module = module
        self._phases = phases
        self.write_index = phases.wrap("write dense.faiss", lambda index, path: module.write_index(getattr(index, "real", index), path))

    def IndexFlatIP(self, dimension: int) -> _TimedIndex:  # noqa: N802 - mirrors the faiss name
        return _TimedIndex(self._module.IndexFlatIP(dimension), self._phases)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


class _JsonProxy:
    """Stands in for the json module inside knowledge.index.builder: dumps() is timed."""

    def __init__(self, module: Any, phases: Phases) -> None:
        self._module = module
        self.dumps = phases.wrap("JSON serialisation (json.dumps)", module.dumps)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def install(phases: Phases) -> None:
    """Wrap everything build_index calls. Must run before index_builder imports knowledge.index.builder
    (it imports lazily, inside cmd_build, and then finds the wrapped names)."""
    from knowledge.index import bm25, builder, chunks, embedding, neighbours, numpy_bert, parse_cache
    from knowledge.index import store as index_store
    from knowledge.sources import guides

    phases.patch(builder, "build_index", "build_index (untimed remainder)")
    phases.patch(builder, "validate_knowledge_base", "validate + parse (YAML, Markdown, documents)")
    for name in ("guide_chunks", "document_chunks", "anchor_chunks"):
        phases.patch(builder, name, "chunking")
    digest = functools.cached_property(phases.wrap("chunk digests (sha256 of text)", chunks.Chunk.digest.func))
    digest.__set_name__(chunks.Chunk, "digest")
    chunks.Chunk.digest = digest  # type: ignore[method-assign]
    phases.patch(chunks.Chunk, "as_dict", "chunks as_dict (dataclasses.asdict)")
    phases.patch(guides.Guide, "as_dict", "guides as_dict")
    phases.patch(embedding.EmbeddingCache, "__init__", "embedding cache: open/close SQLite")
    phases.patch(embedding.EmbeddingCache, "encode", "embedding cache: lookup + np.stack + insert")
    phases.patch(embedding.EmbeddingCache, "close", "embedding cache: open/close SQLite")
    phases.patch(embedding.Embedder, "__init__", "model: resolve path + fingerprint")
    phases.patch(embedding.Embedder, "_load", "model: load (import torch/sentence-transformers + weights)")
    phases.patch(embedding.Embedder, "encode", "model: embed new chunks (forward pass)")
    phases.patch(bm25.Tokenizer, "__init__", "jieba: Tokenizer init (dictionary + user words)")
    phases.patch(bm25.Tokenizer, "tokenize", "jieba: tokenize chunks")
    token_cache = getattr(bm25, "TokenCache", None)
    if token_cache is not None:
        phases.patch(token_cache, "__init__", "token cache: open/close SQLite")
        phases.patch(token_cache, "close", "token cache: open/close SQLite")
        phases.patch(token_cache, "tokenize_all", "token cache: lookup + insert")
    phases.patch(bm25.BM25Index, "build", "BM25: build sparse matrix")
    phases.patch(bm25.BM25Index, "save", "write BM25 (npz/npy/json)")
    if hasattr(builder, "faiss"):  # the builder no longer builds a FAISS index itself (knowledge/index/flat.py)
        builder.faiss = _FaissProxy(builder.faiss, phases)  # type: ignore[assignment]
    builder.json = _JsonProxy(builder.json, phases)  # type: ignore[assignment]
    phases.patch(builder, "source_checksums", "source checksums (sha256 of files)")
    phases.patch(index_store.IndexStore, "staging_folder", "publish: staging folder")
    phases.patch(index_store.IndexStore, "finalize", "publish: fsync + rename")
    phases.patch(index_store.IndexStore, "publish", "publish: CURRENT + history")
    phases.patch(index_store.IndexStore, "prune", "publish: prune old versions")
    phases.patch(builder, "calibrate", "calibration (scoring examples, fitting)")
    phases.patch(builder, "load_question_set", "evaluation (questions, retrieval)")
    phases.patch(builder, "evaluate", "evaluation (questions, retrieval)")
    phases.patch(builder, "format_report", "evaluation (questions, retrieval)")
    phases.patch(builder, "check_gate", "gate (published version, comparison)", absorb=True)
    phases.patch(builder, "_published", "gate (published version, comparison)", absorb=True)
    phases.patch(builder, "file_checksums", "version file checksums (sha256)")
    phases.patch(parse_cache.ParseCache, "parse", "parse cache: lookup (parse on a miss)")
    phases.patch(parse_cache.ParseCache, "close", "parse cache: store new entries")
    phases.patch(bm25.ChunkTerms, "__init__", "BM25: chunk term counts")
    phases.patch(bm25.ChunkTerms, "index", "BM25: weights (index + calibration folds)")
    phases.patch(neighbours.NeighbourIndex, "__init__", "neighbour lists: load + map rows")
    phases.patch(neighbours.NeighbourIndex, "search", "dense search (reused lists or FAISS)")
    phases.patch(neighbours.NeighbourIndex, "save", "neighbour lists: save")
    phases.patch(neighbours.NeighbourTable, "load", "neighbour lists: load + map rows")
    phases.patch(numpy_bert.NumpyBert, "load", "model (numpy engine): load weights + tokenizer")
    phases.patch(numpy_bert.NumpyBert, "encode", "model (numpy engine): embed new chunks")
    phases.patch(builder.Retriever, "features", "calibration: retriever.features (BM25, fusion)")
    phases.patch(builder.Retriever, "features_many", "calibration: retriever.features (BM25, fusion)")
    from knowledge.index import flat, staged_files, terms

    phases.patch(staged_files, "write_jsonl", "write chunks.jsonl (file I/O)")
    phases.patch(staged_files, "previous_vectors", "vectors of unchanged chunks from the serving version")
    phases.patch(staged_files, "chunk_vectors", "vectors: gather unchanged rows + place new ones (thread)")
    phases.patch(staged_files.VectorsAhead, "result", "vectors: wait for the vectors thread")
    phases.patch(flat.FlatVectors, "write", "write dense.faiss")
    phases.patch(staged_files, "write_rows", "write dense.faiss")
    phases.patch(flat.FlatVectors, "search", "dense search (reused lists or FAISS)")
    phases.patch(terms.TermTable, "load", "term counts: load the serving version's")
    phases.patch(terms.TermRows, "build", "term counts: reuse + tokenize changed + renumber")
    phases.patch(terms.TermRows, "chunk_terms", "BM25: chunk term counts")
    phases.patch(terms.TermRows, "save", "term counts: save")
    from knowledge.index import chunk_rows, guide_table, logistic

    phases.patch(guide_table.GuideTable, "load", "guide table: load the serving version's")
    phases.patch(guide_table.ReusingParser, "parse", "validate: read + reuse or parse one guide file")
    phases.patch(builder, "_save_table", "guide table: save")
    phases.patch(chunk_rows.ChunkRows, "__init__", "chunk rows: columns of every chunk")
    phases.patch(chunk_rows.ChunkRows, "write_guides", "write guides.json (byte ranges + changed)")
    phases.patch(chunk_rows.ChunkRows, "guide_entries", "chunk rows: guide entries")
    phases.patch(chunk_rows.ChunkRows, "_read", "chunk rows: read a reused chunk (on use)")
    from knowledge.index import calibration, calibration_folds

    phases.patch(calibration, "fit_logistic", "calibration: logistic fits (numpy)")
    # The second process's own work is not seen here (its timers die with it): run_split's exclusive time
    # is the fork and the wait for it after this process's half.
    phases.patch(calibration_folds, "prepare", "calibration: searches + tokens asked before the fork")
    phases.patch(calibration_folds, "run_split", "calibration: fork + wait for the second process")
    for name in ("vouching_manifest",):
        for module in (guide_table, neighbours, terms):
            if hasattr(module, name):
                phases.patch(module, name, "serving version: checksum checks (or wait for hash-ahead)")
    phases.patch(logistic, "fit_logistic", "calibration: logistic fits (numpy)")


def _profile_summary(profile: cProfile.Profile, limit: int = 30) -> str:
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.strip_dirs()
    text.write("=== by own time (tottime) ===\n")
    stats.sort_stats("tottime").print_stats(limit)
    text.write("\n=== by cumulative time ===\n")
    stats.sort_stats("cumulative").print_stats(limit)
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="index_builder.py with phase timers or cProfile")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--phases", type=Path, help="write phase timings (JSON) here")
    mode.add_argument("--cprofile", type=Path, help="write a cProfile .prof here (and a .txt summary)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="index_builder.py arguments, after --")
    args = parser.parse_args(argv)
    command = [part for part in args.command if part != "--"] or ["build"]

    started = time.perf_counter()
    import index_builder

    imports = time.perf_counter()
    if args.phases:
        phases = Phases()
        install(phases)
        imports = time.perf_counter()
        status = index_builder.main(command)
        finished = time.perf_counter()
        result = {
            "command": command,
            "status": status,
            "imports_s": round(imports - started, 4),  # index_builder + knowledge (faiss, numpy, scipy, jieba, yaml)
            "main_s": round(finished - imports, 4),
            "phases": phases.as_dict(),
        }
        args.phases.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        return status
    profile = cProfile.Profile()
    profile.enable()
    status = index_builder.main(command)
    profile.disable()
    profile.dump_stats(str(args.cprofile))
    args.cprofile.with_suffix(".txt").write_text(_profile_summary(profile), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
