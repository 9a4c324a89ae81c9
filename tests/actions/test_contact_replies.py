"""Whom to contact (actions/contact_replies.py): the handoff to people (转人工, complaints: the guide's windows, its
supervision, the hotline, the record, whether a clerk is on duty) and the offices asked for by name (each unit once
with all its phones, then the matters to pick), built from the bundled guides as the admin wrote them."""

from __future__ import annotations

import pytest

from actions import contact_replies, replies
from knowledge.retrieval.offices import Listing
from knowledge.retrieval.retriever import GuideCandidate
from knowledge.sources.aspects import CONTACT, GENERAL
from tests.support import parsed_guide

pytestmark = pytest.mark.unit

HOTLINE = "12345"


# --- handoff ---------------------------------------------------------------------------------

def test_a_handoff_names_the_guides_windows_the_hotline_and_the_record() -> None:
    guide = parsed_guide("water-connection")
    reply = contact_replies.handoff(guide.as_dict(), reason="request_human", record_id=42, hotline=HOTLINE)
    assert reply.text.startswith("已为您转接人工服务")
    for contact in guide.contacts:
        assert f"· 「{guide.title}」窗口：{contact.unit}（{contact.address}），电话 {contact.phone}" in reply.text
    assert f"政务服务便民热线 {HOTLINE}" in reply.text and "办不成事" in reply.text
    assert reply.text.endswith("记录编号：42")
    assert reply.custom == {"handoff": {"reason": "request_human", "record_id": 42, "guide_id": "water-connection",
                                        "guide_title": guide.title, "hotline": HOTLINE, "contacts": [c.as_dict() for c in guide.contacts]}}


def test_a_complaint_handoff_without_guide_or_record_still_gives_the_hotline() -> None:
    reply = contact_replies.handoff(None, reason="complain", record_id=None, hotline=HOTLINE)
    assert reply.text.startswith("非常抱歉给您带来不便")
    assert "」窗口：" not in reply.text and "记录编号" not in reply.text
    assert f"政务服务便民热线 {HOTLINE}" in reply.text
    assert reply.custom == {"handoff": {"reason": "complain", "record_id": None, "guide_id": None, "guide_title": None,
                                        "hotline": HOTLINE, "contacts": []}}


def test_a_complaint_in_a_matter_names_its_supervision_before_its_windows() -> None:
    # "窗口工作人员态度很差，我要投诉" while asking about the water connection: the supervising department's complaint
    # line comes first (a user trial got only the very windows complained about); a plain 转人工 does not list it.
    guide = {**parsed_guide("water-connection").as_dict(), "complaint_phone": "0000-1230000"}
    reply = contact_replies.handoff(guide, reason="complain", record_id=7, hotline=HOTLINE)
    supervision = f"· 「{guide['title']}」的投诉监督：{guide['department']}，电话 0000-1230000"
    assert supervision in reply.text and reply.text.index(supervision) < reply.text.index(f"「{guide['title']}」窗口：")
    assert reply.custom["handoff"]["supervision"] == {"department": guide["department"], "phone": "0000-1230000"}
    assert "投诉监督" not in contact_replies.handoff(guide, reason="request_human", record_id=7, hotline=HOTLINE).text
    # the default complaint line is the hotline: said once, not as the department's own number
    default = contact_replies.handoff({**guide, "complaint_phone": HOTLINE}, reason="complain", record_id=7, hotline=HOTLINE).text
    assert f"投诉监督：{guide['department']}（经政务服务便民热线 {HOTLINE} 转达）" in default


def test_off_duty_the_handoff_says_so_with_the_hours_the_hotline_and_the_record() -> None:
    guide = parsed_guide("water-connection")
    reply = contact_replies.handoff(guide.as_dict(), reason="request_human", record_id=42, hotline=HOTLINE, on_duty=False,
                                    staff_hours="周一至周五 09:00-17:00")
    assert reply.text.startswith("现在是非工作时间（人工服务时间：周一至周五 09:00-17:00）")
    assert "工作人员上班后会处理" in reply.text and f"政务服务便民热线 {HOTLINE}" in reply.text
    assert "已为您转接" not in reply.text and reply.text.endswith("记录编号：42")
    assert reply.custom["handoff"]["on_duty"] is False
    complaint = contact_replies.handoff(None, reason="complain", record_id=43, hotline=HOTLINE, on_duty=False, staff_hours="周一至周五 09:00-17:00")
    assert complaint.text.startswith("非常抱歉给您带来不便") and "现在是非工作时间" in complaint.text
    assert complaint.text.endswith("记录编号：43") and f"政务服务便民热线 {HOTLINE}" in complaint.text


