"""A Rasa intent classifier that blends DIET with a linear model over the same features.

Why: on our ~2,000 Chinese examples DIET memorises the training phrasing (train accuracy 1.0)
and is confidently wrong on new wordings; 5-fold cross-validation gave intent macro-F1 0.873
and out_of_scope recall 0.845. A multinomial logistic regression over the very same features
(jieba char n-grams and words from CountVectorsFeaturizer, the USE sentence vector), with
tf-idf weighting and each featurizer's block normalised, generalises better: with this component
the same cross-validation gives 0.941 / 0.953 (`make eval-nlu`). DIET stays in the pipeline and still votes: the final
distribution is ``(1 - diet_weight) * linear + diet_weight * DIET``, so DIET breaks near-ties
and the linear model keeps DIET's over-confident mistakes from winning.

Put it right after DIETClassifier; FallbackClassifier then reads the blended confidence::

    - name: DIETClassifier
    - name: bot.rasa.intent_ensemble.LinearIntentEnsemble
      diet_weight: 0.3
    - name: FallbackClassifier

The model is stored as plain numpy arrays (coefficients, idf, block layout): no pickle to
trust when a model file is loaded.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

MODEL_FILE = "linear_intent.npz"
logger = logging.getLogger(__name__)


def _sentence_blocks(message: Message) -> dict[str, Any]:
    """The message's sentence-level TEXT features, one matrix (1 × d) per featurizer."""
    return {
        str(feature.origin): feature.features
        for feature in message.features
        if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentEnsemble(IntentClassifier, GraphComponent):
    """Logistic regression on tf-idf weighted sentence features, blended with DIET's ranking."""

    @classmethod
    def required_components(cls) -> list[type]:
        # Only featurizers: Rasa checks this on the training graph too, where DIET's training
        # node does not run before ours. DIET's ranking is read at prediction time, when present.
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "diet_weight": 0.3,  # share of DIET's distribution in the blend (0 = linear only)
            "C": 30.0,  # inverse regularisation; 3-30 all scored within 0.01 in cross-validation
            "dense_weight": 2.0,  # a dense vector's length relative to each unit-length sparse block
            "max_iter": 5000,
            "ranking_length": 10,
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classes: list[str] = []
        self.coef = np.zeros((0, 0))
        self.intercept = np.zeros(0)
        self.blocks: list[tuple[str, int, bool]] = []  # (featurizer, width, is_sparse)
        self.idf: dict[str, np.ndarray] = {}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentEnsemble:
        return cls(config, model_storage, resource)

    # -- features ---------------------------------------------------------------------------
    def _matrix(self, messages: list[Message]) -> scipy.sparse.csr_matrix:
        """One row per message: each block weighted (log tf × idf for counts) and normalised."""
        rows = []
        for message in messages:
            found = _sentence_blocks(message)
            parts = []
            for origin, width, is_sparse in self.blocks:
                block = found.get(origin)
                if block is None or block.shape[1] != width:
                    parts.append(scipy.sparse.csr_matrix((1, width)))
                    continue
                if is_sparse:
                    values = scipy.sparse.csr_matrix(block, dtype=np.float64)
                    values.data = np.log1p(values.data)  # sublinear tf: a repeated character is not 4× the evidence
                    values = values.multiply(self.idf[origin]).tocsr()
                    scale = 1.0
                else:
                    values = scipy.sparse.csr_matrix(np.asarray(block, dtype=np.float64))
                    scale = float(self.config["dense_weight"])
                norm = np.sqrt(values.multiply(values).sum())
                parts.append(values * (scale / norm) if norm > 0 else values)
            rows.append(scipy.sparse.hstack(parts, format="csr"))
        return scipy.sparse.vstack(rows, format="csr")

    def _learn_layout(self, messages: list[Message]) -> None:
        first = _sentence_blocks(messages[0])
        self.blocks = [(origin, int(block.shape[1]), scipy.sparse.issparse(block)) for origin, block in sorted(first.items())]
        self.idf = {}
        for origin, width, is_sparse in self.blocks:
            if not is_sparse:
                continue
            document_frequency = np.zeros(width)
            for message in messages:
                block = _sentence_blocks(message).get(origin)
                if block is not None:
                    document_frequency[scipy.sparse.csr_matrix(block).indices] += 1
            # scikit-learn's smooth idf
            self.idf[origin] = np.log((1 + len(messages)) / (1 + document_frequency)) + 1.0

    # -- training and prediction ------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT) and _sentence_blocks(m)]
        if not examples:
            return self._resource
        self._learn_layout(examples)
        model = LogisticRegression(C=float(self.config["C"]), max_iter=int(self.config["max_iter"]))
        model.fit(self._matrix(examples), [m.get(INTENT) for m in examples])
        self.classes = [str(name) for name in model.classes_]
        self.coef, self.intercept = model.coef_, model.intercept_
        self.persist()
        return self._resource

    def _linear_probabilities(self, messages: list[Message]) -> np.ndarray:
        scores = np.asarray(self._matrix(messages) @ self.coef.T + self.intercept)
        if len(self.classes) == 2:  # scikit-learn fits two classes as one logistic score
            scores = np.hstack([np.zeros_like(scores), scores])
        scores = scores - np.max(scores, axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def process(self, messages: list[Message]) -> list[Message]:
        scored = [m for m in messages if m.get(TEXT) and _sentence_blocks(m)]
        if not self.classes or not scored:
            return messages  # untrained or nothing to read: DIET's answer stands
        weight = float(self.config["diet_weight"])
        for message, linear in zip(scored, self._linear_probabilities(scored), strict=True):
            blended = {name: (1.0 - weight) * float(p) for name, p in zip(self.classes, linear, strict=True)}
            for entry in message.get(INTENT_RANKING_KEY) or []:
                blended[entry["name"]] = blended.get(entry["name"], 0.0) + weight * float(entry["confidence"])
            ranking = sorted(({"name": name, "confidence": p} for name, p in blended.items()), key=lambda e: -e["confidence"])
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[: int(self.config["ranking_length"])], add_to_output=True)
        return messages

    # -- storage ----------------------------------------------------------------------------
    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as folder:
            np.savez(
                folder / MODEL_FILE,
                classes=np.array(self.classes),
                coef=self.coef,
                intercept=self.intercept,
                block_names=np.array([name for name, _, _ in self.blocks]),
                block_widths=np.array([width for _, width, _ in self.blocks]),
                block_sparse=np.array([is_sparse for _, _, is_sparse in self.blocks]),
                **{f"idf::{name}": values for name, values in self.idf.items()},
            )

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentEnsemble:
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as folder:
                stored = np.load(folder / MODEL_FILE, allow_pickle=False)
                component.classes = [str(name) for name in stored["classes"]]
                component.coef, component.intercept = stored["coef"], stored["intercept"]
                component.blocks = [
                    (str(name), int(width), bool(is_sparse))
                    for name, width, is_sparse in zip(stored["block_names"], stored["block_widths"], stored["block_sparse"], strict=True)
                ]
                component.idf = {key.split("::", 1)[1]: stored[key] for key in stored.files if key.startswith("idf::")}
        except (ValueError, FileNotFoundError):
            # Nothing trained (no intent examples): DIET alone. Said aloud, since it changes accuracy.
            logger.warning("LinearIntentEnsemble: no trained model in %s, DIET's intents are used alone", resource.name)
        return component

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not 0.0 <= float(config.get("diet_weight", 0.3)) <= 1.0:
            raise ValueError("LinearIntentEnsemble: diet_weight must be between 0 and 1")
