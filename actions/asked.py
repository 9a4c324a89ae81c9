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
    PROCESS,
    asks_for_proxy,
    asks_which_procedure,
    detect_aspect,
    strip_aspect_words,
)

# "需要办证吗", "也要办施工证吗", "要审批吗", "是不是得先报批": whether the procedure applies to the asker at all.
# Who must apply is 适用对象/受理条件, and what it takes is the overview: both are answered.
_NEEDS_PROCEDURE = re.compile(
    r"(要|需要|得|用|该)(先)?(去)?(办|申请|报批|审批|批|备案|登记)[^，,。；;？?]{0,12}(吗|么|不)[?？。！!]*$"
    r"|(要不要|需不需要|用不用|是不是得|是不是要)(先)?(去)?(办|申请|报批|审批|批|备案|登记)"
)
# Aspect cues that knowledge.sources.aspects does not read (no item words): "要满足些啥", "门面多大才够",
# "什么样的项目要做", "有啥要求" ask who qualifies; "收不收钱" the fee; "怎么操作", "咋改", "哪几步" the steps.
_MORE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (CONDITIONS, re.compile(r"满足|多大才|多少才|才够|够格|什么样的|啥样的|哪些[^，,。？?]{0,6}(能|可以)|有(啥|什么|哪些)要求|限制")),
    (FEE, re.compile(r"收钱|收不收|要不要钱|不要钱|花多少|贵不贵")),
    (PROCESS, re.compile(r"怎么操作|咋操作|怎么改|咋改|怎么走|哪几步|怎么处理|怎么补|咋补|怎么续|咋续|咋弄|咋用|怎么用")),
)
# Which of those cues may choose the answer's main aspect when the intent names none: not the steps, as an
# unsure intent is answered with the overview, and it holds the steps already ("那咋弄" may ask for materials).
_LEADING_CUES = frozenset({CONDITIONS, FEE})


_CLAUSE = re.compile(r"[，,。；;？?！!、]")


# "要我们自己去申请吗", "卖车的店能不能帮着办", "公司能不能帮我们统一报上去": who hands the application in.
_WHO_APPLIES = re.compile(r"(自己|本人|亲自)(去|来|到场)?(申请|办|跑|交)|帮着(办|申请|弄|报)|帮(我们|咱们|大家)|代为|统一(报|办|申请|交)")


def asks_who_applies(text: str) -> bool:
    """Whether someone else may apply, or the applicant must come: who may (受理条件), what a proxy brings
    (申请材料) and how the application is handed in (办理流程) answer it."""
    return asks_for_proxy(text or "") or bool(_WHO_APPLIES.search(text or ""))


def asks_whether_needed(text: str) -> bool:
    """"需要办证吗": whether the asker must apply at all."""
    return bool(_NEEDS_PROCEDURE.search((text or "").strip()))


def asks_which(text: str) -> bool:
    """"占人行道几天，得批啥手续": which procedure applies, even beside another aspect's words."""
    return asks_which_procedure(text) or asks_which_procedure(strip_aspect_words(text))


def wording_aspect(text: str) -> str | None:
    """The aspect the wording names: the shared patterns first, then this module's further cues."""
    found = detect_aspect(text)
    if found:
        return found
    return next((aspect for aspect, pattern in _MORE_CUES if aspect in _LEADING_CUES and pattern.search(text)), None)


def named_aspects(text: str) -> list[str]:
    """Every aspect the wording asks about, in the order they are answered."""
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return []
    found: list[str] = []
    if asks_which(text):
        found.append(GENERAL)
    if asks_whether_needed(text):
        found += [CONDITIONS, GENERAL]
    # "要交钱不，多久能办好": each clause may ask its own aspect (detect_aspect reads the first one only).
    found += [aspect for clause in _CLAUSE.split(text) if clause and (aspect := detect_aspect(clause))]
    found += [aspect for aspect, pattern in _MORE_CUES if pattern.search(text)]
    return [aspect for index, aspect in enumerate(found) if aspect not in found[:index]]


def asks_something(text: str) -> bool:
    """Whether the wording asks any aspect of a procedure: "电动车电瓶冬天怎么充电更耐用", "水库钓鲫鱼用什么饵料好"
    ask none, though they share words with guides (what an off-topic question looks like to the retriever)."""
    return bool(named_aspects(text)) or asks_who_applies(text)


def strip_cue_words(text: str) -> str:
    """The text without any aspect word, the shared ones and this module's ("收不收钱" -> "")."""
    text = strip_aspect_words(text or "")
    for _aspect, pattern in _MORE_CUES:
        text = pattern.sub("", text)
    return text


def also_asked(question: str, aspect: str) -> list[str]:
    """The aspects the question's wording names besides `aspect` (answered after it)."""
    return [other for other in named_aspects(question) if other != aspect]
