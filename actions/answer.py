"""action_answer: every question (all aspect intents, ask_policy, out_of_scope, choose and the
fallbacks). The retriever decides which guide (or whether to confirm, clarify or say it does not
know), the policy (actions/policy.py) what to do with it in this conversation, and the intent which
section. Every question is logged with what became of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import contact_replies, conversation, memory, opening, policy, replies, situation
from actions import word_holds as holds
from actions.asked import also_asked, asks_advice, asks_something, asks_who_applies, wording_aspect
from actions.conversation import changes_only, confirm_ignored_before, entity, intent_of, intent_ranking, offered_options, options, send, text_of
from actions.dialogue import (
    applicant_circumstance,
    begins_with_no,
    begins_with_yes,
    describes_item,
    has_own_words,
    is_bare_aspect,
    is_elliptical,
    is_hypothetical,
    is_question,
    names_an_item,
    points_back,
    resolve_pick,
    starts_new_matter,
    states_a_matter,
    turns_aside,
)
from actions.knowledge_service import KnowledgeUnavailableError
from actions.overlap import sections_holding
from actions.removed import removed_matter
from actions.replies import Reply
from actions.services import Services
from actions.turn_aspect import ASPECT_OF_INTENT, ASPECT_OF_SECTION, own_aspect, runner_up_aspects, turn_aspect
from knowledge.examples import Examples
from knowledge.index.chunks import FAQ
from knowledge.retrieval.offices import AUTHORITY_KINDS
from knowledge.retrieval.removed import RemovedGuides
from knowledge.retrieval.retriever import ANSWER, NONE, GuideCandidate, Hit, RetrievalResult, Retriever
from knowledge.sources.aspects import (
    ASPECT_SECTIONS,
    CONTACT,
    GENERAL,
    LOCATION,
    PROCESS,
    PROXY_SECTIONS,
    detect_aspect,
    strip_aspect_words,
)
from protocol import (
    OFFERED_CONFIRM,
    OFFERED_HANDOFF,
    OFFERED_ITEM,
    SLOT_ASPECT,
    SLOT_CANDIDATES,
    SLOT_GUIDE,
    SLOT_LAST_ANSWER,
    SLOT_OFFERED,
    SLOT_PENDING_ASPECT,
    SLOT_PENDING_QUESTION,
)

ASK_POLICY = "ask_policy"
Outcome = tuple[Reply, list[EventType]]  # what to say, and the slots it sets
# The policy's decisions that answer no guide: a question naming an office may still be answered by it.
_UNANSWERED = (policy.REFUSE, policy.ASK_ITEM, policy.CLARIFY, policy.CONFIRM_GUIDE, policy.NOT_FOUND)


class ActionAnswer(Action):
    """Answer a question from the knowledge base, completely and once, with whom to contact."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reply, events = self.respond(tracker)
        send(dispatcher, reply)
        self.log_question(tracker, reply)
        return changes_only(tracker, memory.remember(tracker, events))

    def respond(self, tracker: Tracker) -> Outcome:
        config = self.services.settings
        try:
            retriever = self.services.knowledge.retriever()  # one index version for this whole turn
        except KnowledgeUnavailableError:
            return replies.unavailable(config.hotline), []
        text, intent = text_of(tracker), intent_of(tracker)

        picked = self._picked(tracker, retriever, text)
        removed = removed_matter(retriever, text, picked=picked, current=tracker.get_slot(SLOT_GUIDE),
                                 confirming=(tracker.get_slot(SLOT_CANDIDATES) or [None])[0]
                                 if tracker.get_slot(SLOT_OFFERED) == OFFERED_CONFIRM else None)
        if removed is not None:  # an admin took its guide out: say so, not the nearest guide left
            reply, events = self._ask_back(replies.removed_guide(removed["id"], removed["title"], config.hotline), [], GENERAL,
                                           (tracker.get_slot(SLOT_PENDING_QUESTION) or text) if picked else text,
                                           offered=OFFERED_HANDOFF)
            return reply, [*events, SlotSet(SLOT_GUIDE, removed["id"])]  # its follow-ups ("要多久？") hear the same
        if picked is not None:
            # "2" or a button answers the pending question; "用水报装要多久" names an offered item but
            # asks its own question, which wins.
            own = None if is_elliptical(text) else own_aspect(intent, text)  # "那营业执照补办呢？" asks no aspect of its own
            aspect = own or tracker.get_slot(SLOT_PENDING_ASPECT) or GENERAL
            question = text if own else (tracker.get_slot(SLOT_PENDING_QUESTION) or text)
            return self.answer_guide(retriever, retriever.guide(picked), aspect, question)

        if not any(char.isalnum() for char in text):
            # "😀😀👍", "？？？": nothing to look up; answering the matter at hand again would only repeat it
            return replies.not_understood(), []
        offered_item = tracker.get_slot(SLOT_OFFERED) == OFFERED_ITEM
        # The question last asked is the one still waiting when the reply offered guides instead of answering
        # ("您问的是【企业开办】的申请材料吗？" then "那个体户呢？": the materials of 个体户, not what the NLU guesses).
        waiting = tracker.get_slot(SLOT_PENDING_ASPECT) if tracker.get_slot(SLOT_CANDIDATES) and not offered_item else None
        previous = waiting or tracker.get_slot(SLOT_ASPECT)
        aspect = turn_aspect(intent, text, in_conversation=bool(tracker.get_slot(SLOT_GUIDE)), previous=previous,
                             pending=tracker.get_slot(SLOT_PENDING_ASPECT) if offered_item else None)
        current = conversation.matter_at_hand(tracker, retriever)
        names = current is None  # no name pairs with a matter at hand (conversation.matter_at_hand)
        result = retriever.run(text, aspect, names=names)
        if result.decision == NONE and aspect == CONTACT:
            # "文旅局管文物的那个股室电话多少": the phone words are what off-topic questions ask too ("客服电话
            # 多少"), and they hide the item; whom to call is in the guide of the item, so look for the item alone.
            alone = retriever.run(strip_aspect_words(text), CONTACT, names=names)
            result = alone if alone.decision != NONE else result
        turn = policy.Turn(text=text, intent=intent, aspect=aspect, current=current, named=frozenset(retriever.mentioned(text)),
                           names_item=names_an_item(text),
                           # the forms told after their subject keep the guide only as a follow-up, never against
                           # a guide the retriever answers ("药店要是开在小区里行不行" after 用水报装 is about 药店),
                           # unless the guide says that subject and the answered guide's names add nothing the guide
                           # does not say ("合作社要是没有营业执照行不行" after the seal guide, which says 合作社, 营业执照)
                           hypothetical=(is_hypothetical(text, opening_only=True) or applicant_circumstance(text)
                                         or holds.circumstance_of_current(retriever, text, current, result)),
                           follow_up=bool(current) and (is_elliptical(text) or is_bare_aspect(text)
                                                        or is_hypothetical(text, opening_only=intent == policy.OUT_OF_SCOPE_INTENT)
                                                        or asks_who_applies(text) or not names_an_item(text)
                                                        # "这个要跟政府报备吗" points back at the matter and asks of it;
                                                        # "这个电影好看吗" points back at nothing of ours
                                                        or (points_back(text) and asks_something(text))),
                           new_matter=starts_new_matter(text), asks=asks_something(text),
                           aside=turns_aside(text) or holds.describes_another(retriever, text, current, config.context_hold_share),
                           describes_item=describes_item(text, in_conversation=current is not None),
                           states_matter=states_a_matter(text),
                           own_words=has_own_words(text) and holds.answered_says(retriever, text, result),
                           current_holds=holds.current_holds(retriever, text, current, result, config.context_hold_share),
                           # only a question for whom to call or where to go: "那要是我妈住在养老院来不了呢" tells a place
                           other_office=aspect in (CONTACT, LOCATION) and holds.names_another_office(retriever, text, current),
                           # read only for an answer the policy takes as one (an answer on sole words is a confirm in a
                           # conversation: policy.decide, RetrievalResult.as_unsure)
                           answer_named=(result.decision != ANSWER
                                         or holds.names_more(text, result.guide, retriever.guide(current or ""))),
                           question=is_question(text),
                           advice=asks_advice(text),
                           off_topic=dict(intent_ranking(tracker)).get(policy.OUT_OF_SCOPE_INTENT, 0.0))
        decision = policy.decide(turn, result, policy.Thresholds.from_settings(config))
        if decision.kind == policy.ASK_ITEM:  # before any joined read: the confirm left open is the nearer context
            again = self._confirm_again(tracker, retriever, text, intent, aspect)
            if again is not None:
                return again
        if aspect in (CONTACT, LOCATION) and not turn.named and decision.kind in _UNANSWERED:
            office = self._offices(retriever, text, aspect, result, decision, current)
            if office is not None:
                return office
        guesses: list[GuideCandidate] = []
        asked_with = text  # the question a pick of the offered guides answers
        if opening.wants_opening(turn, decision, intent in ASPECT_OF_INTENT,
                                 weak_choice=result.in_scope < config.out_of_scope_override_probability):
            joined = opening.with_opening(tracker, retriever, turn, aspect, config, intent_asks=intent in ASPECT_OF_INTENT)
            if joined is not None and joined.placed and joined.decision is not None:
                text, result, decision = joined.text, joined.result, joined.decision
            elif joined is not None and not (tracker.get_slot(SLOT_OFFERED) == OFFERED_ITEM and tracker.get_slot(SLOT_CANDIDATES)):
                # (Not again right after such a list: "我是问开网店的" would walk back to the same matter.)
                guesses = joined.guesses(decision, policy.Thresholds.from_settings(config))
                if guesses:  # not placed together either: "哪个事项？" offers the guides closest to the matter told
                    decision, asked_with = policy.Decision(policy.ASK_ITEM), joined.text
        if current is not None and _moves_to_another(decision, result, current):
            # "要是真确诊了，家里又困难，政府有没有帮着报医药费的" after the diagnosis: a circumstance told of another
            # matter is that matter's situation, not a new circumstance of the one at hand (受理条件): its aspect is
            # read as a first question's; "那燃气报装呢" still keeps the aspect asked before.
            aspect = turn_aspect(intent, text, in_conversation=False, previous=previous, pending=None)
        if (current is None and (decision.kind in (policy.REFUSE, policy.ASK_ITEM)
                                 or (decision.kind == policy.NOT_FOUND and not decision.near))
                and situation.tells_hardship(text)):
            # "我家房子前几天着火了，东西全烧光了": no question, a hardship; the guides for people in it, if any, to pick from
            choices = situation.guides_for(text, result, retriever.data.guides, config.max_candidates)
            if choices:
                return self._ask_back(replies.situation(choices, config.hotline), choices, GENERAL, text, offered=None)
        if decision.kind == policy.REFUSE:
            return (replies.out_of_scope(config.hotline, Examples.of(retriever.data.manifest)),
                    [SlotSet(SLOT_CANDIDATES, None), SlotSet(SLOT_OFFERED, None)])
        hesitation = runner_up_aspects(intent_ranking(tracker), config.nlu_runner_up_share)
        if decision.kind == policy.ANSWER_GUIDE:
            guide = retriever.guide(decision.guide_id or "")
            also = []
            if (decision.guide_id == current and tracker.get_slot(SLOT_ASPECT)
                    and is_hypothetical(text, opening_only=intent == policy.OUT_OF_SCOPE_INTENT)):
                # "要是房子是租别人的呢" after the materials: whether the circumstance changes what was just
                # answered, besides whether it is allowed (受理条件, `turn_aspect`); naming no aspect ("要是这塔是省里
                #定的保护单位呢"), also the route, where guides say what differs by case ("属于…的，报…审批").
                also = [str(tracker.get_slot(SLOT_ASPECT)), *([PROCESS] if detect_aspect(text) is None else [])]
            also += hesitation
            if guide is not None and decision.guide_id == current and holds.guide_holds(retriever, text, current, config.context_hold_share):
                also += self._where_the_words_are(guide, aspect, text, config.context_hold_share)
            return self.answer_guide(retriever, guide, aspect, text, result if decision.retrieved else None, also=also)
        if decision.kind == policy.ANSWER_RESULT:
            return self._answer_result(retriever, result, intent, text, aspect, also=hesitation)
        if decision.kind == policy.ASK_ITEM:
            return self._ask_back(replies.ask_item(aspect, Examples.of(retriever.data.manifest), guesses, config.hotline),
                                  guesses, aspect, asked_with, offered=OFFERED_ITEM)
        if decision.kind == policy.CLARIFY:
            return self._ask_back(replies.clarify(decision.near, aspect), decision.near, aspect, text, offered=None)
        if decision.kind == policy.CONFIRM_GUIDE and result.guide is not None:
            # 是 answers the original aspect of X, 不是 offers the others.
            reply = replies.confirm(result.guide, aspect)
            return self._ask_back(reply, [GuideCandidate(result.guide["id"], result.guide["title"], 0.0), *decision.near],
                                  aspect, text, offered=OFFERED_CONFIRM)
        return self._ask_back(replies.not_found(decision.near, config.hotline), decision.near, aspect, text,
                              offered=OFFERED_HANDOFF)

    # --- reading the message -----------------------------------------------------------------
    @staticmethod
    def _picked(tracker: Tracker, retriever: Retriever, text: str) -> str | None:
        """The guide picked from the options offered in the previous turn, if this reply picks one."""
        offered = tracker.get_slot(SLOT_CANDIDATES) or []
        pick = entity(tracker, "pick")
        if not offered:
            # A button of an older message still picks its guide (or the guide an admin removed since).
            return pick if pick and (retriever.guide(pick) or RemovedGuides.of(retriever.data).get(pick)) else None
        return resolve_pick(text, offered_options(retriever, offered), pick)

    def _confirm_again(self, tracker: Tracker, retriever: Retriever, text: str, intent: str, aspect: str) -> Outcome | None:
        """"您问的是【X】的办理时限吗？" left unanswered, then "收费吗", naming no item: most likely still X, so ask about X
        again with the new aspect rather than "哪个事项？" with examples that forget X. "是的，收费吗" (read as a fee
        question, not as 是) says yes too, and asking the same aspect again is no reason to ask again either: X's aspect
        is answered. None (the caller goes on) when no confirm is pending, the message asks no aspect ("？？？") or
        begins with 不是 (X is the guide declined)."""
        pending = tracker.get_slot(SLOT_CANDIDATES) if tracker.get_slot(SLOT_OFFERED) == OFFERED_CONFIRM else None
        confirmed = retriever.guide(pending[0]) if pending else None
        if confirmed is None or begins_with_no(text) or not (own_aspect(intent, text) or asks_something(text)):
            return None
        question = tracker.get_slot(SLOT_PENDING_QUESTION) or text  # the words that named X
        if begins_with_yes(text) or aspect == tracker.get_slot(SLOT_PENDING_ASPECT) or confirm_ignored_before(tracker, confirmed["title"]):
            return self.answer_guide(retriever, confirmed, aspect, question)
        others = [GuideCandidate(guide_id, title, 0.0) for guide_id, title, _ in options(retriever, pending[1:])]
        return self._ask_back(replies.confirm(confirmed, aspect), [GuideCandidate(confirmed["id"], confirmed["title"], 0.0), *others],
                              aspect, question, offered=OFFERED_CONFIRM)

    def _offices(self, retriever: Retriever, text: str, aspect: str, result: RetrievalResult, decision: policy.Decision,
                 current: str | None) -> Outcome | None:
        """"林草局野保科电话多少", "人社局窗口在哪": whom to call or where to go, asked of an office by its name (in full or
        shortened, knowledge/retrieval/offices.py) rather than of a matter. The matter, when it is the conversation's and
        the message names no other, when the retriever's best guess (or the one choice it offers) is one the office
        handles (two signs agree), or when the office handles one only. Else the offices with the matters they handle,
        to pick from. None (the policy's reply stands): the message names no office of the knowledge base, or one
        besides it that no guide lists ("民政局救助站在哪"), or a matter besides the office while the retriever confirms or
        offers others ("住建局管保障房的窗口在几楼": 保障房 decides) or the NLU refuses it, or a choice between matters of the office."""
        directory = retriever.data.offices
        handled = directory.guides_named(text)
        unknown = directory.unknown_names(text)
        authority = directory.unknown_names(text, AUTHORITY_KINDS)
        if not handled and authority and decision.kind in (policy.CLARIFY, policy.CONFIRM_GUIDE) and not names_an_item(
                "|".join(directory.without_names(text).split(authority[0]))):
            # "民政局在哪", "医保局在哪": an office no guide lists, and nothing else; guides that share a word or the way of
            # asking with it are no answer, saying so is (with 12345 and 转人工)
            return self._ask_back(replies.not_found([], self.services.settings.hotline), [], aspect, text, offered=OFFERED_HANDOFF)
        if not handled or unknown:
            return None
        # "公司注销找市监局哪个科": a matter named besides the office is the retriever's to find, the office only agrees
        names_matter = names_an_item(directory.without_names(text))
        ranked = [c.guide_id for c in result.candidates if c.guide_id in handled]
        offered = [c.guide_id for c in decision.near if c.guide_id in handled] if decision.kind == policy.CLARIFY else []
        agreed = offered[0] if len(offered) == 1 else (
            ranked[0] if ranked and decision.kind != policy.CLARIFY and result.candidates[0].guide_id == ranked[0] else None)
        if current in handled and not names_matter:
            picked = current
        elif agreed:
            picked = agreed
        elif len(offered) > 1 or (names_matter and decision.kind in (policy.CONFIRM_GUIDE, policy.CLARIFY, policy.REFUSE)):
            # the retriever points at other matters, or the NLU's refusal stands for a message about more than the office
            # ("消防大队招消防员在哪报名"); where nothing was found, the office's one matter is the best reading
            # ("区文旅局管广电的科室电话多少")
            return None
        else:
            picked = handled[0] if len(handled) == 1 else None
        if picked is not None:
            # the retrieval's certainty only for the guide it found; an office named is the user's word, like a pick
            return self.answer_guide(retriever, retriever.guide(picked), aspect, text, result if result.guide_id == picked else None)
        order = [*ranked, *(guide_id for guide_id in handled if guide_id not in ranked)]
        titles = {guide_id: str((retriever.guide(guide_id) or {}).get("title", guide_id)) for guide_id in order}
        shown = contact_replies.first_offices(directory.listing(text, retriever.data.guides, order))
        # Every matter the listing names can be picked, numbered as the user reads them there: the first four of the
        # retriever's order left the bureau's commonest matter (企业开办) unclickable, and "2" was not the second one read.
        choices = [GuideCandidate(guide_id, titles[guide_id], 0.0) for guide_id in contact_replies.offered_matters(shown)]
        reply = contact_replies.offices(shown, titles, choices, aspect)
        return self._ask_back(reply, choices, aspect, text, offered=None)

    @staticmethod
    def _where_the_words_are(guide: dict[str, Any], aspect: str, text: str, least: float) -> list[str]:
        """"要空腹不", "那技术负责人呢" (after the fee): the aspects of the conversation's guide whose sections hold the
        most of the follow-up's own words, besides the asked aspect's: the health certificate says 空腹 in its 受理条件;
        "交强险也要买吗" finds 交强险 in 受理条件 as much as in 申请材料 (which the overview holds already)."""
        if detect_aspect(text) is not None or wording_aspect(text) is not None:
            return []  # "你们单位电话多少": the message names its aspect, that is what it asks
        asked = {heading for heading, _ in Retriever.sections_for(guide, aspect)}
        return [ASPECT_OF_SECTION[heading] for heading in sections_holding(text, guide, least, shown=asked)
                if heading in ASPECT_OF_SECTION]

    # --- replying ------------------------------------------------------------------------------
    def _answer_result(self, retriever: Retriever, result: RetrievalResult, intent: str, text: str, aspect: str,
                       also: Sequence[str] = ()) -> Outcome:
        if result.guide is None and result.passage is not None:  # a policy document answers best
            answer_id = memory.new_answer_id()
            reply = replies.policy_answer(result.passage, confidence=result.confidence, index_version=result.index_version,
                                          hotline=self.services.settings.hotline, answer_id=answer_id)
            last = {"id": answer_id, "question": text, "guide_id": None, "section": result.passage.chunk.id,
                    "index_version": result.index_version}
            return reply, [SlotSet(SLOT_LAST_ANSWER, last), SlotSet(SLOT_CANDIDATES, None), SlotSet(SLOT_OFFERED, None)]
        passage = result.passage if intent == ASK_POLICY else None
        return self.answer_guide(retriever, result.guide, aspect, text, result, passage, also=also)

    def answer_guide(self, retriever: Retriever, guide: dict[str, Any] | None, aspect: str, question: str,
                     result: RetrievalResult | None = None, passage: Hit | None = None, also: Sequence[str] = ()) -> Outcome:
        """The asked aspect of one guide, and the slots that make it the conversation's guide (and, with
        its new id, the latest answer: the caller adds it to the conversation's memory, memory.remember)."""
        if guide is None:
            return replies.not_found([], self.services.settings.hotline), [SlotSet(SLOT_OFFERED, OFFERED_HANDOFF)]
        sections = Retriever.sections_for(guide, aspect)
        headings = [h for other in [*also, *also_asked(question, aspect)] for h in ASPECT_SECTIONS[other]]
        # The wording names another aspect too (or the NLU's differs from it): answer it as well, once.
        if asks_who_applies(question):
            # "能让我儿子替我办吗", "卖车的店能不能帮着办": who may apply, what the proxy brings, how and where it is
            # handed in (办理地点 names the offices and agents that take it)
            headings += [*PROXY_SECTIONS, *ASPECT_SECTIONS[PROCESS], *ASPECT_SECTIONS[LOCATION]]
        for heading in headings:
            if heading in guide["sections"] and heading not in {h for h, _ in sections}:
                sections.append((heading, guide["sections"][heading]["text"]))
        faq = self._matching_faq(result, guide["id"]) if result else None
        confidence = result.confidence if result else 1.0
        answer_id = memory.new_answer_id()  # in the payload and the rating buttons: a rating names this answer
        reply = replies.answer(guide, sections, aspect=aspect, confidence=confidence, index_version=retriever.version,
                               answer_id=answer_id, faq=faq, passage=passage)
        last = {"id": answer_id, "question": question, "guide_id": guide["id"], "section": "、".join(h for h, _ in sections) or aspect,
                "index_version": retriever.version}
        return reply, [SlotSet(SLOT_GUIDE, guide["id"]), SlotSet(SLOT_ASPECT, aspect), SlotSet(SLOT_LAST_ANSWER, last),
                       SlotSet(SLOT_CANDIDATES, None), SlotSet(SLOT_PENDING_ASPECT, None), SlotSet(SLOT_PENDING_QUESTION, None),
                       SlotSet(SLOT_OFFERED, None)]

    @staticmethod
    def _ask_back(reply: Reply, candidates: list[GuideCandidate], aspect: str, text: str, offered: str | None) -> Outcome:
        """A reply that asks something back: remember the question and what was offered."""
        return reply, [SlotSet(SLOT_CANDIDATES, [c.guide_id for c in candidates] or None), SlotSet(SLOT_PENDING_ASPECT, aspect),
                       SlotSet(SLOT_PENDING_QUESTION, text), SlotSet(SLOT_OFFERED, offered)]

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

    # --- the admin report's question log ---------------------------------------------------------
    def log_question(self, tracker: Tracker, reply: Reply, *, answers_pending: bool = False) -> None:
        """Log the question and what became of it, from the reply's own payload (admin report). `answers_pending`:
        the message only answers what the assistant asked (是 / 不是 to a confirm), so the question is the one asked."""
        fields = replies.question_record(reply.custom or {})
        if fields is None:
            return
        text = text_of(tracker)
        if text.startswith("/") or answers_pending:  # a button: the question is the one it answers
            text = tracker.get_slot(SLOT_PENDING_QUESTION) or text
        sender = tracker.sender_id
        self.services.records.later("问题记录", sender, lambda store: store.add_question(sender, text, **fields))


def _moves_to_another(decision: policy.Decision, result: RetrievalResult, current: str) -> bool:
    """Whether the reply answers or confirms another guide than the conversation's."""
    if decision.kind == policy.ANSWER_GUIDE:
        return decision.guide_id != current
    if decision.kind in (policy.ANSWER_RESULT, policy.CONFIRM_GUIDE):
        return result.guide_id is not None and result.guide_id != current
    return False
