"""The decision model: how sure the retriever is that its best hit answers a question, learnt at
build time from the knowledge base being published, never from a fixed question file.

Similarity scores have a different scale for every embedding model and knowledge base, so no
score threshold is a constant. Instead every build fits two small logistic models over a few
retrieval features of a question (``FEATURES``): ``scope`` (is it the knowledge base's kind of
question or off-topic?) and ``known`` (is its best hit the right guide, or does the knowledge base
lack the procedure?), from examples the knowledge base itself provides:

- its guides' sample ``questions:`` and 常见问题 headings, asked without their guide's own names as
  citizens ask (``examples_from``), and aliases asked with an aspect ("装自来水要多久"), each scored
  with its own chunk left out of the search (a citizen's words are never verbatim in the index): right
  when their guide comes first;
- the same examples asked once more with their whole guide left out: a procedure the knowledge
  base does not have ("unknown"; its best hit is wrong by construction);
- the out-of-scope anchors (knowledge/out_of_scope.yml), each left out: off-topic.

Every example is searched as a real question is: its embedding blended with its item words', BM25 without
the common question words (knowledge/retrieval/item_words.py). Those words are learnt here, first, from the
same knowledge base, and published with the model (``common_words``), as are the knowledge base's everyday words
(``everyday_words``: a question whose words only its best guide holds is answered though the model would confirm it,
everyday words aside; knowledge/retrieval/sole_words.py).

The guides are split into folds: the model that scores a fold's examples was fitted on the other
folds' guides, so the numbers say how it transfers to guides it has not seen. Two thresholds come
from those out-of-fold probabilities:

- answer directly when ``known`` reaches ``answer_at`` (the lowest probability that at most
  ``calibration_unknown_answered`` of the "unknown" examples reach: hundreds of examples, a stable
  quantile) and ``scope`` reaches ``scope_at`` (``scope_answer_probability``, 0.65: clearly likelier
  the knowledge base's kind of question than an off-topic one, and at least ``confirm_at``);
- "not found" when ``scope`` is below ``confirm_at`` (the lowest probability that at most
  ``calibration_confirm_offtopic`` of the anchors reach, lowered if need be so that at most
  ``calibration_inscope_not_found`` of the held-out guides' own questions fall below it);
- in between, ask "您问的是【X】的…吗？".

Tried on the development set (tests/data/dev/) and dropped: the scope model alone (it answered
42-75% of questions about procedures the knowledge base lacks; with both, 25-42%), the known model
alone (it answered more off-topic questions), and a quantile of the ~70 anchors for answering
(it rests on 3 or 4 of them and swung from 0.25 to 0.71 between two knowledge bases).

Which guides are "close enough to ask which one" is a margin in score units (``spread``, the
calibrated gap between right answers' and off-topic questions' typical scores). Deriving that
margin from where the knowledge base's own questions went wrong was tried on the development set:
it swung from 0.017 to 0.034 between two knowledge bases and made the gate refuse adding guides.

Usage::

    model = calibrate(retriever, vectors, chunk_terms, encode, settings)   # at build time
    model.probabilities(features)    # (in scope 0.97, right 0.88)
    model.report["cv"]["within_band"]
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.index.bm25 import ChunkTerms
from knowledge.index.calibration_folds import score_split
from knowledge.index.chunks import ANCHOR, FAQ, QUESTION
from knowledge.index.logistic import fit_logistic
from knowledge.retrieval.item_words import blend, common_question_words, item_text
from knowledge.retrieval.sole_words import everyday_words

if TYPE_CHECKING:  # the retriever imports this module; the type is only for signatures
    from knowledge.retrieval.retriever import Retriever
    from knowledge.settings import Settings

# Retrieval features of a question, computed by Retriever.features():
#   top       fused score of the best hit (it includes BM25 coverage and the alias bonus)
#   gap       how far it leads the runner-up
#   anchor    nearest out-of-scope anchor's cosine minus the best guide chunk's
#   lead      how far it leads the first runner-up that covers the question's item words about as well
#             (Retriever._features; a runner-up close only in the embedding is no evidence against it)
# Coverage and "names the guide" as features were tried and dropped: the knowledge base's own sample questions
# name their guide and share its words far more often than citizens' questions do, so a model leaning on them
# refused most real questions (tests/data/questions.yml: 0.47 answered right with them, 0.91 without).
# Bumped whenever what a version's decision model means changes (features, how questions are searched):
# `build --if-changed` (make run) rebuilds a version of an older format, so an upgrade takes effect.
# 2 = item words (common_words) and the lead feature; 3 = the "not found" line also bounded by the held-out
# guides' own questions (calibration_inscope_not_found), with the broadened anchors; 4 = that line at the anchors'
# 10% quantile instead of 3% (calibration_confirm_offtopic: more "您问的是…吗？", fewer wrong "not found");
# 5 = sample questions asked without their guide's names (examples_from); 6 = the everyday words (everyday_words),
# never a guide's sole words (sole_words.py); 7 = scores hold the names' character pairs (name_grams.py).
DECISION_FORMAT = 7
FEATURES: tuple[str, ...] = ("top", "gap", "anchor", "lead")
# Which of them each model reads. `scope` (off-topic or not) keeps the plain gap: with `lead` it refused
# 1.5-3 points fewer off-topic questions on the development sets. `known` (is the best hit right) reads
# `lead` instead: near ties with a catch-all or a same-way-asked guide stop holding back answers whose
# item words only the best guide has (development sets, added guides: answered right +1 to +10 points,
# off-topic answered no more). An index calibrated before `lead` existed reads the first three as it did.
SCOPE_INPUTS: tuple[str, ...] = ("top", "gap", "anchor")
KNOWN_INPUTS: tuple[str, ...] = ("top", "lead", "anchor")

# Aspect phrasings for alias positives: one per alias, in turn, so every build is the same.
ALIAS_SUFFIXES: tuple[str, ...] = ("需要什么材料", "要多久", "在哪里办", "收费吗", "怎么办理", "电话是多少", "有什么条件")
FOLDS = 5
SEED = 13
POSITIVE, ORPHAN = "positive", "unknown"  # example kinds in the fit (besides ANCHOR)
# Scoring one example costs a search: a 5,000-guide knowledge base has ~60,000 of them, so a build
# calibrates on a random sample of its positives (spread over all guides' folds) and all anchors.
MAX_POSITIVES = 2000
MIN_UNNAMED = 4  # letters or digits a sample question keeps without its guide's names ("要多久？" is not a question)


class CalibrationError(RuntimeError):
    """The knowledge base gives too few examples to calibrate on."""


@dataclass
class Logistic:
    """A logistic model over some of FEATURES (`inputs`, their positions), standardised."""

    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    inputs: list[int] = field(default_factory=lambda: [0, 1, 2])  # absent in models fitted before `lead`

    def probability(self, features: Sequence[float]) -> float:
        values = [features[i] for i in self.inputs]
        z = sum(w * (x - m) / s for w, x, m, s in zip(self.weights, values, self.mean, self.scale, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z + self.bias))))

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, names: Sequence[str] = SCOPE_INPUTS) -> Logistic:
        inputs = [FEATURES.index(name) for name in names]
        x = x[:, inputs]
        mean = x.mean(axis=0)
        scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
        # LogisticRegression(C=1.0, class_weight="balanced") fitted to its optimum, without importing scikit-learn
        coef, intercept = fit_logistic((x - mean) / scale, y, c=1.0)
        return cls(mean.tolist(), scale.tolist(), coef.tolist(), intercept, inputs)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.array([self.probability(row) for row in x])


@dataclass
class DecisionModel:
    """Two logistic models over FEATURES and the thresholds on them (see the module docstring)."""

    scope: Logistic  # the knowledge base's kind of question, or off-topic
    known: Logistic  # its best hit is the right guide, or the knowledge base lacks the procedure
    answer_at: float  # on `known`; answering also needs `scope` >= scope_at
    scope_at: float
    confirm_at: float  # on `scope`: below it, "not found"
    spread: float  # typical top score of right answers minus that of off-topic ones (a score unit)
    floor: float  # typical top score of an off-topic question: scores are read as floor + k × spread
    report: dict[str, Any] = field(default_factory=dict)
    # The words most guides' sample questions share (item_words.py): the retriever searches with the
    # question's embedding blended with that of the question without them.
    common_words: list[str] = field(default_factory=list)
    # The knowledge base's words that general Chinese uses a lot ("钱", "老人"): never a guide's sole words, however few
    # guides say them (knowledge/retrieval/sole_words.py). None: calibrated before they were learnt (no sole-word answers).
    everyday_words: list[str] | None = None

    def probabilities(self, features: Sequence[float]) -> tuple[float, float]:
        """(in scope, right) for one question's features."""
        return self.scope.probability(features), self.known.probability(features)

    def as_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionModel:
        stored = list(data.get("features", []))
        if stored not in (list(FEATURES), list(SCOPE_INPUTS)):  # SCOPE_INPUTS: calibrated before `lead` existed
            raise ValueError(f"决策模型的特征 {data.get('features')} 与程序的 {list(FEATURES)} 不一致：请重新 build")
        try:
            values = {key: value for key, value in data.items() if key != "features"}
            return cls(**{**values, "scope": Logistic(**values["scope"]), "known": Logistic(**values["known"])})
        except (TypeError, KeyError) as error:  # written by another version of this program
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
    """The knowledge base's own positives and negatives, guides spread over folds at random.

    A sample question or 常见问题 heading is asked without its own guide's names ("施工许可证多久能批下来"
    → "多久能批下来"; ``without_names``): the guide's author writes them, citizens mostly describe their case
    instead ("路边绿化带的树要挪个位置，申请交了几天能批"). Fitted on named examples, the model learnt that
    a right answer scores like a named question and asked "您问的是…吗？" for most citizens' questions about
    added guides; asked without the names, right and unknown examples look like citizens' (dev sets)."""
    data = retriever.data
    guide_ids = sorted(data.guides)
    random.Random(SEED).shuffle(guide_ids)
    fold_of = {guide_id: index % folds for index, guide_id in enumerate(guide_ids)}
    # Each guide's own names, longest first (a title before the alias inside it); an alias two guides share is both's.
    names_of = {guide_id: sorted({name.lower() for name in (guide["title"], *guide["aliases"]) if len(name) >= 2}, key=len, reverse=True)
                for guide_id, guide in data.guides.items()}
    examples: list[Example] = []
    anchors = 0
    for index, chunk in enumerate(data.chunks):
        if chunk.kind == QUESTION and chunk.guide_id:
            text = without_names(chunk.text, names_of.get(chunk.guide_id, []))
            vector = vectors[index] if text == chunk.text else None  # a changed text is embedded anew
            examples.append(Example(text, QUESTION, chunk.guide_id, (index,), fold_of[chunk.guide_id], vector))
        elif chunk.kind == FAQ and chunk.guide_id:
            question = without_names(chunk.content.split("\n", 1)[0].strip(), names_of.get(chunk.guide_id, []))
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


