"""action_handoff: 转人工 and complaints: where to reach people, and a record for the staff."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_service, replies, runtime
from actions.answer import ActionAnswer
from actions.knowledge_service import KnowledgeUnavailableError
from knowledge.retrieval.aspects import detect_aspect
from knowledge.retrieval.retriever import ANSWER, CONFIRM

logger = logging.getLogger(__name__)


async def handoff(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[EventType]:
    """Tell the user how to reach people, and leave the staff a record with the transcript."""
    config = runtime.settings()
    guide = None
    guide_id = tracker.get_slot("guide_id")
    if guide_id:
        try:
            guide = knowledge_service.retriever().guide(guide_id)
        except KnowledgeUnavailableError:
            guide = None
    last = tracker.get_slot("last_answer") or {}
    record_id = None
    store = runtime.records()
    write = runtime.writer.submit(store.add_handoff, tracker.sender_id, reason=reason, guide_id=guide_id,
                           question=last.get("question") or tracker.latest_message.get("text"), transcript=runtime.transcript(tracker))
    try:
        record_id = await asyncio.wait_for(asyncio.wrap_future(write), runtime.HANDOFF_WRITE_SECONDS)
    except Exception:
        # Timed out (the write may still land later) or failed: the user still gets the contacts.
        logger.exception("转人工记录写入失败或超时（对话 %s）", tracker.sender_id)
    runtime.send(dispatcher, replies.handoff(guide, reason=reason, record_id=record_id, hotline=config.hotline))
    return [SlotSet("offered", None), SlotSet("candidates", None)]


class ActionHandoff(Action):
    """转人工 and complaints: where to reach people, and a handoff record for staff.

    The NLU learnt its intents on the sample guides' vocabulary; a question about a guide it never
    saw ("二类医疗器械备案在哪个窗口办") can come out as request_human or complain. So a message that
    says nothing of people or grievances, and that the retriever (calibrated on this knowledge base)
    is sure is its business and answers or can confirm, is answered as the question it is."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if is_a_question_after_all(tracker):
            answer = ActionAnswer()
            return await answer.run(dispatcher, tracker, domain)
        return await handoff(dispatcher, tracker, "complain" if intent == "complain" else "request_human")


# Words that mean a person or a grievance: with one of them a message is a handoff whatever else it asks.
_PEOPLE_OR_GRIEVANCE = re.compile(
    r"人工|真人|客服|工作人员|办事员|转接|接线|投诉|举报|反映|态度|刁难|推诿|不作为|乱收费|太慢|太差|差劲|不满|生气|气死|"
    r"跑了好几|跑了几|不给办|拖着|敷衍|找人|人呢|有人吗|领导|曝光"
)


def is_a_question_after_all(tracker: Tracker) -> bool:
    text = (tracker.latest_message.get("text") or "").strip()
    if not text or text.startswith("/") or _PEOPLE_OR_GRIEVANCE.search(text):
        return False
    try:
        result = knowledge_service.retriever().run(text, detect_aspect(text))
    except KnowledgeUnavailableError:
        return False
    return result.decision in (ANSWER, CONFIRM) and result.in_scope >= runtime.settings().out_of_scope_override_probability


