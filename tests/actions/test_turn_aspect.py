"""Which aspect a turn asks about (actions/turn_aspect.py): the intent, the wording and the conversation together."""

from __future__ import annotations

import pytest

from actions.asked import also_asked, asks_something, asks_whether_needed
from actions.turn_aspect import ASPECT_OF_SECTION, own_aspect, runner_up_aspects, turn_aspect
from knowledge.sources.aspects import CONDITIONS, FEE, GENERAL, LOCATION, MATERIALS, ONLINE, PROCESS, TIME_LIMIT, detect_aspect

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


@pytest.mark.parametrize(("intent", "question", "aspect"), [
    ("ask_procedure", "老板不肯给我开体检单，我该怎么办", GENERAL),     # how to go about it, whatever the NLU heard
    ("nlu_fallback", "老板不肯给我开体检单，我该怎么办", GENERAL),
    ("ask_process", "想开个托管班，有啥正规的路子", GENERAL),
    ("nlu_fallback", "先在网上填表还是先去区里跑一趟", PROCESS),          # the order of the steps
    ("nlu_fallback", "营业执照换发大概要等几个月才能拿到", TIME_LIMIT),
    ("out_of_scope", "哪家医院能做入职体检", LOCATION),
])
def test_first_questions_asked_in_other_words(intent: str, question: str, aspect: str) -> None:
    assert first(intent, question) == aspect


def test_a_first_question_naming_its_steps_still_gets_them() -> None:
    assert first("ask_procedure", "流程怎么办理") == PROCESS


@pytest.mark.parametrize("chat", ["西红柿炒鸡蛋先放蛋还是先放番茄", "宝宝几个月开始加辅食", "刚买的小狗几个月可以洗澡"])
def test_chat_with_the_same_shapes_names_no_aspect(chat: str) -> None:
    assert detect_aspect(chat) is None and not asks_something(chat)


def test_offline_is_not_online() -> None:
    assert detect_aspect("我们想在线下堆点钢材，需要找谁批") != ONLINE
    assert detect_aspect("能在线提交吗") == ONLINE


@pytest.mark.parametrize(("question", "needed"), [
    ("在院子里搭个棚，要不要额外办手续", True),
    ("这还算违建吗，要不要报", True),
    ("还要另外申请吗", True),
    ("看病的钱要不要报销", False),
])
def test_whether_a_procedure_is_needed_in_other_words(question: str, needed: bool) -> None:
    assert asks_whether_needed(question) is needed


def test_a_share_paid_back_is_an_amount() -> None:
    assert FEE in also_asked("住院自己掏的钱政府能给报几成", CONDITIONS)


@pytest.mark.parametrize(("intent", "question", "aspect"), [
    ("ask_procedure", "食品经营许可网上怎么办理", ONLINE),  # the aspect it names, when the intent names none
    ("out_of_scope", "社保登记的材料怎么弄", MATERIALS),
])
def test_how_to_with_a_named_aspect_asks_that_aspect(intent: str, question: str, aspect: str) -> None:
    assert first(intent, question) == aspect


@pytest.mark.parametrize("chat", ["先去超市还是先去银行取钱", "骨折要几个月能好", "成绩什么时候出来", "哪家医院能看牙",
                                  "要不要报个补习班"])
def test_everyday_chat_in_those_shapes_names_no_aspect(chat: str) -> None:
    assert detect_aspect(chat) is None and not asks_something(chat)


def test_when_the_office_is_open_is_a_contact_question_whatever_the_intent() -> None:
    for intent in ("ask_time_limit", "ask_location", "out_of_scope"):
        assert turn_aspect(intent, "周末上班不", in_conversation=True, previous="materials", pending=None) == "contact"
    assert turn_aspect("ask_time_limit", "审批要多长时间", in_conversation=True, previous=None, pending=None) == "time_limit"


def test_who_approves_is_asked_of_the_steps_whatever_place_or_contact_the_nlu_hears() -> None:
    # 办理流程 names the office that reviews and decides; the NLU reads "谁批" as a place
    for intent in ("ask_location", "ask_contact", "nlu_fallback"):
        assert turn_aspect(intent, "谁批", in_conversation=True, previous="materials", pending=None) == "process"
    assert turn_aspect("ask_time_limit", "谁批，要多久", in_conversation=True, previous=None, pending=None) == "time_limit"
    assert turn_aspect("ask_contact", "找谁", in_conversation=True, previous=None, pending=None) == "contact"
    assert turn_aspect("ask_location", "谁审批，在哪个窗口", in_conversation=True, previous=None, pending=None) == "location"
    assert turn_aspect("ask_contact", "这事需要找谁批", in_conversation=True, previous=None, pending=None) == "process"
