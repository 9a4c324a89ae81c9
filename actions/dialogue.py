"""Reading the conversation: which offered option a reply picks, and whether a message is a
bare follow-up ("那个体户呢？") that keeps the previous question's aspect.

Usage::

    >>> resolve_pick("第二个", [("a", "企业开办", []), ("b", "简易注销", [])])
    'b'
    >>> resolve_pick("简易注销吧", [("a", "企业开办", []), ("b", "简易注销", [])])
    'b'
    >>> is_elliptical("那个体户呢？")
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from actions.asked import PERIOD, asks_earnings, strip_cue_words
from knowledge.sources.aspects import detect_aspect
from protocol import PICK_LAST_PATTERN, PICK_NUMBER_PATTERN

# (guide id, title, aliases)
Option = tuple[str, str, Sequence[str]]

_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
# The pattern the admin report reads picks with too (knowledge/report/followups.py): one copy, in protocol.py.
_NUMBER = re.compile(PICK_NUMBER_PATTERN)
_LAST = re.compile(PICK_LAST_PATTERN)
_FILLER = re.compile(r"[选择就要是吧的那个这个办理我想问一下呢啊呀。，,.!！?？\s]")
_ELLIPSIS = re.compile(r"呢\s*[?？]*\s*$")
# Words that carry no service item: what is left after removing them and the aspect words is the item.
_NO_ITEM = re.compile(
    r"请问|一下|需要|可以|能不能|什么|哪些|怎么|怎样|如何|多少|还有|还要|这个|那个|的话|是不是|有没有|大概|一般|"
    # The life of any application is no item: "多久生效？", "多久能拨款？", "多长时间能批下来", "想先咨询下".
    r"生效|拨款|到账|下来|办好|办完|拿到|领到|出证|下证|出结果|审批|审核|批准|通过|完成|搞定|弄好|问问|了解|"
    # Who applies, and applying itself, name no item either: "要我们自己去申请吗".
    r"自己|本人|亲自|申请|办理|"
    # A place pointed at is no item: "公安那边要带啥" names 公安 only, "消防那块还没弄下来" 消防.
    r"那边|这边|那里|这里|那儿|这儿|那头|这头|那块|这块|方面|"
    # A period is no item: "一个月多少", "每年要交几次" ask an amount or a count of the matter at hand.
    rf"{PERIOD}|"
    r"[那这要呢吗嘛的了啊呀吧我你您们请问还是得都有啥能办理去在和跟个也就再又给让把被对是不没几多少想先下交拿领批弄搞证\s\W\d]"
)


def resolve_pick(text: str, options: Sequence[Option], entity_pick: str | None = None) -> str | None:
    """The id of the option the reply picks: a button's payload, a number, an ordinal, or a name."""
    ids = [option[0] for option in options]
    if entity_pick and entity_pick in ids:
        return entity_pick
    text = (text or "").translate(_FULL_WIDTH).strip()
    if not text or not options:
        return None
    match = _NUMBER.match(text)
    if match:
        token = match.group(1)
        number = int(token) if token.isdigit() else _NUMERALS[token]
        return ids[number - 1] if 1 <= number <= len(ids) else None
    if _LAST.match(text):
        return ids[-1]
    lowered = text.lower()
    core = _FILLER.sub("", lowered)
    named = []
    for guide_id, title, aliases in options:
        names = [title.lower(), *(alias.lower() for alias in aliases)]
        if any(name and name in lowered for name in names) or (len(core) >= 2 and any(core in name for name in names)):
            named.append(guide_id)
    return named[0] if len(named) == 1 else None


# How a typed answer to an offer begins. Yes: "是的，…", "是啊", "是的要多久", "对，在哪办", "嗯要多久", "行吧", "需要，…";
# not "是不是…", "对了，…" (an aside), "好几个…", "可以网上办吗", "行政…". No: "不是刻章，…", "不对不对…", "并不是…",
# whatever follows; "不用了", "不要人工，…" only as words of their own: "不要钱吗", "不用交钱吧" are questions.
_END = r"(?=[，,。！!~～\s]|$)"
_YES = re.compile(rf"^([嗯恩]+|(是|对|好|行|没错)(的|啊|呀|呢|滴|哈|嘛|吧)+|(是是|对对|好好|对头|是|对|好|行|可以|没错|需要|要的){_END})")
_YES_LEAD = re.compile(rf"{_YES.pattern}[，,。！!~～\s]*")  # the yes and its punctuation
_NO = re.compile(rf"^(不是|不对|不太对|不不|并不|错了|都不是|都不对)"
                 rf"|^(不用|不要|不需要|不行|没有|没|算了)+(这个|那个|这|那|的|啊|呀|吧|了)*{_END}")  # "不行不行", "没"
