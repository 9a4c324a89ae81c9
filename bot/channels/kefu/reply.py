"""Turn one REST-channel reply of the assistant into the hall API's structured chat response.

Rasa's REST channel returns a list of messages: texts with buttons, plus the actions' custom
payloads (actions/replies.py; their keys are protocol.PAYLOAD_KINDS: `answer`, `confirm`, `clarify`,
`not_found`, `ask_item`, `handoff`). A kiosk or a staff tool wants one object instead: what to
show, which guide it is about, whom to call, which buttons to offer, whether a person takes over.

Usage::

    reply = await rasa.send("kefu-abc", "开办企业需要什么材料")
    structured_reply(reply)
    # {"kind": "answer", "messages": [{"text": "【企业开办…】…"}], "guide": {"id": "company-setup", …},
    #  "aspect": "materials", "contacts": [{"unit": …, "phone": "0000-1234567", …}], "buttons": [...],
    #  "confidence": 0.83, "handoff": False, "document": None, "answer_id": "kqzvtmwrbahe", "supervision": None}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.channels.rasa_client import AssistantReply
from protocol import ANSWER_ID_PATTERN, PAYLOAD_ASK_ITEM, PAYLOAD_CLARIFY, PAYLOAD_CONFIRM, PAYLOAD_KINDS, PAYLOAD_NOT_FOUND

UNAVAILABLE = "unavailable"  # the REST channel's payload when the action server is down (bot/rasa/rest_channel.py), and a kind


def notice_url(guide_id: str) -> str:
    return f"/api/v1/guides/{guide_id}/notice"


def _contacts(raw: Any) -> list[dict[str, Any]]:
    """The contacts of a reply; an office asked for by name also lists the matters it handles (`matters`) and each of
    its phones with the matters that phone is for (`phones`)."""
    contacts: list[dict[str, Any]] = []
    for contact in raw or []:
        if not isinstance(contact, dict):
            continue
        shown: dict[str, Any] = {key: str(contact.get(key) or "") for key in ("unit", "phone", "address", "hours")}
        if isinstance(contact.get("matters"), list):
            shown["matters"] = [str(title) for title in contact["matters"]]
        if isinstance(contact.get("phones"), list):
            shown["phones"] = [{"phone": str(line.get("phone") or ""), "matters": [str(title) for title in line.get("matters") or []]}
                               for line in contact["phones"] if isinstance(line, dict)]
        contacts.append(shown)
    return contacts


def plain_reply(kind: str, text: str) -> dict[str, Any]:
    """A reply made here, not by the assistant (empty or too long message, assistant unavailable)."""
    return {"kind": kind, "messages": [{"text": text}], "guide": None, "document": None, "aspect": None,
            "contacts": [], "buttons": [], "confidence": None, "handoff": False, "answer_id": None, "supervision": None}


def _guide_ref(guide: dict[str, Any]) -> dict[str, str]:
    return {"id": str(guide["id"]), "title": str(guide.get("title", "")), "department": str(guide.get("department", "")),
            "updated": str(guide.get("updated", "")), "source": str(guide.get("source") or ""), "notice_url": notice_url(str(guide["id"]))}


def structured_reply(reply: AssistantReply, guide_lookup: Callable[[str], dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """The chat response for one assistant reply (see module docstring).

    `guide_lookup` (id -> guide) names the guide of a handoff, whose payload carries only its id,
    so the page can show that guide's card and notice next to the people to call.
    """
    result = plain_reply("message", "")
    result["messages"] = [{"text": text} for text in reply.texts]
    result["buttons"] = reply.buttons
    # PAYLOAD_KINDS is in the order that decides a reply's kind: a handoff first.
    result["kind"] = next((kind for kind in PAYLOAD_KINDS if reply.payload(kind) is not None), "message")
    not_found = reply.payload(PAYLOAD_NOT_FOUND) or {}
    if reply.payload(UNAVAILABLE) is not None or not_found.get(UNAVAILABLE):
        # The knowledge base (actions/replies.unavailable) or the action server is down: the text
        # already says so with the hotline; the kind lets a kiosk show it as a warning.
        result["kind"] = UNAVAILABLE
    answer = reply.answer
    if answer is not None:
        guide = answer.get("guide")
        if isinstance(guide, dict) and guide.get("id"):
            result["guide"] = _guide_ref(guide)
        document = answer.get("document")
        if isinstance(document, dict):
            result["document"] = {key: str(document.get(key) or "") for key in ("title", "section", "source", "number", "date")}
        result["aspect"] = answer.get("aspect")
        result["contacts"] = _contacts(answer.get("contacts"))
        confidence = answer.get("confidence")
        result["confidence"] = float(confidence) if isinstance(confidence, (int, float)) else None
        answer_id = answer.get("id")
        result["answer_id"] = answer_id if isinstance(answer_id, str) and re.fullmatch(ANSWER_ID_PATTERN, answer_id) else None
    for key in (PAYLOAD_CONFIRM, PAYLOAD_CLARIFY, PAYLOAD_ASK_ITEM):
        payload = reply.payload(key)
        if payload is not None and result["aspect"] is None:
            result["aspect"] = payload.get("aspect")
        if payload is not None and not result["contacts"]:
            # the offices asked for by name ("市监局电话多少"), listed before the matters to pick (actions/contact_replies.offices)
            result["contacts"] = _contacts(payload.get("offices"))
    handoff = reply.handoff
    if handoff is not None:
        result["handoff"] = True
        result["contacts"] = result["contacts"] or _contacts(handoff.get("contacts"))
        # a complaint about a matter goes first to whoever supervises it (actions/contact_replies.handoff): the text says so,
        # and a kiosk or staff tool that shows the structured reply must be able to say it too
        supervision = handoff.get("supervision")
        if isinstance(supervision, dict):
            result["supervision"] = {key: str(supervision.get(key) or "") for key in ("department", "phone")}
        guide_id = handoff.get("guide_id")
        if result["guide"] is None and guide_lookup is not None and isinstance(guide_id, str):
            guide = guide_lookup(guide_id)
            result["guide"] = _guide_ref(guide) if guide else None
    return result
