"""好评 / 差评 of one answer and what was missing (action_record_feedback, action_save_feedback_comment),
and 是 / 不是 after an offer (action_reply_confirmation).

A rating names its answer: the buttons carry the answer's id (protocol.rating_payload), looked up
in the conversation's recent answers (actions/memory.py), so an old button rates its own answer and
an id no longer remembered rates nothing (the user is told so). A typed 好评 / 差评 rates the latest
answer. A 差评 opens the comment request (feedback_form) unless its comment came with it (the hall
API). The request takes one message: a question is answered as one, anything else is the comment.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import memory, policy, replies
from actions.answer import ASK_POLICY, ActionAnswer
from actions.asked import asks_something
from actions.conversation import entity, intent_of, matter_at_hand, options, send, text_of
from actions.dialogue import (
    ASKED_NOT_COUNTED,
    PEOPLE_OR_GRIEVANCE,
    after_dispute,
    after_yes,
    begins_as_reply,
    disputes,
    is_question,
    names_an_item,
)
from actions.handoff import handoff
from actions.knowledge_service import KnowledgeUnavailableError
from actions.services import Services
from actions.turn_aspect import ASPECT_OF_INTENT
from knowledge.retrieval.removed import RemovedGuides
from knowledge.retrieval.retriever import ANSWER, CONFIRM, NONE, GuideCandidate, RetrievalResult
from knowledge.sources.aspects import GENERAL, detect_aspect
from protocol import (
    DECLINED_ANSWER_COMMENT,
    ENTITY_ANSWER_ID,
    ENTITY_COMMENT,
    OFFERED_CONFIRM,
    OFFERED_HANDOFF,
    REASON_REQUEST_HUMAN,
    SLOT_ASPECT,
    SLOT_CANDIDATES,
    SLOT_FEEDBACK_ANSWER,
    SLOT_FEEDBACK_COMMENT,
    SLOT_GUIDE,
    SLOT_OFFERED,
    SLOT_PENDING_ASPECT,
    SLOT_PENDING_QUESTION,
)

FEEDBACK_FORM = "feedback_form"  # domain.yml: asks for the comment after a 差评
COMMENT_MAX_CHARS = 2000
# Intents that ask something: a message after the comment request with one of them may be a question.
QUESTION_INTENTS = frozenset({*ASPECT_OF_INTENT, ASK_POLICY, "choose"})
# Words that judge the answer ("没说清楚表具费用谁出", "电话打不通", "材料写错了"): what we asked for, a comment.
_CRITIQUE = re.compile(
    r"没说|没有说|没讲|没有讲|没写|没有写|没提|没有提|没回答|没有回答|没答|答非所问|不对|不准|不全|不完整|不详细|不具体|"
    r"不清楚|不明白|说错|写错|错了|有误|错误|过时|缺|少了|漏|没用|没有用|没帮助|没有帮助|帮不上|看不懂|听不懂|"
    r"太长|太短|太简单|太笼统|太复杂|不够|打不通|没人接|变了|改了|回答|答案|希望|建议"
)
# Words that ask ("…在哪里办理", "…要多久", "…吗？").
_ASKING = re.compile(
    r"[?？]|什么|啥|哪|多久|多长|多少|几[个天日年月种项份次周]|怎么|怎样|如何|吗|呢|是否|能否|可否|可不可以|能不能|"
    r"要不要|需不需要|用不用|有没有|是不是|谁|为什么|为啥|请问"
)


def record_rating(services: Services, tracker: Tracker, dispatcher: CollectingDispatcher) -> list[EventType]:
    """Store a 好评 / 差评 for the answer the rating names (its button's id, else the latest answer)."""
    rating = "bad" if intent_of(tracker) == "feedback_bad" else "good"
    answer_id = entity(tracker, ENTITY_ANSWER_ID)
    rated = memory.find(tracker, answer_id) if answer_id else memory.latest(tracker)
    if rated is None:
        # An id from long ago (or not of this conversation), or nothing answered yet: rating another
        # answer instead would blame the wrong guide in the admin report.
        dispatcher.utter_message(response="utter_feedback_unknown_answer")
        return [SlotSet(SLOT_FEEDBACK_ANSWER, None)]
    comment = (entity(tracker, ENTITY_COMMENT) or "").strip()[:COMMENT_MAX_CHARS] if rating == "bad" else ""
    sender = tracker.sender_id
    services.records.later("评价", sender, lambda store: store.add_feedback(
        sender, rating, question=rated.get("question"), guide_id=rated.get("guide_id"), section=rated.get("section"),
        index_version=rated.get("index_version"), answer_id=rated.get("id"), comment=comment or None))
    if rating == "good":
        dispatcher.utter_message(response="utter_feedback_thanks")
        return [SlotSet(SLOT_FEEDBACK_ANSWER, None)]
    if comment:  # the comment came with the 差评: nothing to ask
        dispatcher.utter_message(response="utter_feedback_comment_saved")
        return [SlotSet(SLOT_FEEDBACK_ANSWER, None)]
    # The form asks what was missing; its one reply goes to action_save_feedback_comment (data/rules.yml).
    return [SlotSet(SLOT_FEEDBACK_COMMENT, None), SlotSet(SLOT_FEEDBACK_ANSWER, rated.get("id")), FollowupAction(FEEDBACK_FORM)]


class ActionRecordFeedback(Action):
    """Store a 好评 or 差评 for the answer it names (a 差评 is followed by the comment request)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return record_rating(self.services, tracker, dispatcher)


class ActionSaveFeedbackComment(Action):
    """The one message after "请告诉我缺了什么": a question is answered, anything else is the comment.

    A question: no word judging the answer, an intent that asks (or the retriever can answer or
    confirm it), and either question words or another item than the rated answer's ("注销公司").
    So "没说清楚表具费用谁出" and "表具费用" (after a 差评 of 用气报装) are comments, whatever the
    NLU made of them, and "施工许可证在哪里办理" and "注销公司" are answered. A button is what it is:
    a rating rates its answer (a 差评 asks again, for that answer), a pick is answered, 转人工 hands
    over. Either way this request ends here.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_save_feedback_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        comment = (tracker.get_slot(SLOT_FEEDBACK_COMMENT) or "").strip()
        answer_id = tracker.get_slot(SLOT_FEEDBACK_ANSWER)
        done: list[EventType] = [SlotSet(SLOT_FEEDBACK_COMMENT, None), SlotSet(SLOT_FEEDBACK_ANSWER, None)]
        intent = intent_of(tracker)
        if intent == "request_human":
            reply, events = await handoff(self.services, tracker, REASON_REQUEST_HUMAN)
            send(dispatcher, reply)
            return [*done, *events]
        if comment.startswith("/"):  # a button pressed instead of typing
            return [*done, *await self._button(dispatcher, tracker, domain, intent)]
        if comment and self.is_question(tracker, memory.find(tracker, answer_id)):
            return [*done, *await ActionAnswer(self.services).run(dispatcher, tracker, domain)]
        if comment:
            sender = tracker.sender_id
            self.services.records.later("差评意见", sender, lambda store: store.add_comment(
                sender, comment[:COMMENT_MAX_CHARS], answer_id=answer_id if memory.is_answer_id(answer_id) else None))
        dispatcher.utter_message(response="utter_feedback_comment_saved")
        return done

    async def _button(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], intent: str) -> list[EventType]:
        if intent in ("feedback_good", "feedback_bad"):
            return record_rating(self.services, tracker, dispatcher)  # rates the answer its button names
        if intent == "choose":
            return await ActionAnswer(self.services).run(dispatcher, tracker, domain)
        if intent in ("affirm", "deny"):
            return await ActionReplyConfirmation(self.services).run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_anything_else")
        return []

    def is_question(self, tracker: Tracker, rated: dict[str, Any] | None) -> bool:
        """Whether the message after a comment request asks a question rather than commenting (see the class)."""
        text = text_of(tracker)
        if not text or _CRITIQUE.search(text):
            return False
        try:
            retriever = self.services.knowledge.retriever()
            # scored as the answer action would score it (the rated guide is the matter at hand)
            result: RetrievalResult | None = retriever.run(text, detect_aspect(text), names=matter_at_hand(tracker, retriever) is None)
            named = retriever.mentioned(text)
        except KnowledgeUnavailableError:
            result, named = None, set()
        sure = result is not None and result.in_scope >= self.services.settings.out_of_scope_override_probability
        retrievable = sure and result is not None and result.decision in (ANSWER, CONFIRM)
        if intent_of(tracker) not in QUESTION_INTENTS and not retrievable:
            return False
        if _ASKING.search(text):
            return True
        # No question words: a question when it turns to another item than the rated answer's, by name
        # ("用电报装") or surely enough for the retriever ("注销公司"); "表具费用" after 用气报装 is not.
        rated_id = (rated or {}).get("guide_id")
        items = set(named)
        if not items and sure and result is not None and result.decision != NONE:
            if self._keeps(result, rated_id):
                return False
            items = {result.guide_id} if result.guide_id else {c.guide_id for c in result.choices or result.candidates[:3]}
        return bool(items) and rated_id not in items

    def _keeps(self, result: RetrievalResult, rated_id: str | None) -> bool:
        """The rated guide scores as close to the best as a follow-up that keeps its guide (context_keep_margin):
        "表具费用" scores water, electricity and gas within a hair of each other, so it may well be about gas."""
        scores = {c.guide_id: c.score for c in result.candidates}
        if rated_id not in scores or not result.candidates:
            return False
        return result.candidates[0].score - scores[rated_id] <= result.spread * self.services.settings.context_keep_margin


