"""The printable 一次性告知单 (one-time notice) of a service guide, as a standalone HTML page.

Hall staff print it for a citizen, or a kiosk prints it: the full materials checklist with a box to
tick per item, the steps, the time limit, the fee, the place, whom to call, and which guide (and
date) it was made from, so the citizen comes back once with everything. Every text from the guide
is HTML-escaped: a guide file is admin input and must never become markup.

On screen it uses the chat page's root font size (web/base.css, with the size the citizen chose
with A−/A+), so it reads like the conversation; on paper it is sized to fit one A4 page when the
guide allows (notice.css @media print: the short sections side by side, 10.5 pt). The chat page
shows it in an overlay with a 返回 (web/notice-view.js); opened on its own, its 返回 goes back
(notice.js).

Usage::

    html = render_notice(catalog.get("company-setup"), hotline="12345")
    # -> "<!DOCTYPE html>…<li><label><input type="checkbox"> 《公司登记（备案）申请书》原件1份…"
    render_notice_error(heading="找不到该办事指南", message="…", hotline="12345")  # the 404 / 503 page
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

# The sections printed, in the order a citizen needs them; 申请材料 and 办理流程 are lists.
TEXT_SECTIONS = (("受理条件", "受理条件"), ("办理时限", "办理时限"), ("收费标准", "收费标准"), ("办理地点", "办理地点"),
                 ("网上办理", "网上办理"), ("注意事项", "注意事项"))
BASE_CSS = "/assets/base.css"  # the chat page's root font size: one source for both pages
NOTICE_CSS = "/assets/notice.css"
NOTICE_JS = "/assets/notice.js"


def _e(value: Any) -> str:
    return escape(str(value or ""), quote=True)


def _section(guide: dict[str, Any], heading: str) -> dict[str, Any] | None:
    section = (guide.get("sections") or {}).get(heading)
    return section if isinstance(section, dict) else None


def _items(section: dict[str, Any] | None) -> list[str]:
    if not section:
        return []
    items = [str(item) for item in section.get("items") or []]
    return items or [line.strip() for line in str(section.get("text") or "").splitlines() if line.strip()]


def _materials(guide: dict[str, Any]) -> str:
    items = _items(_section(guide, "申请材料"))
    if not items:
        return '<p class="empty">本事项未列出申请材料，请向窗口咨询。</p>'
    rows = "\n".join(f'    <li><label><input type="checkbox" name="material-{number}"> <span>{_e(item)}</span></label></li>'
                     for number, item in enumerate(items, 1))
    return f'<ol class="checklist">\n{rows}\n  </ol>'


def _steps(guide: dict[str, Any]) -> str:
    items = _items(_section(guide, "办理流程"))
    if not items:
        return ""
    rows = "\n".join(f"    <li>{_e(item)}</li>" for item in items)
    return f'<section><h2>办理流程</h2>\n  <ol class="steps">\n{rows}\n  </ol></section>'


def _text_sections(guide: dict[str, Any]) -> str:
    parts = []
    for heading, title in TEXT_SECTIONS:
        section = _section(guide, heading)
        text = str(section.get("text") or "").strip() if section else ""
        if text:
            parts.append(f'<section><h2>{_e(title)}</h2>\n  <p class="text">{_e(text)}</p></section>')
    # One grid: on paper two short sections side by side, which is most of what fits a page on A4.
    return '<div class="facts">\n  ' + "\n  ".join(parts) + "\n  </div>" if parts else ""


def _contacts(guide: dict[str, Any], hotline: str) -> str:
    rows = "\n".join(
        f"    <tr><td>{_e(c.get('unit'))}</td><td class=\"phone\">{_e(c.get('phone'))}</td>"
        f"<td>{_e(c.get('address'))}</td><td>{_e(c.get('hours'))}</td></tr>"
        for c in guide.get("contacts") or []
    )
    complaint = guide.get("complaint_phone") or hotline
    return (f'<section><h2>咨询电话</h2>\n  <table class="contacts">\n    <thead><tr><th>单位 / 窗口</th><th>电话</th><th>地址</th>'
            f"<th>办公时间</th></tr></thead>\n    <tbody>\n{rows}\n    </tbody>\n  </table>\n"
            f'  <p>责任部门：{_e(guide.get("department"))}　投诉监督电话：<span class="phone">{_e(complaint)}</span>　'
            f'政务服务便民热线：<span class="phone">{_e(hotline)}</span></p></section>')


def render_notice(guide: dict[str, Any], *, hotline: str, today: dt.date | None = None) -> str:
    """The 一次性告知单 page of `guide` (a Guide.as_dict()); every guide text escaped."""
    today = today or dt.date.today()
    title = _e(guide.get("title"))
    source = _e(guide.get("source") or f"《{guide.get('title', '')}》办事指南")
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>一次性告知单 · {title}</title>
<link rel="stylesheet" href="{BASE_CSS}">
<link rel="stylesheet" href="{NOTICE_CSS}">
<link rel="icon" href="data:,">
</head>
<body>
<main class="notice">
  <div class="toolbar no-print"><button type="button" id="back" class="back">← 返回</button><button type="button" id="print">打印告知单</button></div>
  <header>
    <h1>一次性告知单</h1>
    <p class="item">事项名称：<strong>{title}</strong></p>
    <p class="meta">实施部门：{_e(guide.get("department"))}　告知日期：{today.isoformat()}</p>
  </header>
  <section><h2>申请材料清单 <span class="hint">请逐项核对，备齐后打勾（☑）</span></h2>
  {_materials(guide)}</section>
  {_steps(guide)}
  {_text_sections(guide)}
  {_contacts(guide, hotline)}
  <footer>
    <p>本告知单根据{source}（更新于 {_e(guide.get("updated"))}）生成，所列材料为一次性告知的全部材料；如政策调整，以窗口最新告知为准。</p>
  </footer>
</main>
<script src="{NOTICE_JS}"></script>
</body>
</html>
"""


def render_notice_error(*, heading: str, message: str, hotline: str, detail: str = "") -> str:
    """The page GET …/notice answers instead of a notice (unknown guide, index down).

    Whoever opened the notice link is looking at a browser tab or a kiosk printer, not at JSON: so
    an HTML page in the notice's look, every text escaped (the message quotes the guide id from
    the address, which anyone can type)."""
    extra = f'\n  <p class="meta">{_e(detail)}</p>' if detail else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>一次性告知单 · {_e(heading)}</title>
<link rel="stylesheet" href="{BASE_CSS}">
<link rel="stylesheet" href="{NOTICE_CSS}">
<link rel="icon" href="data:,">
</head>
<body>
<main class="notice">
  <div class="toolbar no-print"><button type="button" id="back" class="back">← 返回</button></div>
  <header><h1>一次性告知单</h1></header>
  <h2>{_e(heading)}</h2>
  <p class="empty">{_e(message)}</p>{extra}
  <p>如需帮助，请咨询窗口工作人员或拨打政务服务便民热线 <span class="phone">{_e(hotline)}</span>。</p>
</main>
<script src="{NOTICE_JS}"></script>
</body>
</html>
"""
