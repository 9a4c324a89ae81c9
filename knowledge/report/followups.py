"""What became of a clarify or a confirm: answered after a pick, or not answered, read from the rows that follow it.

The answer action (actions/answer.py question_record) logs both ways of asking back as outcome 'clarified': a
clarify (a list of guides to pick from: ambiguity, an office's matters, a hardship) without a guide_id, a confirm
("您问的是【X】…吗？") with X's guide_id. The choices offered are not logged. What the citizen did next is only in
the rows of the same sender that follow, in order of time:

- a pick is logged as an answered question: a button, or a pick after 不是, under the question it answers (the
  same text, the action's pending question); a typed pick under its own words ("2", "第二个", a guide's title,
  "用水报装要多久");
- 是 and 不是 to a confirm are logged under the confirmed question (actions/feedback.py ActionReplyConfirmation):
  answered after 是, not_found after 不是; that row stands for both. Records written before that was logged
  show the answer after 是 only when it is rated (feedback on X for the same question), handed over from (a
  handoff naming X and the question), or followed by a question answered from X ("是的，收费吗", "在哪办").

So each 'clarified' row of the period becomes, for the report (`settle`):

- answered, once: the pick's row stands for both (the clarified row is dropped; a bare "2" is shown as the
  question it picked for), or the confirm's row itself when only a rating or a handoff shows its answer;
- CLARIFY_UNANSWERED / CONFIRM_UNANSWERED (not answered): a handoff (转人工 / 投诉) came before any pick, the next
  question was no pick (a new question, "不是" and no pick, …), or nothing followed and the conversation is over;
- CONFIRM_UNKNOWN: a confirm followed by nothing, or by another matter, with no sign of 是: "是, then leave" and
  "不是, then leave" leave the same rows, so the report cannot tell them apart and counts them apart;
- CLARIFIED (still open): nothing followed yet and it was asked within OPEN_FOR of the report's time.

Usage::

    from knowledge.report.followups import settle

    questions = settle(rows, later_rows, titles, now)   # rows: {"questions": [...], "feedback": [...], "handoffs": [...]}
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from knowledge.records.store import ANSWERED, CLARIFIED, NOT_FOUND
from protocol import PICK_LAST_PATTERN, PICK_NUMBER_PATTERN

# Report-only outcomes (never stored): what a 'clarified' row turned out to be.
CLARIFY_UNANSWERED = "clarify_unanswered"
CONFIRM_UNANSWERED = "confirm_unanswered"
CONFIRM_UNKNOWN = "confirm_unknown"
SETTLED_UNANSWERED = (CLARIFY_UNANSWERED, CONFIRM_UNANSWERED)
PICKED = "picked"  # `verdict` only: answered by the next question row, which stands for both
# A clarify with nothing after it yet may still be answered by the citizen's next message: within this long
# of the report's time it stays open (CLARIFIED) rather than counting as not answered.
OPEN_FOR = dt.timedelta(minutes=30)

# A typed pick by number or position, as actions/dialogue.py resolve_pick reads it ("2", "第二个", "选3吧", "最后一个"):
# the pattern both read is in protocol.py (the report must not import the action server).
_ORDINAL = re.compile(f"{PICK_NUMBER_PATTERN}|{PICK_LAST_PATTERN}")
_BRACKETS = re.compile(r"[（(）)]")

Row = dict[str, Any]


def _time(row: Row) -> str:
    return str(row.get("time") or "")


def _order(row: Row) -> tuple[str, int]:
    # Rows are written asynchronously and may come from several action servers: time first, id within a second.
    return _time(row), int(row.get("id") or 0)


def _names(text: str, title: str) -> bool:
    """Whether `text` names the guide `title` (or one part of it: "公司设立登记" of "企业开办（公司设立登记）"), or is
    a piece of it of two characters or more: a typed pick by name."""
    names = [title, *(part for part in _BRACKETS.split(title) if part)]
    text = text.strip()
    return any(len(name) >= 2 and name in text for name in names) or (len(text) >= 2 and text in title)


def picks(asked: Row, following: Row, titles: Mapping[str, str]) -> bool:
    """Whether `following` (the sender's next question row) is the answer to a pick of what `asked` offered."""
    if following.get("outcome") != ANSWERED:
        return False
    text = str(following.get("question") or "").strip()
    if text == str(asked.get("question") or "").strip():
        return True  # a button, or a pick after 不是: the action logs the question it answers
    if asked.get("guide_id") and following.get("guide_id") == asked.get("guide_id"):
        return True  # the confirmed guide answered the next question: "是的，收费吗", or a follow-up after 是
    return bool(_ORDINAL.match(text)) or _names(text, titles.get(str(following.get("guide_id") or ""), ""))


def _same_question(asked: Row, row: Row) -> bool:
    return str(row.get("question") or "").strip() == str(asked.get("question") or "").strip()


def _declined(rows: Sequence[Row], index: int) -> bool:
    """Whether rows[index] is the 不是 to the confirm just before it (logged as not found under its question): it
    offers the other guides in its turn, so a pick after it answers the question."""
    row, before = rows[index], rows[index - 1] if index else None
    return (row.get("outcome") == NOT_FOUND and before is not None and before.get("outcome") == CLARIFIED
            and bool(before.get("guide_id")) and _same_question(before, row))


def _answered_after_yes(asked: Row, row: Row) -> bool:
    """A rating or handoff of the answer a 是 gave: it names the confirmed guide and the confirmed question."""
    return (bool(asked.get("guide_id")) and row.get("guide_id") == asked.get("guide_id")
            and str(row.get("question") or "") == str(asked.get("question") or ""))


def verdict(asked: Row, following: Row | None, feedback: Sequence[Row], handoffs: Sequence[Row],
            titles: Mapping[str, str], now: dt.datetime) -> str:
    """What became of one 'clarified' row: PICKED (the next row is the answer to a pick), ANSWERED (a rating or
    handoff shows the answer 是 gave), CLARIFIED (still open), or one of CLARIFY_UNANSWERED, CONFIRM_UNANSWERED,
    CONFIRM_UNKNOWN. `following`: the sender's next question row; `feedback` and `handoffs`: the sender's rows."""
    confirm = bool(asked.get("guide_id"))
    if following is not None and (picks(asked, following, titles) or _same_question(asked, following)
                                  or bool(_ORDINAL.match(str(following.get("question") or "")))):
        # also the 不是 to a confirm logged under its question, or a pick ("1", a button) of a guide an admin removed
        # since, not found: that row stands for both
        return PICKED
    start, end = _time(asked), _time(following) if following is not None else None

    def between(row: Row) -> bool:
        return start <= _time(row) and (end is None or _time(row) <= end)

    if confirm and any(between(row) and _answered_after_yes(asked, row) for row in [*feedback, *handoffs]):
        return ANSWERED
    if any(between(row) for row in handoffs):
        return CONFIRM_UNANSWERED if confirm else CLARIFY_UNANSWERED  # 转人工 / 投诉 instead of a pick
    if following is None and _time(asked) >= (now - OPEN_FOR).isoformat(timespec="seconds"):
        return CLARIFIED
    return CONFIRM_UNKNOWN if confirm else CLARIFY_UNANSWERED


def _by_sender(*tables: Sequence[Row]) -> dict[str, list[Row]]:
    result: dict[str, list[Row]] = defaultdict(list)
    for rows in tables:
        for row in rows:
            result[str(row.get("sender_id"))].append(row)
    for rows in result.values():
        rows.sort(key=_order)
    return result


def settle(rows: Mapping[str, Sequence[Row]], later: Mapping[str, Sequence[Row]], titles: Mapping[str, str],
           now: dt.datetime) -> list[Row]:
    """The period's question rows with every 'clarified' row settled (see the module's doc), in their order.
    `later`: the rows after the period (the filters' own), so a pick just after the period's end still counts."""
    questions = list(rows.get("questions", ()))
    asked_by = _by_sender(questions, later.get("questions", ()))
    feedback_by = _by_sender(rows.get("feedback", ()), later.get("feedback", ()))
    handoffs_by = _by_sender(rows.get("handoffs", ()), later.get("handoffs", ()))
    in_period = {id(row) for row in questions}
    dropped: set[int] = set()
    replaced: dict[int, Row] = {}
    for sender, asked_rows in asked_by.items():
        for index, asked in enumerate(asked_rows):
            following = asked_rows[index + 1] if index + 1 < len(asked_rows) else None
            if _declined(asked_rows, index) and id(asked) in in_period:
                if following is not None and picks(asked, following, titles):
                    dropped.add(id(asked))  # 不是, then a pick of the others: answered, once (the pick's row)
                continue
            if asked.get("outcome") != CLARIFIED or id(asked) not in in_period:
                continue
            result = verdict(asked, following, feedback_by.get(sender, []), handoffs_by.get(sender, []), titles, now)
            if result == PICKED and following is not None and id(following) in in_period:
                dropped.add(id(asked))  # the pick's row stands for both: one question, answered once
                if _ORDINAL.match(str(following.get("question") or "")):  # "2" says nothing: show what it picked for
                    replaced[id(following)] = {**following, "question": asked.get("question")}
            elif result == PICKED and following is not None:
                # picked after the period's end: counted here, once, as the answer it got
                # (its index version too: the low-confidence list reads the number on that version's answer line)
                replaced[id(asked)] = {**asked, "outcome": following.get("outcome"), "guide_id": following.get("guide_id"),
                                       "confidence": following.get("confidence"), "index_version": following.get("index_version")}
            elif result != CLARIFIED:  # ANSWERED (after 是: the confirm's row is the only one) or not answered
                replaced[id(asked)] = {**asked, "outcome": result}
    return [replaced.get(id(row), row) for row in questions if id(row) not in dropped]
