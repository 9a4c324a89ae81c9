"""The decision model: how sure the retriever is that its best hit answers a question, learnt at
build time from the knowledge base being published, never from a fixed question file.

Similarity scores have a different scale for every embedding model and knowledge base, so no
score threshold is a constant. Instead every build fits a small logistic model over five
retrieval features of a question (``FEATURES``) to P(the best hit is the right guide), from
examples the knowledge base itself provides (a class-balanced fit: the probability says whether a
question looks more like the knowledge base's own questions or like its off-topic anchors):

- positives: each guide's sample ``questions:``, its 常见问题 headings, and its aliases asked with
  an aspect ("装自来水要多久");
- negatives: the out-of-scope anchors (knowledge/out_of_scope.yml).

A sample question or FAQ is scored with its own chunk left out of the search (the user's words
are never verbatim in the index), and the guides are split into folds: the model that scores a
fold's questions was fitted on the other folds' guides, so the numbers say how it transfers to
guides it has not seen. Two thresholds on that probability:

- ``answer_at`` = ``answer_probability`` (settings, 0.5: likelier the knowledge base's own kind of
  question than an off-topic one): answer directly;
- ``confirm_at``: the lowest out-of-fold probability that at most ``calibration_confirm_offtopic``
  of the (left-out) off-topic anchors reach: between the two, ask "您问的是【X】的…吗？"; below,
  "not found". (A quantile of the anchors was tried for ``answer_at`` too: with 70 anchors it rests
  on 3 or 4 of them and swung from 0.25 to 0.71 between two knowledge bases of the development set.)

Which guides are "close enough to ask which one" is a margin in score units (``spread``, the
calibrated gap between right answers' and off-topic questions' typical scores). Deriving that
margin from where the knowledge base's own questions went wrong was tried on the development set:
it swung from 0.017 to 0.034 between two knowledge bases and made the gate refuse adding guides.

Usage::

    model = calibrate(retriever, vectors, chunk_tokens, encode, settings)   # at build time
    model.probability(features)      # 0.93
    model.report["cv"]["within_band"]
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.bm25 import BM25Index
from knowledge.chunks import ANCHOR, FAQ, QUESTION, lexical_unit

if TYPE_CHECKING:  # the retriever imports this module; the type is only for signatures
    from knowledge.retriever import Retriever
    from knowledge.settings import Settings

# Retrieval features of a question, computed by Retriever.features():
#   top       fused score of the best hit (it includes BM25 coverage and the alias bonus)
#   gap       how far it leads the runner-up
#   anchor    nearest out-of-scope anchor's cosine minus the best guide chunk's
# Coverage and "names the guide" on their own were tried and dropped: the knowledge base's own
# sample questions name their guide and share its words far more often than citizens' questions
# do, so a model leaning on them refused most real questions (tests/data/questions.yml: 0.47
# answered right with them, 0.91 without).
FEATURES: tuple[str, ...] = ("top", "gap", "anchor")

# Aspect phrasings for alias positives: one per alias, in turn, so every build is the same.
ALIAS_SUFFIXES: tuple[str, ...] = ("需要什么材料", "要多久", "在哪里办", "收费吗", "怎么办理", "电话是多少", "有什么条件")
FOLDS = 5
SEED = 13
# Scoring one example costs a search: a 5,000-guide knowledge base has ~60,000 of them, so a build
# calibrates on a random sample of its positives (spread over all guides' folds) and all anchors.
MAX_POSITIVES = 2000


class CalibrationError(RuntimeError):
    """The knowledge base gives too few examples to calibrate on."""


@dataclass
class DecisionModel:
    """A logistic model over FEATURES (standardised) with its two probability thresholds."""

    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    answer_at: float
    confirm_at: float
    spread: float  # typical top score of right answers minus that of off-topic ones (a score unit)
    floor: float  # typical top score of an off-topic question: scores are read as floor + k × spread
    report: dict[str, Any] = field(default_factory=dict)

    def probability(self, features: Sequence[float]) -> float:
        z = sum(w * (x - m) / s for w, x, m, s in zip(self.weights, features, self.mean, self.scale, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z + self.bias))))

    def as_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionModel:
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError(f"决策模型的特征 {data.get('features')} 与程序的 {list(FEATURES)} 不一致：请重新 build")
        try:
            return cls(**{key: value for key, value in data.items() if key != "features"})
        except TypeError as error:  # written by another version of this program
            raise ValueError(f"决策模型的格式与程序不一致（{error}）：请重新 build") from error


@dataclass
class Example:
    """One calibration question: its vector, the guide it belongs to (None: off-topic), the chunks
    to leave out of the search while scoring it, and its fold."""

    text: str
    kind: str  # question | faq | alias | anchor
    guide_id: str | None
    exclude: tuple[int, ...]
    fold: int
    vector: np.ndarray | None = None


def examples_from(retriever: Retriever, vectors: np.ndarray, folds: int = FOLDS) -> list[Example]:
    """The knowledge base's own positives and negatives, guides spread over folds at random."""
    data = retriever.data
    guide_ids = sorted(data.guides)
    random.Random(SEED).shuffle(guide_ids)
    fold_of = {guide_id: index % folds for index, guide_id in enumerate(guide_ids)}
    examples: list[Example] = []
    anchors = 0
    for index, chunk in enumerate(data.chunks):
        if chunk.kind == QUESTION and chunk.guide_id:
            examples.append(Example(chunk.text, QUESTION, chunk.guide_id, (index,), fold_of[chunk.guide_id], vectors[index]))
        elif chunk.kind == FAQ and chunk.guide_id:
            question = chunk.content.split("\n", 1)[0].strip()
            examples.append(Example(question, FAQ, chunk.guide_id, (index,), fold_of[chunk.guide_id]))
        elif chunk.kind == ANCHOR:
            examples.append(Example(chunk.text, ANCHOR, None, (index,), anchors % folds, vectors[index]))
            anchors += 1
    turn = 0
    for guide_id in sorted(data.guides):
        for alias in data.guides[guide_id]["aliases"]:
            text = alias + ALIAS_SUFFIXES[turn % len(ALIAS_SUFFIXES)]
            examples.append(Example(text, "alias", guide_id, (), fold_of[guide_id]))
            turn += 1
    positives = [e for e in examples if e.guide_id]
    if len(positives) > MAX_POSITIVES:
        keep = {id(e) for e in random.Random(SEED).sample(positives, MAX_POSITIVES)}
        examples = [e for e in examples if not e.guide_id or id(e) in keep]
    return examples