_THANKS = re.compile(rf"^(谢谢|多谢|好了|没事了){_END}")


# Saying the answer just given missed ("不是", "不对，我问的是…", "答非所问"), unlike the other no's ("算了", "不用了",
# "没有了": nothing more wanted) the NLU reads as the same deny.
_DISPUTE = re.compile(r"^(不是|不对|不太对|错了|都不是|都不对|答错|搞错|理解错|答非所问|你答的不对|我不是问|我问的不是)")
_DISPUTE_LEAD = re.compile(rf"{_DISPUTE.pattern}[了啊呀吧的这个那个意思]*[，,。！!~～\s]*")


def disputes(text: str) -> bool:
    """"不是", "不对，我问的是营业执照补办": the answer just given is not what was asked; "算了", "不用了" are not."""
    return bool(_DISPUTE.match((text or "").strip()))


def after_dispute(text: str) -> str:
    """What follows a leading "不是" and its punctuation ("不是，我问的是营业执照补办" -> "我问的是营业执照补办")."""
    return _DISPUTE_LEAD.sub("", (text or "").strip(), count=1)


def begins_with_yes(text: str) -> bool:
    """"是的，要多久", "对啊，收费吗", "是的要多久": a yes, whatever follows it."""
    return bool(_YES.match((text or "").strip()))


def after_yes(text: str) -> str:
    """What follows a leading yes and its punctuation ("是的，要多久" -> "要多久"); the text itself without one."""
    return _YES_LEAD.sub("", (text or "").strip(), count=1)


def begins_with_no(text: str) -> bool:
    """"不是这个，要多久", "不是啊，我问的是收费", "不用了": a no, whatever follows it."""
    return bool(_NO.match((text or "").strip()))


def begins_as_reply(text: str) -> bool:
    """Whether the message begins as a typed answer to an offer (yes, no, thanks); "要不要报备" does not."""
    stripped = (text or "").strip()
    return begins_with_yes(stripped) or begins_with_no(stripped) or bool(_THANKS.match(stripped))


def is_elliptical(text: str) -> bool:
    """A short "X呢？" that names a new item but no aspect: it asks the previous question again."""
    stripped = (text or "").strip()
    return bool(_ELLIPSIS.search(stripped)) and len(stripped) <= 20 and detect_aspect(stripped) is None


_PUNCTUATION = re.compile(r"[\s。，,.!！?？~～…]")


def is_bare_aspect(text: str) -> bool:
    """"要几天？", "在哪办", "电话多少": a few characters that ask an aspect and nothing else. In a
    conversation that is a follow-up, whatever intent the NLU guessed for so short a message."""
    core = _PUNCTUATION.sub("", text or "")
    return 0 < len(core) <= 8 and detect_aspect(core) is not None


_HYPOTHETICAL = re.compile(r"^(那|那么)?(要是|如果|假如|万一|若是)|的话[，,。？?]|(要是|如果|假如|万一)[^，,。？?]{1,20}(呢|的话)")
_CIRCUMSTANCE_ASKED = re.compile(
    # "合作社要是没有营业执照行不行": the circumstance after its subject, asking whether it still goes
    r"(要是|如果|假如|万一|若是)[^，,。？?]{1,20}(行不行|行吗|行不|可以吗|可不可以|能行吗|能办吗|还能办)"
    # "这店是我跟两个朋友合伙开的，那咋弄": a circumstance told, then what to do given it
    r"|[，,]\s*那(么)?(该|又|得)?(咋|怎么|如何)(弄|办|整|搞)[?？。！!呢啊呀]*$")


def is_hypothetical(text: str, *, opening_only: bool = False) -> bool:
    """"要是车子换过大电瓶的呢", "如果材料不全的话": a new circumstance of the matter at hand; also, unless
    `opening_only`, one told after its subject or before "那咋弄" ("合作社要是没有营业执照行不行"), which reads as much
    like chat ("我失恋了，那咋办") and is taken for a follow-up only when the NLU does not call it off-topic."""
    stripped = (text or "").strip()
    return bool(_HYPOTHETICAL.search(stripped) or (not opening_only and _CIRCUMSTANCE_ASKED.search(stripped)))


