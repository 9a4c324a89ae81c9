"""Build a new index version: validate → chunk → embed (cached) → FAISS + BM25 → eval gate → publish.

Nothing is published unless validation and the eval gate pass; the version published before
keeps serving. Chunks whose text and model are unchanged are read from the embedding cache, so
rebuilding after editing one guide among thousands embeds only that guide's chunks.

A rebuild redoes only what changed and publishes the bytes a build from scratch would: unchanged
guides are neither parsed nor turned into objects (the serving version's guide table and byte
ranges: guide_table.py, chunk_rows.py; changed ones go through the parse cache, guide_parts.py),
unchanged vectors are copied file to file from the serving dense.faiss (flat.py), in a thread
while calibration runs (staged_files.py), unchanged chunks' term counts come from its
chunk_terms.npz (terms.py), calibration's and evaluation's searches from its neighbour table
(neighbours.py), jieba's dictionary is looked up per new text (jieba_words.py), and the gate reads
the serving version the same way (published.py). Every input taken from the serving version is
checked against its manifest's checksums first (the biggest hashed ahead, store.hash_ahead); the
new version is written whole, then renamed, then published.

Both cores work: the vectors are gathered in a thread while this one tokenizes, the files are
written in another while it calibrates, and calibration scores half its examples in a forked
child (calibration_folds.py), with the same results as one process.

Usage::

    from knowledge.index.builder import build_index

    report = build_index(load_settings())      # raises BuildError with the problems
    print(report.version, report.embedded, report.metrics)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from knowledge.index.bm25 import TokenCache, Tokenizer
from knowledge.index.calibration import DECISION_FORMAT, CalibrationError, calibrate
from knowledge.index.chunk_rows import ChunkRows
from knowledge.index.chunks import FAQ, QUESTION, Chunk, anchor_chunks, document_chunks
from knowledge.index.embedding import CachedEmbedder, Embedder
from knowledge.index.evaluation import evaluate, format_report, load_question_set
from knowledge.index.example_check import check_examples
from knowledge.index.forked import ForkedWorkError
from knowledge.index.gate import Findings, refusal
from knowledge.index.gate import check as check_gate
from knowledge.index.guide_parts import guide_parts
from knowledge.index.guide_table import TABLE_FILE, GuideStub, GuideTable, ReusingParser, WordColumns, chunk_question, guide_meta, joined
from knowledge.index.jieba_words import JiebaWords
from knowledge.index.labels import labelled
from knowledge.index.mentions import MentionScan
from knowledge.index.neighbours import NEIGHBOURS_FILE, NeighbourIndex, NeighbourTable
from knowledge.index.parse_cache import ParseCache
from knowledge.index.published import published_retriever as _published
from knowledge.index.removals import MANIFEST_KEY as REMOVED_KEY
from knowledge.index.removals import GuideChange, published_names, remembered
from knowledge.index.staged_files import StagedFiles, VectorsAhead
from knowledge.index.store import IndexStore, file_checksums, hash_ahead, source_checksums
from knowledge.index.terms import TERMS_FILE, TermRows, TermTable
from knowledge.index.updated_dates import serving_entries, stale_dates
from knowledge.retrieval.index_data import CALIBRATION_FILE, IndexData
from knowledge.retrieval.retriever import RetrievalParams, Retriever
from knowledge.settings import Settings
from knowledge.sources.model import Problem
from knowledge.sources.validation import validate_knowledge_base

# Neighbour lists keep this many chunks beyond dense_candidates: room for the chunks a calibration
# search leaves out (a guide's own) and for edited chunks dropping out of a reused list.
NEIGHBOUR_MARGIN = 64


class BuildError(RuntimeError):
    """A build that published nothing; `problems` says why, file by file."""

    def __init__(self, message: str, problems: list[Problem] | None = None, report: dict[str, Any] | None = None,
                 findings: Findings | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
        self.report = report
        self.findings = findings


@dataclass
class BuildReport:
    version: str
    published: bool
    guides: int
    documents: int
    chunks: int
    embedded: int  # chunks embedded now (the rest came from the cache)
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    eval_text: str = ""
    calibration: dict[str, Any] = field(default_factory=dict)
    findings: Findings | None = None
    example_warnings: list[str] = field(default_factory=list)  # example questions the index does not answer
    change: GuideChange = field(default_factory=GuideChange)  # guides added and removed since the serving version


def _save_table(path: Path, code: str, chunks: ChunkRows, reader: ReusingParser, tokenizer: Tokenizer, line_at: np.ndarray,
                entry_at: np.ndarray) -> None:
    """This version's guide table, for the next build (guide_table.py), with how the tokenizer cut its
    questions, titles and aliases (calibration's item words cut them all: memo hits)."""
    guides, table = chunks.guides, chunks.table
    meta = [table.meta[g.row] if isinstance(g, GuideStub) and table is not None else guide_meta(g, reader.problems.get(id(g), []))
            for g in guides]
    keys = [reader.keys.get(id(g), b"\0" * 32) for g in guides]  # a guide without a key is never matched
    # Unchanged guides' rows as the serving version stored them (same dictionary), the others as cut now.
    same = table is not None and table.words.dictionary == tokenizer.segment_key
    old_pieces = table.words.pieces if same and table is not None else []
    pieces = [old_pieces[old] if old >= 0 and same
              else joined(tokenizer.segment(chunk_question(kind, text))) if kind in (QUESTION, FAQ) else None
              for kind, text, old in zip(chunks.kinds[: chunks.guide_rows], chunks.texts, chunks.old_row.tolist(), strict=True)]
    names = [table.words.names[g.row] if same and table is not None and isinstance(g, GuideStub)
             else [joined(tokenizer.tokenize(g.title)), [joined(tokenizer.segment(alias)) for alias in g.aliases]] for g in guides]
    GuideTable.save(path, code, keys, meta, chunks.chunk_at, line_at, entry_at, chunks.codes, chunks.keys[: chunks.guide_rows],
                    chunks.texts, WordColumns(tokenizer.segment_key, pieces, names))


def build_index(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    progress: bool = False,
    gate: bool = True,
    accept: str | None = None,
    log: Any = None,
) -> BuildReport:
    """Build and, if every check passes, publish a new index version. `accept` (a reason) publishes
    despite the gate's findings and records why."""
    # A build makes millions of long-lived objects (chunk views, token memos, tables) and next to no
    # cyclic garbage: the collector's full passes over them took ~0.3 s of a 5,000-guide rebuild.
    # Off while it runs (also in calibration's forked child, whose pages a pass would copy).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(settings, embedder, progress, gate, accept, log)
    finally:
        if enabled:
            gc.enable()


def _build(settings: Settings, embedder: Embedder | None, progress: bool, gate: bool, accept: str | None,
           log: Any) -> BuildReport:
    say = log or (lambda message: None)
    started = time.perf_counter()
    store = IndexStore(settings.index_dir)
    # The serving version's files a rebuild reuses after validation are checked against its manifest first.
    hash_ahead(store.current_folder(), ["dense.faiss", NEIGHBOURS_FILE, TERMS_FILE])
    # Unchanged guide files come from the serving version's guide table as stubs and byte ranges
    # (guide_table.py, chunk_rows.py); changed ones are parsed, chunked and serialised through the
    # parse cache (parse_cache.py, guide_parts.py).
    with ParseCache(settings.embedding_cache) as parsed:
        table = GuideTable.load(store.current_folder(), parsed.parts_code)
        reader = ReusingParser(parsed, table)
        validation = validate_knowledge_base(settings, parse=reader.parse)
        if not validation.ok:
            raise BuildError(f"校验未通过：{len(validation.errors)} 个错误，未发布新索引", validation.problems)
        parts = {position: guide_parts(parsed, guide) for position, guide in enumerate(validation.guides)  # type: ignore[arg-type]
                 if not isinstance(guide, GuideStub)}

    other_chunks: list[Chunk] = []  # policy passages and anchors: serialised as they are
    for document in validation.documents:
        other_chunks.extend(document_chunks(document))
    other_chunks.extend(anchor_chunks(validation.out_of_scope))
    chunks = ChunkRows(validation.guides, parts, table, other_chunks)
    say(f"指南 {len(validation.guides)} 个（未改动、沿用上一版本的 {reader.reused} 个），政策文件 {len(validation.documents)} 个，"
        f"切块 {len(chunks)} 个")
    # The guides added and removed since the serving version, worked out once: for the report, the manifest's
    # removed_guides, and the gate, whose findings carry it to the CLI when it refuses the build.
    before = published_names(store.current_folder(), table)
    change = GuideChange.between(before, {g.id: g.title for g in validation.guides})
    # A guide edited without its updated: date changed: a warning, published all the same (updated_dates.py).
    edited = [g for g in validation.guides if not isinstance(g, GuideStub) and g.id in before]
    stale = stale_dates(edited, serving_entries(store.current_folder(), table, {g.id for g in edited}))

    embedder = embedder or Embedder(
        settings.embedding_model, lowercase=settings.embedding_lowercase, batch_size=settings.embedding_batch_size,
        light_max_texts=settings.embedding_light_max_texts,
    )
    # Evaluation, calibration and the gate embed the same questions on every build: through the
    # cache they are computed once, and a rebuild that finds everything cached loads no model.
    cached = CachedEmbedder(embedder, settings.embedding_cache)
    keys = chunks.keys
    # Every chunk's vector in a thread (staged_files.py: the serving version's rows, the model for new chunks)
    # while this one tokenizes.
    ahead = VectorsAhead(store, settings, embedder, chunks, keys, progress)
    try:
        user_words = sorted({name for g in validation.guides for name in [g.title, *g.aliases]})
        # jieba's dictionary is looked up per text, not loaded (jieba_words.py): a rebuild cuts a few new texts.
        words = JiebaWords(settings.embedding_cache)
        tokenizer = Tokenizer(user_words, words=words)
        if table is not None and table.words.dictionary == tokenizer.segment_key:
            # How the serving version cut its questions, titles and aliases (the same dictionary): calibration's
            # item words cut those of all 5,000 guides, and would otherwise load jieba's whole dictionary.
            tokenizer.preload(*table.words.memo(table.texts, table.kinds, table.meta))
        # Unchanged chunks' term counts come from the serving version; only the others are tokenized (terms.py).
        token_cache = TokenCache(settings.embedding_cache)
        try:
            term_rows = TermRows.build(keys, TermTable.load(store.current_folder(), tokenizer.fingerprint),
                                       lambda rows: token_cache.tokenize_all(tokenizer, [chunks[i].text for i in rows],
                                                                             [chunks[i].digest for i in rows]))
        finally:
            token_cache.close()
        plan, embedded = ahead.result()
    except Exception:
        # The thread is done before the error goes up (it writes to the embedding cache); not on Ctrl-C,
        # which must not wait for a cold build's embedding to finish.
        with contextlib.suppress(BaseException):
            ahead.result()
        raise
    say(f"向量化：新计算 {embedded} 个，缓存命中 {len(chunks) - embedded} 个")

    chunk_terms = term_rows.chunk_terms(chunks.units)
    unit_names = chunk_terms.units

    files: StagedFiles | None = None
    with store.lock():
        version = store.new_version_name()
        staging = store.staging_folder(version)
        try:
            # What calibration's folds share is taken from the unit counts first: the writer thread's BM25
            # index then canonicalises them in place (sort_indices) while nothing else reads them.
            chunk_terms.fold_base()
            # Also builds and saves the BM25 index, and saves the term counts for the next build (terms.py).
            files = StagedFiles(plan, staging, chunks, chunk_terms,
                                also=lambda: term_rows.save(staging / TERMS_FILE, tokenizer.fingerprint, keys))
            dense = plan.vectors()  # no FAISS index copy (flat.py)
            guides = chunks.guide_entries()
            (staging / "lexical_units.json").write_text(json.dumps(unit_names, ensure_ascii=False), encoding="utf-8")
            (staging / "user_words.json").write_text(json.dumps(user_words, ensure_ascii=False), encoding="utf-8")
            # Checksums of the bytes this build read (guides, anchors): an edit during the build is a change next time.
            read_sums = dict(reader.file_sums)
            if validation.out_of_scope_sha256:
                read_sums[settings.out_of_scope_file] = validation.out_of_scope_sha256
            manifest: dict[str, Any] = {
                "version": version,
                "built_at": dt.datetime.now().isoformat(timespec="seconds"),
                "embedding": {"spec": embedder.spec, "id": embedder.model_id, "dimension": dense.d},
                "counts": {"guides": len(validation.guides), "documents": len(validation.documents), "chunks": len(chunks)},
                "sources": source_checksums(settings, read_sums),
                "eval": None,
                REMOVED_KEY: remembered(before, _serving_manifest(store), change, {g.id for g in validation.guides}, version),
                # "examples" (what the assistant offers, every process reads them from here): after calibration, below.
            }

            # The decision model comes from this knowledge base itself (knowledge/index/calibration.py).
            # The staged version is used from memory, as just written (its files are checksummed below).
            # data.bm25 comes from the writer thread after calibration, which never reads it (it searches its folds')
            data = IndexData.from_parts(staging, manifest, chunks, guides, dense, None, tokenizer, unit_names)  # type: ignore[arg-type]
            # Calibration and evaluation search the same questions every build: their nearest chunks
            # come from the serving version's table, repaired for what changed (neighbours.py).
            neighbours = NeighbourIndex(
                dense, keys, settings.dense_candidates + NEIGHBOUR_MARGIN, NeighbourTable.load(store.current_folder(), embedder.model_id),
            )
            data.dense = neighbours
            retriever = Retriever(data, RetrievalParams.from_settings(settings), cached)
            retriever._mentioned = MentionScan(data)  # type: ignore[method-assign]  # same result, no 15,000-name scan
            try:
                # One BLAS/OpenMP thread: the fits are tiny, and threads woken by an embedding before
                # spin against the build on a 2-core machine (same results: tests compare the model).
                with threadpool_limits(limits=1):
                    model = calibrate(retriever, dense, chunk_terms, cached.encode, settings)
            except (CalibrationError, ForkedWorkError) as error:  # ForkedWorkError: its second process failed
                raise BuildError(f"校准失败，未发布新索引：{error}") from error
            (staging / CALIBRATION_FILE).write_text(json.dumps(model.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
            data.adopt(model)
            manifest["calibration"] = {"answer_at": model.answer_at, "scope_at": model.scope_at, "confirm_at": model.confirm_at,
                                       "spread": model.spread, **model.report, "format": DECISION_FORMAT,
                                       # scored with it: the version keeps it whatever settings.yml later says
                                       "name_pairs_bonus": settings.name_pairs_bonus}
            say(f"校准：直接回答 ≥ {model.answer_at:.3f}，确认 ≥ {model.confirm_at:.3f}；交叉验证 " + labelled(model.report["cv"]))

            data.bm25 = files.bm25()
            # The examples offered are questions this version answers (example_check.py): a few, in one batch a round.
            examples, example_warnings = check_examples(retriever, guides.values(), settings.example_questions)
            manifest["examples"] = {**examples.as_manifest(settings.example_questions), "warnings": example_warnings}
            for warning in example_warnings:
                say("警告：" + warning)
            metrics: dict[str, float] = {}
            eval_text = ""
            findings = None
            report = None
            if settings.eval_questions.is_file():  # the sample knowledge base's regression numbers, for status
                report = evaluate(retriever, load_question_set(settings.eval_questions))
                report["index_version"] = version
                metrics, eval_text = report["metrics"], format_report(report)
                manifest["eval"] = {"questions": report["counts"], "metrics": metrics}
            if gate:
                findings = check_gate(retriever, _published(store, RetrievalParams.from_settings(settings), cached, table, tokenizer,
                                                                 settings.dense_candidates + NEIGHBOUR_MARGIN),
                                      settings, report, change=change)
                manifest["gate"] = findings.as_dict()
                if findings.failures and not accept:
                    raise BuildError(refusal(findings, store.current_version()), stale, findings=findings)
                if findings.failures:
                    manifest["gate"]["accepted"] = accept
            neighbours.save(staging / NEIGHBOURS_FILE, embedder.model_id)
            _save_table(staging / TABLE_FILE, parsed.parts_code, chunks, reader, tokenizer, *files.join())
            data.dense = dense
            say(f"校准和评测的检索：复用已有结果 {neighbours.reused} 次，新检索 {neighbours.searched} 次")
            manifest["files"] = file_checksums(staging, known=files.checksums)  # verified whenever the version is loaded
            (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            tokenizer.save()  # the new texts' tokens, for the next build
            words.close()
            store.finalize(staging, version)
        except BaseException:
            if files is not None:
                with contextlib.suppress(BaseException):
                    files.join()  # before the folder goes: the writer may still be in it
            store.discard(staging)
            raise
        chunks.close()
        store.publish(version, accepted=accept if findings and findings.failures else None)
        store.prune()
    return BuildReport(
        version=version, published=True, guides=len(validation.guides), documents=len(validation.documents),
        chunks=len(chunks), embedded=embedded, seconds=round(time.perf_counter() - started, 2),
        metrics=metrics, warnings=[*validation.warnings, *stale], eval_text=eval_text, calibration=manifest["calibration"],
        findings=findings, example_warnings=example_warnings, change=change,
    )


def _serving_manifest(store: IndexStore) -> dict[str, Any] | None:
    """The published version's manifest, or None (none published, or unreadable: the removals it kept are lost)."""
    version = store.current_version()
    try:
        return store.manifest(version) if version else None
    except (OSError, ValueError):
        return None
