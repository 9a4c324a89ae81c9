"""A first message that only tells a hardship or life event ("我家房子前几天着火了，东西全烧光了", "我爱人得了尿毒症，
家里快撑不下去了"): on every retrieval feature it looks like chit-chat (it sits next to the everyday-trouble off-topic
anchors and shares no word with the guide: 着火 against 火灾), so alone it is refused. A clerk would not refuse it: the
knowledge base may hold a procedure for people in that situation. Here:

- `tells_hardship`: the message tells something that happened to the speaker, their family or business, from a generic
  lexicon of life events (`EVENTS`: fire, illness, injury, a death, losing a job, unpaid wages, divorce, a birth, a
  business going under, a disaster, being without means), asks nothing, and is about a person, not a pet or a thing
  ("我家猫生病了", "手机摔坏了" stay chit-chat);
- `guides_for`: the guides whose own eligibility sections (适用对象, 受理条件: who a procedure is for) name that kind of
  event in the formal words guides use ("火灾", "疾病", "伤残"…), best retrieved first. None: the message is refused as
  before (a knowledge base with no procedure for such people offers nothing).

The lexicon names kinds of events, never a procedure: it holds on a knowledge base nobody has seen. The assistant then
offers those guides as a choice (the clarify reply, `replies.situation`), which the user may pick or decline.
"""

from __future__ import annotations

import re
from typing import Any

from actions.dialogue import is_question
from knowledge.retrieval.retriever import GuideCandidate, RetrievalResult
from knowledge.sources.aspects import ASPECT_SECTIONS, CONDITIONS

# (what a citizen says, the words a guide's eligibility sections use for that kind of event). Generic Chinese of life
# events, not of any procedure.
EVENTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple((re.compile(said), formal) for said, formal in (
    (r"着火|失火|起火|火灾|烧(光|没|毁|掉|坏)了", ("火灾", "失火", "火情")),
    # not 觉得 / 记得 / 值得, not 住院部; an operation had, not the word
    (r"生病|生了(一场|场)?(大|重)?病|(?<![觉记值懂晓使显])(得|患)了[^，,。；;！!]{0,8}(病|癌|症|瘤)|重病|大病|住院(?!部)"
     r"|(做|动)(了|完)(个|场)?手术|刚(做|动)(了|完)?(个|场)?手术|透析|化疗|瘫痪",
     ("疾病", "重病", "大病", "患病")),
    (r"摔(伤|断|坏了腿|下来)|受伤|受了伤|伤残|残疾|工伤|车祸|骨折|撞伤|被撞", ("意外", "伤害", "伤残", "残疾", "事故", "工伤")),
    # "我爸走了", not "我爸上班走了" nor "我老婆钱包没了"
    (r"去世|过世|病故|离世|身故|(爸|妈|父亲|母亲|爷爷|奶奶|外公|外婆|爱人|老伴|丈夫|妻子|老公|老婆|儿子|女儿|孩子|两口子)"
     r"(他|她|俩)?(已经|突然|都)?(走了|死了|没了)", ("死亡", "去世", "身故", "丧葬", "遗属")),
    (r"失业|下岗|没了工作|丢了工作|工作没了|被辞退|辞退|被裁|裁员|停产(?!检修)", ("失业", "下岗", "就业困难")),
    (r"拖欠|欠薪|(不给|没给|不发|没发)[^，,。]{0,4}(工资|工钱)|拖(了)?[^，,。]{0,6}(工资|工钱)|(老板|包工头|工头)[^，,。]{0,2}跑了",
     ("拖欠", "欠薪", "劳动报酬")),
    (r"离婚|离异", ("离婚", "离异")),
    # a birth, not a birth date ("我是1990年出生的"); guides say 出生 of dates too, so only 生育 / 新生儿 on their side
    (r"生了(个|一个|对)?(孩子|宝宝|儿子|女儿|双胞胎|二胎|三胎)|刚生(了|完|下)|怀孕了|坐月子", ("生育", "新生儿", "出生医学证明")),
    (r"(?<!吃)亏(了本|损|本)|赔(光|了本)|破产|倒闭|资金链|周转不(开|过来)", ("亏损", "破产", "经营困难")),
    # a home, a field or a shop hit, not "我人设塌了"
    (r"(房|屋|楼|墙|家|田|地|庄稼|店|厂|仓库|大棚)[^，,。]{0,4}(被淹|淹了|塌了|倒塌|被冲)|洪水|水灾|地震|冰雹|台风|泥石流|受灾",
     ("灾害", "受灾", "倒塌")),
    # the household's life, not a diet ("我减肥撑不下去了"); 困难 alone is any difficulty ("办理审批有困难的企业")
    (r"花光|(日子|生活|家里|家)[^，,。]{0,4}(撑不下去|过不下去)|揭不开锅|没地方住|无家可归|没(有)?收入|无儿无女|没儿没女|孤寡"
     r"|生活困难", ("生活困难", "家庭困难", "经济困难", "无收入", "无生活来源")),
))