def asks_instead(text: str) -> bool:
    """Whether a message the NLU read as 是 / 不是 asks an aspect of a procedure instead ("要不要报备", "用不用本人去"):
    not when it begins as a reply ("不是这个，要多久" declines first), nor when it speaks of people ("不要人工，收不收费")."""
    return (bool(text) and not text.startswith("/") and not begins_as_reply(text) and not PEOPLE_OR_GRIEVANCE.search(text)
            and asks_something(text))


# Doubting the answer just given ("确定吗", "确定不", "真的吗"): a reply to it, no question about the matter.
_DOUBT = re.compile(r"^[你您]?(确定|确认|肯定|当真|靠谱|准确|可靠|真的)")


def asks_back(text: str) -> bool:
    """Whether a message the NLU read as 是 / 不是 is a question with words of its own ("还要做检测不", "孩子能一起去不":
    the spoken yes-or-no question, its second half left out), not a reply ("不用了", "不行不行", "没"), a doubt ("确定吗")
    nor a mere "是吗"."""
    stripped = (text or "").strip()
    return (bool(stripped) and not stripped.startswith(("/", "不", "没")) and not begins_as_reply(stripped)
            and not _DOUBT.match(stripped) and not PEOPLE_OR_GRIEVANCE.search(stripped) and is_question(stripped)
            and names_an_item(stripped) and len(ASKED_NOT_COUNTED.sub("", stripped)) >= 2)  # "好不好" is all asking