def without_names(text: str, names: Sequence[str]) -> str:
    """`text` lower-cased (as retrieval reads it) without any of `names` (lower-cased, longest first), or the
    text itself when none occurs or what is left is too short to be a question (punctuation not counted).
    What is left may be a fragment ("在哪里执照"): citizens type fragments too."""
    lowered = text.lower()
    for name in names:
        lowered = lowered.replace(name, "")
    left = sum(1 for char in lowered if char.isalnum())
    return lowered if lowered != text.lower() and left >= MIN_UNNAMED else text


def _threshold(p_negative: np.ndarray, share: float) -> float:
    """The lowest probability that at most `share` of the off-topic examples reach."""
    allowed = math.floor(share * len(p_negative))
    ranked = np.sort(p_negative)[::-1]
    above = ranked[allowed] if allowed < len(ranked) else 0.0  # the first one that must stay below
    return float(min(0.99, max(0.01, above + 1e-6)))


def _confirm_line(p_anchor: np.ndarray, p_positive: np.ndarray, settings: Settings) -> float:
    """Where "not found" ends: the lowest probability that at most ``calibration_confirm_offtopic`` of
    the left-out anchors reach, but never above what keeps all but ``calibration_inscope_not_found``
    of the left-out guides' own questions. The anchors are a fixed product file with near misses on
    purpose; on a knowledge base whose guides share words with them (loans, travel, accounts) their
    quantile alone would refuse many of its own questions. Both are quantiles of out-of-fold
    probabilities of the knowledge base being built, so the line holds for any size and model."""
    # 4 decimals, each bound rounded its safe way (plain rounding lifted the line above a question that had to stay).
    line = math.ceil(_threshold(p_anchor, settings.calibration_confirm_offtopic) * 1e4) / 1e4
    ranked = np.sort(p_positive)
    lost = math.floor(settings.calibration_inscope_not_found * len(ranked))
    if lost < len(ranked):  # the first held-out question that must stay at or above the line
        line = min(line, math.floor(float(ranked[lost]) * 1e4) / 1e4)
    return float(min(0.99, max(0.01, line)))


