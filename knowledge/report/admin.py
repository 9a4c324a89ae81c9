"""The admin report: one self-contained HTML page about how the assistant served people.

It reads the question log, feedback ratings and handoff records (knowledge/records/store.py, settings.records_db)
for the last N days and shows: questions per day, answered versus not answered, 好评/差评 per guide,
handoffs, the most frequent unanswered and low-confidence questions grouped by similarity, the
questions that hit each guide, and a short 建议 section (which guides to write, which to fix).

Everything users typed is masked again here (knowledge/records/privacy.py) and HTML-escaped; sender ids are
never shown. Charts are SVG embedded as data: URIs and the page carries a Content-Security-Policy
that forbids loading anything, so it can be mailed or archived as a single file.

Usage::

    from knowledge.report.admin import write_report
    from knowledge.settings import load_settings

    path, report = write_report(load_settings(), days=30)
    print(path, report.summary())

or from the shell: ``python3 index_builder.py report --days 30``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from knowledge.records.privacy import mask_personal_data
from knowledge.records.store import ANSWERED, ASKED_ITEM, CLARIFIED, NOT_FOUND, OUT_OF_SCOPE, TABLES, UNAVAILABLE, Records
from knowledge.report.charts import Series, data_uri, stacked_bars, stacked_columns
from knowledge.retrieval.aspects import strip_aspect_words
from knowledge.settings import Settings

NOT_ANSWERED = (NOT_FOUND, OUT_OF_SCOPE, UNAVAILABLE)
OUTCOME_NAMES = {ANSWERED: "已回答", CLARIFIED: "反问澄清（有歧义）", ASKED_ITEM: "追问具体事项",
                 NOT_FOUND: "没有找到答案", OUT_OF_SCOPE: "超出服务范围", UNAVAILABLE: "知识库暂不可用"}
REASON_NAMES = {"request_human": "要求转人工", "complain": "投诉"}
COLORS = {"answered": "#2e7d32", "asked": "#f9a825", "unanswered": "#c62828", "good": "#2e7d32", "bad": "#c62828",
          "request_human": "#1565c0", "complain": "#8e24aa", "other": "#757575", "low": "#ef6c00"}

# Grouping: two questions belong together when the cosine of their character 1-2-gram TF-IDF vectors
# (topic words only, see normalise) reaches this. On the 288 deliberately varied questions about 36
# guides in tests/data/questions.yml: at 0.45 one question lands in another guide's group (0.40: 5,
# 0.35: 10); repeated real-world phrasings ("狗证怎么办理" / "办狗证去哪里") score far higher.
SIMILARITY = 0.45
MAX_DISTINCT = 3000          # distinct questions vectorised; rarer ones beyond this stay single
# 建议: thresholds for "write a guide" and "fix a guide".
MIN_GROUP_TO_WRITE = 2       # an unanswered group asked at least this often
MIN_RATINGS = 3              # a 差评 rate means something only with a few ratings
BAD_RATE_TO_FIX = 0.3
MIN_HANDOFFS_TO_FIX = 2
MIN_LOW_CONFIDENCE_TO_FIX = 3
LATEST_HANDOFFS = 5
MAX_TEXT = 200               # characters of a question shown (messages are capped at 2000 anyway)

# Question words that carry no topic: removed before comparing questions, so "养狗要办什么证" and
# "狗证怎么办理" are compared on 养狗/狗证, not on 什么/怎么.
_FILLER = re.compile("|".join(sorted((
    "请问", "你好", "您好", "我想", "我要", "想要", "想问", "问一下", "咨询一下", "怎么样", "怎么办理", "怎么办", "怎么", "怎样",
    "如何", "什么", "啥", "哪里", "哪儿", "哪个", "哪些", "多少", "需要", "可以", "能不能", "能否", "是否", "是不是", "有没有",
    "要不要", "一下", "办理", "办", "吗", "呢", "啊", "呀", "吧", "哦", "嘛", "的", "了", "么", "能", "要", "我", "去", "在",
), key=len, reverse=True)))
_BEFORE_ASPECTS = re.compile("办理|哪里|哪儿")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")


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


def load_rows(records_db: Path, period: Period) -> dict[str, list[dict[str, Any]]]:
    """The rows of each records table inside `period`; empty lists when the database does not exist yet."""
    records = Records(records_db)
    return {table: [row for row in records.rows(table) if period.contains(row.get("time"))] for table in TABLES}


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


def low_confidence_threshold(settings: Settings) -> float:
    """Answers whose calibrated probability of being right is below this are worth a spot check."""
    return round(settings.report_low_confidence, 4)


# --- grouping similar questions ---------------------------------------------------------------------

def shown(text: Any) -> str:
    """A user text as the report may show it: masked again, whitespace collapsed, cut to MAX_TEXT."""
    cleaned = " ".join(mask_personal_data(str(text or "")).split())
    return cleaned if len(cleaned) <= MAX_TEXT else cleaned[:MAX_TEXT] + "…"


def normalise(question: str) -> str:
    """The topic of a question: without aspect words (材料, 多久, 去哪…: "what to bring" and "where" about the
    same service belong together), filler, punctuation and digits; full-width folded, lower case."""
    text = unicodedata.normalize("NFKC", mask_personal_data(question or ""))[:MAX_TEXT]
    text = _NOT_WORD.sub("", text.lower())
    text = re.sub(r"\d+", "", text)  # masked numbers and dates say nothing about the topic
    # 办理 and 哪里 go first, or the aspect words 怎么办 and 去哪 would leave 理 and 里 behind;
    # the filler goes after the aspect words, or 带什么 would lose 什么 and stay unrecognised.
    return _FILLER.sub("", strip_aspect_words(_BEFORE_ASPECTS.sub("", text))) or text


def char_ngrams(text: str) -> list[str]:
    """Character unigrams and bigrams: Chinese needs no word segmentation for this, and typos cost little."""
    return list(text) + [text[i:i + 2] for i in range(len(text) - 1)]


def tfidf_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """Rows are L2-normalised TF-IDF vectors of `texts` over character 1-2-grams (smooth IDF)."""
    vocabulary: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for row, text in enumerate(texts):
        for gram, count in Counter(char_ngrams(text)).items():
            rows.append(row)
            cols.append(vocabulary.setdefault(gram, len(vocabulary)))
            counts.append(count)
    matrix = sparse.csr_matrix((np.asarray(counts, dtype=np.float32), (rows, cols)), shape=(len(texts), max(1, len(vocabulary))))
    document_frequency = np.bincount(cols, minlength=matrix.shape[1]).astype(np.float32)
    idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1
    matrix = matrix @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.csr_matrix(sparse.diags(1 / norms) @ matrix)


def group_similar(texts: Sequence[str], threshold: float = SIMILARITY) -> list[list[int]]:
    """Indices of `texts` grouped by similarity, largest group first.

    Identical questions (after normalise) count together. Then greedy leader clustering: the most
    frequent question not yet grouped leads a new group and takes every ungrouped question whose
    cosine with it reaches `threshold`. Deterministic and explainable ("similar to the first one").
    """
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, text in enumerate(texts):
        by_key[normalise(text)].append(index)
    keys = sorted(by_key, key=lambda key: (-len(by_key[key]), by_key[key][0]))
    vectorised, rest = keys[:MAX_DISTINCT], keys[MAX_DISTINCT:]
    matrix = tfidf_matrix(vectorised)
    grouped = np.zeros(len(vectorised), dtype=bool)
    groups: list[list[int]] = []
    for leader in range(len(vectorised)):
        if grouped[leader]:
            continue
        similarity = (matrix[leader] @ matrix.T).toarray().ravel()
        members = np.flatnonzero(~grouped & (similarity >= threshold))
        if not vectorised[leader]:  # nothing left after normalising ("？？"): only exact equals
            members = np.asarray([leader])
        members = np.union1d(members, [leader])
        grouped[members] = True
        groups.append(sorted(index for member in members for index in by_key[vectorised[member]]))
    groups.extend(by_key[key] for key in rest)
    return sorted(groups, key=lambda group: (-len(group), group[0]))


@dataclass
class QuestionGroup:
    """Similar questions: how often, the common phrasings, and what became of them."""

    count: int
    examples: list[tuple[str, int]]     # (masked question, times asked), most frequent first
    phrasings: int                      # distinct wordings in the group
    outcomes: Counter[str]
    guides: Counter[str]
    last_time: str
    mean_confidence: float | None = None

    @property
    def representative(self) -> str:
        return self.examples[0][0] if self.examples else ""


def question_groups(rows: Sequence[dict[str, Any]], threshold: float = SIMILARITY, examples: int = 5) -> list[QuestionGroup]:
    """Question-log rows grouped by similar wording (see group_similar)."""
    result = []
    for members in group_similar([str(row.get("question") or "") for row in rows], threshold):
        chosen = [rows[i] for i in members]
        phrasings = Counter(shown(row.get("question")) for row in chosen)
        confidences = [c for c in (_confidence(row) for row in chosen) if c is not None]
        result.append(QuestionGroup(
            count=len(chosen), examples=phrasings.most_common(examples), phrasings=len(phrasings),
            outcomes=Counter(str(row.get("outcome")) for row in chosen),
            guides=Counter(str(row["guide_id"]) for row in chosen if row.get("guide_id")),
            last_time=max(str(row.get("time") or "") for row in chosen),
            mean_confidence=sum(confidences) / len(confidences) if confidences else None,
        ))
    return result


def _confidence(row: dict[str, Any]) -> float | None:
    try:
        value = float(row.get("confidence"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


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
    low_confidence_below: float
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

    def summary(self) -> str:
        """One line for the terminal."""
        days = len(self.period.days)
        if self.empty:
            return f"近 {days} 天还没有任何记录（提问、评价、转人工均为 0），报告中说明了暂无数据"
        total = len(self.questions)
        good = sum(1 for row in self.feedback if row.get("rating") == "good")
        writes = sum(1 for s in self.suggestions if s.kind == "write")
        fixes = sum(1 for s in self.suggestions if s.kind == "fix")
        return (f"近 {days} 天：提问 {total} 次，已回答 {self.answered} 次（{_percent(self.answered, total)}），"
                f"未能回答 {self.not_answered} 次；好评 {good} / 差评 {len(self.feedback) - good}；"
                f"转人工 {len(self.handoffs)} 次；建议新写 {writes} 项，修改 {fixes} 个指南")


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def guide_stats(rows: dict[str, list[dict[str, Any]]], titles: dict[str, str], low_below: float) -> dict[str, GuideStats]:
    """Per guide: answered questions that hit it, close calls, 好评/差评 and handoffs."""
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
            confidence = _confidence(row)
            if confidence is not None and confidence < low_below:
                guide.low_confidence += 1
    for row in rows["feedback"]:
        if row.get("guide_id"):
            guide = of(str(row["guide_id"]))
            if row.get("rating") == "good":
                guide.good += 1
            elif row.get("rating") == "bad":
                guide.bad += 1
                comment = shown(row.get("comment"))
                if comment and comment not in guide.comments:  # newest first, each wording once
                    guide.comments.insert(0, comment)
    for row in rows["handoffs"]:
        if row.get("guide_id"):
            of(str(row["guide_id"])).handoffs += 1
    return stats


def suggestions(unanswered: list[QuestionGroup], guides: dict[str, GuideStats], outcomes: Counter[str]) -> list[Suggestion]:
    """建议: guides to write (frequent unanswered groups), guides to fix (差评, handoffs, close calls)."""
    result: list[Suggestion] = []
    for group in unanswered:
        topical = group.outcomes[NOT_FOUND] + group.outcomes[OUT_OF_SCOPE]
        if topical < MIN_GROUP_TO_WRITE:
            continue
        reasons = [f"{topical} 次提问没有找到答案" + (f"（{group.phrasings} 种问法）" if group.phrasings > 1 else "")]
        if group.outcomes[OUT_OF_SCOPE] > group.outcomes[NOT_FOUND]:
            reasons.append("多数被判为超出服务范围：如属本中心业务，建议编写指南，否则可以忽略")
        else:
            reasons.append("建议编写新指南；如已有相近指南，把这些问法加入它的 aliases 或 questions")
        result.append(Suggestion("write", group.representative, reasons, [text for text, _ in group.examples[1:4]]))
    for guide in sorted(guides.values(), key=lambda g: (-(g.bad + g.handoffs), -g.low_confidence, g.title)):
        reasons = []
        if guide.ratings >= MIN_RATINGS and (guide.bad_rate or 0) >= BAD_RATE_TO_FIX:
            reasons.append(f"差评率 {_percent(guide.bad, guide.ratings)}（{guide.ratings} 次评价中 {guide.bad} 次差评）：核对内容是否过时、缺项")
        if guide.handoffs >= MIN_HANDOFFS_TO_FIX:
            reasons.append(f"看完回答后转人工或投诉 {guide.handoffs} 次：看看用户还缺什么信息")
        if guide.low_confidence >= MIN_LOW_CONFIDENCE_TO_FIX:
            reasons.append(f"{guide.low_confidence} 次回答置信度偏低：用户的说法与指南措辞差距大，建议补充 aliases 或 questions")
        if reasons:
            result.append(Suggestion("fix", guide.title, reasons, guide.comments[:3]))
    if outcomes[UNAVAILABLE]:
        result.append(Suggestion("ops", "知识库暂不可用", [
            f"{outcomes[UNAVAILABLE]} 次提问因知识库不可用没有回答：检查索引是否已发布（index_builder.py status）、动作服务器日志"]))
    return result


def build_report(settings: Settings, days: int = 30, now: dt.datetime | None = None) -> Report:
    """Read the records of the last `days` days (today included) and compute everything the page shows."""
    now = now or dt.datetime.now()
    period = Period.last_days(days, now.date())
    rows = load_rows(settings.records_db, period)
    titles = guide_titles(settings)
    low_below = low_confidence_threshold(settings)
    outcomes = Counter(str(row.get("outcome")) for row in rows["questions"])
    guides = guide_stats(rows, titles, low_below)
    unanswered = question_groups([row for row in rows["questions"] if row.get("outcome") in NOT_ANSWERED])
    close_calls = [row for row in rows["questions"]
                   if row.get("outcome") == ANSWERED and (c := _confidence(row)) is not None and c < low_below]
    return Report(
        period=period, generated_at=now, index_version=current_index_version(settings), low_confidence_below=low_below,
        questions=rows["questions"], feedback=rows["feedback"], handoffs=rows["handoffs"], outcomes=outcomes, guides=guides,
        unused_guides=sorted((t for g, t in titles.items() if g not in guides), key=str),
        unanswered_groups=unanswered, low_confidence_groups=question_groups(close_calls),
        suggestions=suggestions(unanswered, guides, outcomes), titles=titles,
    )


# --- HTML -------------------------------------------------------------------------------------------

class Safe(str):
    """Markup built here from escaped parts; every other cell text is masked and escaped."""


def esc(value: Any) -> str:
    """Any text that may come from users or files: masked again, then HTML-escaped."""
    if isinstance(value, Safe):
        return value
    return html.escape(mask_personal_data(str(value)), quote=True)


def plain(value: Any) -> Safe:
    """System text (dates, versions, counts): escaped but not masked, since a version such as
    20261130-101500-ab12 looks like a long number to the masking rules."""
    return Safe(html.escape(str(value), quote=True))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = ()) -> Safe:
    right = set(numeric)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in right else ""}>{esc(cell)}</td>' for i, cell in enumerate(row)) + "</tr>"
                   for row in rows)
    return Safe(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def chart(svg: str, alt: str) -> Safe:
    return Safe(f'<figure><img src="{data_uri(svg)}" alt="{esc(alt)}"></figure>')


def section(anchor: str, heading: str, *parts: str) -> Safe:
    return Safe(f'<section id="{anchor}"><h2>{esc(heading)}</h2>' + "".join(parts) + "</section>")


def paragraph(text: Any, css: str = "") -> Safe:
    return Safe(f"<p{f' class={css}' if css else ''}>{esc(text)}</p>")


def _day_label(day: dt.date) -> str:
    return day.strftime("%m-%d")


def _by_day(rows: Sequence[dict[str, Any]], key: Any = None) -> dict[str, Counter[str]]:
    """Date (ISO) -> counts by key(row) (a single bucket "all" without a key)."""
    result: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        result[str(row.get("time") or "")[:10]][key(row) if key else "all"] += 1
    return result


def render_summary(report: Report) -> Safe:
    total = len(report.questions)
    good = sum(1 for row in report.feedback if row.get("rating") == "good")
    bad = sum(1 for row in report.feedback if row.get("rating") == "bad")
    asked = report.outcomes[CLARIFIED] + report.outcomes[ASKED_ITEM]
    cards = [("提问", total, ""), ("已回答", report.answered, _percent(report.answered, total)),
             ("反问 / 追问", asked, _percent(asked, total)), ("未能回答", report.not_answered, _percent(report.not_answered, total)),
             ("好评", good, _percent(good, good + bad)), ("差评", bad, _percent(bad, good + bad)),
             ("转人工 / 投诉", len(report.handoffs), ""),
             ("提问用户", len({row.get("sender_id") for row in report.questions}), "")]
    return Safe('<div class="cards">' + "".join(
        f'<div class="card"><div class="value">{value}</div><div class="label">{esc(label)}</div>'
        f'<div class="rate">{esc(rate)}</div></div>' for label, value, rate in cards) + "</div>")


def render_suggestions(report: Report) -> Safe:
    if not report.suggestions:
        return section("suggestions", "建议", paragraph("本期没有需要特别处理的指南：没有反复出现的未回答问题，差评和转人工也不集中。"))
    names = {"write": "建议新写指南", "fix": "建议修改指南", "ops": "运行问题"}
    parts = []
    for kind in ("write", "fix", "ops"):
        items = [s for s in report.suggestions if s.kind == kind]
        if not items:
            continue
        entries = []
        for item in items[:10]:
            examples = f'<div class="examples">例：{"；".join(esc(e) for e in item.examples)}</div>' if item.examples else ""
            entries.append(f"<li><strong>{esc(item.subject)}</strong>：{'；'.join(esc(r) for r in item.reasons)}{examples}</li>")
        more = f"<p class=note>另有 {len(items) - 10} 项，见下文。</p>" if len(items) > 10 else ""
        parts.append(f"<h3>{esc(names[kind])}（{len(items)}）</h3><ul>{''.join(entries)}</ul>{more}")
    return section("suggestions", "建议", *parts)


def render_daily(report: Report) -> Safe:
    counts = _by_day(report.questions, lambda row: (
        "answered" if row.get("outcome") == ANSWERED else "unanswered" if row.get("outcome") in NOT_ANSWERED else "asked"))
    days = [d.isoformat() for d in report.period.days]
    series = [Series("已回答", [counts[d]["answered"] for d in days], COLORS["answered"]),
              Series("反问 / 追问", [counts[d]["asked"] for d in days], COLORS["asked"]),
              Series("未能回答", [counts[d]["unanswered"] for d in days], COLORS["unanswered"])]
    svg = stacked_columns([_day_label(d) for d in report.period.days], series, title="每日提问量")
    rows = [(d, sum(counts[d].values()), counts[d]["answered"], counts[d]["asked"], counts[d]["unanswered"]) for d in days if counts[d]]
    return section("daily", "每日提问量", chart(svg, "每日提问量柱状图：已回答、反问或追问、未能回答"),
                   Safe("<details><summary>按日明细</summary>"), table(["日期", "提问", "已回答", "反问 / 追问", "未能回答"], rows, (1, 2, 3, 4)),
                   Safe("</details>"))


def render_outcomes(report: Report) -> Safe:
    total = len(report.questions)
    order = [ANSWERED, CLARIFIED, ASKED_ITEM, NOT_FOUND, OUT_OF_SCOPE, UNAVAILABLE]
    order += sorted(o for o in report.outcomes if o not in order)
    labels = [OUTCOME_NAMES.get(o, o) for o in order]
    kinds = [("已回答", "answered", (ANSWERED,)), ("反问 / 追问", "asked", (CLARIFIED, ASKED_ITEM)),
             ("未能回答", "unanswered", NOT_ANSWERED)]
    series = [Series(name, [report.outcomes[o] if o in members else 0 for o in order], COLORS[color]) for name, color, members in kinds]
    svg = stacked_bars(labels, series, title="回答情况")
    rows = [(OUTCOME_NAMES.get(o, o), "已回答" if o == ANSWERED else "未能回答" if o in NOT_ANSWERED else "单独统计",
             report.outcomes[o], _percent(report.outcomes[o], total)) for o in order]
    return section("outcomes", "已回答与未能回答", chart(svg, "各类结果的提问次数"),
                   table(["结果", "归类", "次数", "占比"], rows, (2, 3)),
                   paragraph("已回答 = 给出了指南内容；未能回答 = 没有找到答案、超出服务范围、知识库暂不可用；"
                             "反问澄清和追问具体事项单独统计（对话还在进行，不算回答也不算失败）。", "note"))


def render_feedback(report: Report) -> Safe:
    rated = sorted((g for g in report.guides.values() if g.ratings), key=lambda g: (-g.bad, -g.ratings, g.title))
    unlinked = [row for row in report.feedback if not row.get("guide_id")]
    if not rated and not unlinked:
        return section("feedback", "好评 / 差评（按指南）", paragraph("本期没有收到评价。", "note"))
    top = rated[:15]
    svg = stacked_bars([g.title for g in top], [Series("好评", [g.good for g in top], COLORS["good"]),
                                               Series("差评", [g.bad for g in top], COLORS["bad"])], title="各指南评价（差评多的在前）")
    rows = [(g.title, g.good, g.bad, g.ratings, _percent(g.good, g.ratings), _percent(g.bad, g.ratings),
             "；".join(g.comments[:3]) or "-") for g in rated]
    if unlinked:
        good = sum(1 for row in unlinked if row.get("rating") == "good")
        rows.append(("（未关联指南）", good, len(unlinked) - good, len(unlinked), _percent(good, len(unlinked)),
                     _percent(len(unlinked) - good, len(unlinked)), "-"))
    return section("feedback", "好评 / 差评（按指南）", chart(svg, "各指南好评和差评次数") if top else "",
                   table(["指南", "好评", "差评", "评价数", "好评率", "差评率", "最近的差评意见"], rows, (1, 2, 3, 4, 5)))


def _transcript(raw: Any, last: int = 6) -> list[tuple[str, str]]:
    try:
        lines = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    if not isinstance(lines, list):
        return []
    return [("用户" if line.get("from") == "user" else "助手", shown(line.get("text"))) for line in lines[-last:] if isinstance(line, dict)]


def render_handoffs(report: Report) -> Safe:
    if not report.handoffs:
        return section("handoffs", "转人工与投诉", paragraph("本期没有转人工或投诉。", "note"))
    reasons = sorted({str(row.get("reason")) for row in report.handoffs}, key=lambda r: (r not in REASON_NAMES, r))
    counts = _by_day(report.handoffs, lambda row: str(row.get("reason")))
    days = [d.isoformat() for d in report.period.days]
    svg = stacked_columns([_day_label(d) for d in report.period.days],
                          [Series(REASON_NAMES.get(r, r), [counts[d][r] for d in days], COLORS.get(r, COLORS["other"])) for r in reasons],
                          title="每日转人工 / 投诉")
    by_reason = Counter(str(row.get("reason")) for row in report.handoffs)
    by_guide = Counter(report.title(row.get("guide_id")) for row in report.handoffs)
    latest = []
    for row in sorted(report.handoffs, key=lambda r: str(r.get("time")), reverse=True)[:LATEST_HANDOFFS]:
        lines = "".join(f"<li><b>{esc(who)}</b>：{esc(text)}</li>" for who, text in _transcript(row.get("transcript")))
        dialog = Safe(f"<details><summary>最近的对话</summary><ul class=dialog>{lines}</ul></details>") if lines else "-"
        latest.append((plain(str(row.get("time") or "").replace("T", " ")), REASON_NAMES.get(str(row.get("reason")), str(row.get("reason"))),
                       report.title(row.get("guide_id")), shown(row.get("question")) or "-", dialog))
    return section("handoffs", "转人工与投诉", chart(svg, "每日转人工和投诉次数"),
                   Safe('<div class="two">'), table(["原因", "次数"], [(REASON_NAMES.get(r, r), by_reason[r]) for r in reasons], (1,)),
                   table(["指南", "次数"], by_guide.most_common(), (1,)), Safe("</div><h3>最近的记录</h3>"),
                   table(["时间", "原因", "指南", "问题", "对话"], latest))


def _group_rows(groups: Sequence[QuestionGroup], report: Report, with_guides: bool) -> list[tuple[Any, ...]]:
    rows = []
    for rank, group in enumerate(groups, start=1):
        examples = Safe("<br>".join(f"{esc(text)}" + (f" <span class=times>×{times}</span>" if times > 1 else "")
                                    for text, times in group.examples))
        if with_guides:
            where = "、".join(report.title(g) for g, _ in group.guides.most_common(3)) or "-"
            extra: Any = f"{group.mean_confidence:.2f}" if group.mean_confidence is not None else "-"
        else:
            where = "、".join(f"{OUTCOME_NAMES.get(o, o)} {n}" for o, n in group.outcomes.most_common())
            extra = group.last_time[:10]
        rows.append((rank, group.count, examples, where, extra))
    return rows


def render_groups(anchor: str, heading: str, groups: list[QuestionGroup], report: Report, *, with_guides: bool,
                  explanation: str, limit: int = 20) -> Safe:
    if not groups:
        return section(anchor, heading, paragraph("本期没有这类问题。", "note"), paragraph(explanation, "note"))
    top = groups[:10]
    svg = stacked_bars([g.representative for g in top], [Series("提问次数", [g.count for g in top],
                                                                 COLORS["low" if with_guides else "unanswered"])], title=heading)
    headers = ["#", "次数", "问法（相似的归为一组）", "回答的指南" if with_guides else "结果", "平均置信度" if with_guides else "最近一次"]
    more = paragraph(f"共 {len(groups)} 组，只列出最多的 {limit} 组。", "note") if len(groups) > limit else ""
    return section(anchor, heading, chart(svg, heading + "：每组提问次数"), table(headers, _group_rows(groups[:limit], report, with_guides), (1,)),
                   more, paragraph(explanation, "note"))


def render_guides(report: Report) -> Safe:
    hit = sorted((g for g in report.guides.values() if g.hits), key=lambda g: (-g.hits, g.title))
    parts = []
    for guide in hit:
        items = "".join(f"<li>{esc(text)}" + (f" <span class=times>×{times}</span>" if times > 1 else "") + "</li>"
                        for text, times in guide.questions.most_common(10))
        more = f"<p class=note>另有 {len(guide.questions) - 10} 种问法。</p>" if len(guide.questions) > 10 else ""
        facts = (f"回答 {guide.hits} 次 · 低置信度 {guide.low_confidence} 次 · 好评 {guide.good} · 差评 {guide.bad} · 转人工 {guide.handoffs}")
        parts.append(f"<details><summary><strong>{esc(guide.title)}</strong> <span class=note>{esc(facts)}</span></summary>"
                     f"<ol>{items}</ol>{more}</details>")
    if not parts:
        parts.append(paragraph("本期没有回答过任何指南。", "note"))
    if report.unused_guides:
        parts.append(paragraph(f"本期没有被问到的指南（{len(report.unused_guides)} 个）：" + "、".join(report.unused_guides), "note"))
    return section("guides", "各指南命中的问题", *parts)


STYLE = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#222;background:#f5f6f8;margin:0}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;border-left:4px solid #1565c0;padding-left:8px;margin-top:0}
h3{font-size:15px;margin:16px 0 6px}
section{background:#fff;border-radius:6px;padding:16px 20px;margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
nav a{margin-right:12px;color:#1565c0;text-decoration:none}
.meta,.note{color:#666;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.card{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .value{font-size:24px;font-weight:bold}.card .label{color:#555}.card .rate{color:#888;font-size:13px;min-height:1em}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #e5e5e5;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#fafafa}td.num{text-align:right;white-space:nowrap}
figure{margin:0;overflow-x:auto}img{max-width:100%;height:auto}
.two{display:grid;grid-template-columns:1fr 2fr;gap:16px}
.times{color:#888}.examples{color:#666;font-size:13px}ul.dialog{margin:4px 0;padding-left:18px}
.empty{font-size:16px;color:#555}
"""

