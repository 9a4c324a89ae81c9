"""action_chitchat: small talk gets a friendly steer back to procedures; a question the NLU took for small talk
("周末上班不", "你们几点下班") is answered as the question it is.

The NLU learnt small talk from a few words that questions about an office share (上班, 下班, 在哪), and it never saw the
deployment's guides: such a question would otherwise get "聊天我不太在行" and lose the user. Only when and where the
office is open are taken from small talk's words (`asks_past_small_talk`): small talk asks about everything else too
("能陪我聊天吗" reads as a condition), and about the assistant itself ("你几点下班", "您是哪里人"). The answer action then
decides, as it does for a message the NLU is unsure of (nlu_fallback).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswer
from actions.asked import wording_aspect
from actions.conversation import text_of
from actions.dialogue import is_question
from actions.services import Services
from knowledge.sources.aspects import CONTACT, LOCATION

CHITCHAT_RESPONSE = "utter_chitchat"  # domain.yml
# A greeting before the question ("你好，周六上班吗"): only with punctuation after it, "你好可爱" is no greeting.
_GREETING = re.compile(r"^[你您]好[，,。！!~～\s]+")
# The assistant itself ("你几点下班", "您在哪上班"); 你们 is the office ("你们周末上班不").
_ADDRESSES_THE_ASSISTANT = re.compile(r"[你您](?!们)")


def asks_past_small_talk(text: str) -> bool:
    """Whether a message the NLU took for small talk asks when or where the office is open ("周末上班不", "你们中午有人吗",
    "你好，周六上班吗"): a question, not a remark ("我周末也上班"), not to the assistant ("你几点下班"), nor a button's payload."""
    core = _GREETING.sub("", (text or "").strip())
    return (bool(core) and not core.startswith("/") and not _ADDRESSES_THE_ASSISTANT.search(core) and is_question(core)
            and wording_aspect(core) in (CONTACT, LOCATION))


class ActionChitchat(Action):
    """Small talk: utter_chitchat; a question about the office in small talk's words: action_answer."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_chitchat"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if asks_past_small_talk(text_of(tracker)):
            return await ActionAnswer(self.services).run(dispatcher, tracker, domain)
        dispatcher.utter_message(response=CHITCHAT_RESPONSE)
        return []
