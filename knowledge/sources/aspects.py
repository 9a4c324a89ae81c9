"""What part of a guide a question asks about, and which sections answer it.

The Rasa intents ask_materials, ask_time_limit, … map one-to-one onto these aspects; the
retriever also guesses the aspect from the wording when no intent is given.

Usage::

    >>> detect_aspect("开公司要带什么材料")
    'materials'
    >>> ASPECT_SECTIONS["time_limit"]
    ('办理时限',)
"""

from __future__ import annotations

import re

MATERIALS = "materials"
PROCESS = "process"
TIME_LIMIT = "time_limit"
FEE = "fee"
LOCATION = "location"
CONTACT = "contact"
CONDITIONS = "conditions"
ONLINE = "online"
GENERAL = "general"

ASPECTS: tuple[str, ...] = (
    MATERIALS, PROCESS, TIME_LIMIT, FEE, LOCATION, CONTACT, CONDITIONS, ONLINE, GENERAL,
)

# Sections of the guide format (knowledge/README.md).
REQUIRED_SECTIONS: tuple[str, ...] = ("申请材料", "办理流程", "办理时限", "收费标准", "办理地点")
OPTIONAL_SECTIONS: tuple[str, ...] = (
    "受理条件", "适用对象", "网上办理", "设定依据", "注意事项", "常见问题",
)
FAQ_SECTION = "常见问题"

# The sections that answer each aspect, in the order they are shown. CONTACT and GENERAL are
# answered from the front matter (contacts, department) plus these sections.
ASPECT_SECTIONS: dict[str, tuple[str, ...]] = {
    MATERIALS: ("申请材料",),
    PROCESS: ("办理流程",),
    TIME_LIMIT: ("办理时限",),
    FEE: ("收费标准",),
    LOCATION: ("办理地点",),
    CONTACT: ("办理地点",),
    CONDITIONS: ("受理条件", "适用对象"),
    ONLINE: ("网上办理", "办理地点"),
    GENERAL: ("适用对象", "申请材料", "办理流程", "办理时限", "收费标准"),  # "怎么办理": everything needed, once
}

ASPECT_NAMES_ZH: dict[str, str] = {
    MATERIALS: "申请材料",
    PROCESS: "办理流程",
    TIME_LIMIT: "办理时限",
    FEE: "收费标准",
    LOCATION: "办理地点",
    CONTACT: "联系方式",
    CONDITIONS: "受理条件",
    ONLINE: "网上办理",
    GENERAL: "事项概要",
}

# When the office is open: "周末上班不", "中午休息吗", "几点下班", "办公时间是几点到几点", the office's day or time
# asked at the end of the question ("店里晚上开门到几点都行吗" asks what the shop may do). Not 营业: a shop's hours
# ("节假日营业有限制吗") are the applicant's business, which 受理条件 speaks of.
_OFFICE_HOURS = re.compile(r"(几点|什么时候|啥时候)(上班|下班|开门|关门|办公)"
                           r"|(周末|周六|周日|星期[六天日]|礼拜[六天日]|节假日|假期|放假|中午|午休|晚上)[^，,。？?]{0,6}"
                           r"(上班|下班|办公|开门|关门|有人|值班|休息|能办|办不办|开不开)[吗不没么嘛呢啊]*[?？。！!]*$"
                           r"|(上班|下班|办公|开门)时间")
# ... unless the question asks about a rule or work itself ("周末上班算加班吗", "中午休息时间算工时吗", "周末能办证吗").
_NOT_HOURS = re.compile(r"加班|工时|工资|补贴|合法|规定|要求|限制|办证|许可|审批|报备|备案|登记|手续|算")


def asks_office_hours(question: str) -> bool:
    """Whether the question asks only when the office is open, which each contact's hours (联系方式) answer: no other
    aspect's words before it (`detect_aspect` finds CONTACT: "周六能办吗要带啥" asks the materials), no rule or work."""
    return (bool(_OFFICE_HOURS.search(question)) and not _NOT_HOURS.search(question)
            and detect_aspect(question) == CONTACT)


