"""The custom actions of the assistant (rasa-sdk). One class per action; the texts are in
replies.py, the retriever behind knowledge_service.py, the SQLite records in records.py.

- action_answer: every question (all aspect intents, ask_policy, out_of_scope, choose and the
  fallbacks). The retriever decides which guide; the intent decides which section.
- action_handoff: request_human and complain.
- action_record_feedback / action_save_feedback_comment: 好评 / 差评 and what was missing.
- action_reply_confirmation: affirm / deny after an offer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_service, replies
from actions import records as records_module
from actions.dialogue import is_elliptical, names_an_item, resolve_pick
from actions.knowledge_service import KnowledgeUnavailableError
from actions.records import Records
from knowledge.aspects import (
    CONDITIONS,
    CONTACT,
    FEE,
    GENERAL,
    LOCATION,
    MATERIALS,
    ONLINE,
    PROCESS,
    TIME_LIMIT,
    detect_aspect,
)
from knowledge.chunks import FAQ
from knowledge.retriever import AMBIGUOUS, ANSWER, CONFIRM, GuideCandidate, Hit, RetrievalResult, Retriever
from knowledge.settings import Settings, load_settings

logger = logging.getLogger(__name__)

# The aspect each intent asks about (intents are declared in domain.yml).
ASPECT_OF_INTENT: dict[str, str] = {
    "ask_materials": MATERIALS,
    "ask_process": PROCESS,
    "ask_time_limit": TIME_LIMIT,
    "ask_fee": FEE,
    "ask_location": LOCATION,
    "ask_contact": CONTACT,
    "ask_conditions": CONDITIONS,
    "ask_online": ONLINE,
    "ask_procedure": GENERAL,
}
OUT_OF_SCOPE = "out_of_scope"
OFFERED_CONFIRM = "confirm"  # slot `offered`: the last reply asked "您问的是【X】…吗？"
OFFERED_HANDOFF = "handoff"  # the last reply offered 转人工 (a 是的 accepts it)
ASK_POLICY = "ask_policy"
MAX_NEAR_MISSES = 3


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def records() -> Records:
    return Records(settings().records_db)


# Records are written on one background thread: a locked or full database (a backup, a purge, a
# report being read) costs a log line, never a user's wait. The handoff record is the exception:
# its number goes into the reply, so it is awaited, but only for HANDOFF_WRITE_SECONDS.
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
HANDOFF_WRITE_SECONDS = 2.0


def _record_later(what: str, sender_id: str, write: Callable[[], object]) -> None:
    def run() -> None:
        try:
            write()
        except Exception:
            logger.exception("%s写入失败（对话 %s）", what, sender_id)

    _writer.submit(run)


def wait_for_records() -> None:
    """Block until every record submitted so far is written (tests, shutdown)."""
    _writer.submit(lambda: None).result()


def _send(dispatcher: CollectingDispatcher, reply: replies.Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None)
    if reply.custom:
        dispatcher.utter_message(json_message=reply.custom)


def _options(retriever: Retriever, guide_ids: list[str]) -> list[tuple[str, str, list[str]]]:
    options = []
    for guide_id in guide_ids:
        guide = retriever.guide(guide_id)
        if guide is not None:  # a guide removed by a newer index is no longer offered
            options.append((guide_id, guide["title"], guide["aliases"]))
    return options


def _entity(tracker: Tracker, name: str) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def _transcript(tracker: Tracker) -> list[dict[str, str]]:
    """The conversation so far, user and bot texts, for the staff who take over."""
    lines = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            lines.append({"from": event["event"], "text": event["text"], "time": str(event.get("timestamp", ""))})
    return lines


class ActionAnswer(Action):
    """Answer a question from the knowledge base, completely and once, with whom to contact."""

    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events = self._respond(dispatcher, tracker)
        _log_question(tracker, dispatcher.messages)
        return events

    def _respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        config = settings()
        try:
            retriever = knowledge_service.retriever()  # one index version for this whole turn
        except KnowledgeUnavailableError:
            _send(dispatcher, replies.unavailable(config.hotline))
            return []
        text = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""

        picked = self._picked(tracker, retriever, text)
        if picked is not None:
            guide = retriever.guide(picked)
            # "2" or a button answers the pending question; "用水报装要多久" names an offered item but
            # asks its own question, which wins.
            own = None if text.startswith("/") else (ASPECT_OF_INTENT.get(intent) or detect_aspect(text))
            own = own if own != GENERAL else detect_aspect(text)
            aspect = own or tracker.get_slot("pending_aspect") or GENERAL
            question = text if own else (tracker.get_slot("pending_question") or text)
            return self._answer_guide(dispatcher, retriever, guide, aspect, question)

        aspect = self._aspect(tracker, intent, text)
        result = retriever.run(text, aspect)
        current = tracker.get_slot("guide_id")
        current = current if current and retriever.guide(current) else None  # a removed guide is forgotten
        named = retriever.mentioned(text)
        has_item = bool(named) or names_an_item(text)

        follow_up = bool(current) and is_elliptical(text)  # "那个体户呢？" in a conversation is a question
        # NLU's out_of_scope is trusted unless the message names a guide, follows up, or asks an aspect
        # ("…要几天") of something the retriever answers outright: the NLU never saw new guides' items.
        asks_known = bool(detect_aspect(text)) and result.decision == ANSWER
        if (intent == OUT_OF_SCOPE and not named and not follow_up and not asks_known
                and result.confidence < config.out_of_scope_override_probability):
            _send(dispatcher, replies.out_of_scope(config.hotline))
            return [SlotSet("candidates", None), SlotSet("offered", None)]
        if len(named) == 1 and (result.decision != ANSWER or result.guide_id not in named):
            # The user named the item: answer it, even if another guide scores a little higher.
            return self._answer_guide(dispatcher, retriever, retriever.guide(named.pop()), aspect, text, result)
        if current and not named and self._current_is_close(result, current, config.context_keep_margin * result.spread):
            # The conversation's guide is (nearly) as good as the best: stay with it ("燃气开户要多久"
            # after a gas question is not suddenly about bank accounts).
            return self._answer_guide(dispatcher, retriever, retriever.guide(current), aspect, text, result)
        if result.decision == ANSWER and (not current or result.guide_id == current or result.guide is None or has_item
                                          or result.confidence >= config.context_switch_probability):
            return self._answer_result(dispatcher, retriever, result, intent, text)
        if current and not has_item:
            # A follow-up without its own item ("那要多久？"): the same guide, the newly asked aspect.
            return self._answer_guide(dispatcher, retriever, retriever.guide(current), aspect, text)
        if not has_item:
            # "那要多久？" with nothing in context: any guide would be a guess.
            _send(dispatcher, replies.ask_item(aspect))
            return [SlotSet("candidates", None), SlotSet("pending_aspect", aspect), SlotSet("offered", "item")]
        if result.decision == AMBIGUOUS:
            return self._clarify(dispatcher, result.choices, aspect, text)
        if result.decision == ANSWER:
            return self._answer_result(dispatcher, retriever, result, intent, text)
        near = self._near_misses(result, config)
        if result.decision == CONFIRM and result.guide is not None:
            return self._confirm(dispatcher, result.guide, near, aspect, text)
        if intent == OUT_OF_SCOPE and not near:
            _send(dispatcher, replies.out_of_scope(config.hotline))
            return [SlotSet("candidates", None), SlotSet("offered", None)]
        _send(dispatcher, replies.not_found(near, config.hotline))
        return [SlotSet("candidates", [c.guide_id for c in near] or None), SlotSet("pending_aspect", aspect),
                SlotSet("pending_question", text), SlotSet("offered", OFFERED_HANDOFF)]

    # --- reading the message -----------------------------------------------------------------
    @staticmethod
    def _picked(tracker: Tracker, retriever: Retriever, text: str) -> str | None:
        """The guide picked from the options offered in the previous turn, if this reply picks one."""
        offered = tracker.get_slot("candidates") or []
        pick = _entity(tracker, "pick")
        if not offered:
            # A button of an older message still picks its guide.
            return pick if pick and retriever.guide(pick) else None
        return resolve_pick(text, _options(retriever, offered), pick)

    @staticmethod
    def _aspect(tracker: Tracker, intent: str, text: str) -> str:
        """The intent's aspect; the wording's when the intent is general; the previous one for "X呢？"."""
        from_intent = ASPECT_OF_INTENT.get(intent)
        if from_intent and from_intent != GENERAL:
            return from_intent
        from_wording = detect_aspect(text)
        if from_wording:
            return from_wording
        if is_elliptical(text) and tracker.get_slot("aspect"):
            return str(tracker.get_slot("aspect"))
        if tracker.get_slot("offered") == "item" and tracker.get_slot("pending_aspect"):
            return str(tracker.get_slot("pending_aspect"))  # "用水报装" after "您想了解哪个事项的办理时限？"
        return GENERAL

    # --- replying ------------------------------------------------------------------------------
    def _answer_result(self, dispatcher: CollectingDispatcher, retriever: Retriever, result: RetrievalResult,
                       intent: str, text: str) -> list[EventType]:
        if result.guide is None and result.passage is not None:  # a policy document answers best
            reply = replies.policy_answer(result.passage, confidence=result.confidence, index_version=result.index_version,
                                          hotline=settings().hotline)
            _send(dispatcher, reply)
            last = {"question": text, "guide_id": None, "section": result.passage.chunk.id, "index_version": result.index_version}
            return [SlotSet("last_answer", last), SlotSet("candidates", None), SlotSet("offered", None)]
        passage = result.passage if intent == ASK_POLICY else None
        return self._answer_guide(dispatcher, retriever, result.guide, result.aspect, text, result, passage)

    def _answer_guide(self, dispatcher: CollectingDispatcher, retriever: Retriever, guide: dict[str, Any] | None, aspect: str,
                      question: str, result: RetrievalResult | None = None, passage: Hit | None = None) -> list[EventType]:
        if guide is None:
            _send(dispatcher, replies.not_found([], settings().hotline))
            return [SlotSet("offered", OFFERED_HANDOFF)]
        sections = Retriever.sections_for(guide, aspect)
        faq = self._matching_faq(result, guide["id"]) if result else None
        confidence = result.confidence if result else 1.0
        reply = replies.answer(guide, sections, aspect=aspect, confidence=confidence, index_version=retriever.version,
                               faq=faq, passage=passage)
        _send(dispatcher, reply)
        last = {"question": question, "guide_id": guide["id"], "section": "、".join(h for h, _ in sections) or aspect,
                "index_version": retriever.version}
        return [SlotSet("guide_id", guide["id"]), SlotSet("aspect", aspect), SlotSet("last_answer", last),
                SlotSet("candidates", None), SlotSet("pending_aspect", None), SlotSet("pending_question", None),
                SlotSet("offered", None)]

    @staticmethod
    def _near_misses(result: RetrievalResult, config: Settings) -> list[GuideCandidate]:
        """Guides close to the best one, worth offering when we cannot answer (none if nothing was close)."""
        if result.confidence < config.near_miss_probability or not result.candidates:
            return []
        best = result.candidates[0].score
        margin = config.near_miss_margin * result.spread
        return [c for c in result.candidates[:MAX_NEAR_MISSES] if best - c.score <= margin]

    @staticmethod
    def _confirm(dispatcher: CollectingDispatcher, guide: dict[str, Any], near: list[GuideCandidate], aspect: str,
                 text: str) -> list[EventType]:
        """Ask "您问的是【X】的…吗？": 是 answers the original aspect of X, 不是 offers the others."""
        _send(dispatcher, replies.confirm(guide, aspect))
        others = [c.guide_id for c in near if c.guide_id != guide["id"]]
        return [SlotSet("candidates", [guide["id"], *others]), SlotSet("pending_aspect", aspect),
                SlotSet("pending_question", text), SlotSet("offered", OFFERED_CONFIRM)]

    @staticmethod
    def _current_is_close(result: RetrievalResult, current: str, margin: float) -> bool:
        """Whether the conversation's guide is among the answers and within `margin` of the best."""
        if result.decision == AMBIGUOUS:
            return current in {choice.guide_id for choice in result.choices}
        if result.decision not in (ANSWER, CONFIRM) or result.guide is None or not result.candidates:
            return False
        best = result.candidates[0].score
        return any(c.guide_id == current and best - c.score <= margin for c in result.candidates)

    @staticmethod
    def _matching_faq(result: RetrievalResult, guide_id: str) -> tuple[str, str] | None:
        """The guide's FAQ entry when it is what the question matched best ("住所可以用住宅吗")."""
        for hit in result.hits:
            if hit.chunk.guide_id == guide_id:
                if hit.chunk.kind == FAQ and "\n" in hit.chunk.content:
                    question, answer = hit.chunk.content.split("\n", 1)
                    return question.strip(), answer.strip()
                return None
        return None

    @staticmethod
    def _clarify(dispatcher: CollectingDispatcher, choices: list[GuideCandidate], aspect: str, text: str) -> list[EventType]:
        _send(dispatcher, replies.clarify(choices, aspect))
        return [SlotSet("candidates", [c.guide_id for c in choices]), SlotSet("pending_aspect", aspect),
                SlotSet("pending_question", text), SlotSet("offered", None)]


