"""What a question asks, read from its wording besides the NLU intent: the NLU was trained on the sample
guides' items and is often unsure or wrong on items it never saw ("驾驶证上还有没处理的罚单，能换新证不"
came out as ask_online), while the wording's aspect cues carry no item vocabulary.

The answer shows the sections of the intent's aspect and also those of every aspect the wording names
(`also_asked`): when the two disagree, both are answered, once, instead of betting on one of them.

Usage::

    >>> also_asked("驾驶证上还有没处理的罚单，能换新证不", "online")
    ['conditions']
    >>> also_asked("只倒手卖化工原料，不存货也没仓库，需要办证吗", "conditions")
    ['general']
"""

from __future__ import annotations

import re

from knowledge.sources.aspects import (
    CONDITIONS,
    FEE,
    GENERAL,
    MATERIALS,
    ONLINE,
    PROCESS,
    TIME_LIMIT,
    asks_for_proxy,
    asks_which_procedure,
    detect_aspect,
    strip_aspect_words,
)

# "需要办证吗", "也要办施工证吗", "要审批吗", "是不是得先报批": whether the procedure applies to the asker at all.
# Who must apply is 适用对象/受理条件, and what it takes is the overview: both are answered.
# "要报备吗", "要不要去商务局备个案", "也要去农机站登记挂牌不": the applying verbs, in their split forms too.
# "这还算保护区吗要不要报": 报 alone applies too, when it ends the question ("要不要报个补习班", "报复" do not).
_APPLY = r"(办|申请|报批|审批|批|备案|报备|备个案|登记|登个记|报(?=[吗么不呢啊?？。！!]|$))"
# "要不要额外办手续", "还要另外申请吗": a word of "besides" before the verb.
_BESIDES = r"(额外|另外|单独|专门|再|还|也)?"
# How a question ends: its particle, then what people type after it ("需要办证嘛", "要做地震评价吗呀", "要备案吗 ？").
_ASKS = r"(吗|么|不|嘛|呢|吧)[呀啊呢吧]?[?？。！!…~～.\s]*$"
# "需不需要找广电办证", "要不要跟街道备案": 找 / 到 / 跟 / 向 name whom it is handed to only when an office follows
# ("要不要找中介办贷款", "要不要到银行办张卡", "要不要跟老板申请调岗" ask about no procedure).
_OFFICE = r"[^，,。；;？?]{0,6}(局|所|站|中心|窗口|街道|社区|村委|居委|政府|部门|广电|公安|税务|海关|法院)"
# Assessments a procedure may require ("要做地震评价吗", "需要环评吗"): the named ones stand alone, 评价 and 论证 need 做
# (核酸检测, 亲子鉴定, 智力评估 are no procedure's).
_ASSESSMENT = r"(做[^，,。；;？?]{0,6}(评价|论证)|环评|安评|能评|稳评)"
_NEEDS_PROCEDURE = re.compile(
    rf"(要|需要|得|用|该)(先)?{_BESIDES}(去)?{_APPLY}[^，,。；;？?]{{0,12}}{_ASKS}"
    rf"|(要不要|需不需要|用不用|是不是得|是不是要)(先)?{_BESIDES}(去)?{_APPLY}"
    # "需要去水利局批吗", "要不要去商务局备个案", "需不需要找广电办证": the office between the verbs
    rf"|(要不要|需不需要|用不用)(先)?(去[^，,。；;？?]{{1,8}}|(找|到|跟|向){_OFFICE}){_APPLY}"
    # "这个要跟政府报备吗", "要向街道备案吗", "得到镇里登记不": whom it is handed to, between the verbs too
    rf"|(要|需要|得|该)(先)?(去|跟|向|找|到)[^，,。；;？?]{{1,8}}{_APPLY}[^，,。；;？?]{{0,4}}{_ASKS}"
    # "还要不要单独请人做地震评价", "要做地震评价吗", "需要环评不": an assessment, asked about (not "主要做…", "不需要做…")
    rf"|(要不要|需不需要|用不用|是不是要|是不是得)[^，,。；;？?]{{0,10}}{_ASSESSMENT}"
    rf"|(?<![主不想])(要|需要|得|该)[^，,。；;？?]{{0,6}}{_ASSESSMENT}[^，,。；;？?]{{0,4}}{_ASKS}"
)
# "需要拿啥牌照", "到底缺个什么证", "要有哪些资质": which licence it takes (knowledge.sources.aspects reads "办啥证").
# A bare 证 only after 拿 / 缺 / 办 / 得有 / 要有: "住酒店要什么证" asks for an ID, "缺什么证据" for evidence, "要什么手续费" the fee.
_WHICH_LICENCE = re.compile(r"(拿|缺|办|得有|要有)(个|些|点)?(啥|什么|哪些|哪种)(牌照|证(?![件明书据])|执照|资质|许可|手续(?!费))"
                            r"|(要|需要)(个|些|点)?(啥|什么|哪些|哪种)(牌照|执照|资质|许可)")