# Who decides ("谁批", "由谁审批", "谁说了算"): the steps say which office reviews and decides (办理流程), where and whom
# to call only where to go. After the place and the contact words ("谁审批，在哪个窗口" asks the place), which leave
# "找谁批" to it.
_DECIDES = r"(批|审批|审核|核发|发证|决定|拍板|说了算)"
_WHO_DECIDES = re.compile(rf"谁(来|去)?{_DECIDES}")


def asks_who_decides(question: str) -> bool:
    """Whether the question asks who approves (`_WHO_DECIDES`) and no other aspect ("谁批，要多久" asks the time)."""
    return bool(_WHO_DECIDES.search(question)) and detect_aspect(question) == PROCESS


# Checked in this order: the first aspect whose pattern matches wins ("网上交材料" is about
# materials before it is about online service, "去哪交钱" is about the fee).
_ASPECT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Where to hand something in is a location question, whatever is handed in ("材料交到哪", "几楼交材料");
    # a phone number asked for is a contact question, whatever it is about ("收材料的事，有电话吗").
    (LOCATION, re.compile(r"(交|递|送|提交)(到|去|在)(哪|几楼)|(交|递|送|提交)(哪里|哪儿|哪个窗口|几楼)"
                          r"|(哪|几楼|窗口|大厅)[^，,。？?]{0,3}(交|递|送|提交)(?!钱|费)")),
    (CONTACT, re.compile(r"电话|号码|热线|打给")),
    # "先网上还是先去司法局", "先交钱还是先交材料": the order of the steps, whatever the steps name.
    # Only of the procedure's verbs: "先放蛋还是先放番茄" is cooking.
    (PROCESS, re.compile(r"先[^，,。？?]{0,4}(网上|线上|申请|办(?!婚|酒|席)|提交|报批|报备|备案|登记|审批|交材料|交钱|窗口)"
                         r"[^，,。？?]{0,8}还是(先|再)|先后顺序")),
    (MATERIALS, re.compile(r"材料|资料|证件|(带|拿|准备)(什么|啥|哪些)|要(提交|交)(什么|啥|哪些)|(啥|什么|哪些)东西|清单|表格|证明")),
    (FEE, re.compile(r"收费|费用|多少钱|要钱|花钱|交钱|付费|免费|给钱|掏钱|价格|费")),
    # When the office is open ("周末上班不", "中午休息吗", "几点下班") is what each contact's hours say (办公时间 in
    # 联系方式), not the procedure's time limit: before TIME_LIMIT, which reads "时间" too.
    (CONTACT, _OFFICE_HOURS),
    # "领的那段时间医保还要我自己交吗": 那段时间 is a period of the asker's life, not how long the procedure takes.
    (TIME_LIMIT, re.compile(r"多久|多长时间|几天|多少天|时限|期限|多快|(?<![那这]段)时间|当天|工作日"
                            # "要等几个月才能拿到", not "宝宝几个月出牙" nor "骨折要几个月能好": of a licence or a decision
                            r"|(等|要|需要|得)(个)?几(个月|周)(才|能|才能|可以)?(拿|下来|办|批|出证|下证|到手)"
                            r"|(等|要)(个)?几(个月|周)[吗呢啊?？。]*$"
                            # "续期该啥时候申请": when, of the procedure ("成绩什么时候出来", "作业什么时候交" are not)
                            r"|(什么|啥)时候(能|申请|办|提交|报|领证|下证|批)"
                            # "那得等到啥时候才能报": how long until one may apply; not "啥时候才能退休", "什么时候才能申请公租房"
                            # (at what age, in what case: 受理条件)
                            r"|等到?(什么|啥)时候才(能)?(申请|办|提交|报|领|拿|批|下证|出证)")),
    (ONLINE, re.compile(r"网上|线上|网办|网申|网站|在线(?!下(?!载|单))|手机上|小程序|app|APP|公众号|不用跑|不去现场|邮寄")),
    (CONTACT, re.compile(rf"电话|联系|咨询|找谁(?!来?{_DECIDES})|打给|热线|号码|哪个部门|谁负责|负责单位")),
    # "找哪家医院": which place to go to, as "去哪"
    (LOCATION, re.compile(r"哪里|哪儿|哪办|在哪|地址|地点|窗口|去哪|(?<![马早晚])上哪(?![天个])|找哪家|到哪家|哪个大厅|几楼"
                          r"|哪家[^，,。？?]{0,6}(能|可以)(办|做|申请|受理|审批|开|领|拿)")),
    (PROCESS, _WHO_DECIDES),
    (CONDITIONS, re.compile(r"条件|能不能|可以不可以|能否|是否可以|符合|资格|要求|够不够|行不行|能办吗|才能|才可以|"
                            r"能[^，,。？?]{1,15}(不|吗|么)[?？。]*$")),
    (PROCESS, re.compile(r"流程|步骤|怎么办|如何办|怎么弄|怎么搞|程序|手续|怎么申请|如何申请|咋办|环节")),
)