def _fold_bm25(retriever: Retriever, chunk_tokens: Sequence[Sequence[str]], left_out: set[int]) -> BM25Index:
    """BM25 over the same units with the left-out chunks' words removed (their guide keeps the rest)."""
    data = retriever.data
    words: dict[str, list[str]] = {name: [] for name in data.units}
    for index, (chunk, tokens) in enumerate(zip(data.chunks, chunk_tokens, strict=True)):
        unit = lexical_unit(chunk)
        if unit is not None and index not in left_out:
            words[unit].extend(tokens)
    return BM25Index.build([words[name] for name in data.units])


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float], list[float], float]:
    from sklearn.linear_model import LogisticRegression  # only the build needs scikit-learn

    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit((x - mean) / scale, y)
    return mean.tolist(), scale.tolist(), model.coef_[0].tolist(), float(model.intercept_[0])


def _threshold(p_negative: np.ndarray, share: float) -> float:
    """The lowest probability that at most `share` of the off-topic examples reach."""
    allowed = math.floor(share * len(p_negative))
    ranked = np.sort(p_negative)[::-1]
    above = ranked[allowed] if allowed < len(ranked) else 0.0  # the first one that must stay below
    return float(min(0.99, max(0.01, above + 1e-6)))


def _rates(p: np.ndarray, right: np.ndarray, positive: np.ndarray, answer_at: float, confirm_at: float) -> dict[str, float]:
    def ratio(mask: np.ndarray, of: np.ndarray) -> float:
        return round(float(mask[of].mean()), 4) if of.any() else 1.0

    negative = ~positive
    return {
        "top1": ratio(right, positive),
        "answered_right": ratio(right & (p >= answer_at), positive),
        "within_band": ratio(right & (p >= confirm_at), positive),
        "inscope_not_found": ratio(p < confirm_at, positive),
        "offtopic_refused": ratio(p < confirm_at, negative),
        "offtopic_answered": ratio(p >= answer_at, negative),
    }


