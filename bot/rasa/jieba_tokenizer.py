"""A Rasa tokenizer for Chinese: jieba, minus whitespace tokens, with the guides' names as words.

Rasa's own JiebaTokenizer emits whitespace as tokens (Rasa issue 7910), which pollutes the word
features. This subclass drops them, and loads the title and aliases of every service guide into
jieba's dictionary, so "企业开办" or "用水报装" stay one token. The names are read from the guide
files each time the model is trained *or loaded*: a guide added later is tokenised as a word
without retraining (which guide a user means is decided by the retriever, not by Rasa).

Used in config.yml::

    pipeline:
      - name: bot.rasa.jieba_tokenizer.GuideJiebaTokenizer
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jieba
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from knowledge.sources.guides import guide_names  # the one guide reader (standard library and PyYAML only)

GUIDES_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "guides"
_loaded_from: set[Path] = set()


def load_guide_words(folder: Path = GUIDES_DIR) -> None:
    """Add the guide names to jieba's dictionary (once per process and folder)."""
    if folder in _loaded_from or not folder.is_dir():
        return
    for name in guide_names(folder):
        jieba.add_word(name, freq=2000)
    _loaded_from.add(folder)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class GuideJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer without whitespace tokens, knowing the guides' titles and aliases."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GuideJiebaTokenizer:
        load_guide_words()
        return super().create(config, model_storage, resource, execution_context)  # type: ignore[return-value]

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> GuideJiebaTokenizer:
        load_guide_words()
        return super().load(config, model_storage, resource, execution_context, **kwargs)  # type: ignore[return-value]

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        return [token for token in super().tokenize(message, attribute) if token.text.strip()]
