"""The replies that are whom to contact: the offices a user asked for by name ("市监局电话多少") and the handoff to
people (转人工, complaints). Built on actions/replies.py (`Reply`, its pick buttons, its "地址：…；办公时间：…"), which
never imports this module.

Usage::

    reply = contact_replies.handoff(guide, reason=REASON_REQUEST_HUMAN, record_id=42, hotline="12345", on_duty=True)
    reply = contact_replies.offices(contact_replies.first_offices(listings), titles, choices, aspect="contact")
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
    dispatcher.utter_message(json_message=reply.custom)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actions.replies import Reply, pick_payload, where_text
from knowledge.retrieval.offices import Listing
from knowledge.retrieval.retriever import GuideCandidate
from knowledge.sources.aspects import ASPECT_NAMES_ZH, CONTACT, GENERAL
from protocol import PAYLOAD_CLARIFY, PAYLOAD_HANDOFF, REASON_REQUEST_HUMAN

# A bureau's sections as the user reads them, each once with all its phones, and the matters to pick: enough to find the
# one, short enough to read. Counted in units, not listings (one per unit and phone): 登记注册科's three phones were three.
MAX_OFFICES = 8


def _place(office: Listing) -> tuple[str, str, str]:
    """What makes a listing its own entry in the reply: a unit at two places is two (see `_by_unit`)."""
    return office.unit, office.address, office.hours


def first_offices(listings: Sequence[Listing]) -> list[Listing]:
    """The listings of the units `offices` shows, in their order, each unit with all its phones: at most MAX_OFFICES
    units, and none after the one whose matters would take the matters read past MAX_OFFICES, because the caller makes
    every matter read a numbered button (a user trial: matters read but not clickable, "2" not the second one read).
    The first unit always."""
    places: list[tuple[str, str, str]] = []
    matters: list[str] = []
    for office in listings:
        place = _place(office)
        if place in places:
            continue
        more = list(dict.fromkeys(g for row in listings if _place(row) == place for g in row.guide_ids if g not in matters))
        if places and (len(places) == MAX_OFFICES or len(matters) + len(more) > MAX_OFFICES):
            break
        places.append(place)
        matters += more
    return [office for office in listings if _place(office) in places]


def _by_unit(shown: Sequence[Listing]) -> list[tuple[Listing, dict[str, list[str]]]]:
    """The listings (one per unit and phone) per unit, in the order each unit comes first: its first listing (unit,
    address, hours) and each of its phones with the guides listed for it. A unit at two places stays two entries,
    each with its own address: one place with another's phone would send people to the wrong window."""
    units: dict[tuple[str, str, str], tuple[Listing, dict[str, list[str]]]] = {}
    for office in shown:
        _, phones = units.setdefault(_place(office), (office, {}))
        listed = phones.setdefault(office.phone, [])
        listed += [guide_id for guide_id in office.guide_ids if guide_id not in listed]
    return list(units.values())


def offered_matters(shown: Sequence[Listing]) -> list[str]:
    """The matters `offices` reads out of `shown`, in the order it reads them (unit by unit as `_by_unit` groups them, a
    unit at two places read at its first; phone by phone), as many as are numbered buttons: the choices to pass it.
    "2" is the second matter read, and no matter is read that is not a button: a first unit of more than MAX_OFFICES
    matters is read up to there."""
    read = dict.fromkeys(guide_id for _, phones in _by_unit(shown)[:MAX_OFFICES] for ids in phones.values() for guide_id in ids)
    return list(read)[:MAX_OFFICES]