# "需要办啥", "要办什么证", "得申请啥审批": which procedure applies, i.e. the guide's overview, not its
# materials list (the NLU reads "需要…啥" as ask_materials); only when no aspect word is present.
# "得办些啥手续", "我这边要做点啥": a quantifier (个 / 些 / 点) may stand before the question word, and "做" asks
# the same as "办" when it ends the question.
_WHICH_PROCEDURE = re.compile(r"(要|需要|得|该)(去)?(办|申请|批|走|做)(个|些|点)?(啥|什么|哪些|哪个)(证|手续|审批|许可|资质|执照)?"
                              r"(吗|呢)?[?？。]*$"
                              r"|(办|申请)(个|些|点)?(啥|什么|哪些)(证|手续|审批|许可|资质|执照)")


# "下一步要做什么", "那我接下来要做什么": the next step of a procedure under way, not which procedure applies.
_NEXT_STEP = re.compile(r"下一步|接下来|然后|之后|接着|还(要|需要|得|该)")


def asks_which_procedure(question: str) -> bool:
    """Whether the question asks which procedure applies, naming no aspect ("捕鱼拿去卖，需要办啥")."""
    found = _WHICH_PROCEDURE.search(question)
    if found and "做" in found.group(0) and _NEXT_STEP.search(question):
        return False
    return bool(found) and detect_aspect(question) in (None, PROCESS)


# "下个月想再去趟香港咋弄", "这事怎么办": how to go about it, naming no step of it. On a first question this asks for
# the whole overview (一次性告知: who may apply, what to bring, the steps, how long, the fee), the steps among them.
# "有啥正规的路子": the way to go about it, in other words.
_HOW_TO_GO_ABOUT = re.compile(r"(咋|怎么|怎样|如何)(弄|办|搞|整|操作|办理|处理)|有(啥|什么)[^，,。？?]{0,4}(路子|门路|途径|渠道)")
_NAMES_A_STEP = re.compile(r"流程|步骤|环节|程序|几步|哪一步|第一步|先去|先办|先做")


def asks_how_to_go_about(question: str) -> bool:
    """Whether the question asks how to go about the matter without asking for its steps ("咋弄", not "流程是啥")."""
    return bool(_HOW_TO_GO_ABOUT.search(question)) and not _NAMES_A_STEP.search(question)


# "能让我儿子去帮我办吗", "朋友在外地过不来": whether someone else may apply is in 受理条件, what they must
# bring (授权委托书, 代理人身份证) in 申请材料; such a question is answered with both, whatever aspect it names.
_PROXY = re.compile(r"代办|委托|代(我|他|她)|替(我|他|她|人)|帮(我|他|她)(去)?办|本人(来不了|去不了|到不了|不能到|不在)"
                    r"|过不来|回不来|跑不动|走不动|行动不便|腿脚不")
PROXY_SECTIONS: tuple[str, ...] = ("受理条件", "申请材料")


def asks_for_proxy(question: str) -> bool:
    """Whether the question is about someone else applying, or the applicant not coming in person."""
    return bool(_PROXY.search(question or ""))


def detect_aspect(question: str) -> str | None:
    """The aspect the wording asks about, or None when it names none (a general question)."""
    for aspect, pattern in _ASPECT_PATTERNS:
        if pattern.search(question):
            return aspect
    return None


def strip_aspect_words(question: str) -> str:
    """The question without the words that name an aspect ("那要多久？" -> "那要？")."""
    for _aspect, pattern in _ASPECT_PATTERNS:
        question = pattern.sub("", question)
    return question
