"""好评 / 差评 and what was missing (action_record_feedback, action_save_feedback_comment), and
是 / 不是 after an offer (action_reply_confirmation)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.answer import ActionAnswer
from actions.conversation import intent_of, options, send
from actions.handoff import handoff
from actions.knowledge_service import KnowledgeUnavailableError
from actions.services import Services
from knowledge.retrieval.retriever import GuideCandidate
from knowledge.sources.aspects import GENERAL
from protocol import (
    OFFERED_CONFIRM,
    OFFERED_HANDOFF,
    SLOT_CANDIDATES,
    SLOT_FEEDBACK_COMMENT,
    SLOT_LAST_ANSWER,
    SLOT_OFFERED,
    SLOT_PENDING_ASPECT,
    SLOT_PENDING_QUESTION,
)


class ActionRecordFeedback(Action):
    """Store a 好评 or 差评 for the last answer (a 差评 is followed by the comment form)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        rating = "bad" if intent_of(tracker) == "feedback_bad" else "good"
        last = tracker.get_slot(SLOT_LAST_ANSWER) or {}
        sender = tracker.sender_id
        self.services.records.later("评价", sender, lambda store: store.add_feedback(
            sender, rating, question=last.get("question"), guide_id=last.get("guide_id"),
            section=last.get("section"), index_version=last.get("index_version")))
        if rating == "good":
            dispatcher.utter_message(response="utter_feedback_thanks")
        return []


class ActionSaveFeedbackComment(Action):
    """Store what the user said was missing after a 差评."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_save_feedback_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        comment = (tracker.get_slot(SLOT_FEEDBACK_COMMENT) or "").strip()
        # The form takes any text as the comment; a request for people, or a button pressed instead
        # of typing (/feedback_good, /request_human…), is not one. Typed text is always the comment,
        # whatever its intent: "没说清楚表具费用谁出" reads like a 差评 and is exactly what we asked for.
        if intent_of(tracker) == "request_human":
            reply, events = await handoff(self.services, tracker, "request_human")
            send(dispatcher, reply)
            return [SlotSet(SLOT_FEEDBACK_COMMENT, None), *events]
        if comment.startswith("/"):
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet(SLOT_FEEDBACK_COMMENT, None)]
        if comment:
            sender = tracker.sender_id
            self.services.records.later("差评意见", sender, lambda store: store.add_comment(sender, comment[:2000]))
        dispatcher.utter_message(response="utter_feedback_comment_saved")
        return [SlotSet(SLOT_FEEDBACK_COMMENT, None)]


class ActionReplyConfirmation(Action):
    """是的 / 不用了: accept or decline what the previous turn offered."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_reply_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = intent_of(tracker)
        offered = tracker.get_slot(SLOT_OFFERED)
        if offered == OFFERED_CONFIRM and tracker.get_slot(SLOT_CANDIDATES):
            reply, events = self._after_confirm(tracker, affirmed=intent == "affirm")
            send(dispatcher, reply)
            return events
        if intent == "affirm" and offered == OFFERED_HANDOFF:
            reply, events = await handoff(self.services, tracker, "request_human")
            send(dispatcher, reply)
            return events
        if intent == "affirm" and tracker.get_slot(SLOT_CANDIDATES):
            dispatcher.utter_message(response="utter_ask_pick")
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet(SLOT_OFFERED, None), SlotSet(SLOT_CANDIDATES, None)]

    def _after_confirm(self, tracker: Tracker, *, affirmed: bool) -> tuple[replies.Reply, list[EventType]]:
        """是: answer the asked aspect of the guide we asked about; 不是: offer the others, 12345, 转人工."""
        hotline = self.services.settings.hotline
        try:
            retriever = self.services.knowledge.retriever()
        except KnowledgeUnavailableError:
            return replies.unavailable(hotline), []
        first, *others = tracker.get_slot(SLOT_CANDIDATES)
        aspect = tracker.get_slot(SLOT_PENDING_ASPECT) or GENERAL
        question = tracker.get_slot(SLOT_PENDING_QUESTION) or ""
        if affirmed:
            return ActionAnswer(self.services).answer_guide(retriever, retriever.guide(first), aspect, question)
        near = [GuideCandidate(guide_id, title, 0.0) for guide_id, title, _ in options(retriever, others)]
        reply = replies.not_found(near, hotline, declined=True)
        return reply, [SlotSet(SLOT_CANDIDATES, [c.guide_id for c in near] or None), SlotSet(SLOT_OFFERED, OFFERED_HANDOFF)]
