"""The web page as served: the template rendered with its settings, never served raw."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from bot.channels.kefu.page import WEB_DIR, PageAssets, render_page
from knowledge.examples import Examples
from protocol import REQUEST_HUMAN


def test_the_page_is_rendered_with_hotline_and_limit() -> None:
    html = render_page(hotline='12345"><script>', max_chars=321)
    assert "{{" not in html and 'maxlength="321"' in html
    assert 'data-hotline="12345&quot;&gt;&lt;script&gt;"' in html  # an attribute, never markup
    assert 'data-idle-seconds="180"' in html  # the kiosk idle reset, configured in the page
    assert 'data-examples="[]"' in html  # no index published: no chips naming guides it may not have
    assert f'data-handoff="{REQUEST_HUMAN}"' in html  # 转人工's payload from its one source, never spelt in the page's scripts
    assert not any(REQUEST_HUMAN in (WEB_DIR / script).read_text(encoding="utf-8") for script in ("app.js", "view.js"))


def test_the_chips_are_the_examples_given() -> None:
    html = render_page(hotline="12345", max_chars=321, examples=Examples(("渔船登记要什么材料？", '"><b>？'), ("渔船登记",)))
    assert 'data-examples="[&quot;渔船登记要什么材料？&quot;, &quot;\\&quot;&gt;&lt;b&gt;？&quot;]"' in html


@pytest.mark.parametrize(("path", "status"), [
    ("/assets/index.html", 404), ("/assets/./index.html", 404), ("/assets/x/../index.html", 404), ("/assets/INDEX.HTML", 404),
    ("/assets/app.js", 200), ("/assets/style.css", 200), ("/assets/../kefu_api.py", 404),
])
def test_the_template_is_not_an_asset(path: str, status: int) -> None:
    app = FastAPI()
    app.mount("/assets", PageAssets(directory=WEB_DIR), name="assets")

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get(path)

    response = asyncio.run(run())
    assert response.status_code == status, path
    assert "{{HOTLINE}}" not in response.text
