"""Which guide says a message's own words: the evidence, beside the retriever's scores, that a message in a
conversation is still about the matter at hand or about another one (actions/policy.py `Turn`). Every guide's text
(actions/overlap.py `guide_words`) is made once per served index; each character pair of a message weighs by how
few guides say it (`pair_weights`: 营业执照 in a business knowledge base weighs next to nothing).

Usage::

    holds = current_holds(retriever, "公安那边要带啥", "hotel-special-trade-permit", result, least=0.5)
    names_more("开发票怎么弄", retriever.guide("invoice-application"), retriever.guide("company-setup"))  # True: 发票
"""

from __future__ import annotations

import re
from typing import Any

from actions.dialogue import PEOPLE_OR_GRIEVANCE, also_described, circumstance_subject
from actions.overlap import guide_words, held_words, own_pairs, pair_weights, share_held
from knowledge.retrieval.offices import AUTHORITY_KINDS
from knowledge.retrieval.retriever import NONE, RetrievalResult, Retriever

# Every guide's text for the index being served, made once per index, and how many guides say each character pair met
# so far (`pair_weights`), bounded: a new index starts both afresh.
_WORDS: list[tuple[object, dict[str, str], dict[str, int]]] = []
_MAX_COUNTED_PAIRS = 200_000


def guides_words(retriever: Retriever) -> dict[str, str]:
    """Every guide's `guide_words` for the served index."""
    data = retriever.data
    if not _WORDS or _WORDS[0][0] is not data:
        _WORDS[:] = [(data, {guide_id: guide_words(guide) for guide_id, guide in data.guides.items()}, {})]
    return _WORDS[0][1]


def weights(retriever: Retriever, text: str) -> dict[str, float]:
    """`pair_weights` of the message over the served index's guides, the counts remembered per index."""
    every = guides_words(retriever)
    said_by = _WORDS[0][2]
    if len(said_by) > _MAX_COUNTED_PAIRS:
        said_by.clear()
    return pair_weights(text, list(every.values()), said_by)


def guide_holds(retriever: Retriever, text: str, guide_id: str | None, least: float) -> float | None:
    """The share of the message's own words the guide says (actions/overlap.py `held_words`), weighed by how rare
    they are among the knowledge base's guides, when it is at least `least` (settings.yml `context_hold_share`) and
    more than one word, or one that is all the message names (none else)."""
    every = guides_words(retriever)
    if guide_id not in every:
        return None
    held = held_words(text, every[guide_id], weights(retriever, text))
    if held is None or not held.enough or held.share < least:
        return None
    return held.share


def current_holds(retriever: Retriever, text: str, current: str | None, result: RetrievalResult, least: float) -> bool:
    """Whether the conversation's guide holds the message's words (`guide_holds`) more than any guide the retriever
    prefers or offers, or as much, unless the other names the message and it does not (`names_more`): "营业执照丢了
    怎么补" names words the food-business guide says too, but the licence-reissue guide says as many and names
    营业执照; "公安那边要带啥" after the hotel permit is no question about the passport guide, both are the police's.
    Never for a complaint or a call for a person ("企业被乱收费了能在网上举报吗"): that is no question about the matter."""
    held = guide_holds(retriever, text, current, least)
    if held is None or PEOPLE_OR_GRIEVANCE.search(text or ""):
        return False
    every, weight = guides_words(retriever), weights(retriever, text)
    rivals = {result.guide_id, *(c.guide_id for c in result.candidates[:1] if result.decision != NONE),
              *(c.guide_id for c in result.choices)}
    for rival in rivals - {current}:
        if rival not in every:
            continue
        theirs = share_held(text, every[rival], weight) or 0.0
        if held < theirs or (held == theirs and names_more(text, retriever.guide(rival), retriever.guide(current))):
            return False
    return True


def names_another_office(retriever: Retriever, text: str, current: str | None) -> bool:
    """Whether the message names an office that has nothing to do with the conversation's guide: one of the knowledge
    base that handles other guides only ("市监局电话多少" after the water connection), or one no guide lists and the
    guide does not mention either ("民政局在哪", "医保局电话" after the tax registration; only an authority's name is
    read so: "去哪里排队", "离火车站远不远" end in words offices end in too). "税务那边要带啥" after the
    invoice guide names its own office; "要去公安局开证明吗" after a guide that says 公安局 asks about that guide."""
    if current is None:
        return False
    directory = retriever.data.offices
    handled = directory.guides_named(text)
    if handled:
        return current not in handled
    words = guides_words(retriever).get(current, "")
    return any(name not in words for name in directory.unknown_names(text, AUTHORITY_KINDS))


