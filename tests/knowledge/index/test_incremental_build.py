"""A rebuild after editing one guide reuses the serving version's work (cached vectors, the nearest
chunks of calibration and evaluation questions) and publishes what a build from scratch would:
the edited text answers, other guides answer exactly as before, the decision model is the same,
and the previous version still loads for rollback."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid

import numpy as np
import pytest

from knowledge.index.bm25 import SEGMENTS, Tokenizer
from knowledge.index.builder import build_index
from knowledge.index.embedding import Embedder
from knowledge.index.guide_table import TABLE_FILE
from knowledge.index.jieba_words import JiebaWords
from knowledge.index.neighbours import NEIGHBOURS_FILE
from knowledge.index.store import IndexStore
from knowledge.index.terms import TERMS_FILE
from knowledge.retrieval.index_data import IndexData
from knowledge.retrieval.item_words import common_question_words
from knowledge.retrieval.retriever import RetrievalParams, Retriever
from knowledge.settings import Settings

OTHER_QUESTIONS = ["开公司要带什么材料", "个体户营业执照怎么办", "公司注销要多久", "燃气开户多少钱", "施工许可证在哪里办",
                   "今天天气怎么样"]


def _edit_water_connection(settings: Settings) -> str:
    marker = f"（修订{uuid.uuid4().hex[:6]}）"  # new text every run: the embedding cache is shared between runs
    path = settings.guides_dir / "water-connection.md"
    text = path.read_text(encoding="utf-8")
    assert "装表通水" in text
    path.write_text(text.replace("装表通水", f"装表通水{marker}", 1), encoding="utf-8")
    return marker


def _retriever(settings: Settings, version: str, embedder: Embedder) -> Retriever:
    return Retriever(IndexData(settings.index_dir / "versions" / version), RetrievalParams.from_settings(settings), embedder)


def _calibration(settings: Settings, version: str) -> dict:
    return json.loads((settings.index_dir / "versions" / version / "calibration.json").read_text(encoding="utf-8"))


def test_edit_one_guide_publishes_what_a_fresh_build_would(kb_copy: Settings, embedder: Embedder,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_index(kb_copy, embedder=embedder, gate=False)
    marker = _edit_water_connection(kb_copy)
    said: list[str] = []
    # The item words' texts (every sample question, title, alias) come from the guide table and the
    # token cache: the rebuild never loads jieba's whole dictionary (only Tokenizers made without one do).
    loaded_whole: list[bool] = []
    load_all = Tokenizer._load_all
    monkeypatch.setattr(Tokenizer, "_load_all", lambda self: (loaded_whole.append(self._store is not None), load_all(self))[1])
    looked_up: set[str] = set()  # digests of texts whose pieces were read from the token cache
    cached_tokens = JiebaWords.cached_tokens
    monkeypatch.setattr(JiebaWords, "cached_tokens", lambda self, dictionary, digest: (
        looked_up.add(digest) if dictionary.startswith(SEGMENTS) else None, cached_tokens(self, dictionary, digest))[1])
    second = build_index(kb_copy, embedder=embedder, gate=False, log=said.append)
    monkeypatch.undo()
    assert not any(loaded_whole)
    # Unchanged guides' sample questions came from the serving version's guide table, not even the cache
    loaded = IndexData(kb_copy.index_dir / "versions" / second.version)
    questions = {c.text for c in loaded.chunks if c.kind == "question" and c.guide_id != "water-connection"}
    assert len(questions) > 100 and not {hashlib.sha256(q.encode("utf-8")).hexdigest() for q in questions} & looked_up
    assert 0 < second.embedded <= 3
    # Every guide but the edited one came from the serving version's guide table, not parsed again
    assert f"（未改动、沿用上一版本的 {second.guides - 1} 个）" in said[0]

    new = _retriever(kb_copy, second.version, embedder)
    old = _retriever(kb_copy, first.version, embedder)  # the previous version still loads: rollback works
    answer = new.run("装自来水多久能通水")
    assert answer.guide_id == "water-connection"
    assert marker in json.dumps(answer.guide, ensure_ascii=False)
    assert marker not in json.dumps(old.guide("water-connection"), ensure_ascii=False)
    for question in OTHER_QUESTIONS:  # guides nobody edited: same guide, same decision as before
        before, after = old.run(question), new.run(question)
        assert (after.guide_id, after.decision) == (before.guide_id, before.decision), question

    # The same knowledge base built from nothing (no serving version to reuse): the same index and model.
    fresh_settings = kb_copy.replace(index_dir=kb_copy.index_dir.parent / "fresh-index")
    fresh = build_index(fresh_settings, embedder=embedder, gate=False)
    assert _calibration(kb_copy, second.version) == _calibration(fresh_settings, fresh.version)
    # ... and the common question words are those of cutting everything with the whole dictionary
    words = common_question_words(loaded, kb_copy.item_words_share, kb_copy.item_words_min_guides)
    assert words and words == _calibration(kb_copy, second.version)["common_words"]
    assert second.metrics == fresh.metrics
    for name in ("dense.faiss", "bm25_weights.npz", "bm25_idf.npy", "bm25_vocabulary.json", "chunks.jsonl", "guides.json",
                 "lexical_units.json", "user_words.json"):
        reused = (kb_copy.index_dir / "versions" / second.version / name).read_bytes()
        assert reused == (fresh_settings.index_dir / "versions" / fresh.version / name).read_bytes(), name
    # The term counts and guide table kept for the next build (.npz: compared by content, the zip holds timestamps)
    for kept in (TERMS_FILE, TABLE_FILE):
        with np.load(kb_copy.index_dir / "versions" / second.version / kept) as reused_terms, \
                np.load(fresh_settings.index_dir / "versions" / fresh.version / kept) as fresh_terms:
            assert sorted(reused_terms.files) == sorted(fresh_terms.files)
            for name in fresh_terms.files:
                assert reused_terms[name].tobytes() == fresh_terms[name].tobytes(), (kept, name)

    assert IndexStore(kb_copy.index_dir).rollback() == first.version
    assert Retriever.from_published_index(kb_copy, embedder).version == first.version


def test_a_damaged_or_missing_neighbour_table_is_not_used(kb_copy: Settings, embedder: Embedder) -> None:
    first = build_index(kb_copy, embedder=embedder, gate=False)
    table = kb_copy.index_dir / "versions" / first.version / NEIGHBOURS_FILE
    with np.load(table) as stored:
        damaged = {name: stored[name] for name in stored.files}
    damaged["scores"] = damaged["scores"] + 0.5  # plausible numbers, wrong: only the checksum tells
    with open(table, "wb") as handle:
        np.savez(handle, **damaged)
    _edit_water_connection(kb_copy)
    second = build_index(kb_copy, embedder=embedder, gate=False)

    # A version from before neighbour tables (no file, no manifest entry) is a valid base too.
    folder = kb_copy.index_dir / "versions" / second.version
    (folder / NEIGHBOURS_FILE).unlink()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["files"][NEIGHBOURS_FILE]
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    IndexData(folder)  # still loads
    third = build_index(kb_copy, embedder=embedder, gate=False)

    fresh_settings = kb_copy.replace(index_dir=kb_copy.index_dir.parent / "fresh-index")
    fresh = build_index(fresh_settings, embedder=embedder, gate=False)
    assert _calibration(kb_copy, second.version) == _calibration(fresh_settings, fresh.version)
    assert _calibration(kb_copy, third.version) == _calibration(fresh_settings, fresh.version)
    shutil.rmtree(fresh_settings.index_dir)