def test_on_duty_the_handoff_says_a_clerk_will_reply_here() -> None:
    reply = contact_replies.handoff(None, reason="request_human", record_id=7, hotline=HOTLINE, on_duty=True, staff_hours="每天 00:00-24:00")
    assert reply.text.startswith("已为您转接人工服务") and "会在这里回复您" in reply.text
    assert reply.text.endswith("记录编号：7") and reply.custom["handoff"]["on_duty"] is True


# --- offices asked for by name ---------------------------------------------------------------

def test_offices_are_listed_with_phone_address_and_matters_then_the_matters_to_pick() -> None:
    shown = [Listing(f"示例区测试局第{n}科", f"0000-99000{n}", f"行政中心{n}楼", "工作日", (f"guide-{n}", "guide-shared"))
             for n in range(1, 11)]
    titles = {f"guide-{n}": f"事项{n}" for n in range(1, 11)} | {"guide-shared": "共同事项"}
    choices = [GuideCandidate(f"guide-{n}", f"事项{n}", 0.0) for n in range(1, 4)]
    reply = contact_replies.offices(shown, titles, choices, "location")
    for office in shown[: contact_replies.MAX_OFFICES]:
        assert f"· {office.unit}　电话 {office.phone}" in reply.text and office.address in reply.text
    assert "第9科" not in reply.text  # at most MAX_OFFICES
    assert "办理：事项1、共同事项" in reply.text and "哪个事项的办理地点" in reply.text
    assert [b["payload"] for b in reply.buttons] == [replies.pick_payload(c.guide_id) for c in choices]
    read = contact_replies.offered_matters(shown)  # 9 matters in 8 units: the eighth unit's own is not read ("等")
    assert "guide-8" not in read and "办理：共同事项等" in reply.text
    assert reply.custom == {"clarify": {"aspect": "location", "choices": ["guide-1", "guide-2", "guide-3"],
                                        "offices": [{"unit": o.unit, "phone": o.phone, "address": o.address, "hours": o.hours,
                                                     "matters": [titles[g] for g in o.guide_ids if g in read],
                                                     "phones": [{"phone": o.phone, "matters": [titles[g] for g in o.guide_ids if g in read]}]}
                                                    for o in shown[: contact_replies.MAX_OFFICES]]}}


def test_a_unit_with_several_phones_is_listed_once_with_all_of_them() -> None:
    """A user trial: "市监局电话多少" read 登记注册科 three times, once per phone (each of its matters has its own)."""
    unit, address, hours = "示例区测试局登记注册科", "政务服务中心一楼A区3号窗口", "工作日"
    shown = [Listing(unit, "0000-9900001", address, hours, ("setup",)),
             Listing(unit, "0000-9900002", address, hours, ("individual", "change")),
             Listing("示例区测试局食品科", "0000-9900003", "行政中心三楼", hours, ("food",)),
             Listing(unit, "0000-9900004", address, hours, ("deregistration",))]
    titles = {"setup": "企业开办（公司设立登记）", "individual": "个体工商户设立登记", "change": "企业变更登记",
              "food": "食品经营许可", "deregistration": "企业简易注销登记"}
    reply = contact_replies.offices(shown, titles, [GuideCandidate(g, t, 0.0) for g, t in titles.items()], CONTACT)
    assert reply.text.count(unit) == 1 and reply.text.count(address) == 1
    assert f"· {unit}　电话 0000-9900001、0000-9900002、0000-9900004" in reply.text
    assert ("  办理：企业开办（公司设立登记）（电话 0000-9900001）；个体工商户设立登记、企业变更登记（电话 0000-9900002）；"
            "企业简易注销登记（电话 0000-9900004）") in reply.text
    assert "· 示例区测试局食品科　电话 0000-9900003\n  地址：行政中心三楼；办公时间：工作日\n  办理：食品经营许可" in reply.text
    offices = reply.custom["clarify"]["offices"]
    assert [office["unit"] for office in offices] == [unit, "示例区测试局食品科"]
    assert offices[0]["phone"] == "0000-9900001" and offices[0]["matters"] == [
        "企业开办（公司设立登记）", "个体工商户设立登记", "企业变更登记", "企业简易注销登记"]
    assert offices[0]["phones"] == [{"phone": "0000-9900001", "matters": ["企业开办（公司设立登记）"]},
                                    {"phone": "0000-9900002", "matters": ["个体工商户设立登记", "企业变更登记"]},
                                    {"phone": "0000-9900004", "matters": ["企业简易注销登记"]}]


