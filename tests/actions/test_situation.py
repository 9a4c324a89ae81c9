"""A first message that only tells a hardship or life event (actions/situation.py): the guides for people in it are
offered to pick from instead of "不在服务范围"; chit-chat about a pet, a thing, a mood or somebody else's life, and any
question, stay refused. The examples are this file's own, no item of any evaluation set."""

from __future__ import annotations

import pytest

from actions.actions import ActionAnswer
from actions.services import Services
from actions.situation import _names, events, tells_hardship
from knowledge.records.store import Records
from protocol import REQUEST_HUMAN
from tests.support import custom, run_action, texts, tracker_for

REFUSED = "不在我的服务范围"
HARDSHIP = "我男人在工地上摔伤了腿，包工头跑了，工钱一分没给"


@pytest.mark.parametrize("text", [
    HARDSHIP,
    "我老伴去年中风瘫在床上，儿子又下岗了，日子快过不下去了",
    "上个月我家铺子失火，货全烧没了",
    "我们厂资金链断了，工人的工资发不出来",
    "我父亲前几天过世了",
])
def test_a_hardship_of_the_speaker_family_or_business_is_told(text: str) -> None:
    assert tells_hardship(text)


@pytest.mark.parametrize("text", [
    "今天好累啊", "我家猫生病了", "我家狗前两天走丢了", "我手机摔坏了", "我买的基金又亏了", "累死了，明天还要加班",
    "那个歌手好像离婚了",  # nobody of the speaker's
    "刚失恋了，心里难受",  # a mood, no event of the lexicon
    "我家孩子发烧了怎么办",  # a question: the usual rules answer or refuse it
    "工地上摔伤了能报销吗",
    "我先走了",
    # the shapes of an event in everyday chat (review, 2026-12-06)
    "我爸上班走了", "我老婆钱包没了", "我觉得我家老板有病", "我是1990年出生的", "我吃亏了", "我减肥撑不下去了",
    "我人设塌了", "我儿子在医院住院部上班", "我妈是做手术的医生", "我们公司今天停产检修",
    "我家隔壁着火了", "我的老师得了癌症", "昨天看了部电影，男主去世了",  # someone else's
    "我妈做手术很成功，谢谢大家", "我前几天生病了，今天好了", "我们公司裁员了，不过我没事",  # over already
    "我家着火了，给我转人工", "我老公工伤了单位不给赔，我要投诉",  # a person or a complaint is asked for
])
def test_chit_chat_moods_and_questions_tell_no_hardship(text: str) -> None:
    assert not tells_hardship(text)


def test_an_eligibility_section_names_an_event_only_as_a_situation_people_are_in() -> None:
    fire = ("火灾", "失火")
    assert _names("因火灾、交通事故等意外事件导致基本生活困难的家庭", fire)
    assert not _names("场所近三年未发生火灾事故", fire)  # negated: not for people hit by it
    illness = ("疾病", "重病")
    assert not _names("身体健康，无传染性疾病、无精神病史", illness)
    assert _names("因年老、重病等原因行动不便的，可由亲属代办", illness)
    assert not _names("为职工缴纳养老、医疗、失业、工伤、生育保险", ("失业", "下岗"))  # an insurance's name
    assert events("我家猫生病了") == [] and events("我家猫生病了，我也住院了") != []  # only the speaker's clause tells


def test_a_hardship_gets_the_guides_for_people_in_it_instead_of_a_refusal(services: Services, records: Records) -> None:
    messages, slots = run_action(ActionAnswer(services), tracker_for(HARDSHIP, "out_of_scope"))
    offered = custom(messages, "clarify")
    assert REFUSED not in texts(messages)
    assert "不容易" in texts(messages) and "12345" in texts(messages)
    assert offered is not None and offered["situation"] is True
    assert "labor-arbitration" in offered["choices"] and slots["candidates"] == offered["choices"]
    buttons = [button for message in messages for button in message.get("buttons") or []]
    assert buttons[-1]["payload"] == REQUEST_HUMAN
    # picking one answers its overview, as any offered choice
    number = offered["choices"].index("labor-arbitration") + 1
    picked, after = run_action(ActionAnswer(services), tracker_for(str(number), "choose", slots=slots))
    assert custom(picked, "answer")["guide"]["id"] == "labor-arbitration"
    assert after["guide_id"] == "labor-arbitration"


@pytest.mark.parametrize("intent", ["out_of_scope", "ask_materials"])
@pytest.mark.parametrize("message", ["今天好累啊", "我家猫生病了", "我手机摔坏了", "那个歌手好像离婚了", "我买的基金又亏了",
                                     "刚失恋了，心里难受"])
def test_chit_chat_stays_refused(services: Services, records: Records, message: str, intent: str) -> None:
    messages, slots = run_action(ActionAnswer(services), tracker_for(message, intent))
    assert custom(messages, "clarify") is None and custom(messages, "answer") is None
    assert not slots.get("candidates")


def test_in_a_conversation_a_hardship_is_read_as_usual(services: Services, records: Records) -> None:
    """With a guide in the conversation the message is a follow-up or a new matter by the usual rules, never the offer."""
    messages, _ = run_action(ActionAnswer(services), tracker_for(HARDSHIP, "out_of_scope", slots={"guide_id": "water-connection"}))
    assert custom(messages, "clarify") is None or not custom(messages, "clarify").get("situation")


@pytest.mark.parametrize(("says", "kind"), [
    ("申请人姓名、出生日期等需要变更的", ("生育", "新生儿", "出生医学证明")),  # a date, not a birth
    ("已制定生产安全事故应急预案", ("意外", "伤害", "伤残", "残疾", "事故", "工伤")),  # a compound noun
    ("申请人没有未处理完毕的交通违法行为、交通事故", ("意外", "伤害", "伤残", "残疾", "事故", "工伤")),  # one negation for the list
    ("办理涉企审批事项有困难的经营主体", ("生活困难", "家庭困难", "经济困难", "无收入", "无生活来源")),  # any difficulty
])
def test_words_that_name_no_situation_people_are_in(says: str, kind: tuple[str, ...]) -> None:
    assert not _names(says, kind)


def test_each_item_with_its_own_negation_leaves_the_next_one_named() -> None:
    assert _names("无劳动能力、无生活来源、因病生活困难的老人", ("生活困难",))
