"""The item words of a question: what is left when the words every guide's questions share are taken out.

Why: the embedding of "住建局管保障房的窗口在政务中心几楼" is dominated by how it asks ("窗口在政务中心几楼"),
so another guide's sample question that asks the same way ("…的窗口在几楼") scores as high as the right
guide, and general guides (代办帮办, a hygiene licence asked about everywhere) come first for questions that
are not theirs. The dense channel therefore searches with a mix of two embeddings: the whole question (it keeps
the aspect and the context) and its item words ("住建局管保障房政务中心几楼"), so the item counts for more.

Which words are "common" is learnt from the knowledge base being built, never listed by hand: a word
(jieba, with the guides' titles and aliases in the dictionary) that occurs in the sample questions or FAQ
headings of at least ``item_words_share`` of the guides (and of ``item_words_min_guides``) is a way of
asking ("需要", "材料", "多久", "哪里", "收费"); a word of a guide's title or alias never is ("企业", "登记"). The
lexical channel (BM25 coverage) leaves them out too. The list is computed at build time (calibration.py) and
published in calibration.json.

Usage::

    words = common_question_words(data, share=0.1, min_guides=3)   # at build time
    item_text(data.tokenizer, words, "养狗办证要多久")          # -> "养狗办证" (when 要, 多久 are common)
    lexical_tokens(data.tokenizer, words, "养狗办证要多久")     # -> ["养狗", "办证"]
    blend(full_vector, item_vector, 0.3)                       # the vector the dense channel searches with
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

import numpy as np

from knowledge.index.chunks import FAQ, QUESTION

if TYPE_CHECKING:
    from knowledge.index.bm25 import BM25Index, Tokenizer
    from knowledge.retrieval.index_data import IndexData

_WORD = re.compile(r"\w")


def sample_question(chunk_kind: str, text: str, content: str) -> str | None:
    """The citizen-style question a chunk holds: a sample question's text, an FAQ entry's heading."""
    if chunk_kind == QUESTION:
        return text
    if chunk_kind == FAQ:
        return content.split("\n", 1)[0].strip()
    return None


def common_question_words(data: IndexData, share: float, min_guides: int) -> list[str]:
    """Words found in the sample questions / FAQ headings of at least max(min_guides, share × guides)
    guides, sorted (the list is published, so builds must agree on it)."""
    guides_of: dict[str, set[str]] = {}
    seen: set[str] = set()
    for chunk in data.chunks:
        # Kind first: a build's reused chunks read their other fields from disk on first use (chunk_rows.py).
        if not chunk.guide_id or chunk.kind not in (QUESTION, FAQ):
            continue
        question = chunk.text if chunk.kind == QUESTION else sample_question(FAQ, "", chunk.content)
        # A question copied into several guides counts once: copies would make its item words look common.
        if question is None or question in seen:
            continue
        seen.add(question)
        for word in set(data.tokenizer.segment(question)):
            guides_of.setdefault(word, set()).add(chunk.guide_id)
    guides = len({chunk.guide_id for chunk in data.chunks if chunk.guide_id})
    needed = max(min_guides, math.ceil(share * guides))
    # A word of a guide's name is an item word ("企业", "登记" of "企业开办", "不动产登记"), never common, or
    # "开办企业需要什么材料" would leave only "开办" to the item vector. Titles are formal names: all their parts
    # (search mode: 养犬登记 gives 养犬, 登记); aliases are citizens' phrases ("开书店办证", "营业执照丢了"): their
    # words as written, or the ways of asking inside them would never be common.
    names = {piece for guide in data.guides.values() for piece in data.tokenizer.tokenize(guide["title"])}
    names |= {piece for guide in data.guides.values() for alias in guide["aliases"] for piece in data.tokenizer.segment(alias)}
    return sorted(word for word, owners in guides_of.items()
                  if len(owners) >= needed and _WORD.search(word) and word not in names)


def item_text(tokenizer: Tokenizer, words: Collection[str], question: str) -> str | None:
    """The question without its common words, or None when that changes nothing or leaves nothing
    (then the whole question is all the dense channel sees)."""
    if not words or not question:
        return None
    pieces = tokenizer.segment(question)
    kept = "".join(piece for piece in pieces if piece not in words)
    if not _WORD.search(kept) or kept == "".join(pieces):
        return None
    return kept


def lexical_tokens(tokenizer: Tokenizer, words: Collection[str], question: str) -> list[str]:
    """The lexical channel's tokens of a question: without the common words, so BM25 coverage measures
    how much of the item a guide holds, not of the way of asking (all of them when nothing else is left)."""
    tokens = tokenizer.tokenize(question)
    kept = [token for token in tokens if token not in words]
    return kept or tokens


def search_vectors(encode: Callable[[list[str]], np.ndarray], tokenizer: Tokenizer, words: Collection[str],
                   questions: list[str], weight: float) -> np.ndarray:
    """The vectors the dense channel searches with, for normalised questions: each question's embedding
    blended with that of its item words, all embedded in one batch (weight 0: the questions' own)."""
    items = [item_text(tokenizer, words, q) if weight > 0 else None for q in questions]
    extra = sorted({item for item in items if item is not None})
    encoded = encode([q or "?" for q in questions] + extra)
    row = {item: len(questions) + index for index, item in enumerate(extra)}
    if not questions:
        return encoded
    return np.stack([blend(encoded[index], None if item is None else encoded[row[item]], weight)
                     for index, item in enumerate(items)])


def blend(full: np.ndarray, item: np.ndarray | None, weight: float) -> np.ndarray:
    """The vector searched with: (1 - weight) × whole question + weight × item words. Inner products
    are linear, so every chunk's score is the same mix of its two cosines (one search, not two)."""
    if item is None or weight <= 0:
        return full
    return ((1 - weight) * full + weight * item).astype(np.float32)


class KeyWord:
    """The question's key word for a guide: of the question's lexical tokens, the one that weighs most in
    that guide's BM25 (its rarest word that the guide holds most). "Ask which one" needs a runner-up to
    hold the best guide's key word too (Retriever._close): a runner-up that matches the question's other
    words ("居住证") but not the one that makes the best guide match ("小学" of 教师资格认定) answers another
    question. Read from the published BM25 weights, so it holds for any knowledge base and model."""

    def __init__(self, bm25: BM25Index, tokens: Collection[str]) -> None:
        self._weights = bm25.weights  # (units x terms), compressed by column
        self._columns = [bm25.vocabulary[token] for token in dict.fromkeys(tokens) if token in bm25.vocabulary]

    def _weight(self, unit: int, column: int) -> float:
        start, end = self._weights.indptr[column], self._weights.indptr[column + 1]
        at = np.flatnonzero(self._weights.indices[start:end] == unit)
        return float(self._weights.data[start + at[0]]) if len(at) else 0.0

    def held(self, unit: int, best_unit: int, share: float) -> bool:
        """Whether BM25 unit `unit` holds the key word of `best_unit` at least `share` as heavily. True
        without evidence (an unknown unit, no question word in the index, the best guide holds none)."""
        if unit < 0 or best_unit < 0 or not self._columns:
            return True
        weights = [self._weight(best_unit, column) for column in self._columns]
        key = int(np.argmax(weights))
        return weights[key] <= 0 or self._weight(unit, self._columns[key]) >= share * weights[key]