def asked_on(text: str) -> str | None:
    """The aspect a yes goes on to ask ("是的，要多久" -> time_limit), read from the words after the yes, only if they ask
    something ("对，在线等，挺急的" asks nothing)."""
    rest = after_yes(text)
    return detect_aspect(rest) if rest and is_question(rest) else None


class ActionReplyConfirmation(Action):
    """是的 / 不用了: accept or decline what the previous turn offered. A question the NLU read as one of them
    ("要不要报备"; with nothing offered, "还要做检测不") is answered as the question it is."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_reply_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        offered = tracker.get_slot(SLOT_OFFERED)
        if asks_instead(text_of(tracker)) or (not offered and not tracker.get_slot(SLOT_CANDIDATES) and asks_back(text_of(tracker))):
            return await ActionAnswer(self.services).run(dispatcher, tracker, domain)
        intent = intent_of(tracker)
        if offered == OFFERED_CONFIRM and tracker.get_slot(SLOT_CANDIDATES):
            reply, events = self._after_confirm(tracker, affirmed=intent == "affirm")
            # what became of the confirmed question (answered after 是, not found after 不是) is the admin report's
            ActionAnswer(self.services).log_question(tracker, reply, answers_pending=True)
            send(dispatcher, reply)
            return memory.remember(tracker, events)
        if intent == "affirm" and offered == OFFERED_HANDOFF:
            reply, events = await handoff(self.services, tracker, REASON_REQUEST_HUMAN)
            send(dispatcher, reply)
            return events
        if intent == "affirm" and tracker.get_slot(SLOT_CANDIDATES):
            dispatcher.utter_message(response="utter_ask_pick")
            return []
        text = text_of(tracker)
        answered = memory.just_answered(tracker, self._title) if intent == "deny" and not offered and disputes(text) else None
        if answered is not None and self._names_a_guide(after_dispute(text)):
            # "不对，我问的是营业执照补办": the matter meant is named; look it up as the question it is
            return await ActionAnswer(self.services).run(dispatcher, tracker, domain)
        if answered is not None:  # "不是" right after an answer: it missed; the other guides, 12345, 转人工
            reply, events = self._after_answer_declined(tracker, answered, tracker.get_slot(SLOT_ASPECT) or GENERAL)
            send(dispatcher, reply)
            sender = tracker.sender_id  # a 差评 of that answer in the admin report (a later rating replaces it)
            self.services.records.later("评价", sender, lambda store: store.add_feedback(
                sender, "bad", question=answered.get("question"), guide_id=answered.get("guide_id"),
                section=answered.get("section"), index_version=answered.get("index_version"), answer_id=answered.get("id"),
                comment=DECLINED_ANSWER_COMMENT))
            return events
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet(SLOT_OFFERED, None), SlotSet(SLOT_CANDIDATES, None)]

    def _title(self, guide_id: str) -> str | None:
        try:
            guide = self.services.knowledge.retriever().guide(guide_id)
        except KnowledgeUnavailableError:
            return None
        return guide["title"] if guide else None

    def _names_a_guide(self, text: str) -> bool:
        try:
            return bool(text) and bool(self.services.knowledge.retriever().mentioned(text))
        except KnowledgeUnavailableError:
            return False

    def _after_answer_declined(self, tracker: Tracker, answered: dict[str, Any], aspect: str) -> tuple[replies.Reply, list[EventType]]:
        """"不是" to the answer just given: the guides close behind the answered one for the question it answered (as a
        不是 to a confirm offers them), 12345 and 转人工; a pick answers that question's aspect of the guide picked.
        A follow-up that named no matter ("那要多久？") has no guides close behind it: only 12345 and 转人工. Guides
        answered to the same question before (and declined, since it is asked about again) are not offered again."""
        hotline = self.services.settings.hotline
        try:
            retriever = self.services.knowledge.retriever()
        except KnowledgeUnavailableError:
            return replies.unavailable(hotline), []
        question = str(answered.get("question") or "")
        near: list[GuideCandidate] = []
        if names_an_item(question):
            declined = {a.get("guide_id") for a in memory.recent(tracker) if a.get("question") == question}
            result = retriever.run(question, aspect)
            near = [c for c in policy.near_misses(result, policy.Thresholds.from_settings(self.services.settings), in_scope=True,
                                                  besides=answered.get("guide_id")) if c.guide_id not in declined]
        # the answered guide is no longer the conversation's: "那要多久" next must not follow it
        return replies.answer_declined(near, hotline), [SlotSet(SLOT_GUIDE, None),
            SlotSet(SLOT_CANDIDATES, [c.guide_id for c in near] or None), SlotSet(SLOT_OFFERED, OFFERED_HANDOFF),
            SlotSet(SLOT_PENDING_ASPECT, aspect), SlotSet(SLOT_PENDING_QUESTION, question)]

    def _after_confirm(self, tracker: Tracker, *, affirmed: bool) -> tuple[replies.Reply, list[EventType]]:
        """是: answer the asked aspect of the guide we asked about; 不是: offer the others, 12345, 转人工."""
        hotline = self.services.settings.hotline
        try:
            retriever = self.services.knowledge.retriever()
        except KnowledgeUnavailableError:
            return replies.unavailable(hotline), []
        first, *others = tracker.get_slot(SLOT_CANDIDATES)
        # "是的，要多久": yes, and the aspect it asks on instead of the one asked about
        aspect = (asked_on(text_of(tracker)) if affirmed else None) or tracker.get_slot(SLOT_PENDING_ASPECT) or GENERAL
        question = tracker.get_slot(SLOT_PENDING_QUESTION) or ""
        removed = RemovedGuides.of(retriever.data).get(first) if retriever.guide(first) is None else None
        if affirmed and removed is not None:  # an admin removed it since it was asked about
            return (replies.removed_guide(removed["id"], removed["title"], hotline),
                    [SlotSet(SLOT_CANDIDATES, None), SlotSet(SLOT_OFFERED, OFFERED_HANDOFF), SlotSet(SLOT_GUIDE, removed["id"])])
        if affirmed:
            return ActionAnswer(self.services).answer_guide(retriever, retriever.guide(first), aspect, question)
        near = [GuideCandidate(guide_id, title, 0.0) for guide_id, title, _ in options(retriever, others)]
        reply = replies.not_found(near, hotline, declined=True)
        return reply, [SlotSet(SLOT_CANDIDATES, [c.guide_id for c in near] or None), SlotSet(SLOT_OFFERED, OFFERED_HANDOFF)]
