"""A clarify or confirm counts as what came of it: answered once when the citizen picked (or said 是 and got the
answer), not answered when nothing was picked, so what no guide covers reaches 未能回答 and 建议新写."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.records.store import ANSWERED, CLARIFIED, NOT_FOUND, Records, now_on
from knowledge.report.page import render_html
from knowledge.report.stats import Period, build_report
from knowledge.settings import Settings
from tests.support import age_row

pytestmark = pytest.mark.unit

MOBILE = "13812345678"
MARRIAGE = "结婚登记要带什么材料"


def store(settings: Settings) -> Records:
    # Stamped on the report's own clock (staff_timezone), so "just asked" means the same to both.
    return Records.from_settings(settings)


def later(settings: Settings, hours: float = 1) -> dt.datetime:
    """The report's time some while after the rows were written: a clarify with nothing after it is over by then."""
    return now_on(settings.staff_timezone) + dt.timedelta(hours=hours)


def test_a_clarify_nobody_picked_from_is_not_answered_and_suggests_a_guide(settings: Settings) -> None:
    """The admin trial: "结婚登记要带什么材料" four times, each offered unrelated guides, none picked."""
    records = store(settings)
    records.add_question("s1", MARRIAGE, outcome=CLARIFIED)  # then a new question
    records.add_question("s1", "开公司要带什么材料", outcome=ANSWERED, guide_id="company-setup", confidence=0.9)
    records.add_question("s2", MARRIAGE, outcome=CLARIFIED)  # then nothing
    records.add_question("s3", "结婚登记需要什么材料", outcome=CLARIFIED)  # then 转人工
    records.add_handoff("s3", reason="request_human", guide_id=None, question="转人工", transcript=[])
    records.add_question("s4", MARRIAGE, outcome=CLARIFIED)  # then "不是" (no row), then another matter
    records.add_question("s4", "狗证怎么办", outcome=NOT_FOUND)
    report = build_report(settings, days=30, now=later(settings))
    assert report.not_answered == 5 and report.answered == 1 and len(report.questions) == 6
    group = report.unanswered_groups[0]
    assert (group.count, group.representative) == (4, MARRIAGE)
    write = [s for s in report.suggestions if s.kind == "write"]
    assert [s.subject for s in write] == [MARRIAGE] and "4 次" in write[0].reasons[0]
    assert "建议新写 1 项" in report.summary() and "含反问或确认后没有得到回答 4 次" in report.summary()
    page = render_html(report)
    assert MARRIAGE in page and "反问后未选择 4" in page


def test_a_pick_after_a_clarify_counts_once_as_answered(settings: Settings) -> None:
    records = store(settings)
    question = "抵押登记怎么办"
    for sender, pick in (("b1", question), ("b2", "2"), ("b3", "不动产抵押登记")):  # a button, a number, a name
        records.add_question(sender, question, outcome=CLARIFIED)
        records.add_question(sender, pick, outcome=ANSWERED, guide_id="mortgage-registration", confidence=0.9)
    report = build_report(settings, days=30, now=later(settings))
    assert len(report.questions) == 3 and report.answered == 3 and report.not_answered == 0
    assert not report.unanswered_groups and not [s for s in report.suggestions if s.kind == "write"]
    # a bare "2" is shown as the question it picked for
    assert report.guides["mortgage-registration"].questions == {question: 2, "不动产抵押登记": 1}



OFFERED = [("mortgage-registration", "不动产抵押登记", []), ("house-transfer", "二手房过户", []), ("seal-engraving", "公章刻制备案", [])]


@pytest.mark.parametrize("reply", ["2", "２", "第二个", "选3吧", "就 1", "第 3 项", "三", "最后一个", "选最后那个"])
def test_a_reply_the_assistant_picks_by_position_is_a_pick_in_the_report(settings: Settings, reply: str) -> None:
    """The assistant (actions/dialogue.py resolve_pick) and the report read a typed pick with one pattern, protocol.py's:
    whatever number or position the assistant picks by, the report counts the clarify as answered by that pick."""
    from actions.dialogue import resolve_pick

    picked = resolve_pick(reply, OFFERED)
    assert picked is not None
    records = store(settings)
    records.add_question("o1", "抵押登记怎么办", outcome=CLARIFIED)
    records.add_question("o1", reply, outcome=ANSWERED, guide_id=picked, confidence=0.9)
    report = build_report(settings, days=30, now=later(settings))
    assert report.answered == 1 and report.not_answered == 0
    assert report.guides[picked].questions == {"抵押登记怎么办": 1}  # shown as the question it picked for


def test_the_assistant_and_the_report_share_one_pick_pattern() -> None:
    """Not two copies that drift apart: both compile protocol.py's pattern, and neither writes its own."""
    import protocol
    from actions import dialogue
    from knowledge.report import followups

    assert dialogue._NUMBER.pattern == protocol.PICK_NUMBER_PATTERN and dialogue._LAST.pattern == protocol.PICK_LAST_PATTERN
    assert followups._ORDINAL.pattern == f"{protocol.PICK_NUMBER_PATTERN}|{protocol.PICK_LAST_PATTERN}"
    for module in (dialogue, followups):
        assert "最后|最末" not in Path(module.__file__).read_text(encoding="utf-8"), module.__name__

