from __future__ import annotations

import pytest

from actions.dialogue import (
    also_described,
    applicant_circumstance,
    asked_clause,
    begins_as_reply,
    begins_with_yes,
    circumstance_subject,
    describes_item,
    has_own_words,
    is_bare_aspect,
    is_elliptical,
    is_hypothetical,
    is_question,
    names_an_item,
    refers_back,
    resolve_pick,
    starts_new_matter,
    states_a_matter,
    turns_aside,
)

OPTIONS = [("general", "企业注销登记（一般注销）", ["一般注销"]), ("simple", "企业简易注销登记", ["简易注销"]), ("setup", "企业开办", [])]


@pytest.mark.parametrize(("reply", "expected"), [
    ("1", "general"), ("２", "simple"), ("第三个", "setup"), ("选2", "simple"), ("就第一个吧", "general"),
    ("最后一个", "setup"), ("简易注销吧", "simple"), ("一般注销", "general"), ("4", None), ("注销", None), ("今天天气", None),
])
def test_resolve_pick(reply: str, expected: str | None) -> None:
    assert resolve_pick(reply, OPTIONS) == expected


def test_button_entity_wins_only_when_offered() -> None:
    assert resolve_pick("whatever", OPTIONS, entity_pick="simple") == "simple"
    assert resolve_pick("whatever", OPTIONS, entity_pick="not-offered") is None


@pytest.mark.parametrize(("message", "expected"), [("那个体户呢？", True), ("用电报装呢", True), ("那要多久呢", False), ("开公司要什么材料", False)])
def test_is_elliptical(message: str, expected: bool) -> None:
    assert is_elliptical(message) is expected


@pytest.mark.parametrize(("message", "has_item"), [
    ("多久生效？", False), ("多久能拨款？", False), ("多长时间能批下来", False), ("想先咨询下，电话多少", False),
    ("那要多久？", False), ("去哪交？", False), ("要我们自己去申请吗", False), ("本人亲自去办理吗", False),
    ("用电报装要多久", True), ("居住证要多久", True), ("个体户呢？", True), ("养狗要登记吗", True),
    ("一个月多少", False), ("每年要交几次", False), ("一年一次的年检多少钱", True),  # a period is no item; 年检 is one
    ("一个月能赚多少", True),  # earnings are the job's, no follow-up of a procedure
    ("半年报怎么报", True), ("年度报告要交吗", True), ("一次性的呢", True), ("一年级的呢", True),  # items, not periods
])
def test_the_life_of_an_application_is_no_item(message: str, has_item: bool) -> None:
    """A follow-up about how any application goes on ("多久能批下来") stays with the conversation's guide."""
    assert names_an_item(message) is has_item


@pytest.mark.parametrize(("message", "hypothetical"), [
    ("要是车子换过大电瓶的呢", True), ("如果材料不全的话怎么办", True), ("那要是房子在村里呢", True), ("万一过期了呢", True),
    # the circumstance after its subject, asking whether it still goes
    ("合作社要是没有营业执照行不行", True), ("房子如果是租的可不可以", True), ("老板要是外国人行吗", True),
    ("注销公司", False), ("那要多久？", False), ("开公司要带什么材料", False),
    ("要是想开网吧需要什么材料", True), ("公司要办营业执照行不行", False),
    # a circumstance told, then what to do given it; not "那咋弄" alone, nor a question of its own item
    ("这店是我跟两个朋友合伙开的，那咋弄", True), ("材料不全，那怎么办？", True), ("那咋弄", False), ("开公司怎么弄", False),
])
def test_a_new_circumstance_is_recognised(message: str, hypothetical: bool) -> None:
    assert is_hypothetical(message) is hypothetical


@pytest.mark.parametrize(("message", "of_applicant"), [
    ("老板要是外国人行吗", True), ("法人要是不在本地可以吗", True), ("股东要是外地户口行不行", True),
    ("我们要是在小区里开个药店可以吗", False),  # we, the ones telling a new matter
    # a circumstance of a thing: it may name another matter ("药店" is the pharmacy licence's)
    ("药店要是开在小区里行不行", False), ("合作社要是没有营业执照行不行", False),
    ("要是老板是外国人呢", False),  # told first: is_hypothetical's own form
])
def test_a_circumstance_of_the_applicant_is_recognised(message: str, of_applicant: bool) -> None:
    assert applicant_circumstance(message) is of_applicant


