"""Everything the assistant says, in Chinese, built from retrieval results and guides.

Each function returns a `Reply`: the text, the buttons, and a machine-readable custom payload
for channels (the hall API and Telegram read `{"answer": …}` and `{"handoff": …}`, keys in protocol.py). Texts are
complete by design (一次性告知): a materials list is never shortened, and every procedure answer
ends with whom to contact. The replies that are only whom to contact (the offices asked for by name, the
handoff to people) are in actions/contact_replies.py, which builds on this module (never the other way).

Usage::

    reply = replies.answer(guide, sections, aspect="materials", confidence=0.81, index_version="…", answer_id="kqzvtmwrbahe")
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
    dispatcher.utter_message(json_message=reply.custom)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.examples import Examples
from knowledge.index.chunks import Chunk
from knowledge.records import store as records
from knowledge.retrieval.retriever import GuideCandidate, Hit
from knowledge.sources.aspects import ASPECT_NAMES_ZH, CONTACT, GENERAL
from knowledge.sources.documents import extract_fields
from protocol import (
    AFFIRM,
    DENY,
    PAYLOAD_ANSWER,
    PAYLOAD_ASK_ITEM,
    PAYLOAD_CLARIFY,
    PAYLOAD_CONFIRM,
    PAYLOAD_NOT_FOUND,
    REQUEST_HUMAN,
    TITLE_AFFIRM,
    TITLE_DENY,
    TITLE_FEEDBACK_BAD,
    TITLE_FEEDBACK_GOOD,
    TITLE_REQUEST_HUMAN,
    rating_payload,
)


@dataclass
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: dict[str, Any] | None = None


def handoff_button() -> dict[str, str]:
    """转人工: every reply that ends a search without an answer offers people (a new dict: callers' lists are theirs)."""
    return {"title": TITLE_REQUEST_HUMAN, "payload": REQUEST_HUMAN}


def pick_payload(guide_id: str) -> str:
    """The button payload that picks one guide in a clarifying question."""
    return '/choose{"pick": "' + guide_id + '"}'


def where_text(address: str | None, hours: str | None) -> str:
    """"地址：…；办公时间：…" of a contact, leaving out what it lacks (contact_replies.py writes offices with it too)."""
    return "；".join(part for part in (f"地址：{address}" if address else "", f"办公时间：{hours}" if hours else "") if part)


def _contacts_block(guide: dict[str, Any]) -> str:
    lines = ["【联系方式】"]
    for contact in guide["contacts"]:
        lines.append(f"· {contact['unit']}　电话 {contact['phone']}")
        details = where_text(contact.get("address"), contact.get("hours"))
        if details:
            lines.append(f"  {details}")
    lines.append(f"责任部门：{guide['department']}；投诉监督电话：{guide['complaint_phone']}")
    source = guide.get("source") or guide["title"]
    lines.append(f"来源：{source}（更新于 {guide['updated']}）")
    return "\n".join(lines)


def _answer_custom(guide: dict[str, Any], aspect: str, sections: list[str], confidence: float, index_version: str,
                   answer_id: str) -> dict[str, Any]:
    return {PAYLOAD_ANSWER: {
        "id": answer_id,
        "guide": {"id": guide["id"], "title": guide["title"], "department": guide["department"], "updated": guide["updated"],
                  "source": guide.get("source", "")},
        "aspect": aspect,
        "sections": sections,
        "contacts": [dict(contact) for contact in guide["contacts"]],
        "confidence": round(confidence, 4),
        "index_version": index_version,
    }}


def feedback_buttons(answer_id: str) -> list[dict[str, str]]:
    """好评 / 差评 for one answer: the payloads name it, so an old button rates its own answer."""
    return [{"title": f"👍 {TITLE_FEEDBACK_GOOD}", "payload": rating_payload("good", answer_id)},
            {"title": f"👎 {TITLE_FEEDBACK_BAD}", "payload": rating_payload("bad", answer_id)}]


def answer_opening(title: str) -> str:
    """How a guide's answer begins: "不是" right after it is read back by this (actions/memory.py `just_answered`)."""
    return f"【{title}】"


def answer(guide: dict[str, Any], sections: list[tuple[str, str]], *, aspect: str, confidence: float, index_version: str,
           answer_id: str, faq: tuple[str, str] | None = None, passage: Hit | None = None) -> Reply:
    """A guide's answer: the asked sections in full, an FAQ that matches, related policy, contacts."""
    parts = [answer_opening(guide["title"])]
    if faq:
        parts.append(f"问：{faq[0]}\n答：{faq[1]}")
    for heading, text in sections:
        parts.append(f"{heading}：\n{text.strip()}")
    if aspect == CONTACT or not sections:
        parts.append(f"以下是「{guide['title']}」的办理窗口和电话。")
    if passage is not None:
        parts.append(policy_passage_text(passage))
    parts.append(_contacts_block(guide))
    parts.append("这个回答有帮助吗？")
    custom = _answer_custom(guide, aspect, [heading for heading, _ in sections], confidence, index_version, answer_id)
    return Reply("\n\n".join(parts), feedback_buttons(answer_id), custom)


def passage_units(text: str) -> list[tuple[str, str]]:
    """(label, value) pairs such as ("牵头单位", "区财政局、区发改经信局") named in a passage."""
    lead, units, deadline = extract_fields(text)  # the same reading the index builder did
    found = [("牵头单位", "、".join(lead)), ("责任单位", "、".join(units)), ("完成时限", deadline)]
    return [(label, value) for label, value in found if value]


def document_reference(chunk: Chunk) -> str:
    """"（华容办文〔2022〕3号，2022-03-11）": the 文号 and date of a passage's policy document, those it
    has (its front matter's `number` and `date`); "" when it has neither. A citizen told what a policy
    says is told which document and of when: a 2019 measure may have been replaced since."""
    # getattr: a Chunk carries them once knowledge/index/chunks.py copies them from the document.
    known = [str(value).strip() for value in (getattr(chunk, "number", ""), getattr(chunk, "date", "")) if value and str(value).strip()]
    return f"（{'，'.join(known)}）" if known else ""


def _document_ref(chunk: Chunk) -> dict[str, Any]:
    """The policy document of a passage as the custom payload names it ("" for what it lacks)."""
    return {"title": chunk.title, "section": chunk.section, "source": chunk.source,
            "number": str(getattr(chunk, "number", "") or ""), "date": str(getattr(chunk, "date", "") or "")}


def policy_passage_text(passage: Hit) -> str:
    chunk = passage.chunk
    lines = [f"【相关政策】《{chunk.title}》" + (f"「{chunk.section}」" if chunk.section else "") + "原文：", f"“{chunk.content.strip()}”"]
    units = passage_units(chunk.content)
    if units:
        lines.append("；".join(f"{label}：{value}" for label, value in units))
    elif chunk.units:
        lines.append("相关单位：" + "、".join(chunk.units))
    lines.append(f"来源：《{chunk.source or chunk.title}》{document_reference(chunk)}")
    return "\n".join(lines)


def policy_answer(passage: Hit, *, confidence: float, index_version: str, hotline: str, answer_id: str) -> Reply:
    """An answer quoted from a policy document, with its responsible units."""
    units = passage_units(passage.chunk.content)
    # Not every policy is a subsidy to claim (a notice on dog keeping, a traffic rule): who to ask, in words that fit any.
    ask = "上述单位" if any(label != "完成时限" for label, _ in units) or passage.chunk.units else "发文单位"
    text = policy_passage_text(passage) + f"\n\n具体怎么执行、怎么办理，请咨询{ask}，或拨打政务服务热线 {hotline}。\n\n这个回答有帮助吗？"
    custom = {PAYLOAD_ANSWER: {
        "id": answer_id, "guide": None, "aspect": "policy", "sections": [],
        "document": _document_ref(passage.chunk),
        "units": [{"label": label, "value": value} for label, value in units],
        "contacts": [], "confidence": round(confidence, 4), "index_version": index_version,
    }}
    return Reply(text, feedback_buttons(answer_id), custom)


def clarify(choices: list[GuideCandidate], aspect: str) -> Reply:
    """Ask which of several close guides the user means; a button, number or name picks."""
    asked = ASPECT_NAMES_ZH.get(aspect, "")
    lines = [f"您问的{asked if aspect != GENERAL else ''}可能涉及以下几个事项，请问是哪一个？（点按钮，或回复序号、名称）"]
    lines += [f"{number}. {choice.title}" for number, choice in enumerate(choices, 1)]
    buttons = [{"title": f"{number}. {choice.title}", "payload": pick_payload(choice.guide_id)} for number, choice in enumerate(choices, 1)]
    return Reply("\n".join(lines), buttons, {PAYLOAD_CLARIFY: {"aspect": aspect, "choices": [c.guide_id for c in choices]}})


def situation(choices: list[GuideCandidate], hotline: str) -> Reply:
    """A first message that only tells a hardship ("我家房子前几天着火了…", actions/situation.py): a word of sympathy and
    the guides for people in that situation, to pick from (a clarify: a button, number or name picks), or a person."""
    lines = ["听到您遇到这样的事，真不容易。您说的情况，可能和下面这些事项有关，您看看是哪一个？（点按钮，或回复序号、名称）"]
    lines += [f"{number}. {choice.title}" for number, choice in enumerate(choices, 1)]
    lines.append(f"如果都不是，可以拨打政务服务热线 {hotline}，或点“转人工”由工作人员为您解答。")
    buttons = [{"title": f"{number}. {choice.title}", "payload": pick_payload(choice.guide_id)} for number, choice in enumerate(choices, 1)]
    buttons.append(handoff_button())
    return Reply("\n".join(lines), buttons, {PAYLOAD_CLARIFY: {"aspect": GENERAL, "choices": [c.guide_id for c in choices],
                                                                "situation": True}})


# How a confirm begins: a "不是" after it declines that guide (actions/opening.py reads it back from the history).
CONFIRM_OPENER = "您问的是【"


def confirm(guide: dict[str, Any], aspect: str) -> Reply:
    """One guide leads but not surely enough to answer: ask once before answering."""
    asked = f"的{ASPECT_NAMES_ZH[aspect]}" if aspect in ASPECT_NAMES_ZH and aspect != GENERAL else ""
    text = f"{CONFIRM_OPENER}{guide['title']}】{asked}吗？（点按钮，或回复“是”“不是”）"
    buttons = [{"title": TITLE_AFFIRM, "payload": AFFIRM}, {"title": TITLE_DENY, "payload": DENY}]
    return Reply(text, buttons, {PAYLOAD_CONFIRM: {"guide": {"id": guide["id"], "title": guide["title"]}, "aspect": aspect}})


def not_found(near: list[GuideCandidate], hotline: str, *, declined: bool = False, opening: str = "") -> Reply:
    """Honest 'I don't know', never a guess; the nearest guides when there are some. `declined`:
    the user said 不是 to the guide we asked about; `opening`, what to say first instead (an answer declined)."""
    # (Not "没有能确定回答的其他指南" bare before a list of guides: it read as a contradiction in a user trial.)
    lines = [opening or ("好的。知识库里没有其他能准确回答这个问题的办事指南，我不想给您不准确的信息。" if declined and not near
                         else "好的。其他办事指南都没有十足的把握，下面几个比较接近。" if declined
                         else "抱歉，知识库里没有找到能准确回答这个问题的办事指南，我不想给您不准确的信息。")]
    buttons: list[dict[str, str]] = []
    if near:
        lines.append("您问的是不是下面这些事项？（点按钮，或回复序号）")
        lines += [f"{number}. {choice.title}" for number, choice in enumerate(near, 1)]
        buttons = [{"title": f"{number}. {choice.title}", "payload": pick_payload(choice.guide_id)} for number, choice in enumerate(near, 1)]
    lines.append(f"您也可以换个说法再问，拨打政务服务热线 {hotline}，或点“转人工”由工作人员为您解答。")
    buttons.append(handoff_button())
    return Reply("\n".join(lines), buttons, {PAYLOAD_NOT_FOUND: {"near": [c.guide_id for c in near], "declined": declined}})


def not_understood() -> Reply:
    """A message with no word in it (emoji, punctuation): ask for words, change nothing of the conversation. No payload:
    no question to log for the admin report, a plain message for the hall API."""
    return Reply("没看明白您的意思。请用文字说说您想办什么事、想了解哪方面（材料、流程、时限、收费、地点、电话），例如“开公司要带什么材料”。",
                 [], {})


def answer_declined(near: list[GuideCandidate], hotline: str) -> Reply:
    """"不是" right after an answer: it missed. The guides close behind the one answered, when there are some."""
    return not_found(near, hotline, declined=True, opening="抱歉，刚才的回答不是您要问的。")


def removed_guide(guide_id: str, title: str, hotline: str) -> Reply:
    """The matter asked about was removed from the knowledge base by an admin (actions/removed.py): say so rather
    than answer with another guide, and who can tell what replaced it."""
    text = (f"【{title}】已不在本区现行的办事指南里（知识库更新时移除，可能已取消、合并或调整），为免给您过时的信息，我不再回答它的办理要求。"
            f"您可以拨打政务服务热线 {hotline} 核实现在怎么办，或点“转人工”由工作人员为您解答。")
    return Reply(text, [handoff_button()], {PAYLOAD_NOT_FOUND: {"near": [], "removed": guide_id}})


def greeting(examples: Examples, *, introduce: bool = False) -> Reply:
    """你好 (or, `introduce`, "你是机器人吗"): what the assistant does, with the published example questions."""
    if introduce:
        text = ("我是政务服务智能问答助手（机器人，不是真人）。我根据本区的办事指南和政策文件回答，能说清楚办事材料、流程、时限、费用、"
                "地点和联系电话，答不了的会告诉您找谁。")
    else:
        text = "您好！我是政务服务智能问答助手，可以告诉您办事需要的材料、流程、时限、费用、地点，以及该找哪个窗口、打哪个电话。"
    text += ("您可以这样问：" + examples.questions_text()) if examples.questions else "请直接输入您要办的事项和想了解的内容。"
    if introduce:
        text += "\n需要真人时，说“转人工”即可。"
    return Reply(text)


def ask_item(aspect: str, examples: Examples, guesses: list[GuideCandidate] | None = None, hotline: str = "12345") -> Reply:
    """The question names no service item and none is in context: ask rather than guess. The example
    names come from the published guides (knowledge/examples.py), so each is one the assistant knows;
    `guesses`: the guides closest to what the user told before (actions/opening.py), offered in their place
    to pick (a button, number or name picks), with the hotline and 转人工."""
    asked = ASPECT_NAMES_ZH.get(aspect, "") if aspect != GENERAL else ""
    question = f"请问您想了解哪个事项的{asked}？" if asked else "请问您想了解哪个事项？"
    if guesses:
        # Examples, not a claim: the closest guides to what was told may be no closer than any (chit-chat told before).
        lines = [question + "可以点下面的事项（或回复序号），也可以直接告诉我事项名称。"]
        lines += [f"{number}. {choice.title}" for number, choice in enumerate(guesses, 1)]
        # They may all be wrong (the matter was not placed): a person stays one click away, as after "not found".
        lines.append(f"都不是的话，可以拨打政务服务热线 {hotline}，或点“转人工”由工作人员为您解答。")
        buttons = [{"title": f"{number}. {choice.title}", "payload": pick_payload(choice.guide_id)}
                   for number, choice in enumerate(guesses, 1)]
        buttons.append(handoff_button())
        return Reply("\n".join(lines), buttons, {PAYLOAD_ASK_ITEM: {"aspect": aspect, "choices": [c.guide_id for c in guesses]}})
    names = examples.items_text()
    text = question + (f"告诉我事项名称就行，例如{names}。" if names else "告诉我事项名称就行，例如您要办的证照或业务的名称。")
    return Reply(text, [], {PAYLOAD_ASK_ITEM: {"aspect": aspect}})


REFUSAL_OPENING = "抱歉，这个问题不在我的服务范围内。"  # how a handoff after a refusal tells which question it was (conversation.py)


def out_of_scope(hotline: str, examples: Examples) -> Reply:
    """Not a question the assistant answers: what it does answer, with the published examples, and people (12345,
    转人工) as after "not found": a refusal ends the search too, and it may be wrong about what is our business."""
    offered = "，例如：" + examples.questions_text() if examples.questions else "。"
    text = (REFUSAL_OPENING + "我是政务服务智能问答助手，只能回答办事指南和惠企政策方面的问题" + offered
            + f"\n其他政务问题可以拨打政务服务热线 {hotline}，或点“转人工”由工作人员为您解答。")
    return Reply(text, [handoff_button()], {PAYLOAD_NOT_FOUND: {"near": [], "out_of_scope": True}})


def unavailable(hotline: str) -> Reply:
    text = f"抱歉，知识库暂时不可用，请稍后再试，或拨打政务服务热线 {hotline} 咨询。"
    return Reply(text, [], {PAYLOAD_NOT_FOUND: {"near": [], "unavailable": True}})


def question_record(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The question log's fields for a reply's custom payload; None for a reply that is no answer."""
    if PAYLOAD_ANSWER in payload:
        answer = payload[PAYLOAD_ANSWER]
        return {"outcome": records.ANSWERED, "guide_id": (answer.get("guide") or {}).get("id"), "aspect": answer.get("aspect"),
                "confidence": answer.get("confidence"), "index_version": answer.get("index_version")}
    if PAYLOAD_CLARIFY in payload or PAYLOAD_CONFIRM in payload:
        asked = payload.get(PAYLOAD_CLARIFY) or payload[PAYLOAD_CONFIRM]
        return {"outcome": records.CLARIFIED, "aspect": asked.get("aspect"), "guide_id": (asked.get("guide") or {}).get("id")}
    if PAYLOAD_ASK_ITEM in payload:
        return {"outcome": records.ASKED_ITEM, "aspect": payload[PAYLOAD_ASK_ITEM].get("aspect")}
    if PAYLOAD_NOT_FOUND in payload:
        found = payload[PAYLOAD_NOT_FOUND]
        outcome = (records.OUT_OF_SCOPE if found.get("out_of_scope")
                   else records.UNAVAILABLE if found.get("unavailable") else records.NOT_FOUND)
        return {"outcome": outcome}
    return None
