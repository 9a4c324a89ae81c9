"""Which guide says a message's own words (actions/word_holds.py): names on tiny guides, and the words of the
conversation's and the answered guide on the real retriever over the bundled guides."""

from __future__ import annotations

from typing import Any

import pytest

from actions.services import Services
from actions.word_holds import answered_says, circumstance_of_current, current_holds, describes_another, names, names_more
from knowledge.retrieval.retriever import ANSWER, RetrievalResult, Retriever

HOTEL = {"title": "旅馆业特种行业许可证核发", "aliases": ["开旅馆"], "department": "某区公安分局"}
PASSPORT = {"title": "普通护照申领", "aliases": ["办护照"], "department": "某区公安分局出入境管理大队"}
GAS = {"title": "用气报装", "aliases": ["燃气开户"]}
POWER = {"title": "用电报装", "aliases": ["装电表"]}
TAX = {"title": "新办纳税人涉税事项", "aliases": ["税务报到"]}
INVOICE = {"title": "发票申领", "aliases": ["领发票"], "department": "某区税务局"}
REISSUE = {"title": "营业执照遗失补领", "aliases": ["补办营业执照"]}
SETUP = {"title": "企业开办（公司设立登记）", "aliases": ["办营业执照"], "contacts": [{"unit": "企业开办专区"}]}
ACCEPTANCE = {"title": "工程建设项目竣工联合验收", "aliases": ["联合验收"], "department": "住建局牵头，自然资源和规划局参与"}
PLANNING = {"title": "建设工程规划许可证核发", "aliases": ["办工规证", "建设工程规划证"]}


@pytest.mark.unit
def test_a_guides_names_are_its_title_and_aliases_not_its_offices() -> None:
    assert names(PASSPORT).split("\n") == ["普通护照申领", "办护照"]
    assert names(None) == ""  # a removed guide


@pytest.mark.unit
@pytest.mark.parametrize(("message", "guide", "than", "more"), [
    ("公安那边要带啥", PASSPORT, HOTEL, False),  # both offices are the police's, neither name says so
    ("供电那边要带啥", POWER, GAS, True),  # 电
    ("税务那边要带啥", TAX, INVOICE, False),  # the invoice guide's own office is the tax bureau
    ("刚拿了执照，税务那边还要去办啥手续", TAX, SETUP, True),  # 税务 is the tax registration's alone; 执照 is both's
    ("公司设立后发票怎么领", INVOICE, SETUP, True),  # 公司设立 is the context, 发票 the matter
    ("补个营业执照要几天", REISSUE, SETUP, True),  # both say 营业执照, only one 补
    ("办营业执照要几天", REISSUE, SETUP, False),  # 办 is asking, no word of the matter: as much
    ("规划证要交哪些资料", PLANNING, ACCEPTANCE, True),  # 规划 is also the acceptance's office; 划证 only the permit's name
    ("要带啥", PASSPORT, None, False),  # no words of its own
])
def test_a_guide_names_more_of_a_message_than_another(message: str, guide: dict[str, Any], than: dict[str, Any] | None,
                                                       more: bool) -> None:
    assert names_more(message, guide, than) is more


@pytest.mark.parametrize(("message", "holds"), [
    ("平面布局图要自己画吗", True),  # the food-business guide's words
    ("营业执照丢了怎么补", False),  # words it says too, but the licence-reissue guide says more of them
    ("今天天气怎么样", False),
])
def test_whether_the_conversations_guide_holds_a_messages_words(services: Services, retriever: Retriever, message: str,
                                                                holds: bool) -> None:
    found = retriever.run(message, "general")
    least = services.settings.context_hold_share
    assert current_holds(retriever, message, "food-business-license", found, least) is holds


@pytest.mark.parametrize(("message", "elsewhere"), [("开发票怎么弄", True), ("镇上能交申请不", False), ("要多久", True)])
def test_own_words_count_for_another_matter_only_if_the_answered_guide_says_them(retriever: Retriever, message: str,
                                                                               elsewhere: bool) -> None:
    # the invoice guide says 发票; no guide says 镇上 (an answer there rests on the asking words); "要多久" has no pairs
    answered = RetrievalResult("q", ANSWER, "process", 0.5, 0.9, True, guide={"id": "invoice-application", "title": "开票"})
    assert answered_says(retriever, message, answered) is elsewhere


@pytest.mark.parametrize(("current", "message", "another"), [
    # a thing described at length after "还有" that the conversation's guide does not say
    ("water-connection", "还有教堂门口人行道上两棵大树挡着新修的大门，想挪到别处去，这要办什么手续", True),
    # documents the seal guide says: more of the matter at hand, however long their names
    ("seal-engraving", "还有法定代表人的身份证原件，要本人带去吗", False),
    ("seal-engraving", "还有刻章用的营业执照副本，原件要带吗", False),
    ("seal-engraving", "还有两个月许可证就到期了，能提前换吗", False),  # time left, no thing described
])
def test_also_describing_a_thing_the_guide_does_not_say_turns_aside(services: Services, retriever: Retriever, current: str,
                                                                   message: str, another: bool) -> None:
    assert describes_another(retriever, message, current, services.settings.context_hold_share) is another


@pytest.mark.parametrize(("current", "message", "of_it"), [
    ("seal-engraving", "合作社要是没有营业执照行不行", True),  # the seal guide says 合作社 and 营业执照
    ("water-connection", "药店要是开在小区里行不行", False),  # 药店: no word of the water connection
    ("company-setup", "发票要是开错了可以吗", False),  # 发票 is the invoice guide's name
    ("food-business-license", "饭店要是要装燃气行不行", False),  # the circumstance names the gas connection's 燃气
    ("company-setup", "公司如果想改名可以吗", False),  # ... the company change's 改名
])
def test_a_circumstance_of_the_matter_at_hand(retriever: Retriever, current: str, message: str, of_it: bool) -> None:
    assert circumstance_of_current(retriever, message, current, retriever.run(message, "conditions")) is of_it