def test_a_confirm_counts_by_what_the_records_show(settings: Settings) -> None:
    records = store(settings)
    asked = "刻章备案要多久"
    # 是 (no row of its own), the answer rated: answered, once
    records.add_question("c1", asked, outcome=CLARIFIED, guide_id="seal-engraving")
    records.add_feedback("c1", "good", question=asked, guide_id="seal-engraving", section="办理时限", index_version="v1")
    # "是的，收费吗": the confirmed guide answers: answered, once
    records.add_question("c2", asked, outcome=CLARIFIED, guide_id="seal-engraving")
    records.add_question("c2", "是的，收费吗", outcome=ANSWERED, guide_id="seal-engraving", confidence=0.9)
    # 不是, then 转人工 from the others offered: not answered
    records.add_question("c3", asked, outcome=CLARIFIED, guide_id="seal-engraving")
    records.add_handoff("c3", reason="request_human", guide_id=None, question="转人工", transcript=[])
    # nothing after it: 是 or 不是 is not in the records, counted apart
    records.add_question("c4", asked, outcome=CLARIFIED, guide_id="seal-engraving")
    report = build_report(settings, days=30, now=later(settings))
    assert len(report.questions) == 4 and report.answered == 2 and report.not_answered == 1
    assert report.outcomes["confirm_unanswered"] == 1 and report.outcomes["confirm_unknown"] == 1
    assert report.guides["seal-engraving"].hits == 2
    assert [group.count for group in report.unanswered_groups] == [1]
    assert "确认后未记录“是/不是”" in render_html(report)


def test_a_confirm_answered_with_yes_or_no_counts_once_by_the_row_logged_for_it(settings: Settings) -> None:
    """The action server logs 是 (answered) and 不是 (not found) under the confirmed question: one question each."""
    records = store(settings)
    asked = "刻章备案要多久"
    records.add_question("y1", asked, outcome=CLARIFIED, guide_id="seal-engraving")
    records.add_question("y1", asked, outcome=ANSWERED, guide_id="seal-engraving", confidence=0.6)  # 是
    records.add_question("n1", asked, outcome=CLARIFIED, guide_id="seal-engraving")
    records.add_question("n1", asked, outcome=NOT_FOUND)  # 不是, and nothing else fits
    records.add_question("n2", asked, outcome=CLARIFIED, guide_id="seal-engraving")
    records.add_question("n2", asked, outcome=NOT_FOUND)  # 不是, then one of the others picked: answered once
    records.add_question("n2", "2", outcome=ANSWERED, guide_id="license-reissue", confidence=0.9)
    records.add_question("r1", "注销公司要什么材料", outcome=CLARIFIED)  # a clarify, then the pick of a guide removed since
    records.add_question("r1", "注销公司要什么材料", outcome=NOT_FOUND)
    records.add_question("r2", "抵押登记怎么办", outcome=CLARIFIED)  # typed "1": a guide removed since
    records.add_question("r2", "1", outcome=NOT_FOUND)
    report = build_report(settings, days=30, now=later(settings))
    assert len(report.questions) == 5 and report.answered == 2 and report.not_answered == 3, report.questions
    assert report.outcomes.get("confirm_unknown", 0) == 0 and report.outcomes.get("clarify_unanswered", 0) == 0
    assert {group.representative for group in report.unanswered_groups} == {asked, "注销公司要什么材料", "抵押登记怎么办"}


def test_a_clarify_just_asked_is_open_until_the_conversation_is_over(settings: Settings) -> None:
    store(settings).add_question("o1", MARRIAGE, outcome=CLARIFIED)
    now = now_on(settings.staff_timezone)
    assert build_report(settings, days=30, now=now).outcomes[CLARIFIED] == 1  # the citizen may still pick
    over = build_report(settings, days=30, now=now + dt.timedelta(hours=1))
    assert over.not_answered == 1 and over.unanswered_groups[0].representative == MARRIAGE


def test_a_pick_just_after_the_period_still_answers_its_clarify(settings: Settings) -> None:
    records = store(settings)
    asked = records.add_question("p1", "抵押登记怎么办", outcome=CLARIFIED)
    age_row(records, "questions", asked, days=1)
    records.add_question("p1", "1", outcome=ANSWERED, guide_id="mortgage-registration", confidence=0.9)
    today = now_on(settings.staff_timezone).date()
    report = build_report(settings, now=later(settings), period=Period(today - dt.timedelta(days=7), today - dt.timedelta(days=1)))
    assert [row["outcome"] for row in report.questions] == [ANSWERED] and report.not_answered == 0


def test_the_page_says_how_clarify_and_confirm_are_counted_and_masks_them(settings: Settings) -> None:
    records = store(settings)
    for sender in ("m1", "m2"):
        records.add_question(sender, f"结婚登记要带什么，我手机{MOBILE}", outcome=CLARIFIED)
    page = render_html(build_report(settings, days=30, now=later(settings)))
    assert "用户一个也没选" in page and "单独统计" in page
    assert "138****5678" in page and MOBILE not in page
