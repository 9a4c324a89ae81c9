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