def _rates(scope: np.ndarray, known: np.ndarray, right: np.ndarray, kind: np.ndarray, model: DecisionModel) -> dict[str, float]:
    def ratio(mask: np.ndarray, of: np.ndarray) -> float:
        return round(float(mask[of].mean()), 4) if of.any() else 1.0

    positive, negative = kind == POSITIVE, kind == ANCHOR
    answered = (known >= model.answer_at) & (scope >= model.scope_at)
    kept = scope >= model.confirm_at
    return {
        "top1": ratio(right, positive),
        "answered_right": ratio(right & answered, positive),
        "within_band": ratio(right & kept, positive),
        "inscope_not_found": ratio(~kept, positive),
        "offtopic_refused": ratio(~kept, negative),
        "offtopic_answered": ratio(answered, negative),
        "unknown_answered": ratio(answered, kind == ORPHAN),
    }


def calibrate(
    retriever: Retriever,
    vectors: np.ndarray,
    chunk_terms: ChunkTerms,
    encode: Callable[[list[str]], np.ndarray],
    settings: Settings,
) -> DecisionModel:
    """Fit the decision model on the knowledge base behind `retriever` (see the module docstring).

    `vectors` and `chunk_terms` are the index's own, row for row with its chunks; `encode` embeds
    the calibration texts that are not chunks (FAQ headings, alias phrasings, sample questions without
    their guide's names)."""
    data = retriever.data
    words = common_question_words(data, settings.item_words_share, settings.item_words_min_guides)
    data.common_words = frozenset(words)  # the staged version's: its examples are searched as real questions will be
    everyday = everyday_words(_unit_terms(chunk_terms), settings.sole_words_everyday_idf)
    data.everyday_words = frozenset(everyday)  # ... and its names' pairs read without them (name_grams.py)
    examples = examples_from(retriever, vectors)
    # Searched as real questions are (Retriever.query_vectors: embedding blended with its item words'); new texts in one batch.
    weight = retriever.params.item_vector_weight
    items = [item_text(data.tokenizer, words, e.text) if weight > 0 else None for e in examples]
    texts = sorted({e.text for e in examples if e.vector is None} | {item for item in items if item is not None})
    encoded = dict(zip(texts, encode(texts), strict=True)) if texts else {}
    for example, item in zip(examples, items, strict=True):
        full = example.vector if example.vector is not None else encoded[example.text]
        example.vector = blend(full, None if item is None else encoded[item], weight)
    positives, anchors = sum(1 for e in examples if e.guide_id), sum(1 for e in examples if not e.guide_id)
    if positives < 10 or anchors < 5 or len(retriever.data.guides) < 2:
        raise CalibrationError(f"知识库的校准样例太少（正例 {positives} 个、负例 {anchors} 个，至少 10 / 5 个，指南至少 2 个）："
                               "请给指南补充 questions: 典型问法，或在 out_of_scope.yml 补充无关话题")
    rows = _score_examples(retriever, examples, chunk_terms)
    features = np.array([row[0] for row in rows])
    right = np.array([row[1] for row in rows])
    kind = np.array([row[2] for row in rows])
    fold_of = np.array([row[3] for row in rows])
    # Out-of-fold probabilities: each fold scored by models fitted without its guides.
    scope, known = np.zeros(len(rows)), np.zeros(len(rows))
    for fold in sorted(set(fold_of.tolist())):
        train = fold_of != fold
        in_scope = train & (kind != ORPHAN)
        if len(set(right[train].tolist())) < 2 or len(set((kind[in_scope] == POSITIVE).tolist())) < 2:
            raise CalibrationError("校准失败：训练折里只有一类样例，请补充指南的典型问法或无关话题")
        scope[~train] = Logistic.fit(features[in_scope], kind[in_scope] == POSITIVE, SCOPE_INPUTS)(features[~train])
        known[~train] = Logistic.fit(features[train], right[train], KNOWN_INPUTS)(features[~train])
    confirm_at = _confirm_line(scope[kind == ANCHOR], scope[kind == POSITIVE], settings)
    model = DecisionModel(
        scope=Logistic.fit(features[kind != ORPHAN], kind[kind != ORPHAN] == POSITIVE, SCOPE_INPUTS),
        known=Logistic.fit(features, right, KNOWN_INPUTS),
        answer_at=math.ceil(_threshold(known[kind == ORPHAN], settings.calibration_unknown_answered) * 1e4) / 1e4,
        scope_at=max(settings.scope_answer_probability, confirm_at), confirm_at=round(confirm_at, 4), spread=0.1, floor=0.0,
        common_words=words, everyday_words=everyday)
    top = features[:, FEATURES.index("top")]
    model.floor = round(float(np.median(top[kind == ANCHOR])), 4)
    model.spread = round(max(float(np.median(top[right]) - model.floor) if right.any() else 0.1, 0.01), 4)
    by_kind = {name: int(sum(1 for e in examples if e.kind == name)) for name in (QUESTION, FAQ, "alias", ANCHOR)}
    model.report = {
        "method": f"两个逻辑回归：属于本知识库的问题 vs 无关话题（{', '.join(SCOPE_INPUTS)}）；"
                  f"找对指南 vs 知识库里没有的事项（{', '.join(KNOWN_INPUTS)}）。"
                  f"指南分 {len(set(fold_of.tolist()))} 折交叉验证，样例本身的切块不参与检索，典型问法和常见问题标题去掉本指南的名称再问；"
                  "“知识库里没有的事项”= 去掉整个指南后再问它的问法",
        "examples": {"positive": positives, "negative": anchors, **by_kind, ORPHAN: int((kind == ORPHAN).sum())},
        "cv": _rates(scope, known, right, kind, model),
        "targets": {"unknown_answered": settings.calibration_unknown_answered, "confirm_offtopic": settings.calibration_confirm_offtopic,
                    "inscope_not_found": settings.calibration_inscope_not_found,
                    "scope_answer_probability": settings.scope_answer_probability},
    }
    return model