# Aspect cues that knowledge.sources.aspects does not read (no item words): "要满足些啥", "门面多大才够",
# "什么样的项目要做", "有啥要求" ask who qualifies; "收不收钱" the fee; "怎么操作", "咋改", "哪几步" the steps.
_MORE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (CONDITIONS, re.compile(r"满足|多大才|多少才|才够|够格|什么样的|啥样的|哪些[^，,。？?]{0,6}(能|可以)|有(啥|什么|哪些)要求|限制")),
    (FEE, re.compile(r"收钱|收不收|要不要钱|不要钱|花多少|贵不贵")),
    # "得咋申请", "村里的名单咋确认", "咋个弄法": 咋 is how citizens say 怎么, before any applying verb
    (PROCESS, re.compile(r"怎么操作|咋操作|怎么改|咋改|怎么走|哪几步|怎么处理|怎么补|咋补|怎么续|咋续|咋弄|咋用|怎么用"
                         r"|(咋|怎么|如何)(样)?(才能|去)?(申请|办理|申报|登记|备案|(报|确认|认定)(?=[吗么不呢啊呀?？。！!]|$))"
                         r"|(咋|怎么)个(弄|办|搞|领|整|走)法")),
    # "能不能不回国", "可以不到场吗", "本人不过去行不行": whether it can be done without coming, which is what a guide's
    # 网上办理 (and 办理地点: by post, at a local office) says
    # Asked as a possibility only: "他不回国了", "过年不回来了" tell news, they ask nothing.
    (ONLINE, re.compile(r"(能不能|可不可以|可以|能否)不(用|必|需要)?(回国|回来|到场|亲自|本人去|跑一趟|过去|过来)"
                        r"|不(用|必|需要)?(回国|回来|到场|亲自|本人去|跑一趟|过去|过来)[^，,。？?]{0,4}(能|可以|行)(吗|不|办)"
                        r"|不(用|必|需要)(回国|回来|到场|亲自|本人|跑一趟|过去|过来)[^，,。？?]{0,3}(吗|吧|呢)"
                        r"|(需不需要|要不要|用不用)(本人|亲自)")),
    # "开家兽医院需要什么": what it takes, the question left open at the end ("…需要什么调料" names its own thing)
    (MATERIALS, re.compile(r"(需要|要|得)(准备|带|交|提供)?(些|点)?(什么|啥|哪些)(东西)?[?？。呢吧啊呀]*$")),
)
# "一个月能拿多少", "能补多少钱", "补贴给多少": an amount of money received is said where the fee is (收费标准 holds the
# standard of a benefit as of a fee). Money only: a money word by the verb, or nothing after 多少 ("照片要贴多少张",
# "积分落户要拿多少分", "补多少材料" count other things). Not "帮多少": 帮 is also 帮办 (a service guide's name). A weak
# sign like the two below: "年终奖能拿多少", "车险能赔多少" ask no procedure, so it never makes a message in scope; it
# adds the fee section once the message is (`named_aspects` with weak signs, `also_asked`).
# "能给报几成": a share of a cost paid back is an amount received too.
_RECEIVED = r"(拿|领|补|发|给|赔|报|贴|助)(个|了)?(多少|几成)"
# A period ("一个月", "每年", "两周"), not an item that starts like one ("半年报", "年度", "一次性", "一年级").
PERIOD = r"[一每半两](个)?(月|年|季度|周|天|次)(?![报表度性级份期])"
# "一个月多少", "每年多少": an amount per period, nothing after 多少 ("一年多少天" counts days).
_PER_PERIOD = rf"{PERIOD}[^，,。；;？?]{{0,2}}多少[?？。！!呢啊呀吧哈]*$"
_AMOUNT = re.compile(rf"{_RECEIVED}(钱|块|元|[?？。！!呢啊呀吧]*$)|{_PER_PERIOD}"
                     rf"|(钱|块|元|补贴|补助|救助金|生活费|工资|津贴|抚恤金|养老金)[^，,。；;？?]{{0,6}}{_RECEIVED}[?？。！!呢啊呀吧]*$")