@pytest.mark.parametrize(("message", "subject"), [
    ("合作社要是没有营业执照行不行", "合作社"), ("房子如果是租的可不可以", "房子"),
    ("要是没有营业执照行不行", None),  # no subject: the opening form, is_hypothetical's
    ("合作社要办营业执照吗", None),  # no circumstance
])
def test_the_subject_a_circumstance_is_told_after(message: str, subject: str | None) -> None:
    assert circumstance_subject(message) == subject


@pytest.mark.parametrize(("message", "new"), [
    ("还有个事，村口的老石桥想修一修，找哪个部门", True), ("另外一件事：公司要注销", True), ("换个问题，开公司要啥", True),
    ("还要多久", False), ("还有别的材料吗", False), ("另外还要交什么", False), ("还有一个问题，这个要多久", False),
])
def test_a_new_matter_is_recognised(message: str, new: bool) -> None:
    assert starts_new_matter(message) is new


@pytest.mark.parametrize(("message", "bare"), [
    ("要几天？", True), ("在哪办", True), ("电话多少？", True), ("今天天气怎么样", False), ("你好", False),
    ("想在临街门面开店卖油漆稀料，要多久", False),
])
def test_a_bare_aspect_is_recognised(message: str, bare: bool) -> None:
    assert is_bare_aspect(message) is bare


@pytest.mark.parametrize(("message", "aside"), [
    ("对了，我刚买的电瓶车也还没挂牌子，那个去哪弄", True), ("我其实还想自己开个小店，有贴息的借款吗", True),
    ("另外我爸妈一直租房住，能申请便宜的房子吗", True), ("顺便问下，公积金怎么提", True),
    ("我还有个问题，孩子上学的预防接种证在哪补", True), ("再打听个事，老人办优待证要带啥", True),
    ("另一个问题，开小饭馆要办啥证", True),
    # "还有" and someone or something else: another matter may follow; "还有别的…" asks more of the same
    ("还有我表姐在村里开了个小作坊，做米粉卖要办啥证", True), ("还有，楼上邻居把承重墙打了，找谁鉴定", True),
    ("还有别的材料吗", False), ("那要多久？", False), ("要是房子是租的呢", False), ("还有什么要注意的", False),
])
def test_turning_aside_is_recognised(message: str, aside: bool) -> None:
    assert turns_aside(message) is aside


@pytest.mark.parametrize(("message", "described"), [
    ("住建局管保障房的窗口在政务中心几楼", True), ("乡下起房子从交申请到批下来要多久", True), ("办歌舞厅的那个证收费吗", False),
    ("要交押金吗", False), ("需要预约吗", False), ("原件要带吗", False), ("过期了怎么办", False), ("具体咋弄", False),
    ("填表有啥要注意的", False), ("审核不通过怎么办", False), ("那要多久？", False),
])
def test_a_matter_of_its_own_is_described_in_several_words(message: str, described: bool) -> None:
    assert describes_item(message) is described


@pytest.mark.parametrize("message", ["光报备就行了吗", "要不要自己去发改局备案", "公章要去备案"])
def test_the_filing_verbs_are_the_matter_at_hands_in_a_conversation(message: str) -> None:
    # a first message saying them names its matter ("公章要去备案"); in a conversation they are the one at hand's
    assert describes_item(message) and not describes_item(message, in_conversation=True)


@pytest.mark.parametrize(("message", "thing"), [
    ("还有教堂门口人行道上两棵大树挡着新修的大门，想挪到别处去", "教堂门口人行道上两棵大树挡着新修的大门"),
    ("还有身份证复印件，要几份", None),  # too short to describe anything
    ("还有这船是我跟我哥合伙买的，他在外地回不来", None), ("还有你说的那个卫生许可证，要先办吗", None),  # pointing back
    ("还有两个月许可证就到期了，能提前换吗", None),  # time left
])
def test_a_thing_described_after_also(message: str, thing: str | None) -> None:
    assert also_described(message) == thing