def _log_question(tracker: Tracker, sent: list[dict[str, Any]]) -> None:
    """Log the question and what became of it, read from the reply's custom payload (admin report)."""
    payloads = [m["custom"] for m in sent if isinstance(m.get("custom"), dict)]
    if not payloads:
        return
    payload = payloads[-1]
    text = (tracker.latest_message.get("text") or "").strip()
    if text.startswith("/"):  # a button: the question is the one it answers
        text = tracker.get_slot("pending_question") or text
    fields: dict[str, Any] = {}
    if "answer" in payload:
        answer = payload["answer"]
        fields = {"outcome": records_module.ANSWERED, "guide_id": (answer.get("guide") or {}).get("id"),
                  "aspect": answer.get("aspect"), "confidence": answer.get("confidence"), "index_version": answer.get("index_version")}
    elif "clarify" in payload or "confirm" in payload:
        asked = payload.get("clarify") or payload["confirm"]
        fields = {"outcome": records_module.CLARIFIED, "aspect": asked.get("aspect"),
                  "guide_id": ((asked.get("guide") or {}).get("id"))}
    elif "ask_item" in payload:
        fields = {"outcome": records_module.ASKED_ITEM, "aspect": payload["ask_item"].get("aspect")}
    elif "not_found" in payload:
        found = payload["not_found"]
        outcome = (records_module.OUT_OF_SCOPE if found.get("out_of_scope")
                   else records_module.UNAVAILABLE if found.get("unavailable") else records_module.NOT_FOUND)
        fields = {"outcome": outcome}
    else:
        return
    store = records()
    _record_later("问题记录", tracker.sender_id, lambda: store.add_question(tracker.sender_id, text, **fields))