_AMOUNT_VERB = re.compile(rf"{_RECEIVED}(钱|块|元)?")
# "这可咋整" asks the steps only of a matter already at hand ("电脑坏了咋整" asks no procedure): a weak sign, like the
# qualification clauses below, read for the answer's sections but not to tell a question from an off-topic one.
_WEAK_PROCESS = re.compile(r"咋整|怎么整|咋搞")
# "最少要几台车", "最多能占多长时间", "最少要多少钱": a least or a most is a limit, which the guide's conditions set, often
# beside the fee or the time the wording asks ("大病救助一年最多能给多少钱"): a weak sign, adding 受理条件. Not of the
# procedure itself: how soon it is done ("最长要多久批下来", "至少要提前几天交"), how often one comes, what it costs.
_LIMIT = re.compile(r"(最少|至少|起码|最低|最多|最长|最高|顶多)[^，,。；;？?]{0,4}(几|多少|多大|多长|多久|多高|多远)")
_OF_THE_PROCEDURE = re.compile(r"办好|办完|办下来|批下来|拿到|出证|下证|回执|提前|工作日|跑|收费")
# "注册资本最少多少", "原始资金要多少": the capital an applicant must have is a condition (受理条件), though the NLU hears
# 多少 as a fee. Qualified capital only ("补助资金能给多少" is an amount received, "资金监管" a procedure's name), and a
# weak sign ("创业启动资金要多少" is advice, not a procedure question).
_CAPITAL = re.compile(r"(注册|启动|原始|自有|实缴|认缴|开办)(资金|资本|基金)[^，,。；;？?]{0,6}(多少|几(?![天点号份次个]))"
                      r"|出资额?[^，,。；;？?]{0,4}(多少|几(?![天点号份次个]))")
