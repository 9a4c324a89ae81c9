"""Hybrid retrieval: which guide (and which sections) answer a question, or a policy passage.

Dense: sentence-transformers vectors of every chunk in FAISS (inner product on unit vectors); a
guide's dense score blends its two best chunks (``best_chunk_weight``, 0.7 / 0.3), so a guide that matches in several
places beats one lucky chunk. Lexical: BM25 on jieba tokens over each whole guide (and each
policy passage), normalised to a coverage in [0, 1). Both channels look at the item more than at the way of
asking (knowledge/retrieval/item_words.py): the dense one searches with the question's embedding blended with
that of its item words, the lexical one leaves out the words most guides' questions share. Fused:
``score = (1 - lexical_weight) * dense + lexical_weight * coverage``. Then a decision, from the
probabilities of the decision model calibrated for this index version at build time
(knowledge/index/calibration.py; no score threshold is a constant): that the question is the knowledge
base's kind, and that its best hit is right (``confidence``):

- ``none``: not the knowledge base's kind of question (off-topic, or nothing matches): say so
  honestly, never return the least bad hit;
- ``ambiguous``: other guides are within ``ambiguity_margin`` score units of the best, one of them covering
  the question's item words about as well (``ambiguity_coverage_share`` of its BM25 coverage) and holding
  the best guide's key word (item_words.KeyWord): ask which one;
- ``confirm``: one guide leads, but not surely enough: ask "您问的是【X】的…吗？";
- ``answer``: one guide (or, when a policy passage scores higher, that passage); also a guide the model would only
  confirm when words of the question that no other guide holds carry enough of it (knowledge/retrieval/sole_words.py).

Usage::

    retriever = Retriever.from_published_index()             # loads CURRENT once
    result = retriever.run("开公司要带什么材料")
    result.decision        # "answer"
    result.guide["id"]     # "company-setup"
    result.sections        # [("申请材料", "1. 《公司登记（备案）申请书》原件1份 …")]
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from knowledge.index.bm25 import BM25Index
from knowledge.index.chunks import ANCHOR, PASSAGE
from knowledge.index.cli_versions import unserved_lines
from knowledge.index.embedding import Embedder
from knowledge.index.store import IndexStore
from knowledge.retrieval.index_data import IndexData, NoIndexError
from knowledge.retrieval.item_words import KeyWord, lexical_tokens, search_vectors
from knowledge.retrieval.name_grams import NameGrams

# The result types and parameters live in results.py; they are imported from here too (one import for callers).
from knowledge.retrieval.results import (
    AMBIGUOUS,
    ANSWER,
    CONFIRM,
    MAX_QUESTION_CHARS,
    NONE,
    GuideCandidate,
    Hit,
    RetrievalParams,
    RetrievalResult,
    Scored,
    holds_item_words,
    normalize_question,
)
from knowledge.retrieval.sole_words import sole_share
from knowledge.settings import Settings, load_settings
from knowledge.sources.aspects import ASPECT_SECTIONS, CONTACT, GENERAL, detect_aspect

if TYPE_CHECKING:
    from knowledge.index.batch_scoring import ChunkTable

__all__ = [
    "AMBIGUOUS", "ANSWER", "CONFIRM", "MAX_QUESTION_CHARS", "NONE", "GuideCandidate", "Hit", "NoIndexError",
    "RetrievalParams", "RetrievalResult", "Retriever", "Scored", "holds_item_words", "normalize_question",
]


class Retriever:
    """Answers `run(question, aspect)` from one index version; `reload()` swaps to a newer one
    published in `index_dir` (None: a fixed version, e.g. the one being built)."""

    def __init__(self, data: IndexData, params: RetrievalParams, embedder: Embedder | None = None,
                 index_dir: Path | None = None) -> None:
        self.params = params
        self.index_dir = index_dir
        self._data = data
        self._swap_lock = threading.Lock()
        model = data.manifest["embedding"]["spec"]
        self.embedder = embedder or Embedder(
            model, lowercase=params.embedding_lowercase, batch_size=params.embedding_batch_size, threads=1
        )
        if self.embedder.model_id != data.manifest["embedding"]["id"]:
            raise NoIndexError(
                f"索引 {data.version} 由模型 {data.manifest['embedding']['id']} 生成，"
                f"当前模型为 {self.embedder.model_id}：请重新运行 index_builder.py build"
            )
        self._prepare(data)

    def _prepare(self, data: IndexData) -> None:
        """Build what scoring reads before any question does: the names' pair table (0.8 s at 5,000 guides),
        only when the version was calibrated with the pairs on (IndexData.name_pairs_weight)."""
        if data.decision is not None and data.name_pairs_weight(self.params.name_pairs_bonus):
            NameGrams.of(data)

    @classmethod
    def from_published_index(cls, settings: Settings | None = None, embedder: Embedder | None = None) -> Retriever:
        settings = settings or load_settings()
        store = IndexStore(settings.index_dir)
        folder = store.current_folder()
        if folder is None or not folder.is_dir():  # which of: nothing published, CURRENT gone, its version gone
            raise NoIndexError("\n".join(unserved_lines(store)))
        faiss.omp_set_num_threads(1)  # one thread per process on a small shared machine
        return cls(IndexData(folder), RetrievalParams.from_settings(settings), embedder, settings.index_dir)

    @property
    def version(self) -> str:
        return self._data.version

    @property
    def data(self) -> IndexData:
        return self._data

    def reload(self) -> bool:
        """Switch to the published version if it changed. Requests in flight keep the old one."""
        if self.index_dir is None:
            return False
        folder = IndexStore(self.index_dir).current_folder()
        if folder is None or folder.name == self._data.version:
            return False
        data = IndexData(folder)  # load fully before swapping: never a half-loaded index
        self._prepare(data)
        with self._swap_lock:
            self._data = data
        return True

    def pinned(self) -> Retriever:
        """A view fixed on the version loaded now: a later `reload()` does not change it, so one
        conversation turn never mixes two index versions."""
        return copy.copy(self)

    def guide(self, guide_id: str) -> dict[str, Any] | None:
        return self._data.guides.get(guide_id)

    def mentioned(self, question: str) -> set[str]:
        """Ids of the guides the question names by title or alias."""
        return self._mentioned(self._data, question)

    # --- scoring ---------------------------------------------------------------------------
    @staticmethod
    def _mentioned(data: IndexData, question: str) -> set[str]:
        """Guides named in the question by title or alias; a longer name hides the names inside it."""
        text = question.lower()
        found: set[str] = set()
        covered: list[tuple[int, int]] = []
        for name, guide_id in data.names:
            start = text.find(name)
            while start >= 0:
                end = start + len(name)
                if not any(s <= start and end <= e for s, e in covered):
                    found.add(guide_id)
                    covered.append((start, end))
                start = text.find(name, start + 1)
        return found

    def _name_shares(self, data: IndexData, question: str, leave_out: str | None = None) -> dict[str, float]:
        """The guides' shares of the question's name pairs (name_grams.py); none for a version calibrated without
        them (its decision model read scores without them)."""
        if not data.name_pairs_weight(self.params.name_pairs_bonus):
            return {}
        return NameGrams.of(data).shares(question, leave_out)

    def _score(self, data: IndexData, question: str, vector: np.ndarray, exclude: set[int] | None = None,
               bm25: BM25Index | None = None, names_without: str | None = None, names: bool = True) -> Scored:
        """Scored hits, one per guide (its best chunk) and one per passage, best first, with what
        the decision model needs. `exclude` (chunk rows), `bm25` and `names_without` serve calibration
        only: a sample question is scored as if it, or its whole guide, were not in the index.
        `names=False` leaves the names' pairs out: inside a conversation the question's subject is often the
        matter at hand ("个体户怎么注销" after 个体工商户设立), whose name holds the pairs, so they would keep the
        conversation on it. Without them the scores are not quite those calibrated (the guide holding most pairs no longer
        leads by them; one holding fewer no longer gives way): the policy, not name evidence, decides whether to leave."""
        weight = self.params.lexical_weight
        # The names' pairs re-rank the guides: the one whose names hold most keeps its score, every other guide gives
        # way by name_pairs_bonus x how much less it holds. Policy passages keep theirs: a question about a policy
        # shares procedure pairs (审批, 登记) with guides' names, and a passage has none to hold
        # (tests/data/questions.yml: "验登合一改革…压缩了多少" lost its passage from the first three when they gave way too).
        name_shares = self._name_shares(data, question, names_without) if names else {}
        most = max(name_shares.values(), default=0.0)
        pairs_weight = data.name_pairs_weight(self.params.name_pairs_bonus)
        exclude = exclude or set()
        k = min(self.params.dense_candidates + len(exclude), data.dense.ntotal)
        scores, ids = data.dense.search(vector.reshape(1, -1), k)
        floor = float(scores[0][-1])  # a guide with one chunk in the top k: its 2nd is at most this
        tokens = lexical_tokens(data.tokenizer, data.common_words, question)
        coverage = (bm25 or data.bm25).coverage(tokens)
        per_guide: dict[str, list[tuple[float, int]]] = {}
        hits: list[Hit] = []
        best_anchor = best_guide_chunk = floor
        for score, index in zip(scores[0], ids[0], strict=True):
            if index < 0 or int(index) in exclude:
                continue
            chunk = data.chunks[index]
            if chunk.kind == ANCHOR:
                best_anchor = max(best_anchor, float(score))
            elif chunk.guide_id:
                per_guide.setdefault(chunk.guide_id, []).append((float(score), int(index)))
                best_guide_chunk = max(best_guide_chunk, float(score))
            else:  # a policy passage stands alone
                unit = int(data.unit_of[index])
                lexical = float(coverage[unit])
                hits.append(Hit(chunk, (1 - weight) * float(score) + weight * lexical, float(score), lexical, unit))
        mentioned = self._mentioned(data, question)
        for guide_id, found in per_guide.items():
            top, index = found[0]
            second = found[1][0] if len(found) > 1 else min(top, floor)
            dense = self.params.best_chunk_weight * top + (1 - self.params.best_chunk_weight) * second
            unit = int(data.unit_of[index])
            lexical = float(coverage[unit])
            bonus = ((self.params.alias_bonus if guide_id in mentioned else 0.0)
                     + pairs_weight * (name_shares.get(guide_id, 0.0) - most))
            hits.append(Hit(data.chunks[index], (1 - weight) * dense + weight * lexical + bonus, dense, lexical, unit))
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return Scored(hits, best_anchor - best_guide_chunk, tokens)

    def _features(self, scored: Scored) -> list[float]:
        """The decision model's inputs, in calibration.FEATURES order. `lead`: how far the best hit leads
        the first of the next hits (within max_hits) that holds the question's words about as well
        (the coverage test of `_close`), or the last of them: a runner-up close only in the embedding
        says little about whether the best is right."""
        hits = scored.hits
        if not hits:
            return [0.0, 0.0, scored.anchor_margin, 0.0]
        best = hits[0]
        gap = best.score - hits[1].score if len(hits) > 1 else best.score
        window = hits[1 : self.params.max_hits]
        share = self.params.ambiguity_coverage_share
        rival = next((hit for hit in window if holds_item_words(hit, best, share)), window[-1] if window else None)
        return [best.score, gap, scored.anchor_margin, best.score - rival.score if rival else best.score]

    def features(self, question: str, vector: np.ndarray, *, exclude: set[int] | None = None,
                 bm25: BM25Index | None = None, names_without: str | None = None) -> tuple[list[float], str | None]:
        """The decision features of a question and the guide of its best hit (for calibration)."""
        scored = self._score(self._data, normalize_question(question), vector, exclude, bm25, names_without)
        return self._features(scored), (scored.hits[0].chunk.guide_id if scored.hits else None)

    def features_many(self, question: str, vector: np.ndarray, excludes: list[set[int]], *,
                      bm25: BM25Index | None = None, names_without: Sequence[str | None] = ()) -> list[tuple[list[float], str | None]]:
        """`features()` of one question once per exclusion, the same numbers bit for bit: calibration
        asks each sample question twice (its own chunk left out, then its whole guide), so the
        tokens, the BM25 coverage and the mentions are computed once, and the per-guide grouping
        is array arithmetic instead of a Python loop over ~200 hits (most of a 5,000-guide build's
        ~4,000 calibration scorings). `names_without`: per exclusion, the guide whose names are left out
        too (the whole guide left out), as `features(names_without=…)`."""
        data = self._data
        question = normalize_question(question)
        coverage = (bm25 or data.bm25).coverage(lexical_tokens(data.tokenizer, data.common_words, question))
        mentioned = self._mentioned(data, question)
        leave_out = (list(names_without) + [None] * len(excludes))[:len(excludes)]
        shares = {guide: self._name_shares(data, question, guide) for guide in set(leave_out)}
        return [self.batch_table(data).features(self.params, data, vector, exclude, coverage, mentioned, shares[guide])
                for exclude, guide in zip(excludes, leave_out, strict=True)]

    def batch_table(self, data: IndexData) -> ChunkTable:
        """The per-chunk arrays `features_many` scores with, built on first use for this index data and kept
        (calibration builds them before forking its scoring child, which inherits them: calibration_folds.py)."""
        from knowledge.index.batch_scoring import ChunkTable  # it imports this module's types

        table = getattr(self, "_chunk_table", None)
        if table is None or table.data is not data:
            table = self._chunk_table = ChunkTable(data)
        return table

    def query_vectors(self, questions: list[str], data: IndexData | None = None) -> np.ndarray:
        """The vectors the dense channel searches with, for normalised questions (item_words.py)."""
        data = data or self._data
        # One question (the action server): each text embedded on its own, so it goes through the
        # recent-question cache and the ONNX engine (embedding.py) instead of a torch batch of two.
        encode = self._encode_each if len(questions) == 1 else self.embedder.encode
        return search_vectors(encode, data.tokenizer, data.common_words, questions, self.params.item_vector_weight)

    def _encode_each(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.embedder.encode([text]) for text in texts])

    def run(self, question: str, aspect: str | None = None, *, names: bool = True) -> RetrievalResult:
        """Retrieve for one question; `aspect` comes from the NLU intent when there is one. `names=False`: the
        names' pairs do not re-rank (a question asked inside a conversation, see `_score`)."""
        return self.run_batch([question], [aspect], names=names)[0]

    def run_batch(self, questions: list[str], aspects: list[str | None] | None = None, *,
                  names: bool = True) -> list[RetrievalResult]:
        """Retrieve for many questions, embedding them in one batch."""
        data = self._data  # one version for the whole call, even if reload() happens meanwhile
        aspects = aspects or [None] * len(questions)
        cleaned = [normalize_question(q) for q in questions]
        vectors = self.query_vectors(cleaned, data)
        return [self._decide(data, q, a, v, names) for q, a, v in zip(cleaned, aspects, vectors, strict=True)]

    def _decide(self, data: IndexData, question: str, aspect: str | None, vector: np.ndarray,
                names: bool = True) -> RetrievalResult:
        aspect = aspect or detect_aspect(question) or GENERAL
        if not question:
            return RetrievalResult(question, NONE, aspect, 0.0, index_version=data.version)
        model = data.decision
        if model is None:
            raise NoIndexError(f"索引版本 {data.version} 没有决策模型（calibration.json）：请重新运行 index_builder.py build")
        scored = self._score(data, question, vector, names=names)
        hits = scored.hits
        candidates = [
            GuideCandidate(hit.chunk.guide_id, hit.chunk.title, hit.score, hit) for hit in hits if hit.chunk.guide_id
        ]
        passages = [hit for hit in hits if hit.chunk.kind == PASSAGE]
        result = RetrievalResult(question, NONE, aspect, 0.0, candidates=candidates, hits=hits[: self.params.max_hits], index_version=data.version)
        in_scope, result.confidence = model.probabilities(self._features(scored))
        result.in_scope = in_scope
        result.spread = model.spread
        best = hits[0] if hits else None
        if best is None or in_scope < model.confirm_at:
            return result
        sure = in_scope >= model.scope_at and result.confidence >= model.answer_at
        if (not sure and best.chunk.guide_id and data.everyday_words is not None and self.params.sole_words_answer_share > 0
                and in_scope >= self.params.sole_words_in_scope):
            # Words only this guide holds name the matter, though its score is close to guides asked the same way.
            # Set only here, when the thresholds alone did not clear it: RetrievalResult.by_sole_words relies on that.
            result.sole_share = sole_share(data.bm25, scored.tokens, best.unit, data.everyday_words)
            sure = result.sole_share >= self.params.sole_words_answer_share
        result.sure = sure
        if passages and passages[0].score >= model.floor + model.spread * self.params.related_passage_level:
            result.passage = passages[0]  # related policy, shown beside a guide's answer
        if best.chunk.kind == PASSAGE:  # a policy document answers better than any guide
            result.decision = ANSWER if sure else NONE
            return result
        top = candidates[0]
        close = self._close(candidates, model.spread, KeyWord(data.bm25, scored.tokens))
        if len(close) > 1:
            result.decision = AMBIGUOUS
            result.choices = close
            return result
        result.guide = data.guides[top.guide_id]
        result.sections = self.sections_for(result.guide, aspect)
        result.decision = ANSWER if sure else CONFIRM
        if result.decision == CONFIRM:
            result.choices = [top]
        return result

    def _close(self, candidates: list[GuideCandidate], spread: float, key: KeyWord | None = None) -> list[GuideCandidate]:
        """The guides to ask "which one" about: those within `ambiguity_margin` score units of the best,
        but only when one of them is a real alternative; else the best alone. Once asking, every close
        guide is offered. A real alternative holds the question's item words about as well (BM25
        coverage at least `ambiguity_coverage_share` of the best's): a runner-up close only in the
        embedding (帮办代办, a guide asked the same way) while the words the question names are the best
        guide's alone is none. And it holds the word that makes the best guide match (`key`, the
        question's word that weighs most in the best guide) at least that share as heavily: "户口在外省，
        有居住证，能申请小学老师的资格证吗" names 居住证 as well, but the 居住证 guide lacks 小学 (the teacher
        guide's key word), so it is no alternative; the two 注销 guides both hold 注销, so "公司注销怎么弄"
        still asks which one."""
        top = candidates[0]
        margin = spread * self.params.ambiguity_margin
        near = [c for c in candidates[: self.params.max_candidates] if top.score - c.score <= margin]
        share = self.params.ambiguity_coverage_share

        def alternative(candidate: GuideCandidate) -> bool:
            if not holds_item_words(candidate.best, top.best, share):
                return False
            return key is None or key.held(_unit(candidate), _unit(top), share)

        return near if any(alternative(c) for c in near[1:]) else [top]

    @staticmethod
    def sections_for(guide: dict[str, Any], aspect: str) -> list[tuple[str, str]]:
        """The (heading, text) sections answering an aspect, complete and in guide order."""
        wanted = ASPECT_SECTIONS.get(aspect, ASPECT_SECTIONS[GENERAL])
        sections = guide["sections"]
        chosen = [(heading, sections[heading]["text"]) for heading in wanted if heading in sections]
        if not chosen and aspect != CONTACT:
            chosen = [(heading, sections[heading]["text"]) for heading in ASPECT_SECTIONS[GENERAL] if heading in sections]
        return chosen


def _unit(candidate: GuideCandidate) -> int:
    """The BM25 row of a candidate's guide (-1: rebuilt from a slot, or a synthetic hit)."""
    return candidate.best.unit if candidate.best else -1
