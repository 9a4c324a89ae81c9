"""The pipeline's first component: a message typed in traditional characters is read in simplified ones, full-width
letters and digits ("Ｃ１") in ASCII (knowledge.simplified.as_read).

Everything after it (jieba, the featurizers, the intent classifiers) and the custom actions, which read the parsed
text (`tracker.latest_message["text"]`), see "开办企业需要什么材料" for "開辦企業需要什麼材料"
(knowledge/simplified.py). Rasa stores the text as the user typed it in the conversation's events, so the staff's
transcript shows the citizen's own characters.

The training data is left as written: its few traditional examples ("謝謝", "你是誰") are there on purpose, and
converting them would only repeat simplified ones (and change the model trained from the same data).

Used in config.yml::

    pipeline:
      - name: bot.rasa.simplified_text.SimplifiedText
      - name: bot.rasa.jieba_tokenizer.GuideJiebaTokenizer
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from knowledge.simplified import as_read


# A featurizer in the recipe's terms: the recipe runs message tokenizers and featurizers, in pipeline order, on every
# message before the classifiers (rasa/engine/recipes/default_recipe.py); it adds no features.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SimplifiedText(GraphComponent):
    """Rewrites each message's text in simplified characters, before tokenization."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SimplifiedText:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and text:
                message.set(TEXT, as_read(text))
        return messages