# Weaker signs that a clause asks whether the asker qualifies ("外地人行吗", "年纪大了还让办不", "面积不到五十平，
# 批得下来不", "会不会被罚"): read only in a clause that names no other aspect ("可以网上交吗" asks online), and
# only to add 受理条件 to the answer, never to lead it or to tell a question from an off-topic one ("做蛋糕可以吗").
_QUALIFY_CLAUSE = re.compile(
    r"(可以|可不可以|行|成|中|好使|合适|合规|合法|管用|算数|够|达标|合格)(吗|么|不|嘛)|行不|够不"
    # "光报备就行了吗", "只交身份证就够了吗": whether that alone is enough
    r"|(光|只)[^，,。；;？?]{1,8}就(行|够|可以|成)了?(吗|么|不|嘛)"
    r"|允许|让不让|准不准|给不给|让办|给办|批得(下来|下|了)|批不(下来|下|了)|能(批|过|通过)|过得了|过不了|算不算|属不属于"
    r"|(必须|一定要|非得|只能)[^，,。；;？?]{1,12}(吗|么|不)[?？。]*$"
    r"|(什么|啥|哪些|哪种|哪类|谁)(样的)?(人|单位|企业|公司|家庭|情况)?(能|可以|才能|才可以|有资格)(申请|办|报|享受|领)"
    r"|规定|标准|前提|经验|严不严|松不松|先有"
    # "消防那块要先弄吗": what must come first is a prerequisite; "要多少个建造师": how many people it takes
    r"|(要|得|需要)先[^，,。；;？?]{0,8}(吗|么|不)[?？。]*$|(要|得|需要)(多少|几)个"
    # "我是乙肝小三阳，还能在学校食堂干活": whether the asker may still, given what they just told
    r"|还(能|可以)"
    # sizes of the premises or the asker ("门面多大才行"), not of a photo or a form ("照片多大尺寸" asks materials)
    r"|门槛|资质|具备|起码|至少|最少|最低|不低于|不少于|不超过|(要|得|需要)有(多少|几)|多少人|几个人|多少平"
    r"|(面积|门面|店面|场地|房子|房间|厂房|年纪|岁数)[^，,。；;？?]{0,4}(多大|多高|多宽)"
)
# Who the asker is, or what may befall them ("我是外地户口呢", "会不会被罚"): a qualification question only in a
# clause that asks ("人已经在外省了" or "听说不挂牌要被罚" only tell the circumstances).
_STATUS = re.compile(r"年龄|年纪|岁数|周岁|户口|户籍|学历|本地人|外地人|外国人|不是本地|罚|处罚|违规|违法|后果")
_ASKING = re.compile(r"(吗|么|不|呢|没有)[?？]*$|会不会|是不是|有没有|算不算|[?？]$")


def _asks_qualification(clause: str) -> bool:
    return bool(_QUALIFY_CLAUSE.search(clause) or (_STATUS.search(clause) and _ASKING.search(clause)))


# "水质报告去哪弄", "无犯罪证明在哪开": where a document the application needs comes from, which 申请材料 says beside
# each document (besides where the application itself is handed in). A weak sign: "体检报告去哪拿" may be chat.
_DOCUMENT_FROM = re.compile(r"(报告|证明|证书|表格|表)[^，,。；;？?]{0,3}(去|到|在)?(哪|哪里|哪儿)(弄|开|办|拿|出|做|要)")
# "县里有没有给困难户便宜租房的政策": whether such a thing exists at all, answered by the overview (what it is,
# who may apply, how); "用12123换驾照怎么操作", "在微信上能弄吗": an online service named by its app or number.
_EXISTS = re.compile(r"有(没有|啥|什么)[^，,。；;？?]{0,24}(政策|补贴|补助|项目|优惠|福利|帮扶|扶持)")
# "啥时候开始可以申请", "最晚弄到几号", "现在补还赶得上不", "去年的现在还能补报不": when one may still apply is what
# 办理时限 says (the period to apply, the deadline), not how long it takes. A weak sign: "赶得上火车吗" is chat; not
# at a clock time or office hours ("最晚几点下班", "窗口最晚到几点", "什么时候开始上班": 联系方式); "现在还能…" only with an
# applying verb close after it.
_DEADLINE = re.compile(r"(什么|啥)时候(开始|起)(?!上班|下班|营业|办公|开门)|几月份?(开始|起|截止|之前|以前)"
                       r"|最(晚|迟)(?![^，,。；;？?]{0,5}(点|:|：|上班|下班|开门|关门))|截止"
                       r"|赶得上|赶不上|来得及|来不及"
                       r"|(现在|今年|如今|这会儿)[^，,。；;？?]{0,4}还(能|可以)[^，,。；;？?]{0,3}(补|申请|报|办|领|交)")
