"""The admin report's HTML page: renders a Report (knowledge/report/stats.py) into one self-contained file.

Everything users typed is masked again here (knowledge/records/privacy.py) and HTML-escaped; sender
ids are never shown. Charts are SVG from knowledge/report/charts.py embedded as data: URIs, and the
page carries a Content-Security-Policy that forbids loading anything, so it can be mailed or archived
as a single file. (Named page.py rather than html.py so it does not shadow the standard library's
html module, which it uses for escaping.)

Usage::

    from knowledge.report.page import render_html
    from knowledge.report.stats import build_report
    from knowledge.settings import load_settings

    page = render_html(build_report(load_settings(), days=30))   # a complete <!DOCTYPE html> document
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from knowledge.records.privacy import mask_personal_data
from knowledge.records.store import ANSWERED, ASKED_ITEM, CLARIFIED, NOT_FOUND, OUT_OF_SCOPE, TABLES, UNAVAILABLE
from knowledge.report.charts import Series, data_uri, stacked_bars, stacked_columns
from knowledge.report.filters import ALL, CHANNEL_NAMES, KEFU, REST, TELEGRAM
from knowledge.report.followups import CLARIFY_UNANSWERED, CONFIRM_UNANSWERED, CONFIRM_UNKNOWN
from knowledge.report.grouping import SIMILARITY, QuestionGroup, shown
from knowledge.report.stats import NOT_ANSWERED, TABLE_NAMES, Report, percent
from protocol import REASON_COMPLAIN, REASON_REQUEST_HUMAN

OUTCOME_NAMES = {ANSWERED: "已回答", CLARIFIED: "反问澄清（对话进行中）", ASKED_ITEM: "追问具体事项",
                 CONFIRM_UNKNOWN: "确认后未记录“是/不是”", NOT_FOUND: "没有找到答案", OUT_OF_SCOPE: "超出服务范围",
                 CLARIFY_UNANSWERED: "反问后未选择", CONFIRM_UNANSWERED: "确认后未回答", UNAVAILABLE: "知识库暂不可用"}
# Neither answered nor not answered: the conversation goes on, or the records cannot tell (followups.py).
SEPARATE = (CLARIFIED, ASKED_ITEM, CONFIRM_UNKNOWN)
# How a clarify or confirm is counted (knowledge/report/followups.py), in the admin's words (the README should say the same).
FOLLOWUP_RULE = ("反问澄清（列出几个事项请用户选）或确认（“您问的是【X】…吗？”）之后，用户选了事项或回答“是”并得到回答的，"
                 "连同那次回答只算一次“已回答”；用户一个也没选（接着问了别的、转人工、没有再回复，或说“不是”后没有再选）的，"
                 "计为“未能回答”，列入未能回答的问题并参与“建议新写”；较早的记录里“是/不是”本身没有记下，"
                 "那时的确认若既看不出“是”也看不出“不是”，单独统计。")
REASON_NAMES = {REASON_REQUEST_HUMAN: "要求转人工", REASON_COMPLAIN: "投诉"}  # protocol.HANDOFF_REASONS, in the report's words
COLORS = {"answered": "#2e7d32", "asked": "#f9a825", "unanswered": "#c62828", "good": "#2e7d32", "bad": "#c62828",
          REASON_REQUEST_HUMAN: "#1565c0", REASON_COMPLAIN: "#8e24aa", "other": "#757575", "low": "#ef6c00"}
LATEST_HANDOFFS = 5          # handoffs listed with their dialog: enough to see a pattern, short enough to read


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
    asked = sum(report.outcomes[outcome] for outcome in SEPARATE)
    cards = [("提问", total, ""), ("已回答", report.answered, percent(report.answered, total)),
             ("反问 / 追问", asked, percent(asked, total)), ("未能回答", report.not_answered, percent(report.not_answered, total)),
             ("好评", good, percent(good, good + bad)), ("差评", bad, percent(bad, good + bad)),
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
    order = [ANSWERED, *SEPARATE, NOT_FOUND, OUT_OF_SCOPE, CLARIFY_UNANSWERED, CONFIRM_UNANSWERED, UNAVAILABLE]
    order += sorted(o for o in report.outcomes if o not in order)
    labels = [OUTCOME_NAMES.get(o, o) for o in order]
    kinds = [("已回答", "answered", (ANSWERED,)), ("反问 / 追问", "asked", SEPARATE),
             ("未能回答", "unanswered", NOT_ANSWERED)]
    series = [Series(name, [report.outcomes[o] if o in members else 0 for o in order], COLORS[color]) for name, color, members in kinds]
    svg = stacked_bars(labels, series, title="回答情况")
    rows = [(OUTCOME_NAMES.get(o, o), "已回答" if o == ANSWERED else "未能回答" if o in NOT_ANSWERED else "单独统计",
             report.outcomes[o], percent(report.outcomes[o], total)) for o in order]
    return section("outcomes", "已回答与未能回答", chart(svg, "各类结果的提问次数"),
                   table(["结果", "归类", "次数", "占比"], rows, (2, 3)),
                   paragraph("已回答 = 给出了指南内容；未能回答 = 没有找到答案、超出服务范围、知识库暂不可用，以及反问或确认后没有得到回答；"
                             "还在进行中的反问澄清和追问具体事项单独统计（不算回答也不算失败）。", "note"),
                   paragraph(FOLLOWUP_RULE, "note"))


def render_feedback(report: Report) -> Safe:
    rated = sorted((g for g in report.guides.values() if g.ratings), key=lambda g: (-g.bad, -g.ratings, g.title))
    unlinked = [row for row in report.feedback if not row.get("guide_id")]
    if not rated and not unlinked:
        return section("feedback", "好评 / 差评（按指南）", paragraph("本期没有收到评价。", "note"))
    top = rated[:15]
    svg = stacked_bars([g.title for g in top], [Series("好评", [g.good for g in top], COLORS["good"]),
                                               Series("差评", [g.bad for g in top], COLORS["bad"])], title="各指南评价（差评多的在前）")
    rows = [(g.title, g.good, g.bad, g.ratings, percent(g.good, g.ratings), percent(g.bad, g.ratings),
             "；".join(g.comments[:3]) or "-") for g in rated]
    if unlinked:
        good = sum(1 for row in unlinked if row.get("rating") == "good")
        rows.append(("（未关联指南）", good, len(unlinked) - good, len(unlinked), percent(good, len(unlinked)),
                     percent(len(unlinked) - good, len(unlinked)), "-"))
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


def number(value: float) -> str:
    """A probability as the records keep it (4 decimals, no trailing zeros): a bar shown rounded would misplace answers."""
    return f"{round(value, 4):g}"


def low_confidence_explanation(report: Report) -> str:
    """What the low-confidence list holds, on which answer lines, and which answers it leaves out and why
    (knowledge/report/answer_lines.py)."""
    check = report.confidence
    text = ("已回答、但把握只比回答线高一点的提问：回答可能不对，值得抽查；同样按相似度分组。"
            "把握是决策模型算出的答对概率，每个索引版本按自己的知识库校准，刻度各不相同；助手从该版本的回答线"
            "（索引版本里 calibration.json 的 answer_at）起直接回答。这里列出把握不低于回答线、而答对的几率 p/(1−p) "
            f"不到回答线处 {check.odds_ratio:g} 倍的回答（settings.yml 的 report_low_confidence_odds）。")
    lines = sorted(check.lines.values(), key=lambda line: line.version) or ([check.current] if check.current else [])
    if lines:
        text += "回答线：" + "；".join(f"版本 {line.version} 为 {number(line.answer_at)}（把握低于 {number(line.low_below)} 的列入）"
                                   for line in lines) + "。"
    else:
        text += "还没有可读的决策模型（索引没有发布，或 calibration.json 缺失、损坏），无法判断把握高低。"
    if check.below_line:
        text += (f"另有 {check.below_line} 次回答的把握低于回答线：这些不是凭检索的把握作答的（对话中接着问同一事项、"
                 "用户点名的事项或单位、只有一个指南有的词），这个数只说明单看这句话检索没有把握，所以不按它判断、不列入。")
    if check.on_current:
        text += f"{check.on_current} 次回答时的索引版本已不在本机（或没有记下），按当前版本的回答线判断。"
    if check.unjudged:
        text += f"{check.unjudged} 次回答找不到可读的决策模型，没有判断。"
    return text + "点选的事项、确认后答“是”的回答，以及不经检索就按对话中的事项回答的追问，记录的把握是 1，不会列入。"


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


def render_scope(report: Report) -> Safe:
    """What the numbers cover: the channel, test traffic, and the other channels' share when one is chosen."""
    lines = [paragraph(report.covers(), "meta")]
    if report.channel_excluded:
        lines.append(paragraph("其他渠道的记录未计入：" + "，".join(
            f"{TABLE_NAMES[t]} {report.channel_excluded[t]} 条" for t in TABLES if report.channel_excluded[t]), "meta"))
    elif report.filters.channel == ALL and report.questions:
        channels = report.channels()
        lines.append(paragraph("各渠道提问：" + "，".join(
            f"{CHANNEL_NAMES[c]} {channels[c]} 次" for c in (KEFU, TELEGRAM, REST) if channels[c]), "meta"))
    return Safe("".join(lines))