_SUBJECT_BEFORE_IF = re.compile(r"^([^，,。？?]{2,12}?)(要是|如果|假如|万一|若是)")


def circumstance_subject(text: str) -> str | None:
    """The subject a circumstance is told after ("合作社要是没有营业执照行不行": 合作社), or None when the message tells
    none in that form (one told first, "要是…呢", is `is_hypothetical`'s opening form)."""
    stripped = (text or "").strip()
    subject = _SUBJECT_BEFORE_IF.match(stripped)
    return subject.group(1) if subject is not None and _CIRCUMSTANCE_ASKED.search(stripped) else None


# Who applies for a business: a circumstance of one of them told after them ("老板要是外国人行吗") is one of the matter at
# hand, as "要是老板是外国人呢" is; no guide is about a 老板 the way one is about a 药店 or a 合作社 ("药店要是开在小区里行不行").
# Not 我们 / 自己: "我们要是在小区里开个药店可以吗" opens a new matter in that form.
_APPLICANT = re.compile(r"老板|法人|法定代表人|股东|负责人|经办人|经营者|申请人|代办人")


def applicant_circumstance(text: str) -> bool:
    """Whether the message tells a circumstance of the applicant after naming them ("法人要是不在本地可以吗")."""
    subject = circumstance_subject(text)
    return subject is not None and _APPLICANT.fullmatch(subject) is not None


# "要是以后营业执照上的地址改了，" : the circumstance, before the clause that asks.
_IF_CLAUSE = re.compile(r"^(那|那么)?(要是|如果|假如|万一|若是)[^，,。；;？?！!]*[，,；;]")


def asked_clause(text: str) -> str:
    """What a hypothetical asks, without its if-clause: in "要是以后营业执照上的地址改了，那个登记要重新弄吗" the 地址
    is the circumstance, not the question (which asks whether the asker must apply again: 受理条件). The whole text
    when there is no if-clause, or nothing after it."""
    stripped = (text or "").strip()
    rest = _IF_CLAUSE.sub("", stripped, count=1)
    return rest if rest.strip() else stripped


_NEW_MATTER = re.compile(r"^(还有|另外|另)(一|个|一个|件|一件)?(件)?事|^换个(问题|事|事情|话题)|^(问|再问)(个|一个|一下)?(别的|另外)")


def starts_new_matter(text: str) -> bool:
    """"还有个事，村口的老石桥想修…": the user closes the matter at hand; the message stands on its own."""
    return bool(_NEW_MATTER.search((text or "").strip()))


# "对了，…", "另外…", "我其实还想…", "顺便问下…": the user turns to something else, without closing the matter
# at hand as plainly as starts_new_matter's "还有个事". Only a sign: the policy leaves the conversation's guide
# on it when the retriever points at another guide (actions/policy.py `stays`).
_ASIDE = re.compile(r"^(对了|哦对了|另外|顺便|顺带|捎带)|其实还想|还想(问|咨询|办|申请|了解|打听)|顺便(问|咨询)|再问(个|一个|一下)?"
                    r"|再(咨询|打听)|^(我)?还有(个|一个)(问题|情况)|另(一个|外一个|外个)(问题|事)|换个(问题|事)"
                    # "还有我儿子在老家读四年级…", "还有，楼里有户人家…": someone else, not "还有别的材料吗", nor
                    # "还有那个住所证明要什么样的" (这/那 point back at the matter at hand)
                    r"|^还有[，,、]|^还有(我|咱|俺|他|她)")
# "还有教堂门口人行道上两棵大树挡着新修的大门，想挪到别处去…": "还有" and a thing described at length before the question,
# which may be another matter or a part of the one at hand ("还有法定代表人的身份证原件，要本人带去吗"): the words tell
# (actions/word_holds.py `describes_another`). Not 这/那 or 刚才 pointing back, nor time left ("还有两个月…").
_ALSO_DESCRIBED = re.compile(r"^还有(?!这|那|别的|其他|其它|什么|啥|没有|哪|多少|几|一|个|点|些|要|就|得|需要|你说|刚才|上面|前面"
                             r"|[0-9两三四五六七八九十半]+个?(月|年|天|周|星期|小时))(?P<thing>[^，,。；;？?！!]{8,})[，,；;]")


