"""What a question asks besides its intent: the wording's aspects, answered too (actions/asked.py)."""

from __future__ import annotations

import pytest

from actions.asked import (
    also_asked,
    asks_advice,
    asks_something,
    asks_whether_needed,
    asks_who_applies,
    named_aspects,
    strip_cue_words,
    wording_aspect,
)
from knowledge.sources.aspects import CONDITIONS, PROCESS, TIME_LIMIT

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("question", ["一个月能拿多少", "政府一个月能给多少", "考证的钱能补多少钱", "每年发多少",
                                      "补贴一个月能领多少", "一个月多少", "每年多少呀", "半年大概多少", "每天多少哈"])
def test_an_amount_received_asks_what_the_fee_section_says(question: str) -> None:
    # the standard of a benefit is where a guide's fee is (收费标准), whatever the NLU hears in "一个月"
    assert "fee" in named_aspects(question)
    assert "fee" in also_asked(question, "time_limit")


@pytest.mark.parametrize("question", ["一年多少天", "一个月多少次", "一周多少节课"])
def test_a_count_per_period_is_no_amount_of_money(question: str) -> None:
    assert "fee" not in named_aspects(question)


@pytest.mark.parametrize("question", ["失业了社保一个月能领多少", "年终奖能拿多少", "车险能赔多少", "微信红包最多能发多少",
                                      "一个月多少"])
def test_an_amount_alone_makes_no_procedure_question(question: str) -> None:
    # (a weak sign: "一个月多少" is a follow-up's question in a conversation, actions/dialogue.py `names_an_item`)
    # the amount picks the section once the message is in scope; it never lets the retriever override the NLU's
    # out_of_scope ("失业了社保一个月能领多少" was answered with a registration guide's fee section)
    assert not asks_something(question)
    assert wording_aspect(question) != "fee"


@pytest.mark.parametrize(("question", "asks"), [
    ("导游一个月能挣多少钱，带团购物有提成吗", False), ("开网店一年能赚多少钱", False), ("保安工资一般多少钱", False),
    ("导游证办下来要交多少钱", True), ("卖兽药的证要多少钱", True),  # a fee, though 卖 is selling
    ("没收入要交多少钱", True), ("导游证要多少钱，工资一般多少", True),  # a payment, or a fee asked besides the earnings
])
def test_what_someone_earns_is_no_fee(question: str, asks: bool) -> None:
    assert asks_something(question) is asks


@pytest.mark.parametrize("question", ["要多少个建造师", "多少天能办好", "能领多少次", "照片要贴多少张", "发票一次能领多少张",
                                      "能领多少本", "积分落户要拿多少分", "要补多少学时", "一次能报多少科", "拿多少周",
                                      "发多少公里", "补多少材料", "给多少时间整改"])
def test_counting_something_else_is_no_amount_of_money(question: str) -> None:
    assert wording_aspect(question) != "fee"
    assert "fee" not in named_aspects(question)
    assert "fee" not in also_asked(question, "general")


@pytest.mark.parametrize(("question", "intent_aspect", "also"), [
    # the NLU heard online, the wording asks whether it is allowed: both are answered
    ("驾驶证上还有没处理的罚单，能换新证不", "online", ["conditions"]),
    # whether the procedure applies at all: who must apply and the overview
    ("只倒手卖化工原料，不存货也没仓库，需要办证吗", "conditions", ["general"]),
    ("投资二十多万的小工程也要办施工证吗", "fee", ["conditions", "general"]),
    # which procedure, beside another aspect's words
    ("店门口要搭脚手架换招牌，占人行道几天，得批啥手续", "time_limit", ["general", "process"]),
    # cues without item words
    ("合同到期单位不跟我续了，想去社保领失业的钱，要满足些啥", "general", ["conditions"]),
    ("公司办公室搬到别的区了，执照上的地址咋改", "location", ["process"]),
    # 咋 is how citizens say 怎么, before any applying verb
    ("我妈办了一级残疾证，听说还有照顾人的钱可以领，得咋申请", "conditions", ["process"]),
    ("户口迁过来以后，村里分红能不能算她一份，得咋确认", "conditions", ["process"]),
    # each clause may ask its own aspect
    ("头一回办居住证要交钱不，交了以后多久能拿到", "fee", ["time_limit"]),
    # agreeing signals add nothing
    ("居住证交上去以后大概等几天能领", "time_limit", []),
    ("头一回办居住证要不要交钱", "fee", []),
])
def test_the_wording_adds_the_aspects_it_names(question: str, intent_aspect: str, also: list[str]) -> None:
    assert also_asked(question, intent_aspect) == also