# "这是个啥事", "他这种是个啥章程", "这块是个啥规定", "我们要做些什么准备": what the matter is, all of it (the overview).
_WHAT_MATTER = re.compile(r"(是|算)(个|一个)?(啥|什么)(事|事儿|章程|说法|名堂|程序|规定)|做(些|点)?(什么|啥)准备")
# "新证能寄回家不", "能不能寄到单位": sent by post, which 网上办理 (and 办理地点) say. A weak sign: "包裹寄到哪" is chat.
_BY_POST = re.compile(r"寄(回|到|给|过来|过去|回来)")
_NAMED_APP = re.compile(r"支付宝|微信|(用|在|通过)\d{5}(?!\d)")
# Which of those cues may choose the answer's main aspect when the intent names none: not the steps, as an
# unsure intent is answered with the overview, and it holds the steps already ("那咋弄" may ask for materials).
_LEADING_CUES = frozenset({CONDITIONS, FEE})


_CLAUSE = re.compile(r"[，,。；;？?！!、]")


# "要我们自己去申请吗", "卖车的店能不能帮着办", "公司能不能帮我们统一报上去": who hands the application in.
# "自己交社保 / 自己交养老" is paying one's own contributions, no question of who applies.
_WHO_APPLIES = re.compile(r"(自己|本人|亲自)(去|来|到场)?(申请|办|跑|交材料|交申请|递)"
                          r"|帮着(办|申请|弄|报)|帮(我们|咱们|大家)|代为|统一(报|办|申请|交)")


def asks_who_applies(text: str) -> bool:
    """Whether someone else may apply, or the applicant must come: who may (受理条件), what a proxy brings
    (申请材料) and how the application is handed in (办理流程) answer it."""
    return asks_for_proxy(text or "") or bool(_WHO_APPLIES.search(text or ""))


def asks_whether_needed(text: str) -> bool:
    """"需要办证吗": whether the asker must apply at all."""
    return bool(_NEEDS_PROCEDURE.search((text or "").strip()))


def asks_which(text: str) -> bool:
    """"占人行道几天，得批啥手续": which procedure applies, even beside another aspect's words."""
    return asks_which_procedure(text) or asks_which_procedure(strip_aspect_words(text)) or bool(_WHICH_LICENCE.search(text))


def wording_aspect(text: str) -> str | None:
    """The aspect the wording names: the shared patterns first, then this module's further cues."""
    found = detect_aspect(text)
    if found:
        return found
    return next((aspect for aspect, pattern in _MORE_CUES if aspect in _LEADING_CUES and pattern.search(text)), None)


def named_aspects(text: str, weak: bool = True) -> list[str]:
    """Every aspect the wording asks about, in the order they are answered; `weak`: with the clauses that
    only show signs of asking whether the asker qualifies (`_QUALIFY_CLAUSE`)."""
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return []
    found: list[str] = []
    if asks_which(text):
        found.append(GENERAL)
    if asks_whether_needed(text):
        found += [CONDITIONS, GENERAL]
    # "要交钱不，多久能办好": each clause may ask its own aspect (detect_aspect reads the first one only).
    for clause in _CLAUSE.split(text):
        aspect = detect_aspect(clause) if clause else None
        if aspect is None and weak and clause and _asks_qualification(clause):
            aspect = CONDITIONS
        if aspect:
            found.append(aspect)
    found += [aspect for aspect, pattern in _MORE_CUES if pattern.search(text)]
    if weak:  # "双十一有没有优惠", "微信怎么给朋友转账": signs only once the message is known to be about a procedure
        found += [FEE] if _AMOUNT.search(text) else []
        found += [PROCESS] if _WEAK_PROCESS.search(text) else []
        found += [CONDITIONS] if _LIMIT.search(text) and not _OF_THE_PROCEDURE.search(text) else []
        found += [CONDITIONS] if _CAPITAL.search(text) else []
        found += [GENERAL] if _EXISTS.search(text) or _WHAT_MATTER.search(text) else []
        found += [TIME_LIMIT] if _DEADLINE.search(text) else []
        found += [ONLINE] if _NAMED_APP.search(text) or _BY_POST.search(text) else []
        found += [MATERIALS] if _DOCUMENT_FROM.search(text) else []
    return [aspect for index, aspect in enumerate(found) if aspect not in found[:index]]