def render_html(report: Report) -> str:
    period = f"{report.period.start.isoformat()} 至 {report.period.end.isoformat()}"
    meta = (f"统计期间：{period}（共 {len(report.period.days)} 天）· 生成于 {report.generated_at.strftime('%Y-%m-%d %H:%M')}"
            f" · 当前索引版本：{report.index_version or '未发布'} · 用户输入中的身份证号、手机号、银行卡号均已脱敏")
    if report.empty:
        body = [render_summary(report), section("empty", "暂无数据", paragraph(
            "统计期间、所选渠道还没有任何记录（提问、评价、转人工都为 0）。助手上线并有人使用后，再运行 python3 index_builder.py report。",
            "empty"))]
    else:
        body = [Safe("<nav>" + "".join(f'<a href="#{anchor}">{esc(name)}</a>' for anchor, name in SECTIONS) + "</nav>"),
                render_summary(report), render_suggestions(report), render_daily(report), render_outcomes(report),
                render_feedback(report), render_handoffs(report),
                render_groups("unanswered", "最常见的未能回答的问题", report.unanswered_groups, report, with_guides=False,
                              explanation=f"结果为没有找到答案、超出服务范围、知识库暂不可用，或反问 / 确认后用户没有得到回答的提问，按字面相似度分组"
                                          f"（字符 1-2 元组 TF-IDF 余弦相似度 ≥ {SIMILARITY}，每组以最常见的问法为代表）。"),
                render_groups("low-confidence", "低置信度的回答", report.low_confidence_groups, report, with_guides=True,
                              # system text, not masked: a version such as 20261206-221351-657294 looks like a card number
                              explanation=plain(low_confidence_explanation(report))),
                render_guides(report)]
    title = f"政务服务智能问答运行报告 {period}" + ("" if report.filters.channel == ALL else f"（{CHANNEL_NAMES[report.filters.channel]}）")
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{plain(title)}</title><style>{STYLE}</style></head><body><main>"
            f"<h1>政务服务智能问答 · 运行报告</h1><p class=meta>{plain(meta)}</p>{render_scope(report)}" + "".join(body) + "</main></body></html>\n")
