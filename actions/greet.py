"""action_greet: 你好 and "你是机器人吗", with example questions from the published guides.

The greeting used to be a fixed response in domain.yml, repeating example questions about the sample
guides; a deployment with its own guides would offer items it does not have. The examples now come
from the index version this turn is served from (knowledge/examples.py); with no index loaded the
greeting names no item.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.conversation import intent_of, send
from actions.knowledge_service import KnowledgeUnavailableError
from actions.services import Services
from knowledge.examples import Examples

BOT_CHALLENGE = "bot_challenge"  # the intent that asks what the assistant is


class ActionGreet(Action):
    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        try:
            examples = Examples.of(self.services.knowledge.retriever().data.manifest)
        except KnowledgeUnavailableError:
            examples = Examples()
        send(dispatcher, replies.greeting(examples, introduce=intent_of(tracker) == BOT_CHALLENGE))
        return []
