"""The admin report's numbers: read the records database for a period and compute them into a Report.

Reads the question log, feedback ratings and handoff records (knowledge/records/store.py,
settings.records_db) of a period (the last N days by default) that the filters keep (one channel or
all; test traffic left out unless asked, see knowledge/report/filters.py), plus guide titles from the
published index, and computes:
outcomes (a clarify or confirm counted as what came of it: knowledge/report/followups.py), per-guide
hits / 好评 / 差评 / handoffs / close calls (answers just above their index version's answer line:
knowledge/report/answer_lines.py), groups of similar unanswered and low-confidence questions
(knowledge/report/grouping.py) and the 建议 (which guides to write or fix).
Nothing here produces HTML (that is knowledge/report/page.py); texts kept in the dataclasses are
masked but not escaped.

Usage::

    from knowledge.report.stats import build_report
    from knowledge.settings import load_settings

    report = build_report(load_settings(), days=30)
    print(report.summary(), report.outcomes.most_common(3))
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.records.store import ANSWERED, NOT_FOUND, OUT_OF_SCOPE, TABLES, UNAVAILABLE, Records, now_on
from knowledge.report.answer_lines import ConfidenceCheck, check_confidence
from knowledge.report.filters import ALL, Filters, channel_of, is_test_sender
from knowledge.report.followups import CLARIFY_UNANSWERED, CONFIRM_UNANSWERED, SETTLED_UNANSWERED, settle
from knowledge.report.grouping import QuestionGroup, chinese_topic_chars, question_groups, shown
from knowledge.settings import Settings
from protocol import DECLINED_ANSWER_COMMENT

# Outcomes counted as "not answered": a clarify or confirm the citizen got no answer from counts too
# (knowledge/report/followups.py); one still open, 是 or 不是 unrecorded, and 追问具体事项 are neither answered nor failed.
NOT_ANSWERED = (NOT_FOUND, OUT_OF_SCOPE, UNAVAILABLE, *SETTLED_UNANSWERED)
# Unanswered outcomes that say the knowledge base may lack a guide (建议新写): all but 知识库暂不可用.
TOPICAL = (NOT_FOUND, OUT_OF_SCOPE, *SETTLED_UNANSWERED)
# 建议: thresholds for "write a guide" and "fix a guide".
MIN_GROUP_TO_WRITE = 2       # an unanswered group asked at least this often
MIN_CHINESE_TO_WRITE = 2     # ... about a topic of at least this many Chinese characters (no emoji, <script>, ' OR 1=1)
MIN_RATINGS = 3              # a 差评 rate means something only with a few ratings
BAD_RATE_TO_FIX = 0.3
MIN_HANDOFFS_TO_FIX = 2
MIN_LOW_CONFIDENCE_TO_FIX = 3


TABLE_NAMES = {"questions": "提问", "feedback": "评价", "handoffs": "转人工"}


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @classmethod
    def last_days(cls, days: int, today: dt.date) -> Period:
        return cls(today - dt.timedelta(days=days - 1), today)

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def contains(self, time: Any) -> bool:
        # Times are local ISO strings ("2026-11-30T10:15:00"): the date is the first ten characters.
        day = str(time or "")[:10]
        return self.start.isoformat() <= day <= self.end.isoformat()


@dataclass
class Selection:
    """The rows the report covers, and what the filters left out of the period (per table)."""

    rows: dict[str, list[dict[str, Any]]]
    # The kept rows after the period: what followed a clarify asked near its end (knowledge/report/followups.py).
    later: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    test_excluded: Counter[str] = field(default_factory=Counter)       # test traffic left out
    channel_excluded: Counter[str] = field(default_factory=Counter)    # other channels' real traffic


def load_rows(records_db: Path, period: Period, filters: Filters | None = None, *, database_url: str = "") -> Selection:
    """The rows of each records table inside `period` that `filters` keep (default: every channel,
    no test traffic); empty lists when the database does not exist yet. `database_url`: PostgreSQL instead."""
    filters = filters or Filters()
    records = Records(records_db, url=database_url)
    selection = Selection({table: [] for table in TABLES}, {table: [] for table in TABLES})
    for table in TABLES:
        for row in records.rows(table):
            if not period.contains(row.get("time")):
                if str(row.get("time") or "")[:10] > period.end.isoformat() and filters.keeps(row):
                    selection.later[table].append(row)
                continue
            if filters.keeps(row):
                selection.rows[table].append(row)
                continue
            if filters.channel in (ALL, channel_of(row.get("sender_id"))):
                selection.test_excluded[table] += 1        # this channel's test traffic
            elif filters.include_test or not is_test_sender(row.get("sender_id")):
                selection.channel_excluded[table] += 1     # the other channels' real traffic
    return selection


def guide_titles(settings: Settings) -> dict[str, str]:
    """Guide id -> title: from the published index, or parsed from the guide files when none is published."""
    from knowledge.index.store import IndexStore

    folder = IndexStore(settings.index_dir).current_folder()
    if folder is not None and (folder / "guides.json").exists():
        try:
            guides = json.loads((folder / "guides.json").read_text(encoding="utf-8"))
            return {guide_id: str(guide.get("title") or guide_id) for guide_id, guide in guides.items()}
        except (OSError, ValueError, AttributeError):
            pass  # fall back to the sources: a report must not fail on a damaged index
    from knowledge.sources.guides import parse_guide

    titles: dict[str, str] = {}
    for path in sorted(settings.guides_dir.glob("*.md")) if settings.guides_dir.is_dir() else []:
        guide, _problems = parse_guide(path)
        if guide is not None:
            titles[guide.id] = guide.title
    return titles


def current_index_version(settings: Settings) -> str | None:
    from knowledge.index.store import IndexStore

    return IndexStore(settings.index_dir).current_version()


# --- the numbers ------------------------------------------------------------------------------------

@dataclass
class GuideStats:
    guide_id: str
    title: str
    hits: int = 0
    low_confidence: int = 0
    good: int = 0
    bad: int = 0
    handoffs: int = 0
    questions: Counter[str] = field(default_factory=Counter)
    comments: list[str] = field(default_factory=list)   # latest 差评 comments, masked

    @property
    def ratings(self) -> int:
        return self.good + self.bad

    @property
    def good_rate(self) -> float | None:
        return self.good / self.ratings if self.ratings else None

    @property
    def bad_rate(self) -> float | None:
        return self.bad / self.ratings if self.ratings else None


@dataclass
class Suggestion:
    kind: str        # "write" | "fix" | "ops"
    subject: str     # a question group's representative or a guide title (masked, not yet escaped)
    reasons: list[str]
    examples: list[str] = field(default_factory=list)


@dataclass
class Report:
    period: Period
    generated_at: dt.datetime
    index_version: str | None
    confidence: ConfidenceCheck  # which answers are listed as low-confidence, on which answer lines
    questions: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    handoffs: list[dict[str, Any]]
    outcomes: Counter[str]
    guides: dict[str, GuideStats]
    unused_guides: list[str]
    unanswered_groups: list[QuestionGroup]
    low_confidence_groups: list[QuestionGroup]
    suggestions: list[Suggestion]
    titles: dict[str, str]
    filters: Filters = field(default_factory=Filters)
    test_excluded: Counter[str] = field(default_factory=Counter)      # rows per table left out as test traffic
    channel_excluded: Counter[str] = field(default_factory=Counter)   # rows per table of the other channels

    @property
    def empty(self) -> bool:
        return not (self.questions or self.feedback or self.handoffs)

    @property
    def answered(self) -> int:
        return self.outcomes[ANSWERED]

    @property
    def not_answered(self) -> int:
        return sum(self.outcomes[outcome] for outcome in NOT_ANSWERED)

    def title(self, guide_id: str | None) -> str:
        if not guide_id:
            return "（未关联指南）"
        return self.titles.get(guide_id) or f"{guide_id}（已不在知识库中）"

    @property
    def period_text(self) -> str:
        """"近 30 天" when the period ends today, else "2026-11-01 至 2026-11-30"."""
        if self.period.end == self.generated_at.date():
            return f"近 {len(self.period.days)} 天"
        return f"{self.period.start.isoformat()} 至 {self.period.end.isoformat()}"

    def covers(self) -> str:
        """Which channel and traffic the numbers cover, and how much test traffic was left out."""
        text = self.filters.describe()
        if self.test_excluded:
            text += "；已排除测试流量：" + "，".join(f"{TABLE_NAMES[t]} {self.test_excluded[t]} 条" for t in TABLES if self.test_excluded[t])
        return text

    def summary(self) -> str:
        """Two lines for the terminal: the numbers, and what they cover."""
        if self.empty:
            return f"{self.period_text}还没有任何记录（提问、评价、转人工均为 0），报告中说明了暂无数据\n{self.covers()}"
        total = len(self.questions)
        good = sum(1 for row in self.feedback if row.get("rating") == "good")
        writes = sum(1 for s in self.suggestions if s.kind == "write")
        fixes = sum(1 for s in self.suggestions if s.kind == "fix")
        settled = sum(self.outcomes[outcome] for outcome in SETTLED_UNANSWERED)
        return (f"{self.period_text}：提问 {total} 次，已回答 {self.answered} 次（{percent(self.answered, total)}），"
                f"未能回答 {self.not_answered} 次" + (f"（含反问或确认后没有得到回答 {settled} 次）" if settled else "") + "；"
                f"好评 {good} / 差评 {len(self.feedback) - good}；"
                f"转人工 {len(self.handoffs)} 次；建议新写 {writes} 项，修改 {fixes} 个指南\n{self.covers()}")

    def channels(self) -> Counter[str]:
        """Questions per channel ("kefu", "telegram", "rest")."""
        return Counter(channel_of(row.get("sender_id")) for row in self.questions)


def percent(part: float, whole: float) -> str:
    """A share as "42%", or "-" when there is nothing to divide by."""
    return f"{100 * part / whole:.0f}%" if whole else "-"


def guide_stats(rows: dict[str, list[dict[str, Any]]], titles: dict[str, str], close_calls: list[dict[str, Any]]) -> dict[str, GuideStats]:
    """Per guide: answered questions that hit it, close calls (answers just above their answer line), 好评/差评 and handoffs."""
    stats: dict[str, GuideStats] = {}

    def of(guide_id: str) -> GuideStats:
        if guide_id not in stats:
            stats[guide_id] = GuideStats(guide_id, titles.get(guide_id) or f"{guide_id}（已不在知识库中）")
        return stats[guide_id]

    for row in rows["questions"]:
        if row.get("outcome") == ANSWERED and row.get("guide_id"):
            guide = of(str(row["guide_id"]))
            guide.hits += 1
            guide.questions[shown(row.get("question"))] += 1
    for row in close_calls:
        if row.get("guide_id"):
            of(str(row["guide_id"])).low_confidence += 1
    for row in rows["feedback"]:
        if row.get("guide_id"):
            guide = of(str(row["guide_id"]))
            if row.get("rating") == "good":
                guide.good += 1
            elif row.get("rating") == "bad":
                guide.bad += 1
                comment = shown(row.get("comment"))
                if comment and comment != DECLINED_ANSWER_COMMENT and comment not in guide.comments:  # newest first, each wording once
                    guide.comments.insert(0, comment)
    for row in rows["handoffs"]:
        if row.get("guide_id"):
            of(str(row["guide_id"])).handoffs += 1
    return stats


def suggestions(unanswered: list[QuestionGroup], guides: dict[str, GuideStats], outcomes: Counter[str]) -> list[Suggestion]:
    """建议: guides to write (frequent unanswered groups), guides to fix (差评, handoffs, close calls)."""
    result: list[Suggestion] = []
    for group in unanswered:
        topical = sum(group.outcomes[outcome] for outcome in TOPICAL)
        if topical < MIN_GROUP_TO_WRITE or chinese_topic_chars(group.representative) < MIN_CHINESE_TO_WRITE:
            continue  # rare, or no Chinese words to write a guide about (emoji, <script>, ' OR 1=1)
        reasons = [f"{topical} 次提问没有找到答案" + (f"（{group.phrasings} 种问法）" if group.phrasings > 1 else "")]
        offered = group.outcomes[CLARIFY_UNANSWERED] + group.outcomes[CONFIRM_UNANSWERED]
        if offered:
            reasons.append(f"其中 {offered} 次是助手反问或确认后用户没有选择、没有得到回答")
        if group.outcomes[OUT_OF_SCOPE] > group.outcomes[NOT_FOUND]:
            reasons.append("多数被判为超出服务范围：如属本中心业务，建议编写指南，否则可以忽略")
        else:
            reasons.append("建议编写新指南；如已有相近指南，把这些问法加入它的 aliases 或 questions")
        result.append(Suggestion("write", group.representative, reasons, [text for text, _ in group.examples[1:4]]))
    for guide in sorted(guides.values(), key=lambda g: (-(g.bad + g.handoffs), -g.low_confidence, g.title)):
        reasons = []
        if guide.ratings >= MIN_RATINGS and (guide.bad_rate or 0) >= BAD_RATE_TO_FIX:
            reasons.append(f"差评率 {percent(guide.bad, guide.ratings)}（{guide.ratings} 次评价中 {guide.bad} 次差评）：核对内容是否过时、缺项")
        if guide.handoffs >= MIN_HANDOFFS_TO_FIX:
            reasons.append(f"看完回答后转人工或投诉 {guide.handoffs} 次：看看用户还缺什么信息")
        if guide.low_confidence >= MIN_LOW_CONFIDENCE_TO_FIX:
            reasons.append(f"{guide.low_confidence} 次回答的把握只比回答线高一点：用户的说法与指南措辞差距大，建议补充 aliases 或 questions")
        if reasons:
            result.append(Suggestion("fix", guide.title, reasons, guide.comments[:3]))
    if outcomes[UNAVAILABLE]:
        result.append(Suggestion("ops", "知识库暂不可用", [
            f"{outcomes[UNAVAILABLE]} 次提问因知识库不可用没有回答：检查索引是否已发布（index_builder.py status）、动作服务器日志"]))
    return result


def build_report(settings: Settings, days: int = 30, now: dt.datetime | None = None, *, period: Period | None = None,
                 filters: Filters | None = None) -> Report:
    """Read the records of `period` (default: the last `days` days, today included) that `filters` keep
    (default: every channel, no test traffic) and compute everything the page shows."""
    now = now or now_on(settings.staff_timezone)  # the clock records are stamped on (knowledge/records/store.py)
    period = period or Period.last_days(days, now.date())
    filters = filters or Filters()
    selection = load_rows(settings.records_db, period, filters, database_url=settings.database_url)
    titles = guide_titles(settings)
    # A clarify or confirm counts as what came of it: answered once with its pick, or not answered.
    rows = {**selection.rows, "questions": settle(selection.rows, selection.later, titles, now)}
    # Each answer read against the line its own index version answers at, not one number for every knowledge base.
    check = check_confidence(rows["questions"], settings.index_dir, settings.report_low_confidence_odds)
    outcomes = Counter(str(row.get("outcome")) for row in rows["questions"])
    guides = guide_stats(rows, titles, check.low)
    unanswered = question_groups([row for row in rows["questions"] if row.get("outcome") in NOT_ANSWERED])
    return Report(
        period=period, generated_at=now, index_version=current_index_version(settings), confidence=check,
        questions=rows["questions"], feedback=rows["feedback"], handoffs=rows["handoffs"], outcomes=outcomes, guides=guides,
        unused_guides=sorted((t for g, t in titles.items() if g not in guides), key=str),
        unanswered_groups=unanswered, low_confidence_groups=question_groups(check.low),
        suggestions=suggestions(unanswered, guides, outcomes), titles=titles,
        filters=filters, test_excluded=selection.test_excluded, channel_excluded=selection.channel_excluded,
    )
