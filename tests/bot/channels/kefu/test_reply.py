"""The hall API's structured reply, built from the messages the actions really send (actions/replies.py
through Rasa's REST channel: one text message with buttons, one custom message)."""

from __future__ import annotations

from typing import Any

from actions import contact_replies, replies
from bot.channels.kefu.reply import plain_reply, structured_reply
from bot.channels.rasa_client import AssistantReply
from knowledge.examples import Examples
from knowledge.index.chunks import Chunk
from knowledge.retrieval.offices import Listing
from knowledge.retrieval.retriever import GuideCandidate, Hit
from tests.support import parsed_guide

ANSWER_ID = "kqzvtmwrbahe"

FIELDS = {"kind", "messages", "guide", "document", "aspect", "contacts", "buttons", "confidence", "handoff", "answer_id",
          "supervision"}


def rest_messages(reply: replies.Reply) -> AssistantReply:
    """What Rasa's REST channel returns for one action reply (see actions.conversation.send)."""
    messages: list[dict[str, Any]] = [{"recipient_id": "kefu-x", "text": reply.text, **({"buttons": reply.buttons} if reply.buttons else {})}]
    if reply.custom:
        messages.append({"recipient_id": "kefu-x", "custom": reply.custom})
    return AssistantReply(messages)


def _candidate(guide_id: str) -> GuideCandidate:
    guide = parsed_guide(guide_id)
    hit = Hit(Chunk(id="c", kind="section", text="", title=guide.title, guide_id=guide_id), 0.8, 0.8, 0.1)
    return GuideCandidate(guide_id, guide.title, 0.8, hit)


def test_an_answer_names_its_guide_aspect_contacts_and_buttons() -> None:
    guide = parsed_guide("company-setup")
    section = guide.section("申请材料")
    reply = replies.answer(guide.as_dict(), [("申请材料", section.text)], aspect="materials", confidence=0.8123, index_version="v1",
                           answer_id=ANSWER_ID)
    result = structured_reply(rest_messages(reply))
    assert set(result) == FIELDS
    assert result["kind"] == "answer" and result["aspect"] == "materials" and result["confidence"] == 0.8123
    assert result["guide"] == {"id": guide.id, "title": guide.title, "department": guide.department, "updated": guide.updated,
                               "source": guide.source, "notice_url": "/api/v1/guides/company-setup/notice"}
    assert result["contacts"] == [c.as_dict() for c in guide.contacts]
    assert result["buttons"] == replies.feedback_buttons(ANSWER_ID) and result["answer_id"] == ANSWER_ID
    assert result["messages"] == [{"text": reply.text}] and result["handoff"] is False


def test_a_clarifying_question_has_choice_buttons_and_no_guide() -> None:
    reply = replies.clarify([_candidate("company-deregistration"), _candidate("simplified-deregistration")], "time_limit")
    result = structured_reply(rest_messages(reply))
    assert result["kind"] == "clarify" and result["guide"] is None and result["aspect"] == "time_limit"
    assert [b["payload"] for b in result["buttons"]] == [replies.pick_payload("company-deregistration"),
                                                         replies.pick_payload("simplified-deregistration")]


def test_offices_asked_by_name_come_as_contacts_of_a_clarify() -> None:
    guide = parsed_guide("company-setup")
    contact = guide.contacts[1]
    shown = [Listing(contact.unit, contact.phone, contact.address, contact.hours, ("company-setup",))]
    reply = contact_replies.offices(shown, {"company-setup": guide.title},
                                    [_candidate("company-setup"), _candidate("food-business-license")], "contact")
    result = structured_reply(rest_messages(reply))
    assert result["kind"] == "clarify" and result["guide"] is None and result["aspect"] == "contact"
    assert result["contacts"] == [{**contact.as_dict(), "matters": [guide.title],  # the matters the office handles
                                   "phones": [{"phone": contact.phone, "matters": [guide.title]}]}]
    assert [b["payload"] for b in result["buttons"]] == [replies.pick_payload("company-setup"), replies.pick_payload("food-business-license")]


def test_an_office_with_several_phones_is_one_contact_with_all_of_them() -> None:
    """"市监局电话多少": 登记注册科 has a phone per matter; a kiosk lists the unit once, each phone with its matters."""
    titles = {guide_id: parsed_guide(guide_id).title for guide_id in ("company-setup", "individual-business-registration")}
    rows = [Listing(contact.unit, contact.phone, contact.address, contact.hours, (guide_id,))
            for guide_id in titles for contact in parsed_guide(guide_id).contacts if contact.unit.endswith("登记注册科")]
    assert len({row.unit for row in rows}) == 1 and len({row.phone for row in rows}) == 2
    result = structured_reply(rest_messages(contact_replies.offices(rows, titles, [_candidate(g) for g in titles], "contact")))
    assert [contact["unit"] for contact in result["contacts"]] == [rows[0].unit]
    assert result["contacts"][0]["phone"] == rows[0].phone and result["contacts"][0]["matters"] == list(titles.values())
    assert result["contacts"][0]["phones"] == [{"phone": row.phone, "matters": [titles[row.guide_ids[0]]]} for row in rows]


