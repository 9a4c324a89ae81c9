"""Grouping similar user questions for the admin report, and the masked form in which it shows them.

Questions are compared on their topic (aspect words, filler, punctuation and digits removed, see
normalise) by the cosine of character 1-2-gram TF-IDF vectors; greedy leader clustering then puts
each question with the most frequent similar one. No word segmentation and no model: deterministic,
fast on a month of logs, and explainable in the report ("similar to the first one").

Usage::

    from knowledge.report.grouping import group_similar, question_groups

    group_similar(["狗证怎么办理", "办狗证去哪里", "公司注销"])   # -> [[0, 1], [2]]
    groups = question_groups(question_rows)                       # rows from knowledge/records/store.py
    print(groups[0].count, groups[0].representative)
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from knowledge.records.privacy import mask_personal_data
from knowledge.sources.aspects import strip_aspect_words

# Grouping: two questions belong together when the cosine of their character 1-2-gram TF-IDF vectors
# (topic words only, see normalise) reaches this. On the 288 deliberately varied questions about 36
# guides in tests/data/questions.yml: at 0.45 one question lands in another guide's group (0.40: 5,
# 0.35: 10); repeated real-world phrasings ("狗证怎么办理" / "办狗证去哪里") score far higher.
SIMILARITY = 0.45
MAX_DISTINCT = 3000          # distinct questions vectorised; rarer ones beyond this stay single
MAX_TEXT = 200               # characters of a question shown (messages are capped at 2000 anyway)

# Question words that carry no topic: removed before comparing questions, so "养狗要办什么证" and
# "狗证怎么办理" are compared on 养狗/狗证, not on 什么/怎么.
_FILLER = re.compile("|".join(sorted((
    "请问", "你好", "您好", "我想", "我要", "想要", "想问", "问一下", "咨询一下", "怎么样", "怎么办理", "怎么办", "怎么", "怎样",
    "如何", "什么", "啥", "哪里", "哪儿", "哪个", "哪些", "多少", "需要", "可以", "能不能", "能否", "是否", "是不是", "有没有",
    "要不要", "一下", "办理", "办", "吗", "呢", "啊", "呀", "吧", "哦", "嘛", "的", "了", "么", "能", "要", "我", "去", "在",
), key=len, reverse=True)))
_BEFORE_ASPECTS = re.compile("办理|哪里|哪儿")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def shown(text: Any) -> str:
    """A user text as the report may show it: masked again, whitespace collapsed, cut to MAX_TEXT."""
    cleaned = " ".join(mask_personal_data(str(text or "")).split())
    return cleaned if len(cleaned) <= MAX_TEXT else cleaned[:MAX_TEXT] + "…"


def _cleaned(question: str) -> str:
    """Latin letters and Chinese characters only: masked, full-width folded, lower case; no punctuation, emoji or digits."""
    text = unicodedata.normalize("NFKC", mask_personal_data(question or ""))[:MAX_TEXT]
    text = _NOT_WORD.sub("", text.lower())
    return re.sub(r"\d+", "", text)  # masked numbers and dates say nothing about the topic


def _topic(text: str) -> str:
    # 办理 and 哪里 go first, or the aspect words 怎么办 and 去哪 would leave 理 and 里 behind;
    # the filler goes after the aspect words, or 带什么 would lose 什么 and stay unrecognised.
    return _FILLER.sub("", strip_aspect_words(_BEFORE_ASPECTS.sub("", text)))


def normalise(question: str) -> str:
    """The topic of a question: without aspect words (材料, 多久, 去哪…: "what to bring" and "where" about the
    same service belong together), filler, punctuation and digits; full-width folded, lower case.
    A question that is nothing but such words keeps them ("怎么办" stays "怎么办")."""
    text = _cleaned(question)
    return _topic(text) or text


def chinese_topic_chars(question: str) -> int:
    """How many Chinese characters the question's topic has (aspect words and filler not counted):
    0 for emoji, "<script>alert(1)</script>怎么办", "' OR 1=1 --" or a bare "怎么办"."""
    return len(_CJK.findall(_topic(_cleaned(question))))


def char_ngrams(text: str) -> list[str]:
    """Character unigrams and bigrams: Chinese needs no word segmentation for this, and typos cost little."""
    return list(text) + [text[i:i + 2] for i in range(len(text) - 1)]


def tfidf_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """Rows are L2-normalised TF-IDF vectors of `texts` over character 1-2-grams (smooth IDF)."""
    vocabulary: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for row, text in enumerate(texts):
        for gram, count in Counter(char_ngrams(text)).items():
            rows.append(row)
            cols.append(vocabulary.setdefault(gram, len(vocabulary)))
            counts.append(count)
    matrix = sparse.csr_matrix((np.asarray(counts, dtype=np.float32), (rows, cols)), shape=(len(texts), max(1, len(vocabulary))))
    document_frequency = np.bincount(cols, minlength=matrix.shape[1]).astype(np.float32)
    idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1
    matrix = matrix @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.csr_matrix(sparse.diags(1 / norms) @ matrix)


def group_similar(texts: Sequence[str], threshold: float = SIMILARITY) -> list[list[int]]:
    """Indices of `texts` grouped by similarity, largest group first.

    Identical questions (after normalise) count together. Then greedy leader clustering: the most
    frequent question not yet grouped leads a new group and takes every ungrouped question whose
    cosine with it reaches `threshold`. Deterministic and explainable ("similar to the first one").
    """
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, text in enumerate(texts):
        by_key[normalise(text)].append(index)
    keys = sorted(by_key, key=lambda key: (-len(by_key[key]), by_key[key][0]))
    vectorised, rest = keys[:MAX_DISTINCT], keys[MAX_DISTINCT:]
    matrix = tfidf_matrix(vectorised)
    grouped = np.zeros(len(vectorised), dtype=bool)
    groups: list[list[int]] = []
    for leader in range(len(vectorised)):
        if grouped[leader]:
            continue
        similarity = (matrix[leader] @ matrix.T).toarray().ravel()
        members = np.flatnonzero(~grouped & (similarity >= threshold))
        if not vectorised[leader]:  # nothing left after normalising ("？？"): only exact equals
            members = np.asarray([leader])
        members = np.union1d(members, [leader])
        grouped[members] = True
        groups.append(sorted(index for member in members for index in by_key[vectorised[member]]))
    groups.extend(by_key[key] for key in rest)
    return sorted(groups, key=lambda group: (-len(group), group[0]))


@dataclass
class QuestionGroup:
    """Similar questions: how often, the common phrasings, and what became of them."""

    count: int
    examples: list[tuple[str, int]]     # (masked question, times asked), most frequent first
    phrasings: int                      # distinct wordings in the group
    outcomes: Counter[str]
    guides: Counter[str]
    last_time: str
    mean_confidence: float | None = None

    @property
    def representative(self) -> str:
        return self.examples[0][0] if self.examples else ""


def question_groups(rows: Sequence[dict[str, Any]], threshold: float = SIMILARITY, examples: int = 5) -> list[QuestionGroup]:
    """Question-log rows grouped by similar wording (see group_similar)."""
    result = []
    for members in group_similar([str(row.get("question") or "") for row in rows], threshold):
        chosen = [rows[i] for i in members]
        phrasings = Counter(shown(row.get("question")) for row in chosen)
        confidences = [c for c in (confidence(row) for row in chosen) if c is not None]
        result.append(QuestionGroup(
            count=len(chosen), examples=phrasings.most_common(examples), phrasings=len(phrasings),
            outcomes=Counter(str(row.get("outcome")) for row in chosen),
            guides=Counter(str(row["guide_id"]) for row in chosen if row.get("guide_id")),
            last_time=max(str(row.get("time") or "") for row in chosen),
            mean_confidence=sum(confidences) / len(confidences) if confidences else None,
        ))
    return result


def confidence(row: dict[str, Any]) -> float | None:
    """The row's calibrated confidence, or None when missing or not a finite number (old or damaged rows)."""
    try:
        value = float(row.get("confidence"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
