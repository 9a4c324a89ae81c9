"""action_chitchat: small talk gets a friendly steer back to procedures; a question the NLU took for small talk
("周末上班不", "中午有人吗") is answered as the question it is.

The NLU learnt small talk from a few words that questions share (上班, 有人, 在哪), and it never saw the deployment's
guides: a question it reads as small talk would otherwise get "聊天我不太在行" and lose the user. The answer action
decides what answers it, as it does for a message the NLU is unsure of (nlu_fallback).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswer
from actions.asked import asks_past_small_talk
from actions.conversation import text_of
from actions.services import Services

CHITCHAT_RESPONSE = "utter_chitchat"  # domain.yml


class ActionChitchat(Action):
    """Small talk: utter_chitchat; a question in small talk's words: action_answer."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_chitchat"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if asks_past_small_talk(text_of(tracker)):
            return await ActionAnswer(self.services).run(dispatcher, tracker, domain)
        dispatcher.utter_message(response=CHITCHAT_RESPONSE)
        return []
