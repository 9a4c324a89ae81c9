"""The web page as served: the template rendered with its settings, never served raw."""

from __future__ import annotations

import asyncio
import json
import re
from html import unescape

import httpx
import pytest
from fastapi import FastAPI

from bot.channels.kefu.page import WEB_DIR, PageAssets, render_desk, render_page
from knowledge.examples import Examples
from protocol import (
    AFFIRM,
    BUTTON_INTENTS,
    BUTTON_TITLES,
    DENY,
    FEEDBACK_BAD,
    FEEDBACK_GOOD,
    HANDOFF_REASONS,
    REASON_COMPLAIN,
    REASON_REQUEST_HUMAN,
    REQUEST_HUMAN,
    TITLE_REQUEST_HUMAN,
)


def test_the_page_is_rendered_with_hotline_and_limit() -> None:
    html = render_page(hotline='12345"><script>', max_chars=321)
    assert "{{" not in html and 'maxlength="321"' in html
    assert 'data-hotline="12345&quot;&gt;&lt;script&gt;"' in html  # an attribute, never markup
    assert 'data-idle-seconds="180"' in html  # the kiosk idle reset, configured in the page
    assert 'data-examples="[]"' in html  # no index published: no chips naming guides it may not have
    assert f'data-handoff="{REQUEST_HUMAN}"' in html  # 转人工's payload from its one source, never spelt in the page's scripts
    assert f'data-handoff-title="{TITLE_REQUEST_HUMAN}"' in html and f'id="human" class="secondary">{TITLE_REQUEST_HUMAN}<' in html
    ratings = re.search(r'data-ratings="([^"]*)"', html)
    assert ratings and json.loads(unescape(ratings.group(1))) == [FEEDBACK_GOOD, FEEDBACK_BAD]  # which buttons are ratings


def test_the_desk_page_is_rendered_with_each_button_and_its_title() -> None:
    html = render_desk()
    assert "{{" not in html
    buttons = re.search(r'data-buttons="([^"]*)"', html)
    assert buttons and dict(json.loads(unescape(buttons.group(1)))) == {
        REQUEST_HUMAN: "转人工", FEEDBACK_GOOD: "好评", FEEDBACK_BAD: "差评", AFFIRM: "是", DENY: "不是"}
    reasons = re.search(r'data-reasons="([^"]*)"', html)  # why each conversation in the queue went to people
    assert reasons and json.loads(unescape(reasons.group(1))) == {REASON_REQUEST_HUMAN: "要求转人工", REASON_COMPLAIN: "投诉/反映"}


@pytest.mark.parametrize("script", sorted(path.name for path in WEB_DIR.glob("*.js")))
def test_no_script_spells_a_button_payload(script: str) -> None:
    """The payloads live in protocol.py: the pages are given them (data-handoff, data-ratings, data-buttons), so a payload
    renamed there cannot leave a page recognising the old one. Neither a payload nor the rating payloads' common start."""
    text = (WEB_DIR / script).read_text(encoding="utf-8").replace("\\/", "/")  # a regular expression's "\/" is a slash
    rating_start = next(FEEDBACK_GOOD[:n] for n in range(len(FEEDBACK_GOOD), 0, -1) if FEEDBACK_BAD.startswith(FEEDBACK_GOOD[:n]))
    spelt = [payload for payload in [f"/{intent}" for intent in BUTTON_INTENTS] + [rating_start] if payload in text]
    assert not spelt, spelt


# Not docs.js: the interface's documentation, whose 是 / 否 say whether a field is required.
@pytest.mark.parametrize("script", sorted(path.name for path in WEB_DIR.glob("*.js") if path.name != "docs.js"))
def test_no_script_spells_a_button_title(script: str) -> None:
    """A button's title as a string of its own ("转人工") is protocol.py's too: the page is given it (data-handoff-title)."""
    text = (WEB_DIR / script).read_text(encoding="utf-8")
    spelt = [title for title in BUTTON_TITLES.values() if re.search(rf"[\"'`]{title}[\"'`]", text)]
    assert not spelt, spelt


@pytest.mark.parametrize("script", sorted(path.name for path in WEB_DIR.glob("*.js")))
def test_no_script_spells_a_handoff_reason(script: str) -> None:
    """The reasons live in protocol.py too: the desk is given them with its words for each (data-reasons)."""
    text = (WEB_DIR / script).read_text(encoding="utf-8")
    # as a string or an object's key ("complain", complain: …), not the word in a comment ("whom to complain to")
    spelt = [reason for reason in HANDOFF_REASONS if re.search(rf"[\"'`]{reason}[\"'`]|(?<![\w/]){reason}\s*:", text)]
    assert not spelt, spelt


def test_the_chips_are_the_examples_given() -> None:
    html = render_page(hotline="12345", max_chars=321, examples=Examples(("渔船登记要什么材料？", '"><b>？'), ("渔船登记",)))
    assert 'data-examples="[&quot;渔船登记要什么材料？&quot;, &quot;\\&quot;&gt;&lt;b&gt;？&quot;]"' in html


@pytest.mark.parametrize(("path", "status"), [
    ("/assets/index.html", 404), ("/assets/./index.html", 404), ("/assets/x/../index.html", 404), ("/assets/INDEX.HTML", 404),
    ("/assets/app.js", 200), ("/assets/style.css", 200), ("/assets/../kefu_api.py", 404),
    ("/assets/desk.html", 404), ("/assets/Desk.HTML", 404), ("/assets/desk.js", 200),
])
def test_the_template_is_not_an_asset(path: str, status: int) -> None:
    app = FastAPI()
    app.mount("/assets", PageAssets(directory=WEB_DIR), name="assets")

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get(path)

    response = asyncio.run(run())
    assert response.status_code == status, path
    assert "{{" not in response.text
