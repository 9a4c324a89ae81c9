"""What retrieval returns and is configured with: the decisions, a scored hit, a guide candidate, the
result of one question, and the retriever's parameters (knowledge/retrieval/retriever.py computes them).

Kept apart from the retriever so that the conversation layer and the index code can use these types
without the search machinery (FAISS, the embedder), and so each module stays one role.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from knowledge.index.chunks import Chunk
from knowledge.settings import Settings
from knowledge.simplified import as_read
from knowledge.text import visible_text

ANSWER = "answer"
CONFIRM = "confirm"  # one guide leads but not surely enough: ask "您问的是【X】的…吗？"
AMBIGUOUS = "ambiguous"
NONE = "none"


MAX_QUESTION_CHARS = 500


def normalize_question(question: str | None) -> str:
    """The question as retrieval should see it: no invisible characters, no punctuation, symbols
    or emoji around it except one final question mark ("…?…开办企业需要什么材料…?…" is
    "开办企业需要什么材料？"), in simplified characters and ASCII letters and digits (knowledge/simplified.py `as_read`:
    "開ＫＴＶ" is "开KTV"), at most 500 characters."""
    text = as_read(visible_text(question))
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start])[0] in "PSZC":
        start += 1
    while end > start and unicodedata.category(text[end - 1])[0] in "PSZC":
        end -= 1
    # A question mark is meaning, not noise: the embedding scores "那个体户呢？" as a question.
    asks = "?" in text[end:] or "？" in text[end:]
    core = " ".join(text[start:end].split())[: MAX_QUESTION_CHARS - 1]
    return core + "？" if asks and core else core


@dataclass
class Hit:
    """One scored chunk."""

    chunk: Chunk
    score: float
    dense: float
    lexical: float
    unit: int = -1  # the row of its guide (or passage) in the BM25 index; -1: unknown (e.g. a synthetic hit)

    def as_dict(self) -> dict[str, Any]:
        return {
            "guide_id": self.chunk.guide_id,
            "title": self.chunk.title,
            "section": self.chunk.section,
            "kind": self.chunk.kind,
            "score": round(self.score, 4),
            "text": self.chunk.content,
            "source": self.chunk.source,
            "units": list(self.chunk.units),
            "deadline": self.chunk.deadline,
        }


@dataclass
class GuideCandidate:
    guide_id: str
    title: str
    score: float
    best: Hit | None = None  # None when rebuilt from a slot (an offer made in an earlier turn)


def holds_item_words(hit: Hit | None, best: Hit | None, share: float) -> bool:
    """Whether `hit` is a real alternative to `best`: it holds the question's item words (BM25 coverage)
    at least `share` as well. The test behind "ask which one" (which also wants the best guide's key word,
    Retriever._close), the `lead` feature and the conversation policy (a candidate rebuilt from a slot has
    no hit: coverage 0)."""
    return (hit.lexical if hit else 0.0) >= share * (best.lexical if best else 0.0)


@dataclass
class Scored:
    """What one search found: hits best first, and the nearest anchor's lead over the best guide
    chunk (cosine)."""

    hits: list[Hit]
    anchor_margin: float
    tokens: list[str] = field(default_factory=list)  # the question's lexical tokens (item words), as BM25 saw them


@dataclass
class RetrievalResult:
    question: str
    decision: str  # ANSWER | CONFIRM | AMBIGUOUS | NONE
    aspect: str
    confidence: float  # the calibrated probability that the best hit is right (0-1)
    in_scope: float = 0.0  # the calibrated probability that the question is the knowledge base's business
    # Whether the best hit clears the answering thresholds: true for every ANSWER, and for an AMBIGUOUS
    # result whose best guide would be answered were it alone ("注销公司": two 注销 guides, both sure). Besides the
    # calibrated thresholds, words only the best guide holds may clear it (`sole_share`; knowledge/retrieval/sole_words.py):
    # then `confidence` stays the model's, below its answering line.
    sure: bool = False
    # The share of the question's words only the best guide holds, when the thresholds alone did not clear it (else 0).
    sole_share: float = 0.0
    guide: dict[str, Any] | None = None  # the structured guide (Guide.as_dict) when answering one
    sections: list[tuple[str, str]] = field(default_factory=list)  # (heading, text) to answer from
    # The best policy passage when it is good enough (settings.related_passage_level): the answer
    # itself when it outranks every guide, otherwise related policy (its 牵头/责任单位) shown beside.
    passage: Hit | None = None
    candidates: list[GuideCandidate] = field(default_factory=list)  # best guides, best first
    choices: list[GuideCandidate] = field(default_factory=list)  # the guides to ask about (ambiguous, confirm)
    spread: float = 0.1  # this index's score unit (DecisionModel.spread): margins are multiples of it
    hits: list[Hit] = field(default_factory=list)  # top chunks, best first (one per guide/passage)
    index_version: str = ""

    @property
    def guide_id(self) -> str | None:
        return self.guide["id"] if self.guide else None

    @property
    def by_sole_words(self) -> bool:
        """Sure only because words of the question no other guide holds name its best guide (sole_words.py)."""
        return self.sure and self.sole_share > 0

    def as_unsure(self) -> RetrievalResult:
        """This result as the decision model alone has it: an answer on sole words is a confirm of the same guide."""
        if not self.by_sole_words:
            return self
        decision = CONFIRM if self.decision == ANSWER else self.decision
        choices = self.candidates[:1] if decision == CONFIRM else self.choices
        return dataclasses.replace(self, decision=decision, sure=False, choices=choices)

    @property
    def contacts(self) -> list[dict[str, str]]:
        return list(self.guide["contacts"]) if self.guide else []

    def as_json(self) -> dict[str, Any]:
        """The stable machine-readable form printed by ``index_builder.py query --json``."""
        return {
            "question": self.question,
            "decision": self.decision,
            "aspect": self.aspect,
            "confidence": round(self.confidence, 4),
            "sole_share": round(self.sole_share, 4),
            "guide_id": self.guide_id,
            "candidates": [c.guide_id for c in self.choices],
            "index_version": self.index_version,
            "hits": [hit.as_dict() for hit in self.hits],
        }


@dataclass(frozen=True)
class RetrievalParams:
    """The retriever's parameters, all from settings.yml (see the comments there)."""

    dense_candidates: int = 200  # chunks fetched from FAISS per question
    lexical_weight: float = 0.15  # fused = (1 - w) * dense + w * BM25 coverage
    best_chunk_weight: float = 0.7  # a guide's dense score: this much of its best chunk, the rest of its second
    alias_bonus: float = 0.04
    name_pairs_bonus: float = 0.0  # x (a guide's share of the question's name character pairs - the most any holds); settings.yml sets it
    item_vector_weight: float = 0.3  # the dense channel's query: this share of the item words' embedding (item_words.py)
    sole_words_answer_share: float = 0.3  # answer directly when words only the best guide holds carry this share (sole_words.py)
    sole_words_in_scope: float = 0.5  # ... and the question is at least this likely the knowledge base's business
    ambiguity_margin: float = 0.1  # score units
    ambiguity_coverage_share: float = 0.8  # a close runner-up is an alternative only with this share of the best's coverage
    max_candidates: int = 4
    related_passage_level: float = 0.35  # score units
    max_hits: int = 10  # hits kept in a result (one per guide or passage)
    embedding_lowercase: bool = True
    embedding_batch_size: int = 32

    def __post_init__(self) -> None:
        if (not 0 <= self.lexical_weight <= 1 or not 0.5 <= self.best_chunk_weight <= 1 or not 0 <= self.item_vector_weight < 1
                or not all(0 <= share <= 1 for share in (self.ambiguity_coverage_share, self.sole_words_answer_share,
                                                          self.sole_words_in_scope))):
            raise ValueError("lexical_weight、ambiguity_coverage_share、sole_words_answer_share、sole_words_in_scope 应在 0–1 之间，"
                             "best_chunk_weight 应在 0.5–1 之间，item_vector_weight 应在 0–1 之间（不含 1）")
        if min(self.dense_candidates, self.max_candidates, self.max_hits) < 1:
            raise ValueError("dense_candidates、max_candidates、max_hits 至少为 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrievalParams:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})