def also_described(text: str) -> str | None:
    """The thing described after "还有" at length before the question (`_ALSO_DESCRIBED`), or None."""
    found = _ALSO_DESCRIBED.match((text or "").strip())
    return found.group("thing") if found else None


def turns_aside(text: str) -> bool:
    """"我其实还想自己开个小店，…": a sign that the message may be about another matter."""
    return bool(_ASIDE.search((text or "").strip()))


# Not "那个，…": said before a pause it is a filler while the speaker thinks ("那个，开饭店要办什么证"), no pointer.
_REFERS_BACK = re.compile(r"^(那|这)(个|种|样|些|块|件|事|也|还)(?![，,、\s…])")


def refers_back(text: str) -> bool:
    """"这个要跟政府报备吗", "那种也要办吗": the message points at something said before, not at a matter of its own."""
    return bool(_REFERS_BACK.match((text or "").strip()))


# A pointer with more words of its own than this describes what it points at ("那种政府担保的贷款从交材料到钱到账要多久"
# leaves 10 characters), which may be another matter; "这个要跟政府报备吗" leaves 4, "那个登记要重新弄吗" 4.
POINTER_OWN_CHARS = 6


def points_back(text: str) -> bool:
    """A message pointing back (`refers_back`) at the matter at hand, with few words of its own: a follow-up."""
    return refers_back(text) and len(own_words(text)) <= POINTER_OWN_CHARS


def names_an_item(text: str) -> bool:
    """Whether the message says what it is about, beyond the aspect: "那要多久？" does not,
    "用电报装要多久" does. Without an item and without a guide in context, we ask instead of guessing."""
    # what someone earns names a matter of its own, the job's, however few its words ("一个月能赚多少")
    return len(_NO_ITEM.sub("", strip_cue_words(text or ""))) >= 2 or asks_earnings(text)


# What a follow-up asks about besides the item: the parts and the chores of any application ("要复印件吗", "有模板吗",
# "过期了怎么办", "需要预约吗"). names_an_item counts them as item words (two characters are enough for it); the
# stricter `describes_item` does not.
_PROCEDURE_WORDS = re.compile(
    r"具体|模板|样表|范本|排队|预约|复印件|复印|原件|押金|填表|表格|注意|照片|证件照|体检|签字|盖章|公证|加急|有效期|过期|到期|"
    r"补办|审核|不通过|周末|节假日|假期|别的|其他|其它|材料|手续|流程|时间|费用|窗口|大厅|结果|进度|快点|要求|规定|问题|情况|东西|地方|时候|"
    # the exam a licence takes ("在哪报名", "考试收费吗" after the tractor licence): its own, not another matter's
    r"报名|报考|考试"
)
# In a conversation, the filing verbs are the matter at hand's too ("光报备就行了吗" after the sports-event filing); a first
# message saying them ("公章要去备案") still describes its matter (申请, 办理, 审批 are `_NO_ITEM`'s already).
_FILING_WORDS = re.compile(r"报备|备案|登记")
# A message with at least this many characters of item words describes a matter of its own ("住建局管保障房的窗口在
# 政务中心几楼" leaves "住建局管保障房政务中心"); most follow-ups leave less ("要交押金吗", "具体咋弄": nothing).
DESCRIBED_ITEM_CHARS = 4


def own_runs(text: str) -> list[str]:
    """The message's own words as runs of adjacent characters (what `own_words` joins)."""
    return _PROCEDURE_WORDS.sub("|", _NO_ITEM.sub("|", strip_cue_words(text or "").lower())).split("|")


def own_words(text: str) -> str:
    """The message's own words joined: what is left once the cue words of how people ask, the words that name no
    item (那个, 需要…) and the procedure's own words (申请, 办理…) are taken out."""
    return "".join(own_runs(text))


def describes_item(text: str, *, in_conversation: bool = False) -> bool:
    """Whether the message describes a matter of its own, beyond a follow-up's own words: the sign that it may be
    about another guide than the conversation's (actions/policy.py `Turn.moves_on`). `in_conversation`: the filing
    verbs are the matter at hand's and do not count (`_FILING_WORDS`)."""
    own = own_words(text)
    return len(_FILING_WORDS.sub("", own) if in_conversation else own) >= DESCRIBED_ITEM_CHARS


