"""The report's low-confidence answers are those just above the line their own index version answers at
(knowledge/report/answer_lines.py), not those below one number for every knowledge base: a right answer at 0.58 on a
version that answers from 0.29 is no close call, and a follow-up recorded at 0.06 was not the retriever's decision."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

import pytest

from knowledge.records.store import ANSWERED, CLARIFIED, Records, now_on
from knowledge.report.answer_lines import check_confidence, low_bar
from knowledge.report.cli import EXIT_USAGE, run_report
from knowledge.report.filters import ALL
from knowledge.report.page import render_html
from knowledge.report.stats import Period, build_report
from knowledge.settings import Settings
from tests.support import age_row, staff_today

pytestmark = pytest.mark.unit

Publish = Callable[..., None]
SAMPLE_LINE = 0.2865  # the sample knowledge base's answer_at (var/index/…/calibration.json)
VERSION = "20261206-221351-657294"  # as IndexStore names versions


def listed(settings: Settings) -> list[str]:
    report = build_report(settings, days=30)
    return sorted(text for group in report.low_confidence_groups for text, _ in group.examples)


def test_the_bar_is_a_multiple_of_the_odds_at_the_line_and_stays_below_one() -> None:
    assert low_bar(SAMPLE_LINE, 2.0) == pytest.approx(0.4454, abs=1e-4)
    assert low_bar(0.5, 3.0) == pytest.approx(0.75)
    # a multiple of the probability would pass 1 here and list every answer
    assert SAMPLE_LINE < low_bar(SAMPLE_LINE, 2.0) < low_bar(0.8, 2.0) < 1.0
    assert low_bar(0.9, 2.0) == pytest.approx(0.9474, abs=1e-4)


def test_a_right_answer_well_above_the_line_is_no_close_call_one_just_above_it_is(settings: Settings, publish_line: Publish) -> None:
    publish_line("v1", SAMPLE_LINE)
    records = Records.from_settings(settings)
    records.add_question("a1", "开办企业需要什么材料", outcome=ANSWERED, guide_id="company-setup", confidence=0.5831, index_version="v1")
    records.add_question("a2", "开公司要准备些啥", outcome=ANSWERED, guide_id="company-setup", confidence=0.2901, index_version="v1")
    records.add_question("a3", "营业执照丢了要带啥", outcome=ANSWERED, guide_id="license-reissue", confidence=0.9952, index_version="v1")
    report = build_report(settings, days=30)
    assert [group.representative for group in report.low_confidence_groups] == ["开公司要准备些啥"]
    assert report.guides["company-setup"].low_confidence == 1 and report.guides["license-reissue"].low_confidence == 0
    assert report.confidence.lines["v1"].answer_at == SAMPLE_LINE and report.confidence.on_current == 0


def test_an_answer_below_its_line_is_counted_not_listed(settings: Settings, publish_line: Publish) -> None:
    """"在哪办？" after company setup keeps the conversation's guide; the retrieval's 0.06 is about the message alone."""
    publish_line(VERSION, SAMPLE_LINE)
    records = Records.from_settings(settings)
    records.add_question("b1", "开办企业需要什么材料", outcome=ANSWERED, guide_id="company-setup", confidence=0.5831, index_version=VERSION)
    records.add_question("b1", "在哪办？", outcome=ANSWERED, guide_id="company-setup", confidence=0.0551, index_version=VERSION)
    records.add_question("b1", "那要多久？", outcome=ANSWERED, guide_id="company-setup", confidence=1.0, index_version=VERSION)
    report = build_report(settings, days=30)
    assert report.low_confidence_groups == [] and report.guides["company-setup"].low_confidence == 0
    assert report.confidence.below_line == 1
    page = render_html(report)
    assert "另有 1 次回答的把握低于回答线" in page
    assert f"版本 {VERSION} 为 0.2865（把握低于 0.4454 的列入）" in page  # a version name, not masked like a card number
    assert "report_low_confidence_odds" in page


def test_each_answer_is_read_on_its_own_versions_line(settings: Settings, publish_line: Publish) -> None:
    publish_line("v1", 0.6, current=False)  # an older version, still kept: listed below 0.75
    publish_line("v2", SAMPLE_LINE)          # serving now: listed below 0.4454
    records = Records.from_settings(settings)
    records.add_question("c1", "旧版本答的", outcome=ANSWERED, guide_id="company-setup", confidence=0.65, index_version="v1")
    records.add_question("c2", "新版本答的", outcome=ANSWERED, guide_id="company-setup", confidence=0.65, index_version="v2")
    # its version was pruned since (or a path, which is never read): the serving version's line
    records.add_question("c3", "已清理的版本答的", outcome=ANSWERED, guide_id="company-setup", confidence=0.35, index_version="v0")
    records.add_question("c4", "版本名不对的", outcome=ANSWERED, guide_id="company-setup", confidence=0.35, index_version="../v1")
    assert listed(settings) == ["已清理的版本答的", "旧版本答的", "版本名不对的"]
    check = build_report(settings, days=30).confidence
    assert sorted(check.lines) == ["v1", "v2"] and check.on_current == 2 and check.current is not None
    page = render_html(build_report(settings, days=30))
    assert "版本 v1 为 0.6（把握低于 0.75 的列入）" in page and "2 次回答时的索引版本已不在本机" in page


def test_without_a_readable_decision_model_nothing_is_judged(settings: Settings, publish_line: Publish) -> None:
    records = Records.from_settings(settings)
    records.add_question("d1", "开公司要准备些啥", outcome=ANSWERED, guide_id="company-setup", confidence=0.30, index_version="v1")
    report = build_report(settings, days=30)  # no index published at all
    assert report.low_confidence_groups == [] and report.confidence.unjudged == 1
    assert "还没有可读的决策模型" in render_html(report)
    publish_line("v1", SAMPLE_LINE)
    (settings.index_dir / "versions" / "v1" / "calibration.json").write_text("{\"answer_at\": 1.5}", encoding="utf-8")
    assert build_report(settings, days=30).confidence.unjudged == 1  # a damaged line is no line


def test_a_confirm_or_a_clarify_row_is_not_judged(settings: Settings, publish_line: Publish) -> None:
    """A confirm settled by 是 keeps its own row, which has no number; a clarify has none either."""
    publish_line("v1", SAMPLE_LINE)
    rows = [{"outcome": ANSWERED, "confidence": None, "index_version": "v1"},
            {"outcome": CLARIFIED, "confidence": None, "index_version": None},
            {"outcome": ANSWERED, "confidence": 0.3, "index_version": "v1"}]
    check = check_confidence(rows, settings.index_dir, 2.0)
    assert check.low == [rows[2]] and (check.below_line, check.unjudged, check.on_current) == (0, 0, 0)


def test_a_pick_after_the_period_is_read_on_the_version_that_answered_it(settings: Settings, publish_line: Publish) -> None:
    publish_line("v1", SAMPLE_LINE, current=False)
    publish_line("v2", 0.5)  # on the serving version's line 0.32 would be below it, not listed
    records = Records.from_settings(settings)
    asked = records.add_question("p1", "抵押登记怎么办", outcome=CLARIFIED)
    age_row(records, "questions", asked, days=1)
    records.add_question("p1", "1", outcome=ANSWERED, guide_id="mortgage-registration", confidence=0.32, index_version="v1")
    today = staff_today(settings)
    report = build_report(settings, now=now_on(settings.staff_timezone) + dt.timedelta(hours=1),
                          period=Period(today - dt.timedelta(days=7), today - dt.timedelta(days=1)))
    assert [group.representative for group in report.low_confidence_groups] == ["抵押登记怎么办"]


def test_a_bar_that_lists_nothing_is_refused(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(days=None, since=None, until=None, channel=ALL, include_test=False, out=None)
    assert run_report(args, settings.replace(report_low_confidence_odds=1.0)) == EXIT_USAGE
    assert "report_low_confidence_odds 应大于 1" in capsys.readouterr().err
    assert not settings.reports_dir.exists()
    with pytest.raises(ValueError, match="应大于 1"):
        build_report(settings.replace(report_low_confidence_odds=float("nan")), days=30)
