"""Which aspect of a guide a turn asks about: the NLU intent read together with the wording and the
conversation. The NLU never saw the deployment's items, so its intent is one vote among the message's own
aspect words, the aspect asked just before ("那要多久？" after the materials is elliptical, "X呢" keeps it)
and what the assistant offered last.

Usage::

    >>> turn_aspect("ask_materials", "开个小饭馆需要办啥", in_conversation=False, previous=None, pending=None)
    'general'
    >>> turn_aspect("ask_fee", "那技术负责人呢", in_conversation=True, previous="materials", pending=None)
    'materials'
    >>> runner_up_aspects([("ask_time_limit", 0.5), ("ask_fee", 0.45)], share=0.8)
    ['time_limit', 'fee']
"""

from __future__ import annotations

from collections.abc import Sequence

from actions.asked import wording_aspect
from actions.dialogue import asked_clause, is_elliptical, is_hypothetical
from actions.policy import OUT_OF_SCOPE_INTENT
from knowledge.sources.aspects import (
    ASPECT_SECTIONS,
    CONDITIONS,
    CONTACT,
    FEE,
    GENERAL,
    LOCATION,
    MATERIALS,
    ONLINE,
    PROCESS,
    TIME_LIMIT,
    asks_how_to_go_about,
    asks_office_hours,
    asks_which_procedure,
    asks_who_decides,
    detect_aspect,
)

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
# The aspect a section answers (its first aspect in ASPECT_SECTIONS, the overview aside): 适用对象 goes with 受理条件.
ASPECT_OF_SECTION: dict[str, str] = {heading: aspect for aspect, headings in reversed(ASPECT_SECTIONS.items())
                                     if aspect != GENERAL for heading in headings}


def turn_aspect(intent: str, text: str, *, in_conversation: bool, previous: str | None, pending: str | None) -> str:
    """The aspect to answer. `in_conversation`: a guide is already the conversation's item; `previous`: the aspect
    answered last; `pending`: the aspect of the question still waiting for its item ("您想了解哪个事项的办理时限？").

    受理条件 for "要是…呢" in a conversation; the previous aspect for "X呢？" (it names no aspect, whatever the NLU
    guessed); else the intent's aspect; the wording's when the intent is general.
    """
    if (in_conversation and is_hypothetical(text, opening_only=intent == OUT_OF_SCOPE_INTENT)  # "钱包丢了，那咋办" is chat
            and detect_aspect(asked_clause(text)) is None):
        # "要是车子换过大电瓶的呢": whether a new circumstance changes things is what 受理条件 says.
        return CONDITIONS
    if asks_office_hours(text) and ASPECT_OF_INTENT.get(intent) in (None, GENERAL, TIME_LIMIT, LOCATION, CONTACT):
        # "周末上班不": the contacts' hours, though the NLU hears a time limit (or an overview, or nothing) in it; an
        # intent of another aspect keeps its say
        return CONTACT
    if asks_who_decides(text) and ASPECT_OF_INTENT.get(intent) in (None, GENERAL, LOCATION, CONTACT):
        # "谁批": the steps name the office that decides; the NLU hears a place or a contact in it
        return PROCESS
    if previous and is_elliptical(text):
        return previous
    if asks_which_procedure(text):
        return GENERAL  # "捕鱼拿去卖，需要办啥": the overview, though the NLU hears "需要…啥" as materials
    from_intent = ASPECT_OF_INTENT.get(intent)
    if (not in_conversation and asks_how_to_go_about(text)
            and (from_intent == PROCESS or (from_intent in (GENERAL, None) and detect_aspect(text) in (None, PROCESS)))):
        # "想再去趟香港咋弄", "老板不肯开单子，我该怎么办" as a first question: the whole overview, its steps among it
        # (一次性告知), whether the NLU heard the steps, the overview or nothing it knows; a named aspect ("网上怎么办理")
        # is what an intent that names none asks
        return GENERAL
    if from_intent and from_intent != GENERAL:
        return from_intent
    return wording_aspect(text) or pending or GENERAL  # pending: "用水报装" after "您想了解哪个事项的办理时限？"


def own_aspect(intent: str, text: str) -> str | None:
    """The aspect a reply to offered options asks by itself ("用水报装要多久" names an offered item and asks its own
    question), or None when it only picks ("2", a button): then the pending question is answered."""
    if text.startswith("/"):
        return None
    own = ASPECT_OF_INTENT.get(intent) or detect_aspect(text)
    return own if own != GENERAL else detect_aspect(text)


def runner_up_aspects(ranking: Sequence[tuple[str, float]], share: float) -> list[str]:
    """The aspects of the NLU's first two intents when the runner-up is nearly as likely as the first (`share` of it,
    settings.yml nlu_runner_up_share): on items it never saw the NLU often hesitates between two aspects, and both
    are answered."""
    aspects = [(ASPECT_OF_INTENT.get(name), confidence) for name, confidence in ranking[:2]]
    if len(aspects) == 2 and aspects[0][0] and aspects[1][0] and aspects[1][1] >= share * aspects[0][1]:
        return [str(aspects[0][0]), str(aspects[1][0])]
    return []
