"""action_handoff: 转人工 and complaints: where to reach people, and a record for the staff."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import contact_replies, replies
from actions.answer import ActionAnswer
from actions.asked import asks_something
from actions.conversation import intent_of, matter_at_hand, refused_messages, send, text_of, transcript
from actions.dialogue import PEOPLE_OR_GRIEVANCE, PEOPLE_WORDS, is_bare_aspect, is_hypothetical, is_question, names_an_item
from actions.knowledge_service import KnowledgeUnavailableError
from actions.services import Services
from knowledge.records.staff_hours import StaffHours
from knowledge.retrieval.retriever import ANSWER, CONFIRM
from knowledge.sources.aspects import detect_aspect
from protocol import (
    OFFERED_CONFIRM,
    REASON_COMPLAIN,
    REASON_REQUEST_HUMAN,
    SLOT_CANDIDATES,
    SLOT_GUIDE,
    SLOT_LAST_ANSWER,
    SLOT_OFFERED,
    SLOT_PENDING_QUESTION,
)

logger = logging.getLogger(__name__)

async def handoff(services: Services, tracker: Tracker, reason: str) -> tuple[replies.Reply, list[EventType]]:
    """How to reach people, and a record with the transcript for the staff (its number in the reply)."""
    guide = None
    guide_id = tracker.get_slot(SLOT_GUIDE)
    # The question still open: the last reply asked back (offered guides or people) instead of answering. An answer,
    # a refusal or a policy answer since then clears what was offered, so its question is no longer open.
    asked_back = tracker.get_slot(SLOT_CANDIDATES) or tracker.get_slot(SLOT_OFFERED)
    waiting = tracker.get_slot(SLOT_PENDING_QUESTION) if asked_back else None
    if waiting:
        # the question still open is what the staff take over, and its matter is unsettled: not the guide answered
        # before it ("用水报装要多久", then "去哪里投诉营业执照办得慢" asked back, then 转人工), only the one a confirm named
        candidates = tracker.get_slot(SLOT_CANDIDATES) or []
        guide_id = candidates[0] if tracker.get_slot(SLOT_OFFERED) == OFFERED_CONFIRM and candidates else None
    # Asking for a person right after refusals (the button, or "转人工" naming nothing) hands over the last refused
    # question ("我的手机是138…" told for the staff asks nothing); a complaint or a request naming its matter does not.
    latest = text_of(tracker)
    plain = reason == REASON_REQUEST_HUMAN and (latest.startswith("/") or not names_an_item(latest))
    refused = None if waiting or not plain else next((text for text in refused_messages(tracker) if is_question(text)), None)
    if refused:
        guide_id = None  # the refused question is none of the matter answered before it ("今天天气怎么样" after 用水报装)
    if guide_id:
        try:
            guide = services.knowledge.retriever().guide(guide_id)
        except KnowledgeUnavailableError:
            guide = None
    last = tracker.get_slot(SLOT_LAST_ANSWER) or {}
    question = waiting or refused or last.get("question") or tracker.latest_message.get("text")
    lines = transcript(tracker, services.settings.staff_timezone)
    record_id = await services.records.now("转人工记录", tracker.sender_id, lambda store: store.add_handoff(
        tracker.sender_id, reason=reason, guide_id=guide_id, question=question, transcript=lines))
    settings = services.settings
    reply = contact_replies.handoff(guide, reason=reason, record_id=record_id, hotline=settings.hotline,
                                    on_duty=staff_on_duty(settings.staff_hours, settings.staff_timezone), staff_hours=settings.staff_hours)
    return reply, [SlotSet(SLOT_OFFERED, None), SlotSet(SLOT_CANDIDATES, None), SlotSet(SLOT_PENDING_QUESTION, None)]


def staff_on_duty(staff_hours: str, timezone: str) -> bool | None:
    """Whether a clerk can join now (settings.yml staff_hours); None, with an error logged, when the setting cannot be read."""
    try:
        return StaffHours.parse(staff_hours, timezone).on_duty()
    except ValueError as error:
        logger.error("%s", error)
        return None


class ActionHandoff(Action):
    """转人工 and complaints: where to reach people, and a handoff record for staff.

    The NLU learnt its intents on the sample guides' vocabulary; a question about a guide it never
    saw ("二类医疗器械备案在哪个窗口办") can come out as request_human or complain. So a message that
    says nothing of people or grievances, and that the retriever (calibrated on this knowledge base)
    is sure is its business and answers or can confirm, is answered as the question it is; so is a
    "要是…呢" about the conversation's guide."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if self.is_a_question_after_all(tracker):
            return await ActionAnswer(self.services).run(dispatcher, tracker, domain)
        reason = REASON_COMPLAIN if intent_of(tracker) == "complain" else REASON_REQUEST_HUMAN  # the intent names its reason
        reply, events = await handoff(self.services, tracker, reason)
        send(dispatcher, reply)
        return events

    def is_a_question_after_all(self, tracker: Tracker) -> bool:
        text = text_of(tracker)
        if not text or text.startswith("/"):
            return False
        grievances = set(PEOPLE_OR_GRIEVANCE.findall(text))
        if grievances:
            return self.asks_a_complaint_guide(text, grievances)
        if tracker.get_slot(SLOT_GUIDE) and (is_hypothetical(text, opening_only=True) or is_bare_aspect(text)
                                             or (asks_something(text) and not names_an_item(text))):
            # "要是眼看着要塌了呢，等不及批": a circumstance of the matter at hand, not a grievance; "收不收钱",
            # "那还要交什么" (no item, an aspect): another question about it.
            return True
        try:
            retriever = self.services.knowledge.retriever()  # scored as the answer action would score it
            result = retriever.run(text, detect_aspect(text), names=matter_at_hand(tracker, retriever) is None)
        except KnowledgeUnavailableError:
            return False
        return result.decision in (ANSWER, CONFIRM) and result.in_scope >= self.services.settings.out_of_scope_override_probability

    def asks_a_complaint_guide(self, text: str, grievances: set[str]) -> bool:
        """A question about complaining itself that names a guide of it ("营商环境投诉多久给答复", "营商环境投诉举报怎么办理":
        营商环境投诉举报 by its title or alias), which that guide answers (its unit, its reply time); a question the
        retriever answers with that guide, and no call for a person. A grievance that names no guide ("噪音扰民去哪里投诉",
        "窗口态度太差了，怎么投诉？"), or that asks for a person ("转人工，营商环境投诉多久给答复"), stays with staff."""
        if grievances & PEOPLE_WORDS or not (is_question(text) and asks_something(text)):
            return False
        try:
            retriever = self.services.knowledge.retriever()
            result = retriever.run(text, detect_aspect(text))
        except KnowledgeUnavailableError:
            return False
        return result.decision == ANSWER and result.guide_id in retriever.mentioned(text)