def test_the_offices_shown_are_counted_in_units_and_their_matters_stay_pickable() -> None:
    """A unit's phones are one entry (the cap on listings showed fewer units when one had several phones); no unit after
    the one whose matters would take the matters read past MAX_OFFICES (each is a numbered button); the first always."""
    several = [Listing("示例区测试局登记注册科", f"0000-990000{n}", "一楼", "工作日", ("shared",)) for n in range(1, 4)]
    sections = [Listing(f"示例区测试局第{n}科", f"0000-99100{n}", "二楼", "工作日", ("shared",)) for n in range(1, 10)]
    shown = contact_replies.first_offices(several + sections)
    assert shown == several + sections[: contact_replies.MAX_OFFICES - 1]
    matters = [Listing(f"示例区测试局第{n}科", f"0000-99200{n}", "三楼", "工作日", (f"m{n}", f"n{n}")) for n in range(1, 6)]
    assert contact_replies.first_offices(matters) == matters[:4]  # 4 units, 8 matters: a fifth unit would make 10
    crowded = Listing("示例区测试局综合科", "0000-9930001", "四楼", "工作日", tuple(f"m{n}" for n in range(12)))
    assert contact_replies.first_offices([crowded, *sections]) == [crowded]


def test_the_matters_are_numbered_as_they_are_read_and_only_buttons_are_read() -> None:
    """A unit at two places, its phones interleaved (a@一楼, a@镇, a@一楼): the text reads the first place's matters
    together, and the numbers follow the text; a unit of more matters than MAX_OFFICES reads only those it numbers."""
    unit = "示例区测试局综合窗口"
    shown = [Listing(unit, "0000-9900001", "一楼", "工作日", ("m1",)), Listing(unit, "0000-9900002", "镇便民服务中心", "工作日", ("m2",)),
             Listing(unit, "0000-9900003", "一楼", "工作日", ("m3",))]
    titles = {"m1": "事项甲", "m2": "事项乙", "m3": "事项丙"}
    assert contact_replies.offered_matters(shown) == ["m1", "m3", "m2"]
    reply = contact_replies.offices(shown, titles, [GuideCandidate(g, titles[g], 0.0) for g in ["m1", "m3", "m2"]], CONTACT)
    assert "办理：事项甲（电话 0000-9900001）；事项丙（电话 0000-9900003）\n" in reply.text and reply.text.endswith(
        "1. 事项甲\n2. 事项丙\n3. 事项乙")
    crowded = [Listing("示例区测试局综合科", "0000-9930001", "四楼", "工作日", tuple(f"m{n}" for n in range(10))),
               Listing("示例区测试局综合科", "0000-9930002", "四楼", "工作日", ("n1", "n2"))]
    offered = contact_replies.offered_matters(crowded)
    assert offered == [f"m{n}" for n in range(contact_replies.MAX_OFFICES)]
    titles = {guide_id: f"事项{guide_id}" for listing in crowded for guide_id in listing.guide_ids}
    reply = contact_replies.offices(crowded, titles, [GuideCandidate(g, titles[g], 0.0) for g in offered], CONTACT)
    assert f"办理：{'、'.join(titles[g] for g in offered)}等（电话 0000-9930001）\n" in reply.text
    assert "事项m8" not in reply.text and "事项n1" not in reply.text
    assert reply.custom["clarify"]["offices"][0]["matters"] == [titles[g] for g in offered]


def test_a_unit_at_two_places_is_listed_at_each() -> None:
    """Grouping a unit's phones must not give one place's phone another's address."""
    shown = [Listing("示例区测试局综合窗口", "0000-9900001", "政务服务中心一楼", "工作日", ("a",)),
             Listing("示例区测试局综合窗口", "0000-9900002", "镇便民服务中心", "工作日", ("b",))]
    reply = contact_replies.offices(shown, {"a": "事项甲", "b": "事项乙"}, [], GENERAL)
    assert "· 示例区测试局综合窗口　电话 0000-9900001\n  地址：政务服务中心一楼；办公时间：工作日\n  办理：事项甲" in reply.text
    assert "· 示例区测试局综合窗口　电话 0000-9900002\n  地址：镇便民服务中心；办公时间：工作日\n  办理：事项乙" in reply.text
