"""action_answer: every question (all aspect intents, ask_policy, out_of_scope, choose and the
fallbacks). The retriever decides which guide (or whether to confirm, clarify or say it does not
know); the intent decides which section. Every question is logged with what became of it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_service, replies, runtime
from actions.dialogue import is_elliptical, names_an_item, resolve_pick
from actions.knowledge_service import KnowledgeUnavailableError
from knowledge.index.chunks import FAQ
from knowledge.records import store as records_module
from knowledge.retrieval.aspects import (
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
from knowledge.retrieval.retriever import AMBIGUOUS, ANSWER, CONFIRM, NONE, GuideCandidate, Hit, RetrievalResult, Retriever
from knowledge.settings import Settings

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


class ActionAnswer(Action):
    """Answer a question from the knowledge base, completely and once, with whom to contact."""

    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events = self._respond(dispatcher, tracker)
        _log_question(tracker, dispatcher.messages)
        return events

    def _respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        config = runtime.settings()
        try:
            retriever = knowledge_service.retriever()  # one index version for this whole turn
        except KnowledgeUnavailableError:
            runtime.send(dispatcher, replies.unavailable(config.hotline))
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
        # NLU's out_of_scope is trusted unless the message names a guide, follows up, or the retriever,
        # calibrated on this knowledge base, is sure it is its business: the NLU never saw new guides' items.
        ours = result.decision in (ANSWER, CONFIRM) and result.in_scope >= config.out_of_scope_override_probability
        if intent == OUT_OF_SCOPE and not named and not follow_up and not ours:
            runtime.send(dispatcher, replies.out_of_scope(config.hotline))
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
        if current and (not has_item or (result.decision == NONE and aspect != GENERAL)):
            # A follow-up without its own item ("那要多久？"), or asking an aspect in words that match no
            # other guide ("具体得走哪几步"): the same guide, the newly asked aspect.
            return self._answer_guide(dispatcher, retriever, retriever.guide(current), aspect, text)
        if not has_item:
            # "那要多久？" with nothing in context: any guide would be a guess.
            runtime.send(dispatcher, replies.ask_item(aspect))
            return [SlotSet("candidates", None), SlotSet("pending_aspect", aspect), SlotSet("offered", "item")]
        if result.decision == AMBIGUOUS:
            return self._clarify(dispatcher, result.choices, aspect, text)
        if result.decision == ANSWER:
            return self._answer_result(dispatcher, retriever, result, intent, text)
        near = self._near_misses(result, config)
        if result.decision == CONFIRM and result.guide is not None:
            return self._confirm(dispatcher, result.guide, near, aspect, text)
        if intent == OUT_OF_SCOPE and not near:
            runtime.send(dispatcher, replies.out_of_scope(config.hotline))
            return [SlotSet("candidates", None), SlotSet("offered", None)]
        runtime.send(dispatcher, replies.not_found(near, config.hotline))
        return [SlotSet("candidates", [c.guide_id for c in near] or None), SlotSet("pending_aspect", aspect),
                SlotSet("pending_question", text), SlotSet("offered", OFFERED_HANDOFF)]

    # --- reading the message -----------------------------------------------------------------
    @staticmethod
    def _picked(tracker: Tracker, retriever: Retriever, text: str) -> str | None:
        """The guide picked from the options offered in the previous turn, if this reply picks one."""
        offered = tracker.get_slot("candidates") or []
        pick = runtime.entity(tracker, "pick")
        if not offered:
            # A button of an older message still picks its guide.
            return pick if pick and retriever.guide(pick) else None
        return resolve_pick(text, runtime.options(retriever, offered), pick)

    @staticmethod
    def _aspect(tracker: Tracker, intent: str, text: str) -> str:
        """The previous aspect for "X呢？" (it names no aspect, whatever the NLU guessed); else the
        intent's aspect; the wording's when the intent is general."""
        if is_elliptical(text) and tracker.get_slot("aspect"):
            return str(tracker.get_slot("aspect"))
        from_intent = ASPECT_OF_INTENT.get(intent)
        if from_intent and from_intent != GENERAL:
            return from_intent
        from_wording = detect_aspect(text)
        if from_wording:
            return from_wording
        if tracker.get_slot("offered") == "item" and tracker.get_slot("pending_aspect"):
            return str(tracker.get_slot("pending_aspect"))  # "用水报装" after "您想了解哪个事项的办理时限？"
        return GENERAL

    # --- replying ------------------------------------------------------------------------------
    def _answer_result(self, dispatcher: CollectingDispatcher, retriever: Retriever, result: RetrievalResult,
                       intent: str, text: str) -> list[EventType]:
        if result.guide is None and result.passage is not None:  # a policy document answers best
            reply = replies.policy_answer(result.passage, confidence=result.confidence, index_version=result.index_version,
                                          hotline=runtime.settings().hotline)
            runtime.send(dispatcher, reply)
            last = {"question": text, "guide_id": None, "section": result.passage.chunk.id, "index_version": result.index_version}
            return [SlotSet("last_answer", last), SlotSet("candidates", None), SlotSet("offered", None)]
        passage = result.passage if intent == ASK_POLICY else None
        return self._answer_guide(dispatcher, retriever, result.guide, result.aspect, text, result, passage)

    def _answer_guide(self, dispatcher: CollectingDispatcher, retriever: Retriever, guide: dict[str, Any] | None, aspect: str,
                      question: str, result: RetrievalResult | None = None, passage: Hit | None = None) -> list[EventType]:
        if guide is None:
            runtime.send(dispatcher, replies.not_found([], runtime.settings().hotline))
            return [SlotSet("offered", OFFERED_HANDOFF)]
        sections = Retriever.sections_for(guide, aspect)
        faq = self._matching_faq(result, guide["id"]) if result else None
        confidence = result.confidence if result else 1.0
        reply = replies.answer(guide, sections, aspect=aspect, confidence=confidence, index_version=retriever.version,
                               faq=faq, passage=passage)
        runtime.send(dispatcher, reply)
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
        runtime.send(dispatcher, replies.confirm(guide, aspect))
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
        runtime.send(dispatcher, replies.clarify(choices, aspect))
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
    store = runtime.records()
    runtime.record_later("问题记录", tracker.sender_id, lambda: store.add_question(tracker.sender_id, text, **fields))
