"""Which aspect a turn asks about (actions/turn_aspect.py): the intent, the wording and the conversation together."""

from __future__ import annotations

import pytest

from actions.turn_aspect import ASPECT_OF_SECTION, own_aspect, runner_up_aspects, turn_aspect
from knowledge.sources.aspects import CONDITIONS, FEE, GENERAL, MATERIALS, PROCESS, TIME_LIMIT

pytestmark = pytest.mark.unit


def first(intent: str, text: str) -> str:
    return turn_aspect(intent, text, in_conversation=False, previous=None, pending=None)


def follow(intent: str, text: str, previous: str = MATERIALS) -> str:
    return turn_aspect(intent, text, in_conversation=True, previous=previous, pending=None)


def test_the_intents_aspect_when_nothing_else_speaks() -> None:
    assert first("ask_time_limit", "开个小饭馆要多久能批下来") == TIME_LIMIT


def test_asking_which_procedure_gets_the_overview_whatever_the_intent() -> None:
    # the NLU hears "需要…啥" as materials; the citizen asks what to apply for
    assert first("ask_materials", "捕鱼拿去卖，需要办啥") == GENERAL


def test_how_to_go_about_it_is_the_overview_only_as_a_first_question() -> None:
    assert first("ask_process", "下个月想再去趟香港咋弄") == GENERAL
    assert follow("ask_process", "具体咋弄") == PROCESS
    assert first("ask_process", "流程是啥") == PROCESS


def test_a_new_circumstance_in_a_conversation_asks_the_conditions() -> None:
    assert follow("ask_fee", "要是房子是租别人的呢") == CONDITIONS
    # the same words with no matter yet are a plain question
    assert first("ask_fee", "要是房子是租别人的呢") == FEE


def test_a_circumstance_that_names_its_aspect_asks_that_aspect() -> None:
    assert follow("ask_time_limit", "要是加急的话要多久") == TIME_LIMIT


def test_an_elliptical_follow_up_keeps_the_aspect_asked_before() -> None:
    assert follow("ask_fee", "那技术负责人呢", previous=MATERIALS) == MATERIALS


def test_a_general_intent_takes_the_wordings_aspect_then_the_pending_one() -> None:
    assert first("ask_procedure", "交钱吗") == FEE
    assert turn_aspect("ask_procedure", "用水报装", in_conversation=False, previous=None, pending=TIME_LIMIT) == TIME_LIMIT
    assert first("ask_procedure", "用水报装") == GENERAL


def test_a_pick_asks_its_own_aspect_only_when_it_names_one() -> None:
    assert own_aspect("choose", "/choose{\"guide\": \"water\"}") is None
    assert own_aspect("choose", "2") is None
    assert own_aspect("ask_time_limit", "用水报装要多久") == TIME_LIMIT


@pytest.mark.parametrize(("ranking", "aspects"), [
    ([("ask_time_limit", 0.5), ("ask_fee", 0.45)], [TIME_LIMIT, FEE]),
    ([("ask_time_limit", 0.8), ("ask_fee", 0.1)], []),          # not hesitating
    ([("ask_time_limit", 0.5), ("complain", 0.45)], []),         # the runner-up asks no aspect
    ([("ask_time_limit", 0.9)], []),
])
def test_both_aspects_when_the_nlu_hesitates(ranking: list[tuple[str, float]], aspects: list[str]) -> None:
    assert runner_up_aspects(ranking, share=0.8) == aspects


def test_the_applicants_section_answers_the_conditions() -> None:
    assert ASPECT_OF_SECTION["适用对象"] == CONDITIONS
    assert ASPECT_OF_SECTION["申请材料"] == MATERIALS