def has_own_words(text: str) -> bool:
    """Whether anything but a follow-up's own words is left ("开发票怎么弄" leaves 开发票; "过期了怎么办", "需要预约吗"
    leave nothing): a message with none cannot be about another matter, however sure the retriever is of one. Two
    characters in all: "电怎么装" names 电, a matter of one character; "开的人要考证吗" leaves 开, 人, 考."""
    return len(own_words(text)) >= 2


# Any sign of a question: a question mark, a question particle or word ("吗", "什么", "能不能"…).
_QUESTION_SIGNS = ("[?？]", "吗", "呢", "么", "啥", "什么", "怎", "咋", "哪", "几", "多少", "多久", "多长", "如何", "是否",
                   "能不能", "能否", "可不可以", "可以不", "要不要", "用不用", "有没有", "行不行", "是不是", "对不对",
                   "好不好", "请问", "麻烦问")
_QUESTION = re.compile("|".join(_QUESTION_SIGNS))
# The same signs without 几, which also counts ("我们几个人想合伙开个公司", "我家房子前几天着火了" tell a situation):
# for telling a situation told from one asked about (actions/opening.py).
ASKED_NOT_COUNTED = re.compile("|".join(sign for sign in _QUESTION_SIGNS if sign != "几"))


# "要空腹不", "周末上班没": the spoken yes-or-no question, its second half left out.
_CLIPPED_QUESTION = re.compile(r"(不|没)[?？。]*$")


def is_question(text: str) -> bool:
    """Whether the message asks anything at all ("平面布局图要自己画吗", "要空腹不"), if no aspect of a procedure."""
    return bool(_QUESTION.search(text or "") or _CLIPPED_QUESTION.search((text or "").strip()))


def states_a_matter(text: str) -> bool:
    """Whether the message only tells the user's situation, asking nothing ("我在小区门口租了个门面，想卖熟食"): how
    citizens often open, before asking what to do. Not a question about anything else ("水库钓鲫鱼用什么饵料好")."""
    return not _QUESTION.search(text or "") and describes_item(text)


# Asking for a person or complaining ("转人工", "窗口态度太差"): with one of these words a message is a handoff whatever
# else it asks (actions/handoff.py), and neither the matter a later question is about nor a question to read with an
# earlier matter (actions/opening.py).
# The words of PEOPLE_OR_GRIEVANCE that ask for a person rather than tell a grievance.
PEOPLE_WORDS = frozenset({"人工", "真人", "客服", "工作人员", "办事员", "转接", "接线", "找人", "人呢", "有人吗", "领导"})
PEOPLE_OR_GRIEVANCE = re.compile(
    r"人工|真人|客服|工作人员|办事员|转接|接线|投诉|举报|反映|态度|刁难|推诿|不作为|乱收费|太慢|太差|差劲|不满|生气|气死|"
    r"跑了好几|跑了几|不给办|拖着|敷衍|找人|人呢|有人吗|领导|曝光"
)

# Words said to the assistant itself, not about any matter ("你到底懂不懂啊？", "这么简单的问题都不会吗", "怎么又不回答？",
# "你们这机器人有什么用啊？"): never read with an earlier matter (actions/opening.py). Anchored to the assistant ("你们
# 这机器人", "你是谁", "真废物"), or ending the sentence ("你会不会？"): "工业机器人", "危险废物", "走什么破产程序",
# "你们会不会上门来检", "你们是哪个部门管的", "您能做什么检测" are a citizen's matter or question.
TO_THE_ASSISTANT = re.compile(
    r"(你|您)(们)?(到底|究竟|还|倒是)?(懂不懂|能不能听懂|听不懂|不懂|喜欢|有什么用)"
    r"|(你|您)(们)?(到底|究竟|还|倒是)?(会不会|是什么|是哪个|叫什么|能干什么|会干什么|能做什么|会做什么)(啊|呀|呢|吧|东西)?[?？。！!]*$"
    r"|(你|您)(们)?是(谁|哪个公司|什么东西)|(你|您)(们)?(这|这个|那个)?(破)?(机器人|智能助手)"
    r"|都不会吗|答不上|答不出|不回答|没回答|听不懂|(真|就是个?|纯)废物|智障|什么破(玩意|东西|系统|服务|机器人|助手)"
)