def answered_says(retriever: Retriever, text: str, result: RetrievalResult) -> bool:
    """Whether the message's own words may be another guide's: not when it has character pairs of its own and the
    guide the retriever answers says none of them ("镇上能交申请不": no guide says 镇上, the answer rests on the
    asking words, so 镇上 is no sign of another matter; "开发票怎么弄": the invoice guide says 发票)."""
    if result.decision == NONE or result.guide_id is None:
        return True
    held = held_words(text, guides_words(retriever).get(result.guide_id, ""))
    return held is None or held.pairs > 0


def circumstance_of_current(retriever: Retriever, text: str, current: str | None, result: RetrievalResult) -> bool:
    """Whether the message tells a circumstance after a subject the conversation's guide says ("合作社要是没有营业执照行不行"
    after the seal guide, which says 合作社 and 营业执照), in words the guide the retriever answers does not name more:
    a new circumstance of the matter at hand, as one told first ("要是…呢") is. "药店要是开在小区里行不行" after the water
    connection names 药店, which that guide does not say; "发票要是开错了可以吗" after the company set-up names the invoice
    guide's own 发票, "饭店要是要装燃气行不行" after the food licence the gas connection's 燃气, which the food licence
    does not say."""
    subject = circumstance_subject(text)
    words = guides_words(retriever).get(current or "", "")
    pairs = own_pairs(subject or "")
    if subject is None or not pairs or not all(pair in words for pair in pairs):
        return False
    if result.decision == NONE or result.guide is None:
        return True
    theirs = names(result.guide)
    rest = own_pairs(text[text.index(subject) + len(subject):])
    return (not names_more(subject, result.guide, retriever.guide(current or ""))
            and not any(pair in theirs and pair not in words for pair in rest))


def describes_another(retriever: Retriever, text: str, current: str | None, least: float) -> bool:
    """Whether "还有…" describes at length a thing the conversation's guide says less than `least` of (`also_described`;
    settings.yml `context_hold_share`, the share that keeps a message with the guide): "还有教堂门口人行道上两棵大树挡着
    新修的大门，…" after the religious venue registration turns aside; "还有法定代表人的身份证原件，要本人带去吗" after the
    seal guide, which says those words, asks more of the matter at hand."""
    described = also_described(text)
    if described is None or current is None:
        return False
    held = held_words(described, guides_words(retriever).get(current, ""))
    return held is None or held.share < least


def names_more(text: str, guide: dict[str, Any] | None, than: dict[str, Any] | None) -> bool:
    """Whether guide `guide` names the message and guide `than` (the conversation's) does not: `guide`'s names (`names`)
    say a character pair of the message that `than`'s names and offices (`own_names`) do not; with no such pair on
    either side, a character. Only what one side says and the other does not counts: "公司设立后发票怎么领" after the
    company set-up names 公司设立, which is context, and 发票, which only the invoice guide's names say; "补个营业执照要
    几天" — both say 营业执照, only 营业执照遗失补领 says 补 (a verb of one character often tells two guides with the
    same object apart); "税务那边要带啥" after the invoice guide, whose office is the tax bureau, is no question about
    新办纳税人 (税务报到); "公安那边要带啥" after the hotel permit: no name says 公安."""
    runs = [run for run in re.split(r"[^0-9a-z\u4e00-\u9fff]+", (text or "").lower()) if run]
    pairs = {run[i:i + 2] for run in runs for i in range(len(run) - 1)}
    theirs, ours = names(guide), own_names(than)
    said, kept = {pair for pair in pairs if pair in theirs}, {pair for pair in pairs if pair in ours}
    if said - kept or kept - said:
        return bool(said - kept)
    # Characters: of the conversation's guide, only those of its names ("供电" during a water connection: 电 of its
    # 水电气 window is no name of it); a pair its offices say is neither side's ("税务" at the tax bureau's window).
    characters = set("".join(runs)) - set("".join(kept))
    mine = set(names(than))
    return len((characters & set(theirs)) - mine) > len((characters & mine) - set(theirs))


def names(guide: dict[str, Any] | None) -> str:
    """The guide's names, lower-cased: its title and aliases. Not its department or contact units: a guide run by
    several offices ("住建局牵头，自然资源和规划局、人防办参与") would name every office's matter ("规划证要交哪些资料"
    during the joint completion acceptance is the planning permit's)."""
    if guide is None:
        return ""
    return "\n".join([guide.get("title") or "", *(guide.get("aliases") or [])]).lower()


def own_names(guide: dict[str, Any] | None) -> str:
    """The conversation's guide's names and its offices (department, contact units): a follow-up naming the office at
    hand ("税务那边要带啥" while applying for invoices at the tax bureau) is about the matter at hand."""
    if guide is None:
        return ""
    offices = [guide.get("department") or "", *(str(contact.get("unit") or "") for contact in guide.get("contacts") or [])]
    return "\n".join([names(guide), *offices]).lower()