async def _handoff(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[EventType]:
    """Tell the user how to reach people, and leave the staff a record with the transcript."""
    config = settings()
    guide = None
    guide_id = tracker.get_slot("guide_id")
    if guide_id:
        try:
            guide = knowledge_service.retriever().guide(guide_id)
        except KnowledgeUnavailableError:
            guide = None
    last = tracker.get_slot("last_answer") or {}
    record_id = None
    store = records()
    write = _writer.submit(store.add_handoff, tracker.sender_id, reason=reason, guide_id=guide_id,
                           question=last.get("question") or tracker.latest_message.get("text"), transcript=_transcript(tracker))
    try:
        record_id = await asyncio.wait_for(asyncio.wrap_future(write), HANDOFF_WRITE_SECONDS)
    except Exception:
        # Timed out (the write may still land later) or failed: the user still gets the contacts.
        logger.exception("转人工记录写入失败或超时（对话 %s）", tracker.sender_id)
    _send(dispatcher, replies.handoff(guide, reason=reason, record_id=record_id, hotline=config.hotline))
    return [SlotSet("offered", None), SlotSet("candidates", None)]


class ActionHandoff(Action):
    """转人工 and complaints: where to reach people, and a handoff record for staff.

    The NLU learnt its intents on the sample guides' vocabulary; a question about a guide it never
    saw ("二类医疗器械备案在哪个窗口办") can come out as request_human or complain. So a message that
    asks an aspect, says nothing of people or grievances, and that the retriever answers or can
    confirm, is answered as the question it is."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if _is_a_question_after_all(tracker):
            answer = ActionAnswer()
            return await answer.run(dispatcher, tracker, domain)
        return await _handoff(dispatcher, tracker, "complain" if intent == "complain" else "request_human")


# Words that mean a person or a grievance: with one of them a message is a handoff whatever else it asks.
_PEOPLE_OR_GRIEVANCE = re.compile(
    r"人工|真人|客服|工作人员|办事员|转接|接线|投诉|举报|反映|态度|刁难|推诿|不作为|乱收费|太慢|太差|差劲|不满|生气|气死|"
    r"跑了好几|跑了几|不给办|拖着|敷衍|找人|人呢|有人吗|领导|曝光"
)


def _is_a_question_after_all(tracker: Tracker) -> bool:
    text = (tracker.latest_message.get("text") or "").strip()
    if not text or text.startswith("/") or _PEOPLE_OR_GRIEVANCE.search(text) or not detect_aspect(text):
        return False
    try:
        result = knowledge_service.retriever().run(text, detect_aspect(text))
    except KnowledgeUnavailableError:
        return False
    return result.decision in (ANSWER, CONFIRM)


class ActionRecordFeedback(Action):
    """Store a 好评 or 差评 for the last answer (a 差评 is followed by the comment form)."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        rating = "bad" if intent == "feedback_bad" else "good"
        last = tracker.get_slot("last_answer") or {}
        store = records()
        _record_later("评价", tracker.sender_id, lambda: store.add_feedback(
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
            return [SlotSet("feedback_comment", None), *await _handoff(dispatcher, tracker, "request_human")]
        if comment.startswith("/"):
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("feedback_comment", None)]
        if comment:
            store = records()
            _record_later("差评意见", tracker.sender_id, lambda: store.add_comment(tracker.sender_id, comment[:2000]))
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
            return await _handoff(dispatcher, tracker, "request_human")
        if intent == "affirm" and tracker.get_slot("candidates"):
            dispatcher.utter_message(response="utter_ask_pick")
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("offered", None), SlotSet("candidates", None)]

    @staticmethod
    async def _after_confirm(dispatcher: CollectingDispatcher, tracker: Tracker, *, affirmed: bool) -> list[EventType]:
        """是: answer the asked aspect of the guide we asked about; 不是: offer the others, 12345, 转人工."""
        config = settings()
        try:
            retriever = knowledge_service.retriever()
        except KnowledgeUnavailableError:
            _send(dispatcher, replies.unavailable(config.hotline))
            return []
        first, *others = tracker.get_slot("candidates")
        aspect = tracker.get_slot("pending_aspect") or GENERAL
        question = tracker.get_slot("pending_question") or ""
        if affirmed:
            return ActionAnswer()._answer_guide(dispatcher, retriever, retriever.guide(first), aspect, question)
        near = [GuideCandidate(guide_id, title, 0.0) for guide_id, title, _ in _options(retriever, others)]
        _send(dispatcher, replies.not_found(near, config.hotline, declined=True))
        return [SlotSet("candidates", [c.guide_id for c in near] or None), SlotSet("offered", OFFERED_HANDOFF)]
