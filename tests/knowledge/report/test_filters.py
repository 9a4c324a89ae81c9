"""The admin report covers one channel or all, a chosen period, and no test traffic unless asked;
its 建议 never suggest writing a guide about a string with no Chinese words."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from knowledge.records.store import ANSWERED, NOT_FOUND, Records
from knowledge.report.admin import write_report
from knowledge.report.cli import report_period
from knowledge.report.filters import Filters, channel_of, is_test_sender
from knowledge.report.grouping import chinese_topic_chars
from knowledge.report.page import render_html
from knowledge.report.stats import Period, build_report
from knowledge.settings import Settings
from protocol import SENDER_PREFIX_KEFU, SENDER_PREFIX_TELEGRAM, TEST_SENDER_PREFIXES
from tests.support import age_row, staff_today

pytestmark = pytest.mark.unit

# Senders as the automated tools name them (see the file after each): all must count as test traffic.
AUTOMATED = [
    "load-rest-3-0-1",                   # benchmarks/bench_load.py, REST channel
    "kefu-load-kefu-3-0-1",              # benchmarks/bench_load.py, hall API (session "load-…")
    "bench-0-4",                         # benchmarks/bench_conversation.py
    "unseen-q12", "unseen-c3", "unseen-o7",  # benchmarks/eval_unseen.py
    "switch-2-1733390000.5",             # benchmarks/bench_switch.py
    "zero-downtime-4-2",                 # tests/e2e/test_zero_downtime.py
    "sec-u", "kefu-sec-u",               # tests/e2e/test_security.py
    "kefu-api-test-7",                   # tests/support/kefu.py new_session()
    "tracker-test",                      # tests/support/__init__.py tracker()
    "test-user-3", "kefu-test-kiosk", "tg-test-1", "dev-zhang", "probe-1", "TEST-Upper",
]
REAL = ["kefu-web-3f9a0c", "kefu-kiosk-3-a1b2", "tg-42", "tg--1001-2", "user-1", "partner-app-7", "kefu-contest-1",
        "latest-test", "kefu-", "", None]


def mixed(records: Records) -> None:
    """Real use on three channels, and test traffic on each."""
    records.add_question("kefu-web-1", "养狗要办什么证", outcome=NOT_FOUND)
    records.add_question("kefu-web-2", "开公司要带什么材料", outcome=ANSWERED, guide_id="company-setup", confidence=0.9)
    records.add_question("tg-42", "狗证怎么办理", outcome=NOT_FOUND)
    records.add_question("partner-app-1", "公司注销要多久", outcome=ANSWERED, guide_id="company-deregistration", confidence=0.9)
    records.add_feedback("kefu-web-2", "good", question="开公司", guide_id="company-setup", section=None, index_version=None)
    records.add_handoff("tg-42", reason="request_human", guide_id=None, question="转人工", transcript=[])
    for sender in ("kefu-load-kefu-1-0-0", "kefu-api-test-1", "load-rest-1-0-0", "unseen-q1", "tg-test-9"):
        records.add_question(sender, "测试流量的问题", outcome=NOT_FOUND)
    records.add_feedback("bench-0-1", "bad", question="开公司", guide_id="company-setup", section=None, index_version=None)
    records.add_handoff("kefu-test-3", reason="complain", guide_id=None, question="测试投诉", transcript=[])


def test_channels_and_test_senders() -> None:
    assert SENDER_PREFIX_KEFU == "kefu-" and SENDER_PREFIX_TELEGRAM == "tg-"
    assert [channel_of(s) for s in ("kefu-web-1", "tg-42", "tg--100-2", "user-1", None)] == ["kefu", "telegram", "telegram", "rest", "rest"]
    for sender in AUTOMATED:
        assert is_test_sender(sender), sender
    for sender in REAL:
        assert not is_test_sender(sender), sender
    assert all(prefix == prefix.lower() for prefix in TEST_SENDER_PREFIXES)
    with pytest.raises(ValueError, match="未知的渠道"):
        Filters(channel="web")


def test_test_traffic_is_left_out_by_default(settings: Settings) -> None:
    mixed(Records.from_settings(settings))
    report = build_report(settings, days=30)
    senders = {row["sender_id"] for table in (report.questions, report.feedback, report.handoffs) for row in table}
    assert senders == {"kefu-web-1", "kefu-web-2", "tg-42", "partner-app-1"}
    assert len(report.questions) == 4 and len(report.feedback) == 1 and len(report.handoffs) == 1
    assert report.test_excluded == {"questions": 5, "feedback": 1, "handoffs": 1} and not report.channel_excluded
    assert report.channels() == {"kefu": 2, "telegram": 1, "rest": 1}
    assert "测试流量的问题" not in render_html(report)
    summary = report.summary()
    assert "提问 4 次" in summary and "好评 1 / 差评 0" in summary and "转人工 1 次" in summary
    assert "渠道：全部渠道" in summary and "不含测试流量" in summary and "已排除测试流量：提问 5 条，评价 1 条，转人工 1 条" in summary

    with_tests = build_report(settings, days=30, filters=Filters(include_test=True))
    assert len(with_tests.questions) == 9 and len(with_tests.feedback) == 2 and len(with_tests.handoffs) == 2
    assert not with_tests.test_excluded and "含测试流量" in with_tests.summary() and "不含" not in with_tests.summary()


@pytest.mark.parametrize(("channel", "senders", "tests_left_out", "other_channels"), [
    ("kefu", {"kefu-web-1", "kefu-web-2"}, {"questions": 2, "handoffs": 1}, {"questions": 2, "handoffs": 1}),
    ("telegram", {"tg-42"}, {"questions": 1}, {"questions": 3, "feedback": 1}),
    ("rest", {"partner-app-1"}, {"questions": 2, "feedback": 1}, {"questions": 3, "feedback": 1, "handoffs": 1}),
])
def test_one_channel(settings: Settings, channel: str, senders: set[str], tests_left_out: dict[str, int],
                     other_channels: dict[str, int]) -> None:
    mixed(Records.from_settings(settings))
    report = build_report(settings, days=30, filters=Filters(channel=channel))
    assert {row["sender_id"] for table in (report.questions, report.feedback, report.handoffs) for row in table} == senders
    assert report.test_excluded == tests_left_out       # this channel's test traffic
    assert report.channel_excluded == other_channels    # the other channels' real traffic (their tests are not counted)


def test_the_page_says_what_it_covers(settings: Settings) -> None:
    mixed(Records.from_settings(settings))
    path, _report = write_report(settings, days=7, filters=Filters(channel="kefu"))
    assert path.name == f"admin-report-{staff_today(settings).isoformat()}-kefu.html"
    page = path.read_text(encoding="utf-8")
    assert "渠道：政务服务大厅（网页、自助终端、大厅 API）" in page and "不含测试流量" in page and "test-" in page
    assert "已排除测试流量：提问 2 条，转人工 1 条" in page and "其他渠道的记录未计入：提问 2 条，转人工 1 条" in page
    assert "（共 7 天）" in page and "狗证怎么办理" not in page  # Telegram's question is not in the hall API's report
    everything = write_report(settings, days=30, filters=Filters(include_test=True))[0]
    assert everything.name.endswith("-with-test.html")
    page = everything.read_text(encoding="utf-8")
    assert "渠道：全部渠道 · 含测试流量" in page
    assert "各渠道提问：政务服务大厅（网页、自助终端、大厅 API） 4 次，Telegram 2 次，REST 接口（直接调用 Rasa） 3 次" in page
    assert write_report(settings, days=30)[0].name == f"admin-report-{staff_today(settings).isoformat()}.html"


def test_a_chosen_period(settings: Settings) -> None:
    records = Records.from_settings(settings)
    for days, text in ((40, "四十天前"), (20, "二十天前"), (5, "五天前"), (0, "今天")):
        age_row(settings.records_db, "questions", records.add_question("kefu-web-1", text, outcome=NOT_FOUND), days)
    today = staff_today(settings)
    report = build_report(settings, period=Period(today - dt.timedelta(days=45), today - dt.timedelta(days=10)))
    assert [row["question"] for row in report.questions] == ["四十天前", "二十天前"]
    assert report.period_text == f"{today - dt.timedelta(days=45)} 至 {today - dt.timedelta(days=10)}"
    assert build_report(settings, days=7).period_text == "近 7 天"


def _args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"days": None, "since": None, "until": None, **given})


def test_report_period_options() -> None:
    today = dt.date(2026, 11, 30)
    assert report_period(_args(), today) == Period(dt.date(2026, 11, 1), today)
    assert report_period(_args(days=7, until=dt.date(2026, 11, 10)), today) == Period(dt.date(2026, 11, 4), dt.date(2026, 11, 10))
    assert report_period(_args(since=dt.date(2026, 10, 1)), today) == Period(dt.date(2026, 10, 1), today)
    assert report_period(_args(since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 1)), today) == Period(dt.date(2026, 11, 1),
                                                                                                          dt.date(2026, 11, 1))
    assert "只能用一个" in report_period(_args(since=dt.date(2026, 11, 1), days=3), today)
    assert "晚于" in report_period(_args(since=dt.date(2026, 12, 1)), today)
    assert "最长 366 天" in report_period(_args(since=dt.date(2025, 1, 1)), today)
    for days in (0, -1, 367):
        assert "1 到 366" in report_period(_args(days=days), today)
    assert "太早" in report_period(_args(until=dt.date(1, 1, 5)), today)


# --- 建议: only topics with Chinese words -----------------------------------------------------------

NO_CHINESE = ["😀😀😀", "<script>alert(1)</script>", "<script>alert('x')</script>怎么办", "' OR 1=1 --", "hello", "怎么办？",
              "🙏🙏", "1234567", "？？？", "ok 好", "../../etc/passwd"]


def test_chinese_topic_characters() -> None:
    for text in NO_CHINESE:
        assert chinese_topic_chars(text) < 2, text
    assert chinese_topic_chars("养狗要办什么证") == 3 and chinese_topic_chars("狗证") == 2
    assert chinese_topic_chars("<b>公积金</b>提取") >= 2  # Chinese words inside markup still count


def test_suggestions_ignore_strings_without_chinese_words(settings: Settings) -> None:
    records = Records.from_settings(settings)
    for text in NO_CHINESE:
        for number in range(3):
            records.add_question(f"kefu-web-{number}", text, outcome=NOT_FOUND)
    for text in ("养狗要办什么证", "狗证怎么办理"):
        records.add_question("kefu-web-9", text, outcome=NOT_FOUND)
    report = build_report(settings, days=30)
    assert [s.subject for s in report.suggestions if s.kind == "write"] == ["养狗要办什么证"]
    shown = {group.representative for group in report.unanswered_groups}
    assert "😀😀😀" in shown and "' OR 1=1 --" in shown  # still listed as unanswered: only 建议 leaves them out
    page = render_html(report)
    suggestions = page[page.index('id="suggestions"'):page.index('id="daily"')]
    assert "养狗要办什么证" in suggestions and "script" not in suggestions and "😀" not in suggestions and "1=1" not in suggestions
