"""The printable 一次性告知单: complete, compared with the guide file, and every text escaped."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

from bot.channels.kefu.notice import render_notice
from tests.support import parsed_guide


class _Text(HTMLParser):
    """The page as a reader sees it: visible text, checkboxes, and every element's tag."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.checkboxes = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "input" and dict(attrs).get("type") == "checkbox":
            self.checkboxes += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _read(html: str) -> _Text:
    reader = _Text()
    reader.feed(html)
    return reader


def test_the_notice_has_everything_a_citizen_needs() -> None:
    guide = parsed_guide("company-setup")
    html = render_notice(guide.as_dict(), hotline="12345", today=dt.date(2026, 12, 1))
    page = _read(html)
    text = "".join(page.text)
    materials = guide.section("申请材料").items
    assert page.checkboxes == len(materials)
    for item in materials:
        assert item in text
    for step in guide.section("办理流程").items:
        assert step in text
    for heading in ("办理时限", "收费标准", "办理地点"):
        assert guide.section(heading).text.strip() in text
    for contact in guide.contacts:
        assert contact.unit in text and contact.phone in text and contact.address in text and contact.hours in text
    assert guide.title in text and guide.department in text and guide.source in text and guide.updated in text
    assert "一次性告知单" in text and "2026-12-01" in text and "12345" in text


def test_guide_text_is_escaped_never_markup() -> None:
    guide = parsed_guide("company-setup").as_dict()
    guide["title"] = "<script>alert(1)</script>"
    guide["sections"]["申请材料"]["items"].append('<img src=x onerror="alert(2)">')
    guide["contacts"][0]["phone"] = '"><b>0000</b>'
    html = render_notice(guide, hotline="12345")
    page = _read(html)
    assert "script" not in [t for t in page.tags[:-1]]  # only the page's own notice.js script tag, at the end
    assert page.tags.count("script") == 1 and "img" not in page.tags and "b" not in page.tags
    assert "<script>alert(1)</script>" in "".join(page.text)  # shown as text
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html


def test_a_guide_without_materials_says_so() -> None:
    guide = parsed_guide("company-setup").as_dict()
    del guide["sections"]["申请材料"]
    assert "请向窗口咨询" in render_notice(guide, hotline="12345")


def test_the_page_loads_only_local_files() -> None:
    html = render_notice(parsed_guide("water-connection").as_dict(), hotline="12345")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