SECTIONS = [("suggestions", "建议"), ("daily", "每日提问量"), ("outcomes", "回答情况"), ("feedback", "好评/差评"),
            ("handoffs", "转人工"), ("unanswered", "未能回答的问题"), ("low-confidence", "低置信度回答"), ("guides", "各指南的问题")]


def render_html(report: Report) -> str:
    period = f"{report.period.start.isoformat()} 至 {report.period.end.isoformat()}"
    meta = (f"统计期间：{period}（近 {len(report.period.days)} 天）· 生成于 {report.generated_at.strftime('%Y-%m-%d %H:%M')}"
            f" · 当前索引版本：{report.index_version or '未发布'} · 用户输入中的身份证号、手机号、银行卡号均已脱敏")
    if report.empty:
        body = [render_summary(report), section("empty", "暂无数据", paragraph(
            "统计期间还没有任何记录（提问、评价、转人工都为 0）。助手上线并有人使用后，再运行 python3 index_builder.py report。", "empty"))]
    else:
        body = [Safe("<nav>" + "".join(f'<a href="#{anchor}">{esc(name)}</a>' for anchor, name in SECTIONS) + "</nav>"),
                render_summary(report), render_suggestions(report), render_daily(report), render_outcomes(report),
                render_feedback(report), render_handoffs(report),
                render_groups("unanswered", "最常见的未能回答的问题", report.unanswered_groups, report, with_guides=False,
                              explanation=f"结果为没有找到答案、超出服务范围或知识库暂不可用的提问，按字面相似度分组"
                                          f"（字符 1-2 元组 TF-IDF 余弦相似度 ≥ {SIMILARITY}，每组以最常见的问法为代表）。"),
                render_groups("low-confidence", "低置信度的回答", report.low_confidence_groups, report, with_guides=True,
                              explanation=f"已回答但置信度低于 {report.low_confidence_below:.2f}"
                                          "（settings.yml 的 report_low_confidence，把握是校准后的答对概率）的提问："
                                          "回答可能不对，值得抽查；同样按相似度分组。"),
                render_guides(report)]
    title = f"政务服务智能问答运行报告 {period}"
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{plain(title)}</title><style>{STYLE}</style></head><body><main>"
            f"<h1>政务服务智能问答 · 运行报告</h1><p class=meta>{plain(meta)}</p>" + "".join(body) + "</main></body></html>\n")


def default_path(settings: Settings, today: dt.date) -> Path:
    return settings.reports_dir / f"admin-report-{today.isoformat()}.html"


def write_report(settings: Settings, days: int = 30, out: Path | None = None, now: dt.datetime | None = None) -> tuple[Path, Report]:
    """Build the report and write it atomically (a reader never sees half a page); returns (path, report)."""
    report = build_report(settings, days, now)
    path = out or default_path(settings, report.generated_at.date())
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".admin-report-", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(render_html(report))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path, report