@pytest.mark.parametrize(("question", "intent_aspect", "also"), [
    # weak signs of a qualification question, item-free, answered with 受理条件 besides the NLU's aspect
    ("外地人行吗", "materials", ["conditions"]),
    ("面积不到五十平，批得下来不", "fee", ["conditions"]),
    ("年纪大了还让办不", "process", ["conditions"]),
    ("合同签了两个月才想起来没备案，会罚款吗", "fee", ["conditions"]),
    ("我户口在外地，必须回老家弄吗", "location", ["conditions"]),
    ("得有几个员工才能申请", "materials", ["conditions"]),
    ("什么人能申请", "general", ["conditions"]), ("有啥前提，要不要先有执照", "process", ["conditions"]),
    ("审核严不严", "time_limit", ["conditions"]),
    ("消防那块要先弄吗", "fee", ["conditions"]),  # what must come first is a prerequisite
    ("要多少个建造师", "fee", ["conditions"]),  # how many people it takes
    ("光报备就行了吗", "general", ["conditions"]), ("只交身份证就够了吗", "materials", ["conditions"]),  # whether that alone is enough
    ("我是乙肝小三阳，还能在学校食堂干活、拿到健康证明不", "materials", ["conditions"]),  # whether one may still
    ("收费标准是啥", "fee", []),  # 标准 of the fee is the fee's
    # a clause that names another aspect asks that one ("可以…吗" is how many questions end)
    ("可以网上交吗", "online", []),
    ("材料可以邮寄吗", "materials", []),
    # who the asker is only tells the circumstances unless the clause asks
    ("人已经在外省了，能在手机上弄吗", "online", []),
    ("听说不挂牌上路要被罚，该怎么弄", "process", []),
])
def test_weak_qualification_signs_add_the_conditions(question: str, intent_aspect: str, also: list[str]) -> None:
    assert also_asked(question, intent_aspect) == also


@pytest.mark.parametrize(("question", "intent_aspect", "also"), [
    # whether such a thing exists at all: the overview
    ("家里收入低，县里有没有政府出房子便宜租给困难户的政策", "conditions", ["general"]),
    ("开小店有没有什么补贴", "fee", ["general"]),
    ("下岗了想学门手艺考个证，政府那边有啥扶持没", "materials", ["general"]),
    # an online service named by its app or its number
    ("用12123换驾照是怎么操作的", "general", ["process", "online"]),
    ("在支付宝上能弄吗", "conditions", ["online"]),
    ("打12345问问行不行", "contact", ["conditions"]),  # a hotline to call is no app
    # whether it can be done without coming: online (and where else it is handed in)
    ("能不能不回国", "conditions", ["online"]), ("本人不过去行不行", "conditions", ["online"]),
    ("不过去年办的还能用吗", "conditions", []),  # 不过 is "but", no absence
    ("可以不到场吗", "conditions", ["online"]), ("需不需要本人去", "conditions", ["online"]),
    ("他不回国了", "general", []), ("过年不回来了", "general", []),  # news, not whether it can be done without coming
    # where a document the application needs comes from: 申请材料 besides where things are handed in
    ("水质报告去哪弄，要多新的", "location", ["materials"]), ("无犯罪证明在哪开", "location", ["materials"]),
    ("申请表在哪拿", "location", ["materials"]), ("材料交到哪", "location", []),
    # what the matter is, all of it: the overview
    ("公司财务说我今年得自己去补税，这是个啥事", "materials", ["general"]), ("他这种退下来领钱是个啥章程", "conditions", ["general"]),
    ("闺女明年秋天该念书了，我们要做些什么准备", "materials", ["general"]), ("这是个啥", "materials", []),
])
def test_existence_and_named_apps(question: str, intent_aspect: str, also: list[str]) -> None:
    assert also_asked(question, intent_aspect) == also