# The speaker, their family or their business: the event is theirs ("那个明星离婚了" is no one's matter here).
_OWN = re.compile(r"我|俺|咱|家|爱人|老婆|老公|妻子|丈夫|孩子|儿子|女儿|闺女|娃|父亲|母亲|爸|妈|爷爷|奶奶|外公|外婆|公司|厂|店")
# A pet, a plant or a thing is no person: "我家猫生病了", "多肉死了", "手机摔坏了", "基金亏了" are chit-chat; nor is someone
# else's event the speaker's matter ("我家隔壁着火了", "我的老师得了癌症", "电影里男主去世了").
_NOT_A_PERSON = re.compile(r"猫|狗|宠物|仓鼠|兔子|鹦鹉|鸟|鱼|花草|盆栽|多肉|绿萝|手机|电脑|游戏|基金|股票|彩票|账号"
                           r"|隔壁|邻居|楼上|楼下|朋友|同学|同事|老师|班主任|明星|电影|电视剧|新闻|男主|女主")
# Over already ("我妈做手术很成功", "前几天生病了，今天好了"), or thanks: nothing to help with.
_OVER = re.compile(r"成功|好了[。！!～~]*$|没事了|我没事|痊愈|康复了|谢谢")
# Asking for a person or complaining is not only telling: those go to the clerk or the complaint ("我家着火了，给我转人工").
_ASKS_OTHERWISE = re.compile(r"人工|投诉|举报")
# "前几天", "好几年", "这几个月": a time, not a question ("几" alone asks: "能领几个月").
_SOME = re.compile(r"(前|这|那|好|过|近|十)几")
_CLAUSE = re.compile(r"[，,。；;！!？?\s]+")


def _events_in(clause: str) -> list[tuple[str, ...]]:
    return [formal for said, formal in EVENTS if said.search(clause)]


def events(text: str) -> list[tuple[str, ...]]:
    """The kinds of life events the message tells of a person (their formal words), clause by clause: a clause naming
    a pet or a thing ("我家猫生病了") tells none."""
    found: list[tuple[str, ...]] = []
    for clause in _CLAUSE.split(text or ""):
        if clause and not _NOT_A_PERSON.search(clause):
            found += [formal for formal in _events_in(clause) if formal not in found]
    return found


def tells_hardship(text: str) -> bool:
    """Whether the message only tells a hardship or life event of the speaker, their family or business, and asks
    nothing ("我爱人得了尿毒症，家里快撑不下去了"; not "失业了心情很低落该怎么调整", a question, nor "今天好累啊")."""
    text = (text or "").strip()
    return (bool(text) and not is_question(_SOME.sub("", text)) and not _OVER.search(text) and not _ASKS_OTHERWISE.search(text)
            and bool(_OWN.search(text))
            and bool(events(text)))


# Before the word in its clause, a negation: "无传染性疾病", "未发生…事故", "不应当收养子女的疾病" exclude people, they are
# not for them.
_NEGATION = re.compile(r"无|未|不|没有|非")
_CLAUSE_END = re.compile(r"[，,。；;：:\n]")
# "生产安全事故应急预案", "出生日期": a compound noun, not an event people are in.
_NOT_AN_EVENT = re.compile(r"日期|应急|预案|隐患|防范|报告")


def _names(says: str, formal: tuple[str, ...]) -> bool:
    """Whether the eligibility text names the kind of event as one a person is in: not negated in its clause ("无传染性
    疾病"), nor as the name of an insurance ("养老、医疗、失业、工伤、生育保险": a guide registering them is not for people out
    of work, giving birth or hurt)."""
    for word in formal:
        for found in re.finditer(word, says):
            clause = _CLAUSE_END.split(says[: found.start()])[-1]
            items = clause.split("、")
            # "无劳动能力、无生活来源": each item its own negation; "没有未处理完毕的交通违法行为、交通事故": one for the list
            own_each = len(items) > 1 and all(_NEGATION.match(item) for item in items[:-1])
            before = items[-1] if own_each else clause
            after = _CLAUSE_END.split(says[found.end():])[0]
            if not _NEGATION.search(before) and "保险" not in after[:12] and not _NOT_AN_EVENT.match(after):
                return True
    return False


def _eligibility(guide: dict[str, Any]) -> str:
    """Who the guide is for: its 适用对象 and 受理条件 sections."""
    sections = guide.get("sections") or {}
    return "\n".join(str((sections.get(heading) or {}).get("text") or "") for heading in ASPECT_SECTIONS[CONDITIONS])


def guides_for(text: str, result: RetrievalResult, guides: dict[str, dict[str, Any]], limit: int) -> list[GuideCandidate]:
    """The guides whose eligibility sections name the most of the kinds of event the message tells, in the retriever's
    order for the message, at most `limit` (settings.yml max_candidates, as for any clarifying question): "着火 … 没地方住"
    tells a fire and being without means; the guide for people hit by a fire or an illness names both, a guide that only
    mentions hardship in passing one."""
    kinds = events(text)
    named: dict[str, int] = {}
    for candidate in result.candidates:
        says = _eligibility(guides.get(candidate.guide_id) or {})
        named[candidate.guide_id] = sum(_names(says, formal) for formal in kinds)
    most = max(named.values(), default=0)
    return [c for c in result.candidates if most and named[c.guide_id] == most][:limit]