# What a person earns ("导游一个月能挣多少钱", "工资一般多少"): an amount no procedure takes, though 多少钱 is a fee's cue;
# not across a payment ("没收入要交多少钱" asks the fee).
_EARNINGS = re.compile(r"(挣|赚|工资|收入|月薪|年薪|薪水|提成)[^，,。；;？?！!交缴费]{0,4}多少钱?")


def asks_earnings(text: str) -> bool:
    """"一个月能挣多少", "工资一般多少": what a person earns, which no guide says."""
    return bool(_EARNINGS.search(text or ""))


# Advice: an opinion or what is worth it ("幼小衔接班到底有没有必要上", "百万医疗险值不值得买", "私教课一节多少钱算合理",
# "放盆水有没有用", "取暖效果好", "对身体有没有影响", "怎么调整心态"), or a text to write ("帮我写一封给房东的退租通知"): what
# someone thinks worth it or wants written, which no service guide says however close its topic. Said with a procedure's
# words ("开网店有没有必要办营业执照", "社保有没有必要交", "户口有没有必要迁", "公章有没有必要刻") it asks about that procedure.
# Comparisons ("哪个好", "哪个划算", "怎么选") are left out: citizens compare a procedure's options in them ("小规模纳税人和
# 一般纳税人怎么选", a sample guide's FAQ; "公积金贷款和商业贷款哪个划算"). On the 13 development sets and the sample's questions
# (2,765 in scope), no question in scope has the form; 21 of the 424 off-topic ones do.
_ADVICE = re.compile(r"有没有必要|值不值|值得买|算合理|有没有用|管不管用|有没有效果|效果更?好|调整心态|对身体有没有"
                     r"|^(请)?帮我(写|拟|起草)[一几]")
_PROCEDURE_TERMS = re.compile(r"办|申请|申领|登记|备案|审批|批|许可|证|照|手续|报|注册|补贴|补助|资格|认定|缴|交|税|保|户|章|贷款|"
                              r"提取|迁|收费|窗口|政府|部门")


def asks_advice(text: str) -> bool:
    """"幼小衔接班到底有没有必要上", "帮我写一段朋友圈文案": advice, an opinion or a text to write, in no procedure's words
    (`_ADVICE`)."""
    return bool(_ADVICE.search(text or "")) and not _PROCEDURE_TERMS.search(text or "")


def asks_something(text: str) -> bool:
    """Whether the wording asks any aspect of a procedure: "电动车电瓶冬天怎么充电更耐用", "水库钓鲫鱼用什么饵料好"
    ask none, though they share words with guides (what an off-topic question looks like to the retriever).
    The weak signs of a qualification question do not count: "做蛋糕可以吗" is no procedure question, nor is
    how much someone earns a fee ("导游一个月能挣多少钱")."""
    return bool(named_aspects(_EARNINGS.sub("", text or ""), weak=False)) or asks_who_applies(text)


def strip_cue_words(text: str) -> str:
    """The text without any aspect word, the shared ones and this module's ("收不收钱" -> "")."""
    text = strip_aspect_words(text or "")
    for _aspect, pattern in _MORE_CUES:
        text = pattern.sub("", text)
    return _AMOUNT_VERB.sub("", text) if _AMOUNT.search(text) else text


def also_asked(question: str, aspect: str) -> list[str]:
    """The aspects the question's wording names besides `aspect` (answered after it)."""
    return [other for other in named_aspects(question) if other != aspect]