def test_a_handoff_carries_the_contacts_and_the_guide_in_context() -> None:
    guide = parsed_guide("water-connection").as_dict()
    reply = contact_replies.handoff(guide, reason="request_human", record_id=7, hotline="12345")
    result = structured_reply(rest_messages(reply), {"water-connection": guide}.get)
    assert result["kind"] == "handoff" and result["handoff"] is True
    assert result["contacts"] == guide["contacts"] and result["guide"]["id"] == "water-connection"
    without_lookup = structured_reply(rest_messages(reply))
    assert without_lookup["guide"] is None and without_lookup["handoff"] is True


def test_a_complaint_in_a_matter_carries_its_supervision_as_its_text_does() -> None:
    """"窗口态度太差，我要投诉" about the water connection: whom to complain to (the supervising department and its
    line) is in the structured reply too, not only in the text; a plain 转人工 has none."""
    guide = {**parsed_guide("water-connection").as_dict(), "complaint_phone": "0000-1230000"}
    complaint = structured_reply(rest_messages(contact_replies.handoff(guide, reason="complain", record_id=7, hotline="12345")))
    assert complaint["kind"] == "handoff" and set(complaint) == FIELDS
    assert complaint["supervision"] == {"department": guide["department"], "phone": "0000-1230000"}
    assert f"{guide['department']}，电话 0000-1230000" in complaint["messages"][0]["text"]
    plain = structured_reply(rest_messages(contact_replies.handoff(guide, reason="request_human", record_id=8, hotline="12345")))
    assert plain["kind"] == "handoff" and plain["supervision"] is None


def test_not_found_and_ask_item() -> None:
    missing = structured_reply(rest_messages(replies.not_found([_candidate("company-setup")], "12345")))
    assert missing["kind"] == "not_found" and missing["guide"] is None
    assert {b["payload"] for b in missing["buttons"]} == {replies.pick_payload("company-setup"), replies.REQUEST_HUMAN}
    ask = structured_reply(rest_messages(replies.ask_item("fee", Examples())))
    assert ask["kind"] == "ask_item" and ask["aspect"] == "fee" and ask["buttons"] == []


def test_a_refusal_offers_the_handoff_button_a_kiosk_shows() -> None:
    refused = structured_reply(rest_messages(replies.out_of_scope("12345", Examples())))
    assert refused["kind"] == "not_found" and refused["handoff"] is False
    assert refused["buttons"] == [{"title": "转人工", "payload": replies.REQUEST_HUMAN}]


def test_a_policy_answer_names_its_document_and_no_guide() -> None:
    chunk = Chunk(id="p", kind="passage", text="", title="营商环境创优行动方案", section="免申即享",
                  content="由区财政局牵头，完成时限：2022年底。", source="营商环境创优行动方案")
    reply = replies.policy_answer(Hit(chunk, 0.8, 0.8, 0.1), confidence=0.8, index_version="v1", answer_id=ANSWER_ID, hotline="12345")
    result = structured_reply(rest_messages(reply))
    assert result["kind"] == "answer" and result["guide"] is None and result["aspect"] == "policy"
    assert result["document"] == {"title": "营商环境创优行动方案", "section": "免申即享", "source": "营商环境创优行动方案",
                                  "number": "", "date": ""}


def test_a_policy_answer_gives_its_documents_number_and_date() -> None:
    chunk = Chunk(id="p", kind="passage", text="", title="营商环境创优行动方案", section="免申即享",
                  content="由区财政局牵头，完成时限：2022年底。", source="营商环境创优行动方案", number="华容办文〔2022〕3号", date="2022-03-11")
    reply = replies.policy_answer(Hit(chunk, 0.8, 0.8, 0.1), confidence=0.8, index_version="v1", answer_id=ANSWER_ID, hotline="12345")
    result = structured_reply(rest_messages(reply))
    assert (result["document"]["number"], result["document"]["date"]) == ("华容办文〔2022〕3号", "2022-03-11")
    assert "来源：《营商环境创优行动方案》（华容办文〔2022〕3号，2022-03-11）" in result["messages"][0]["text"]


def test_small_talk_is_a_plain_message() -> None:
    result = structured_reply(AssistantReply([{"recipient_id": "x", "text": "不客气！"}]))
    assert result["kind"] == "message" and result["messages"] == [{"text": "不客气！"}] and result["buttons"] == []


def test_replies_made_by_the_channel_have_the_same_shape() -> None:
    result = plain_reply("unavailable", "抱歉……12345")
    assert set(result) == FIELDS and result["messages"] == [{"text": "抱歉……12345"}] and result["handoff"] is False


def test_the_assistant_saying_it_is_unavailable_is_kind_unavailable() -> None:
    knowledge_down = structured_reply(rest_messages(replies.unavailable("12345")))
    assert knowledge_down["kind"] == "unavailable" and "12345" in knowledge_down["messages"][0]["text"]
    marked = structured_reply(AssistantReply([{"text": "抱歉，系统暂时无法回答……12345"}, {"custom": {"unavailable": {"hotline": "12345"}}}]))
    assert marked["kind"] == "unavailable"


def test_the_offer_after_a_hardship_is_a_clarify_with_the_guides_and_a_person() -> None:
    reply = replies.situation([_candidate("labor-arbitration"), _candidate("proxy-service")], "12345")
    result = structured_reply(rest_messages(reply))
    assert result["kind"] == "clarify" and result["aspect"] == "general"
    assert [button["title"] for button in result["buttons"]] == [
        f"1. {parsed_guide('labor-arbitration').title}", f"2. {parsed_guide('proxy-service').title}", "转人工"]
    assert "12345" in result["messages"][0]["text"]