def calibrate(
    retriever: Retriever,
    vectors: np.ndarray,
    chunk_tokens: Sequence[Sequence[str]],
    encode: Callable[[list[str]], np.ndarray],
    settings: Settings,
) -> DecisionModel:
    """Fit the decision model on the knowledge base behind `retriever` (see the module docstring).

    `vectors` and `chunk_tokens` are the index's own, row for row with its chunks; `encode` embeds
    the few calibration texts that are not chunks (FAQ headings, alias phrasings)."""
    examples = examples_from(retriever, vectors)
    missing = [e for e in examples if e.vector is None]
    if missing:
        for example, vector in zip(missing, encode([e.text for e in missing]), strict=True):
            example.vector = vector
    positives = sum(1 for e in examples if e.guide_id)
    negatives = len(examples) - positives
    if positives < 10 or negatives < 5 or len(retriever.data.guides) < 2:
        raise CalibrationError(f"知识库的校准样例太少（正例 {positives} 个、负例 {negatives} 个，至少 10 / 5 个，指南至少 2 个）："
                               "请给指南补充 questions: 典型问法，或在 out_of_scope.yml 补充无关话题")
    folds = max(e.fold for e in examples) + 1
    features = np.zeros((len(examples), len(FEATURES)))
    right = np.zeros(len(examples), dtype=bool)
    for fold in range(folds):
        left_out = {i for e in examples if e.fold == fold and e.kind in (QUESTION, FAQ) for i in e.exclude}
        bm25 = _fold_bm25(retriever, chunk_tokens, left_out)
        for row, example in enumerate(examples):
            if example.fold != fold:
                continue
            values, best = retriever.features(example.text, example.vector, exclude=set(example.exclude), bm25=bm25)
            features[row] = values
            right[row] = example.guide_id is not None and best == example.guide_id
    fold_of = np.array([e.fold for e in examples])
    positive = np.array([e.guide_id is not None for e in examples])
    # Out-of-fold probabilities: each fold scored by a model fitted without its guides.
    p = np.zeros(len(examples))
    for fold in range(folds):
        train = fold_of != fold
        if len(set(positive[train].tolist())) < 2:
            raise CalibrationError("校准失败：训练折里只有一类样例，请补充指南的典型问法或无关话题")
        mean, scale, weights, bias = _fit(features[train], positive[train])
        probe = DecisionModel(mean, scale, weights, bias, 1.0, 1.0, 0.0, 0.0)
        p[~train] = [probe.probability(row) for row in features[~train]]
    answer_at = settings.answer_probability
    confirm_at = min(answer_at, _threshold(p[~positive], settings.calibration_confirm_offtopic))
    mean, scale, weights, bias = _fit(features, positive)
    top = features[:, FEATURES.index("top")]
    floor = float(np.median(top[~positive]))
    spread = float(np.median(top[right]) - floor) if right.any() else 0.1
    by_kind = {kind: int(sum(1 for e in examples if e.kind == kind)) for kind in (QUESTION, FAQ, "alias", ANCHOR)}
    report = {
        "method": f"逻辑回归（{', '.join(FEATURES)}），指南分 {folds} 折交叉验证，样例本身的切块不参与检索",
        "examples": {"positive": positives, "negative": negatives, **by_kind},
        "cv": _rates(p, right, positive, answer_at, confirm_at),
        "targets": {"answer_probability": settings.answer_probability, "confirm_offtopic": settings.calibration_confirm_offtopic},
    }
    return DecisionModel(mean, scale, weights, bias, round(answer_at, 4), round(confirm_at, 4), round(max(spread, 0.01), 4),
                         round(floor, 4), report)