def _unit_terms(chunk_terms: ChunkTerms) -> list[str]:
    """The terms some guide or passage holds (BM25's vocabulary; the anchors' words are in no unit), read from the
    folds' copy: the build's writer thread may be sorting `unit_counts` in place meanwhile (fold_bm25.FoldBase)."""
    units_holding = chunk_terms.fold_base().df
    return [term for term, count in zip(chunk_terms.terms, units_holding, strict=True) if count]


def _score_examples(retriever: Retriever, examples: list[Example],
                    chunk_terms: ChunkTerms) -> list[tuple[list[float], bool, str, int]]:
    """(features, best hit right?, kind, fold) for every example, and for every guide example once
    more as an orphan: asked with its whole guide left out, like a procedure the knowledge base
    does not have (its best hit is then wrong by construction)."""
    chunks_of: dict[str, set[int]] = {}
    for index, chunk in enumerate(retriever.data.chunks):
        if chunk.guide_id:
            chunks_of.setdefault(chunk.guide_id, set()).add(index)
    folds = sorted({e.fold for e in examples})
    # Each fold's examples are scored against BM25 without the fold's own chunks (their guide keeps the rest).
    left_out = {fold: {i for e in examples if e.fold == fold and e.kind in (QUESTION, FAQ) for i in e.exclude} for fold in folds}
    ordered = [e for fold in folds for e in examples if e.fold == fold]
    # Each example is asked with its own chunk left out, and a guide's once more with its whole guide left out.
    excludes = [[set(e.exclude)] + ([chunks_of[e.guide_id]] if e.guide_id is not None else []) for e in ordered]

    def score(part: Sequence[int]) -> list[tuple[list[float], bool, str, int]]:
        rows: list[tuple[list[float], bool, str, int]] = []
        bm25: dict[int, Any] = {}
        for position in part:
            example = ordered[position]
            if example.fold not in bm25:  # BM25 over the same units with the left-out chunks' words removed
                bm25 = {example.fold: chunk_terms.fold(left_out[example.fold])}
            # One call for both askings (the orphan without its guide's names too): tokens, coverage, mentions shared.
            scored = retriever.features_many(example.text, example.vector, excludes[position], bm25=bm25[example.fold],
                                             names_without=(None, example.guide_id))
            values, best = scored[0]
            kind = ANCHOR if example.guide_id is None else POSITIVE
            rows.append((values, example.guide_id is not None and best == example.guide_id, kind, example.fold))
            if example.guide_id is not None:
                rows.append((scored[1][0], False, ORPHAN, example.fold))
        return rows

    # Half of the examples are scored in a forked child on the other core: same rows, same order (calibration_folds.py).
    return score_split(retriever, [(e.text, e.vector, x) for e, x in zip(ordered, excludes, strict=True)], score)