@pytest.mark.parametrize(("question", "intent_aspect", "also"), [
    # the capital an applicant must have is a condition, whatever the NLU hears in 多少
    ("注册资本要多少", "fee", ["conditions"]), ("原始资金要多少", "fee", ["conditions"]), ("出资额最少多少", "fee", ["conditions"]),
    ("要交多少钱", "fee", []),
    ("补助资金能给多少", "fee", []),  # an amount received: the fee section says it
    ("存量房资金监管需要几天", "time_limit", []),  # a procedure's name
    # a least or a most is a limit, which the conditions set, beside the fee or the time asked
    ("最少要多少钱", "fee", ["conditions"]), ("最多能占多长时间", "time_limit", ["conditions"]),
    ("最少要几台车", "general", ["conditions"]),
    # ... not how soon the procedure is done, how often one comes, what it costs
    ("从申请到批下来最长要多久", "time_limit", []), ("至少要提前几天交", "time_limit", []),
    ("最多跑几次", "process", []), ("最低收费多少", "fee", []),
])
def test_capital_and_limits_add_the_conditions(question: str, intent_aspect: str, also: list[str]) -> None:
    assert also_asked(question, intent_aspect) == also


@pytest.mark.parametrize("question", ["一天最少喝多少水", "创业启动资金要多少", "注册资本要多少"])
def test_capital_and_limits_are_weak_signs(question: str) -> None:
    """They add 受理条件 to an answer; they never lead the aspect nor make a message a procedure question."""
    assert named_aspects(question) == ["conditions"]
    assert wording_aspect(question) is None and not asks_something(question)


def test_weak_signs_never_make_an_off_topic_message_a_procedure_question() -> None:
    assert not asks_something("做蛋糕可以吗") and not asks_something("这件衣服我穿合适吗")
    # review: 报 and 确认 ask the steps only ending the question ("得咋确认", "咋报"), not 报复 or 确认收货
    assert not asks_something("怎么报复前男友") and not asks_something("怎么确认收货")
    assert named_aspects("咋报") == ["process"] and "报销" in strip_cue_words("医药费怎么报销")
    assert named_aspects("做蛋糕可以吗") == ["conditions"]  # but in a conversation about a guide it asks whether one qualifies


def test_a_button_or_an_empty_message_names_nothing() -> None:
    assert named_aspects('/choose{"pick": "x"}') == [] and named_aspects("") == []


@pytest.mark.parametrize(("question", "aspect"), [
    ("想在临街门面开店卖油漆稀料，门面多大才够", "conditions"),  # a cue of this module
    ("那要多久？", "time_limit"),  # the shared patterns first
    ("这店是我跟两个朋友合伙开的，那咋办", "process"),
    ("这店是我跟两个朋友合伙开的，那怎么改", None),  # a steps cue never leads: an unsure intent gets the overview
])
def test_the_wordings_leading_aspect(question: str, aspect: str | None) -> None:
    assert wording_aspect(question) == aspect


