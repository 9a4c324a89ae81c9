"""好评 / 差评 and what was missing (action_record_feedback, action_save_feedback_comment), and
是 / 不是 after an offer (action_reply_confirmation)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_service, replies, runtime
from actions.answer import OFFERED_CONFIRM, OFFERED_HANDOFF, ActionAnswer
from actions.handoff import handoff
from actions.knowledge_service import KnowledgeUnavailableError
from knowledge.retrieval.aspects import GENERAL
from knowledge.retrieval.retriever import GuideCandidate


class ActionRecordFeedback(Action):
    """Store a 好评 or 差评 for the last answer (a 差评 is followed by the comment form)."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        rating = "bad" if intent == "feedback_bad" else "good"
        last = tracker.get_slot("last_answer") or {}
        store = runtime.records()
        runtime.record_later("评价", tracker.sender_id, lambda: store.add_feedback(
            tracker.sender_id, rating, question=last.get("question"), guide_id=last.get("guide_id"),
            section=last.get("section"), index_version=last.get("index_version")))
        if rating == "good":
            dispatcher.utter_message(response="utter_feedback_thanks")
        return []


class ActionSaveFeedbackComment(Action):
    """Store what the user said was missing after a 差评."""

    def name(self) -> str:
        return "action_save_feedback_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        comment = (tracker.get_slot("feedback_comment") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        # The form takes any text as the comment; a request for people, or a button pressed instead
        # of typing (/feedback_good, /request_human…), is not one. Typed text is always the comment,
        # whatever its intent: "没说清楚表具费用谁出" reads like a 差评 and is exactly what we asked for.
        if intent == "request_human":
            return [SlotSet("feedback_comment", None), *await handoff(dispatcher, tracker, "request_human")]
        if comment.startswith("/"):
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("feedback_comment", None)]
        if comment:
            store = runtime.records()
            runtime.record_later("差评意见", tracker.sender_id, lambda: store.add_comment(tracker.sender_id, comment[:2000]))
        dispatcher.utter_message(response="utter_feedback_comment_saved")
        return [SlotSet("feedback_comment", None)]


class ActionReplyConfirmation(Action):
    """是的 / 不用了: accept or decline what the previous turn offered."""

    def name(self) -> str:
        return "action_reply_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        offered = tracker.get_slot("offered")
        if offered == OFFERED_CONFIRM and tracker.get_slot("candidates"):
            return await self._after_confirm(dispatcher, tracker, affirmed=intent == "affirm")
        if intent == "affirm" and offered == OFFERED_HANDOFF:
            return await handoff(dispatcher, tracker, "request_human")
        if intent == "affirm" and tracker.get_slot("candidates"):
            dispatcher.utter_message(response="utter_ask_pick")
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("offered", None), SlotSet("candidates", None)]

    @staticmethod
    async def _after_confirm(dispatcher: CollectingDispatcher, tracker: Tracker, *, affirmed: bool) -> list[EventType]:
        """是: answer the asked aspect of the guide we asked about; 不是: offer the others, 12345, 转人工."""
        config = runtime.settings()
        try:
            retriever = knowledge_service.retriever()
        except KnowledgeUnavailableError:
            runtime.send(dispatcher, replies.unavailable(config.hotline))
            return []
        first, *others = tracker.get_slot("candidates")
        aspect = tracker.get_slot("pending_aspect") or GENERAL
        question = tracker.get_slot("pending_question") or ""
        if affirmed:
            return ActionAnswer()._answer_guide(dispatcher, retriever, retriever.guide(first), aspect, question)
        near = [GuideCandidate(guide_id, title, 0.0) for guide_id, title, _ in runtime.options(retriever, others)]
        runtime.send(dispatcher, replies.not_found(near, config.hotline, declined=True))
        return [SlotSet("candidates", [c.guide_id for c in near] or None), SlotSet("offered", OFFERED_HANDOFF)]

