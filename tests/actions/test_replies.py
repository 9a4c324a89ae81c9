"""The assistant's replies (actions/replies.py), built from the bundled guides as the admin wrote
them: complete answers with contacts and source, buttons whose payloads Rasa understands, and the
custom payloads channels read ({"answer"}, {"clarify"}, {"confirm"}, {"not_found"}). The handoff and the offices
asked for by name (actions/contact_replies.py) are in test_contact_replies.py."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest

from actions import replies
from knowledge.examples import Examples
from knowledge.index.chunks import PASSAGE, Chunk, document_chunks
from knowledge.retrieval.retriever import GuideCandidate, Hit, Retriever
from knowledge.sources.aspects import CONTACT, GENERAL, MATERIALS, TIME_LIMIT
from knowledge.sources.documents import parse_document
from protocol import AFFIRM, DENY, REQUEST_HUMAN, rating_payload
from tests.support import DOCUMENTS, parsed_guide

ANSWER_ID = "kqzvtmwrbahe"

pytestmark = pytest.mark.unit

HOTLINE = "12345"
POLICY_TEXT = ("(二)推行惠企政策免申即享和精准推送。梳理惠企政策，对本区兑现的惠企政策实现100%免申即享。"
               "〔牵头单位:区财政局、区发改经信局、区行政审批局;责任单位:区人社局、区医保局);完成时限:2022年6月底,长期推进〕")


def _guide(guide_id: str = "company-setup") -> dict[str, Any]:
    """The guide as the retriever hands it to the actions (Guide.as_dict of the parsed file)."""
    return parsed_guide(guide_id).as_dict()


def _candidates(*guide_ids: str) -> list[GuideCandidate]:
    return [GuideCandidate(guide_id, parsed_guide(guide_id).title, 0.9 - n / 10) for n, guide_id in enumerate(guide_ids)]


def _passage(content: str = POLICY_TEXT, *, section: str | None = "二、重点任务", units: list[str] | None = None,
             source: str = "关于印发华容区2022年营商环境创优行动方案的通知") -> Hit:
    chunk = Chunk(id="doc-1#3", kind=PASSAGE, text=content, title="华容区2022年营商环境创优行动方案", section=section,
                  content=content, source=source, units=units or [])
    return Hit(chunk, score=0.8, dense=0.7, lexical=0.5)


def _picked(payload: str) -> str:
    """The guide id a /choose button picks, read as Rasa reads the entity."""
    assert payload.startswith("/choose{")
    return str(json.loads(payload.removeprefix("/choose"))["pick"])


# --- answers from a guide ----------------------------------------------------------------------

def test_a_materials_answer_is_complete_and_says_whom_to_contact() -> None:
    guide = parsed_guide("company-setup")
    sections = Retriever.sections_for(guide.as_dict(), MATERIALS)
    reply = replies.answer(guide.as_dict(), sections, aspect=MATERIALS, confidence=0.81, index_version="v1", answer_id=ANSWER_ID)
    assert reply.text.startswith(f"【{guide.title}】")
    materials = guide.section("申请材料")
    assert materials is not None and materials.items
    for item in materials.items:  # 一次性告知: never a shortened list
        assert item in reply.text
    for contact in guide.contacts:
        for value in (contact.unit, contact.phone, contact.address, contact.hours):
            assert value in reply.text
    assert guide.department in reply.text and guide.complaint_phone in reply.text
    assert f"来源：{guide.source}（更新于 {guide.updated}）" in reply.text
    assert reply.text.endswith("这个回答有帮助吗？")
    assert reply.text.index("申请材料") < reply.text.index("【联系方式】")


def test_an_answer_offers_rating_buttons() -> None:
    reply = replies.answer(_guide(), [], aspect=GENERAL, confidence=0.5, index_version="v1", answer_id=ANSWER_ID)
    assert reply.buttons == [{"title": "👍 好评", "payload": '/feedback_good{"answer_id": "kqzvtmwrbahe"}'},
                             {"title": "👎 差评", "payload": '/feedback_bad{"answer_id": "kqzvtmwrbahe"}'}]
    assert reply.custom is not None and reply.custom["answer"]["id"] == ANSWER_ID


def test_the_answer_payload_describes_the_guide_sections_and_contacts() -> None:
    guide = parsed_guide("water-connection")
    sections = Retriever.sections_for(guide.as_dict(), TIME_LIMIT)
    reply = replies.answer(guide.as_dict(), sections, aspect=TIME_LIMIT, confidence=0.876543, index_version="20261130-x", answer_id=ANSWER_ID)
    assert reply.custom is not None
    answer = reply.custom["answer"]
    assert answer["guide"] == {"id": guide.id, "title": guide.title, "department": guide.department, "updated": guide.updated,
                               "source": guide.source}
    assert answer["aspect"] == TIME_LIMIT and answer["sections"] == ["办理时限"]
    assert answer["contacts"] == [contact.as_dict() for contact in guide.contacts]
    assert answer["confidence"] == 0.8765 and answer["index_version"] == "20261130-x"
    assert json.loads(json.dumps(reply.custom)) == reply.custom  # channels send it as JSON


def test_sections_are_shown_whole_and_in_the_order_given() -> None:
    guide = _guide("company-setup")
    sections = Retriever.sections_for(guide, GENERAL)
    assert len(sections) >= 3
    reply = replies.answer(guide, sections, aspect=GENERAL, confidence=0.9, index_version="v1", answer_id=ANSWER_ID)
    positions = [reply.text.index(f"{heading}：\n{text.strip()}") for heading, text in sections]
    assert positions == sorted(positions)
    assert reply.custom is not None and reply.custom["answer"]["sections"] == [heading for heading, _ in sections]


def test_a_matching_faq_comes_first() -> None:
    guide = parsed_guide("company-setup")
    faq = guide.faqs[0]
    reply = replies.answer(guide.as_dict(), Retriever.sections_for(guide.as_dict(), MATERIALS), aspect=MATERIALS,
                           confidence=0.9, index_version="v1", answer_id=ANSWER_ID, faq=(faq.question, faq.answer))
    assert f"问：{faq.question}\n答：{faq.answer}" in reply.text
    assert reply.text.index(faq.question) < reply.text.index("申请材料：")


@pytest.mark.parametrize(("aspect", "sections"), [(CONTACT, True), (MATERIALS, False)])
def test_a_contact_question_or_no_section_says_these_are_the_windows(aspect: str, sections: bool) -> None:
    guide = _guide("water-connection")
    chosen = Retriever.sections_for(guide, aspect) if sections else []
    reply = replies.answer(guide, chosen, aspect=aspect, confidence=0.9, index_version="v1", answer_id=ANSWER_ID)
    assert f"以下是「{guide['title']}」的办理窗口和电话。" in reply.text
    assert guide["contacts"][0]["phone"] in reply.text


def test_a_materials_answer_does_not_add_the_contact_sentence() -> None:
    guide = _guide("water-connection")
    reply = replies.answer(guide, Retriever.sections_for(guide, MATERIALS), aspect=MATERIALS, confidence=0.9, index_version="v1", answer_id=ANSWER_ID)
    assert "的办理窗口和电话。" not in reply.text


def test_a_guide_without_source_cites_its_title_and_omits_empty_contact_details() -> None:
    guide = _guide("company-setup")
    guide["source"] = ""
    guide["contacts"] = [{"unit": "示例区测试窗口", "phone": "0000-1111111", "address": "", "hours": ""}]
    reply = replies.answer(guide, [], aspect=CONTACT, confidence=0.9, index_version="v1", answer_id=ANSWER_ID)
    assert f"来源：{guide['title']}（更新于 {guide['updated']}）" in reply.text
    assert "· 示例区测试窗口　电话 0000-1111111" in reply.text
    assert "地址：" not in reply.text and "办公时间：" not in reply.text


def test_related_policy_is_shown_beside_a_guide_answer() -> None:
    guide = _guide("business-support-policy")
    reply = replies.answer(guide, Retriever.sections_for(guide, GENERAL), aspect=GENERAL, confidence=0.9, index_version="v1", answer_id=ANSWER_ID,
                           passage=_passage())
    assert "【相关政策】《华容区2022年营商环境创优行动方案》「二、重点任务」原文：" in reply.text
    assert "牵头单位：区财政局、区发改经信局、区行政审批局" in reply.text
    assert reply.text.index("【相关政策】") < reply.text.index("【联系方式】")


# --- answers quoted from a policy document ----------------------------------------------------

def test_passage_units_reads_lead_and_responsible_units_and_deadline() -> None:
    assert replies.passage_units(POLICY_TEXT) == [
        ("牵头单位", "区财政局、区发改经信局、区行政审批局"),
        ("责任单位", "区人社局、区医保局"),
        ("完成时限", "2022年6月底,长期推进"),
    ]
    assert replies.passage_units("没有任何单位括注的一段话。") == []


def test_a_policy_answer_quotes_the_passage_and_names_the_units() -> None:
    reply = replies.policy_answer(_passage(), confidence=0.7123456, index_version="v2", answer_id=ANSWER_ID, hotline=HOTLINE)
    assert f"“{POLICY_TEXT}”" in reply.text
    assert "牵头单位：区财政局、区发改经信局、区行政审批局；责任单位：区人社局、区医保局；完成时限：2022年6月底,长期推进" in reply.text
    assert "来源：《关于印发华容区2022年营商环境创优行动方案的通知》" in reply.text  # the source, not the title
    assert f"政务服务热线 {HOTLINE}" in reply.text and reply.text.endswith("这个回答有帮助吗？")
    assert [button["payload"] for button in reply.buttons] == [rating_payload("good", ANSWER_ID), rating_payload("bad", ANSWER_ID)]
    assert reply.custom is not None and reply.custom["answer"]["id"] == ANSWER_ID
    assert reply.custom is not None
    answer = reply.custom["answer"]
    assert answer["guide"] is None and answer["aspect"] == "policy" and answer["contacts"] == []
    assert answer["document"] == {"title": "华容区2022年营商环境创优行动方案", "section": "二、重点任务",
                                  "source": "关于印发华容区2022年营商环境创优行动方案的通知", "number": "", "date": ""}
    assert answer["units"][0] == {"label": "牵头单位", "value": "区财政局、区发改经信局、区行政审批局"}
    assert answer["confidence"] == 0.7123 and answer["index_version"] == "v2"


def _dated(hit: Hit, *, number: str = "", date: str = "") -> Hit:
    """The passage of a document whose front matter gives its 文号 (`number`) and `date`, as its chunk carries them."""
    hit.chunk.number, hit.chunk.date = number, date  # type: ignore[attr-defined]  # fields of Chunk once chunks.py copies them
    return hit


def test_a_policy_answer_tells_the_citizen_the_documents_number_and_date() -> None:
    reply = replies.policy_answer(_dated(_passage(), number="华容办文〔2022〕3号", date="2022-03-11"), confidence=0.7,
                                  index_version="v2", answer_id=ANSWER_ID, hotline=HOTLINE)
    assert "来源：《关于印发华容区2022年营商环境创优行动方案的通知》（华容办文〔2022〕3号，2022-03-11）\n" in reply.text
    assert reply.custom is not None
    assert reply.custom["answer"]["document"] == {
        "title": "华容区2022年营商环境创优行动方案", "section": "二、重点任务", "source": "关于印发华容区2022年营商环境创优行动方案的通知",
        "number": "华容办文〔2022〕3号", "date": "2022-03-11"}


@pytest.mark.parametrize(("number", "date", "source_line"), [
    ("", "2022-03-11", "来源：《华容区2022年营商环境创优行动方案》（2022-03-11）"),
    ("华容办文〔2022〕3号", "", "来源：《华容区2022年营商环境创优行动方案》（华容办文〔2022〕3号）"),
    ("", "", "来源：《华容区2022年营商环境创优行动方案》"),  # neither: nothing in brackets
])
def test_the_source_line_names_only_what_the_document_gives(number: str, date: str, source_line: str) -> None:
    hit = _dated(_passage(source=""), number=number, date=date)
    reply = replies.policy_answer(hit, confidence=0.7, index_version="v2", answer_id=ANSWER_ID, hotline=HOTLINE)
    assert source_line in reply.text.splitlines()
    assert reply.custom is not None
    assert (reply.custom["answer"]["document"]["number"], reply.custom["answer"]["document"]["date"]) == (number, date)


def test_related_policy_beside_a_guide_answer_names_its_date_too() -> None:
    guide = _guide("business-support-policy")
    reply = replies.answer(guide, Retriever.sections_for(guide, GENERAL), aspect=GENERAL, confidence=0.9, index_version="v1",
                           answer_id=ANSWER_ID, passage=_dated(_passage(), date="2022-03-11"))
    assert "来源：《关于印发华容区2022年营商环境创优行动方案的通知》（2022-03-11）" in reply.text.splitlines()


@pytest.mark.skipif("date" not in {item.name for item in fields(Chunk)},
                    reason="knowledge/index/chunks.py does not copy the document's number and date into its passages yet")
def test_a_passage_of_the_shipped_action_plan_is_answered_with_the_plans_date() -> None:
    document, _problems = parse_document(DOCUMENTS / "huarong-2022-business-environment-action-plan.txt")
    assert document is not None
    chunk = next(chunk for chunk in document_chunks(document) if "免申即享" in chunk.content)
    reply = replies.policy_answer(Hit(chunk, score=0.8, dense=0.7, lexical=0.5), confidence=0.7, index_version="v2",
                                  answer_id=ANSWER_ID, hotline=HOTLINE)
    assert "来源：《华容区2022年营商环境创优行动方案》（2022-03-11）" in reply.text.splitlines()  # no 文号 in its front matter
    assert reply.custom is not None and reply.custom["answer"]["document"]["date"] == "2022-03-11"


def test_a_policy_answer_closes_in_words_that_fit_any_policy() -> None:
    # a notice on dog keeping is no subsidy to claim: who to ask, without "兑现和申报"
    named = replies.policy_answer(_passage(), confidence=0.7, index_version="v2", answer_id=ANSWER_ID, hotline=HOTLINE)
    bare = replies.policy_answer(_passage("犬只出户须束犬链。", section=None, units=[], source=""), confidence=0.7,
                                 index_version="v2", answer_id=ANSWER_ID, hotline=HOTLINE)
    assert "兑现和申报" not in named.text + bare.text
    deadline_only = replies.policy_answer(_passage("〔完成时限：2022年6月底〕推行一网通办。", section=None, units=[]), confidence=0.7,
                                          index_version="v2", answer_id=ANSWER_ID, hotline=HOTLINE)
    assert "请咨询上述单位" in named.text and "请咨询发文单位" in bare.text and "请咨询发文单位" in deadline_only.text


def test_a_passage_without_unit_notes_falls_back_to_the_chunk_units_and_title() -> None:
    hit = _passage("县行政审批服务局推行企业开办0.5个工作日办结。", section=None, units=["县行政审批服务局"], source="")
    text = replies.policy_passage_text(hit)
    assert "相关单位：县行政审批服务局" in text
    assert "「" not in text.splitlines()[0]  # no section to name
    assert text.endswith("来源：《华容区2022年营商环境创优行动方案》")


# --- questions back to the user -------------------------------------------------------------

def test_clarify_lists_the_choices_with_buttons_that_pick_them() -> None:
    choices = _candidates("company-deregistration", "simplified-deregistration")
    reply = replies.clarify(choices, MATERIALS)
    assert "您问的申请材料可能涉及以下几个事项" in reply.text
    for number, choice in enumerate(choices, 1):
        assert f"{number}. {choice.title}" in reply.text.splitlines()
    assert [button["title"] for button in reply.buttons] == [f"{n}. {c.title}" for n, c in enumerate(choices, 1)]
    assert [_picked(button["payload"]) for button in reply.buttons] == ["company-deregistration", "simplified-deregistration"]
    assert reply.custom == {"clarify": {"aspect": MATERIALS, "choices": ["company-deregistration", "simplified-deregistration"]}}


def test_clarify_on_a_general_question_names_no_aspect() -> None:
    reply = replies.clarify(_candidates("company-deregistration", "simplified-deregistration"), GENERAL)
    assert reply.text.startswith("您问的可能涉及以下几个事项")


def test_pick_payload_is_a_rasa_intent_with_the_pick_entity() -> None:
    assert replies.pick_payload("water-connection") == '/choose{"pick": "water-connection"}'


@pytest.mark.parametrize(("aspect", "asked"), [(MATERIALS, "的申请材料吗？"), (TIME_LIMIT, "的办理时限吗？"), (GENERAL, "吗？")])
def test_confirm_asks_once_about_the_leading_guide(aspect: str, asked: str) -> None:
    guide = _guide("seal-engraving")
    reply = replies.confirm(guide, aspect)
    assert reply.text.startswith(f"您问的是【{guide['title']}】{asked}")
    assert reply.buttons == [{"title": "是", "payload": AFFIRM}, {"title": "不是", "payload": DENY}]
    assert (AFFIRM, DENY) == ("/affirm", "/deny")  # the intents domain.yml declares
    assert reply.custom == {"confirm": {"guide": {"id": "seal-engraving", "title": guide["title"]}, "aspect": aspect}}


def test_not_found_is_honest_and_offers_the_near_guides_and_a_human() -> None:
    near = _candidates("license-reissue", "company-change")
    reply = replies.not_found(near, HOTLINE)
    assert reply.text.startswith("抱歉，知识库里没有找到能准确回答这个问题的办事指南")
    assert f"政务服务热线 {HOTLINE}" in reply.text
    for number, choice in enumerate(near, 1):
        assert f"{number}. {choice.title}" in reply.text
    assert [_picked(button["payload"]) for button in reply.buttons[:-1]] == ["license-reissue", "company-change"]
    assert reply.buttons[-1] == {"title": "转人工", "payload": REQUEST_HUMAN}
    assert reply.custom == {"not_found": {"near": ["license-reissue", "company-change"], "declined": False}}


def test_not_found_without_near_guides_offers_only_a_human() -> None:
    reply = replies.not_found([], HOTLINE)
    assert reply.buttons == [{"title": "转人工", "payload": "/request_human"}]
    assert "您问的是不是下面这些事项" not in reply.text
    assert reply.custom == {"not_found": {"near": [], "declined": False}}


@pytest.mark.parametrize(("near", "opening"), [
    (False, "好的。知识库里没有其他能准确回答这个问题的办事指南"),
    (True, "好的。其他办事指南都没有十足的把握，下面几个比较接近。\n您问的是不是下面这些事项？"),  # honest, and no contradiction
])
def test_not_found_after_the_user_said_no(near: bool, opening: str) -> None:
    reply = replies.not_found(_candidates("company-change") if near else [], HOTLINE, declined=True)
    assert reply.text.startswith(opening)
    assert reply.custom is not None and reply.custom["not_found"]["declined"] is True


# A deployment whose guides replaced the sample ones: its examples, as its build chose them.
OWN = Examples(("养蜂备案要什么材料？", "渔船登记多久能办好？"), ("养蜂备案", "渔船登记"))
SAMPLE_NAMES = ("企业开办", "用水报装", "施工许可", "开办企业", "开公司", "免申即享")


def test_ask_item_asks_which_item_with_the_published_examples() -> None:
    reply = replies.ask_item(TIME_LIMIT, OWN)
    assert reply.text.startswith("请问您想了解哪个事项的办理时限？") and "例如“养蜂备案”“渔船登记”。" in reply.text
    assert not any(name in reply.text for name in SAMPLE_NAMES)
    assert reply.buttons == [] and reply.custom == {"ask_item": {"aspect": TIME_LIMIT}}
    assert replies.ask_item(GENERAL, OWN).text.startswith("请问您想了解哪个事项？告诉我")


def test_ask_item_after_a_matter_told_offers_the_closest_guides_as_buttons() -> None:
    guesses = [GuideCandidate("food-business-license", "食品经营许可", 0.5),
               GuideCandidate("individual-business-registration", "个体工商户设立登记", 0.4)]
    reply = replies.ask_item(MATERIALS, OWN, guesses, HOTLINE)
    assert reply.text.startswith("请问您想了解哪个事项的申请材料？") and "1. 食品经营许可\n2. 个体工商户设立登记" in reply.text
    assert "养蜂备案" not in reply.text  # the guesses take the general examples' place
    assert [_picked(b["payload"]) for b in reply.buttons[:-1]] == ["food-business-license", "individual-business-registration"]
    assert reply.buttons[-1] == {"title": "转人工", "payload": REQUEST_HUMAN} and HOTLINE in reply.text  # they may all be wrong
    assert reply.custom == {"ask_item": {"aspect": MATERIALS, "choices": ["food-business-license", "individual-business-registration"]}}


def test_out_of_scope_offers_the_published_example_questions() -> None:
    reply = replies.out_of_scope(HOTLINE, OWN)
    assert "不在我的服务范围内" in reply.text
    for question in OWN.questions:
        assert f"· {question}" in reply.text
    assert not any(name in reply.text for name in SAMPLE_NAMES)
    assert f"政务服务热线 {HOTLINE}" in reply.text
    assert reply.custom == {"not_found": {"near": [], "out_of_scope": True}}


def test_out_of_scope_offers_people_like_not_found() -> None:
    """A refusal ends the search as "not found" does (and may misjudge what is our business): the same 转人工 button."""
    refused = replies.out_of_scope(HOTLINE, OWN)
    assert refused.buttons == [{"title": "转人工", "payload": REQUEST_HUMAN}] == replies.not_found([], HOTLINE).buttons
    assert "点“转人工”由工作人员为您解答" in refused.text


def test_greeting_offers_the_published_example_questions() -> None:
    text = replies.greeting(OWN).text
    assert text.startswith("您好！") and all(f"· {question}" in text for question in OWN.questions)
    introduced = replies.greeting(OWN, introduce=True).text
    assert "机器人" in introduced and "转人工" in introduced and "· 养蜂备案要什么材料？" in introduced


@pytest.mark.parametrize("reply", [
    lambda: replies.ask_item(TIME_LIMIT, Examples()), lambda: replies.out_of_scope(HOTLINE, Examples()),
    lambda: replies.greeting(Examples()), lambda: replies.greeting(Examples(), introduce=True),
], ids=["ask_item", "out_of_scope", "greeting", "introduce"])
def test_without_a_published_index_the_texts_name_no_item(reply: Any) -> None:
    text = reply().text
    assert "例如“" not in text and "· " not in text and not any(name in text for name in SAMPLE_NAMES), text
    assert text.rstrip().endswith(("。", "即可。")), text


# --- unavailable ----------------------------------------------------------------------------

def test_unavailable_apologises_with_the_hotline() -> None:
    reply = replies.unavailable("0000-12345")
    assert "暂时不可用" in reply.text and "0000-12345" in reply.text
    assert reply.buttons == [] and reply.custom == {"not_found": {"near": [], "unavailable": True}}