@pytest.mark.parametrize(("question", "needed"), [
    ("家里装修拆了两面墙，要审批吗", True), ("是不是得先报批", True), ("要不要办健康证", True), ("需要去水利局批吗", True),
    # the applying verbs in their other and split forms, the office between them, a few words before the particle
    ("这也算发卡要报备吗", True), ("卖酒要不要去商务局备个案", True), ("这个也要去农机站登记挂牌不", True),
    ("这个要跟政府报备吗", True), ("得向街道备案不", True),
    ("要交哪些材料", False), ("审批要多久", False), ("能不能网上办", False),
])
def test_whether_the_procedure_is_needed(question: str, needed: bool) -> None:
    assert asks_whether_needed(question) is needed


@pytest.mark.parametrize(("message", "asks"), [
    ("出差回来发现证件丢了，下周还要坐高铁，这可咋整", True),
    ("新买了台电瓶车，想去挂个牌子，要准备什么", True), ("我在上海出差突然要住院，医保咋用", True), ("能让我儿子替我办吗", True),
    ("开家兽医院需要什么", True), ("给宠物开个诊所得准备些啥？", True), ("红烧鱼需要什么调料", False),
    ("水库钓鲫鱼用什么饵料好", False), ("电动车电瓶冬天怎么充电更耐用", False), ("去香港旅游有哪些必吃的茶餐厅", False),
])
def test_whether_a_message_asks_about_a_procedure(message: str, asks: bool) -> None:
    assert asks_something(message) is asks


@pytest.mark.parametrize(("message", "who"), [
    ("要我们自己去申请吗", True), ("卖车的店能不能帮着办", True), ("公司能不能帮我们几个新来的统一报上去", True),
    ("能让我儿子替我办吗", True), ("多久能拿到", False), ("自己家的房子能当住所吗", False),
    ("自己交社保的事想打电话问问，号码多少", False), ("开出租车没单位，想自己交养老保险，要满足啥条件", False),
])
def test_who_hands_the_application_in(message: str, who: bool) -> None:
    assert asks_who_applies(message) is who


@pytest.mark.parametrize("text", ["电脑坏了咋整", "双十一有没有优惠", "微信怎么给朋友转账"])
def test_weak_signs_do_not_make_an_off_topic_message_a_procedure_question(text: str) -> None:
    assert not asks_something(text)


def test_weak_signs_still_add_their_sections_to_a_procedure_answer() -> None:
    assert PROCESS in named_aspects("身份证丢了这可咋整")
    assert CONDITIONS in named_aspects("门面多大才行") and CONDITIONS not in named_aspects("照片多大尺寸的")


@pytest.mark.parametrize(("question", "deadline"), [
    ("啥时候开始可以申请换新的", True), ("从几月开始能弄，最晚弄到几号", True), ("现在补还赶得上不", True),
    ("去年的补贴当时忘报了，现在还能补报不", True), ("去年的单子，现在还能拿去申请救助吗", True),
    # office hours and clock times (联系方式), not the period to apply
    ("窗口最晚几点关门", False), ("最迟8点下班吗", False), ("最晚什么时候下班", False), ("窗口最晚到几点", False),
    ("最晚下午五点前到吗", False), ("最晚9:00到吗", False), ("什么时候开始上班", False),
    ("现在还能用吗", False), ("我六十了还能办吗", False),  # whether it still works or the asker qualifies
])
def test_when_one_may_still_apply_adds_the_time_limit(question: str, deadline: bool) -> None:
    assert (TIME_LIMIT in named_aspects(question)) is deadline


def test_deadline_and_what_matter_signs_are_weak() -> None:
    # they add sections to a procedure answer, never make a message a procedure question
    assert not asks_something("赶得上火车吗") and not asks_something("这算什么事啊")
    assert not asks_something("最晚几号能到")