@pytest.mark.parametrize(("text", "expected"), [
    ("我在小区门口租了个门面，想卖熟食", True),  # tells the matter, asks nothing
    ("家里老人上个月走了", True),
    ("水库钓鲫鱼用什么饵料好", False),  # a question, about something else
    ("开个小超市要准备什么", False),  # a question: asked as one
    ("好的", False), ("谢谢", False), ("", False),  # no matter at all
])
def test_a_statement_of_the_users_matter_asks_nothing_and_names_something(text: str, expected: bool) -> None:
    assert states_a_matter(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("开发票怎么弄", True), ("抵押登记在哪办", True),  # a matter of its own, however short
    ("过期了怎么办", False), ("需要预约吗", False), ("要交押金吗", False), ("具体咋弄", False),  # a follow-up's own words
    ("电怎么装", True),  # 电: a matter of one character (electricity, after the water connection)
    ("在哪报名", False), ("考试收费吗", False), ("自考在哪报名", True),  # the licence's exam; 自考 names a matter
])
def test_own_words_are_what_a_follow_up_does_not_say(text: str, expected: bool) -> None:
    assert has_own_words(text) is expected


@pytest.mark.parametrize(("message", "asked"), [
    ("要是以后营业执照上的地址改了，那个登记要重新弄吗", "那个登记要重新弄吗"),  # 地址 is the circumstance
    ("如果材料不全的话怎么办", "如果材料不全的话怎么办"),  # one clause: it is the question
    ("那要是到期了呢", "那要是到期了呢"), ("在哪办", "在哪办"),
])
def test_a_hypotheticals_question_is_read_without_its_if_clause(message: str, asked: str) -> None:
    assert asked_clause(message) == asked


@pytest.mark.parametrize(("message", "back"), [
    ("这个要跟政府报备吗", True), ("那种也要办吗", True), ("这也算吗", True),
    ("那要多久", False), ("开公司要什么材料", False), ("这里是政务中心吗", False),
    ("那个，开饭店要办什么证", False), ("这个，我想问下注销的事", False),  # a filler before a pause points at nothing
])
def test_a_message_that_refers_back(message: str, back: bool) -> None:
    assert refers_back(message) is back


@pytest.mark.parametrize(("text", "asks"), [
    ("平面布局图要自己画吗", True), ("要空腹不", True), ("1+1等于几", True),  # a question, whatever about
    ("我想吃火锅", False), ("好的谢谢", False),
])
def test_any_sign_of_a_question(text: str, asks: bool) -> None:
    assert is_question(text) is asks


@pytest.mark.parametrize(("text", "reply", "yes"), [
    ("是", True, True), ("是的，要多久", True, True), ("对，在哪办", True, True), ("嗯嗯", True, True), ("是的要多久", True, True),
    ("是啊", True, True), ("对啊，收费吗", True, True), ("需要，人工电话多少", True, True),
    ("不用了", True, False), ("不是，我问的是开饭店", True, False), ("不是这个，要多久", True, False), ("谢谢", True, False),
    ("要不要报备", False, False), ("是不是要先备案", False, False), ("不要钱吗", False, False), ("好几个部门都要跑吗", False, False),
    ("对了，还有个事", False, False), ("可以网上办吗", False, False), ("不用交钱吧", False, False),
    ("不是刻章，收费吗", True, False), ("不对不对，要多久", True, False), ("并不是，要多久", True, False), ("行吧，要多久", True, True),
    ("对对，去哪办", True, True), ("恩，收费吗", True, True),
    ("不行不行", True, False), ("不用不用", True, False), ("没", True, False), ("不行吗", False, False), ("没人管吗", False, False),
])
def test_a_typed_answer_to_an_offer_is_told_from_a_question(text: str, reply: bool, yes: bool) -> None:
    assert begins_as_reply(text) is reply and begins_with_yes(text) is yes
