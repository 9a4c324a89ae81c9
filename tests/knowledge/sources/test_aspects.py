"""detect_aspect: what part of a guide a colloquial question asks about."""

from __future__ import annotations

import pytest

from knowledge.sources.aspects import (
    ASPECT_NAMES_ZH,
    ASPECT_SECTIONS,
    ASPECTS,
    OPTIONAL_SECTIONS,
    REQUIRED_SECTIONS,
    asks_for_proxy,
    asks_how_to_go_about,
    asks_which_procedure,
    detect_aspect,
)


@pytest.mark.parametrize(("question", "aspect"), [
    ("开公司要带啥", "materials"),
    ("注册公司需要准备哪些东西", "materials"),
    ("办营业执照要交什么证件", "materials"),
    ("办营业执照要多长时间", "time_limit"),
    ("几天能拿到证", "time_limit"),
    ("装水表要交钱吗", "fee"),
    ("办这个收不收费", "fee"),
    ("营业执照去哪里办", "location"),
    ("政务服务中心在哪", "location"),
    ("有没有咨询电话", "contact"),
    ("这个事找谁", "contact"),
    ("能在网上办吗", "online"),
    ("手机上能办吗", "online"),
    ("个体户能不能办", "conditions"),
    ("什么条件才能申请", "conditions"),
    ("流程是怎样的", "process"),
    ("具体步骤有哪些", "process"),
    ("那个扶助的钱上哪报", "location"),
    ("那得等到啥时候才能报", "time_limit"),
    ("我啥时候才能退休", "conditions"),  # at what age: who qualifies, not how long the procedure takes
    ("什么时候才能申请公租房", "conditions"),
])
def test_colloquial_question_aspect(question: str, aspect: str) -> None:
    assert detect_aspect(question) == aspect


@pytest.mark.parametrize("question", ["我想开个饭店", "简易注销", "公司变更登记", "你好", ""])
def test_general_question_names_no_aspect(question: str) -> None:
    assert detect_aspect(question) is None


@pytest.mark.parametrize(("question", "aspect"), [
    ("领的那段时间医保还要我自己交吗", None),  # a period of the asker's life, not how long the procedure takes
    ("这段时间能办吗", "conditions"),
    ("审批需要一段时间吗", "time_limit"),
    ("要多长时间", "time_limit"),
    ("想查查是不是跟那活有关，找哪家医院", "location"),
])
def test_a_period_is_no_time_limit_and_which_place_to_go_is_the_location(question: str, aspect: str | None) -> None:
    assert detect_aspect(question) == aspect


@pytest.mark.parametrize(("question", "aspect"), [
    ("网上交材料可以吗", "materials"),  # about materials before it is about online service
    ("去哪交钱", "fee"),  # about the fee before it is about the place
])
def test_first_matching_aspect_wins(question: str, aspect: str) -> None:
    assert detect_aspect(question) == aspect


def test_every_aspect_has_sections_and_a_chinese_name() -> None:
    known = set(REQUIRED_SECTIONS + OPTIONAL_SECTIONS)
    for aspect in ASPECTS:
        assert ASPECT_NAMES_ZH[aspect]
        assert ASPECT_SECTIONS[aspect] and set(ASPECT_SECTIONS[aspect]) <= known
    assert ASPECT_SECTIONS["materials"] == ("申请材料",)
    assert ASPECT_SECTIONS["time_limit"] == ("办理时限",)


@pytest.mark.parametrize(("question", "aspect"), [
    ("维修基金的申请材料交到哪，住建局哪个窗口", "location"),
    ("取水的审批在政务中心几楼交材料", "location"),
    ("要交哪些材料", "materials"),
    ("去哪交钱", "fee"),
    ("收材料的事想问问，有电话吗", "contact"),
    ("在哪个网站上报名", "online"),
])
def test_where_to_hand_in_and_which_number_win_over_what_is_handed_in(question: str, aspect: str) -> None:
    assert detect_aspect(question) == aspect


@pytest.mark.parametrize(("question", "which"), [
    ("想在河边用网子捕鱼拿去卖，需要办啥", True),
    ("开个小卖部要办什么证", True),
    ("工地的渣土要拉出去倒，需要办什么审批", True),
    ("想开个奶茶店，得办些啥手续", True),
    ("孩子明年要出国读书了，我这边要做点啥", True),
    ("开公司需要什么材料", False),
    ("营业执照办下来要多久", False),
    ("我这边要做点啥准备", False),  # the question goes on: not which procedure
    ("交完材料，下一步要做什么", False), ("那我接下来要做什么", False),  # the next step of a procedure under way
    ("手续要做多久", False),
])
def test_asking_which_procedure_applies(question: str, which: bool) -> None:
    assert asks_which_procedure(question) is which


@pytest.mark.parametrize(("question", "proxy"), [
    ("我腿有残疾跑不动，能让我儿子去帮我办吗", True), ("朋友搬去外地了过不来，怎么办", True), ("可以委托别人办理吗", True),
    ("老人行动不便，子女能代办吗", True), ("开公司要带啥", False), ("要是房子是租的呢", False), ("代理记账公司怎么开", False),
])
def test_a_question_about_someone_else_applying_is_recognised(question: str, proxy: bool) -> None:
    assert asks_for_proxy(question) is proxy


@pytest.mark.parametrize(("question", "how"), [
    ("下个月想再去趟香港咋弄", True), ("这个事怎么办理", True), ("证丢了怎么处理", True),
    ("整个流程是啥", False), ("咋弄，第一步先去哪", False), ("要带什么材料", False), ("怎么这么慢", False),
])
def test_asking_how_to_go_about_it_without_asking_for_the_steps(question: str, how: bool) -> None:
    assert asks_how_to_go_about(question) is how