@pytest.mark.parametrize(("question", "which"), [
    ("开公司做这个需要拿啥牌照", True), ("到底缺个什么证", True), ("要有哪些资质", True), ("需要啥执照", True),
    ("要带什么证件", False), ("需要什么证明", False), ("缺什么证件", False),  # papers to bring: materials
    ("住酒店要什么证", False), ("坐飞机要啥证", False), ("缺什么证据", False),  # an ID, evidence: no licence
])
def test_which_licence_it_takes_asks_the_overview_and_is_a_procedure_question(question: str, which: bool) -> None:
    assert ("general" in named_aspects(question)) is which
    assert asks_something(question) or not which


@pytest.mark.parametrize(("question", "needed"), [
    ("公司只给自家的抖音号拍点短视频，需不需要找广电办证", True), ("要不要跟街道备案", True), ("要跟街道备案嘛", True),
    ("需要办证嘛", True), ("需要办证吧", True), ("要备案吗 ？", True),  # how people end a question
    # 找 / 到 / 跟 / 向 someone who is no office: no procedure
    ("这个病要不要找医生办住院", False), ("要不要到银行办张卡", False), ("要不要找中介办贷款", False),
    ("要不要跟老板申请调岗", False), ("要不要跟物业登记一下访客", False), ("要不要到医院登记", False),
])
def test_whom_one_would_apply_to_is_an_office(question: str, needed: bool) -> None:
    assert asks_whether_needed(question) is needed


@pytest.mark.parametrize(("question", "needed"), [
    ("要做地震评价吗", True), ("一个普通仓库，还要不要单独请人做地震评价", True), ("需要做环评不", True),
    ("需要环评吗", True), ("要不要环评", True), ("要做地震评价嘛", True), ("需要做环评不呀", True),
    ("需要做核酸检测吗", False), ("需要做亲子鉴定吗", False), ("孩子要做智力评估吗", False),  # no procedure's assessment
    ("我们公司主要做食品检测", False), ("这种仓库不需要做地震评价", False), ("老师要我们做课程评价", False),  # no question
    ("要做饭吗", False), ("要不要做体检", False),
])
def test_whether_an_assessment_is_needed(question: str, needed: bool) -> None:
    assert asks_whether_needed(question) is needed


def test_sent_by_post_is_a_weak_sign_of_online() -> None:
    assert "online" in named_aspects("那他腿脚不好，新证能寄回家不")
    assert not asks_something("包裹寄到哪")


@pytest.mark.parametrize("question", ["地暖和暖气片哪个取暖效果更好", "幼小衔接班到底有没有必要上", "网上卖的百万医疗险值不值得买",
                                      "健身房私教课一节多少钱算合理", "暖气烧得屋里太干，放盆水有没有用",
                                      "高压线底下住着对身体有没有辐射影响", "离婚以后一个人带孩子怎么调整心态",
                                      "帮我写一封给房东的退租通知"])
def test_advice_and_opinions_are_read_as_such(question: str) -> None:
    assert asks_advice(question)


@pytest.mark.parametrize("question", ["开网店有没有必要办营业执照", "个体户和公司注册哪个划算", "网上申请和窗口办哪个好",
                                      "健康证这块有啥要注意的", "那个补贴值不值得申请", "暖气这块咋处理划算",
                                      "食品经营许可证要多少钱", "这合不合理", "帮我写个申请", "营业执照怎么选经营范围",
                                      # review: procedures named by what is paid, moved or cut, and a layout a licence requires
                                      "社保有没有必要交", "户口有没有必要迁", "公章有没有必要刻", "灵活就业交社保值不值",
                                      "开餐馆后厨怎么布置才符合要求", "食品从业人员对身体有什么要求", "帮我写个公司章程",
                                      # comparisons of a procedure's options (a sample guide's FAQ asks the first)
                                      "小规模纳税人和一般纳税人怎么选", "个体户和公司哪个好", "公积金贷款和商业贷款哪个划算"])
def test_advice_in_a_procedures_words_asks_about_the_procedure(question: str) -> None:
    """Said with a procedure's words (办, 注册, 申请, 证…) the same forms ask whether or how to apply: not advice."""
    assert not asks_advice(question)