def offices(shown: Sequence[Listing], titles: Mapping[str, str], choices: list[GuideCandidate], aspect: str) -> Reply:
    """The offices the user asked for by name ("市监局电话多少", "人社局窗口在哪": knowledge/retrieval/offices.py) when
    they handle several matters: each office once, with all its phones (a user trial read 登记注册科 three times, once
    per phone), address, hours and the matters it handles of those `offered_matters` reads (which phone for which, when
    it has several; "等" where it handles more; at most MAX_OFFICES units), then which matter to tell more of (a clarify:
    a button, number or name picks one of `choices`, which are those matters)."""
    lines = ["您问的单位，联系方式如下："]
    chosen = set(offered_matters(shown))
    units = _by_unit(shown)[:MAX_OFFICES]
    for office, phones in units:
        lines.append(f"· {office.unit}　电话 {'、'.join(phones)}")
        where = where_text(office.address, office.hours)
        if where:
            lines.append(f"  {where}")
        handled = {phone: "、".join(titles.get(guide_id, guide_id) for guide_id in ids if guide_id in chosen)
                   + ("等" if not chosen.issuperset(ids) else "") for phone, ids in phones.items() if chosen.intersection(ids)}
        if len(phones) == 1 and handled:
            lines.append(f"  办理：{next(iter(handled.values()))}")
        elif handled:
            lines.append("  办理：" + "；".join(f"{matters}（电话 {phone}）" for phone, matters in handled.items()))
    asked = ASPECT_NAMES_ZH.get(aspect, "") if aspect not in (GENERAL, CONTACT) else ""
    lines.append(f"想了解哪个事项的{asked or '办理信息'}？（点按钮，或回复序号、名称）")
    lines += [f"{number}. {choice.title}" for number, choice in enumerate(choices, 1)]
    buttons = [{"title": f"{number}. {choice.title}", "payload": pick_payload(choice.guide_id)} for number, choice in enumerate(choices, 1)]
    # `phone` is the unit's first phone, for clients that show one; `phones` all of them, each with its matters
    return Reply("\n".join(lines), buttons, {PAYLOAD_CLARIFY: {
        "aspect": aspect, "choices": [c.guide_id for c in choices],
        "offices": [{"unit": office.unit, "phone": next(iter(phones)), "address": office.address, "hours": office.hours,
                     "matters": [titles.get(guide_id, guide_id) for guide_id in dict.fromkeys(g for ids in phones.values() for g in ids)
                                 if guide_id in chosen],
                     "phones": [{"phone": phone, "matters": [titles.get(guide_id, guide_id) for guide_id in ids if guide_id in chosen]}
                                for phone, ids in phones.items()]}
                    for office, phones in units]}})


def handoff(guide: dict[str, Any] | None, *, reason: str, record_id: int | None, hotline: str,
            on_duty: bool | None = None, staff_hours: str = "") -> Reply:
    """Where and how to reach people, plus the handoff marker channels act on.

    `on_duty` (settings.yml staff_hours, knowledge/records/staff_hours.py): True, a clerk on the staff
    desk can join this conversation; False, nobody is at the desk now, and the reply says so with the
    hotline; None, not known (the old wording)."""
    if on_duty is False:
        hours = f"现在是非工作时间（人工服务时间：{staff_hours}），工作人员暂时无法接入。" if staff_hours else \
            "现在是非工作时间，工作人员暂时无法接入。"
        later = f"工作人员上班后会处理；急需办事请拨打政务服务便民热线 {hotline}。"
        lines = [hours, "您的问题和对话记录已留存，" + later] if reason == REASON_REQUEST_HUMAN else [
            "非常抱歉给您带来不便，您反映的问题已记录。" + hours, "您的反映和对话记录已留存，" + later]
    elif on_duty:
        lines = ["已为您转接人工服务，工作人员会查看您和我的对话记录，接入后会在这里回复您，请稍候。" if reason == REASON_REQUEST_HUMAN
                 else "非常抱歉给您带来不便，您反映的问题已记录，工作人员会查看您和我的对话记录，接入后会在这里回复您。"]
    else:
        lines = ["已为您转接人工服务，工作人员会查看您和我的对话记录。" if reason == REASON_REQUEST_HUMAN
                 else "非常抱歉给您带来不便，您反映的问题已记录，工作人员会查看您和我的对话记录。"]
    lines.append("您也可以直接联系：")
    complaint = guide is not None and reason != REASON_REQUEST_HUMAN
    if complaint:
        # a complaint (about a window's staff, too) goes first to whoever supervises the matter, not to that window;
        # most guides' complaint line is the hotline itself (the default), listed just below
        own_line = guide["complaint_phone"] != hotline
        lines.append(f"· 「{guide['title']}」的投诉监督：{guide['department']}" + (f"，电话 {guide['complaint_phone']}" if own_line
                                                                           else f"（经政务服务便民热线 {hotline} 转达）"))
    if guide is not None:
        for contact in guide["contacts"]:
            place = f"（{contact['address']}）" if contact.get("address") else ""
            lines.append(f"· 「{guide['title']}」窗口：{contact['unit']}{place}，电话 {contact['phone']}")
    lines.append(f"· 政务服务便民热线 {hotline}（投诉、咨询、求助）")
    lines.append("· 政务服务中心“办不成事”反映窗口：现场办事遇到困难可到该窗口当面反映，由专人协调解决")
    if record_id:
        lines.append(f"记录编号：{record_id}")
    marker: dict[str, Any] = {"reason": reason, "record_id": record_id, "guide_id": guide["id"] if guide else None,
                              "guide_title": guide["title"] if guide else None,  # staff read the title, not the id
                              "hotline": hotline, "contacts": [dict(c) for c in guide["contacts"]] if guide else []}
    if complaint:
        marker["supervision"] = {"department": guide["department"], "phone": guide["complaint_phone"]}
    if on_duty is not None:
        marker["on_duty"] = on_duty
    return Reply("\n".join(lines), [], {PAYLOAD_HANDOFF: marker})
