"""Who gets in and who can use the page, in headless Chromium against the running assistant: a
citizen's phone in public mode (no token), a kiosk that renews its session past the cookie's
lifetime, and what a screen reader or a citizen with poor sight needs (speakers, named button
groups, A−/A+). Public mode and the short lifetime run on a second hall service with those settings."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.kefu.auth import COOKIE_NAME
from tests.support import parsed_guide
from tests.support.kefu import BUBBLE_FONT, CHROMIUM, VIEWPORTS, Kiosk, hall_service
from tests.support.stack import Assistant

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium 未安装：运行 bash scripts/setup_browser.sh")

MOBILE = "13812345678"


def session_cookie(tab: Kiosk) -> dict[str, Any]:
    return next(cookie for cookie in tab.context.cookies() if cookie["name"] == COOKIE_NAME)


@pytest.fixture(scope="module")
def public_hall(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The hall service with kefu_public: true, talking to the running assistant."""
    with hall_service(assistant, tmp_path_factory.mktemp("kefu-public"), env={"GOVQA_KEFU_PUBLIC": "true"}) as base:
        yield base


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_public_mode_lets_a_phone_in_without_a_token(browser: Any, assistant: Assistant, public_hall: str, viewport: str) -> None:
    tab = Kiosk(browser, public_hall, viewport, token=None)
    assert tab.page.evaluate("[document.body.dataset.ready, document.body.dataset.mode]") == ["yes", "public"]
    cookie = session_cookie(tab)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"].startswith("p")
    tab.ask("开办企业需要什么材料")
    guide = parsed_guide("company-setup")
    text = tab.chat_text()
    assert all(item in text for item in guide.section("申请材料").items) and "令牌" not in text
    tab.screenshot("public")
    # the same masking as on a kiosk: the personal number never reaches the conversation store
    tab.ask(f"我的手机号是{MOBILE}，用水报装要多久")
    sender_prefix = "kefu-" + cookie["value"].split(".")[0] + "-"
    with sqlite3.connect(assistant.settings.tracker_db) as db:
        said = [json.loads(data).get("text") or "" for sender, data in db.execute("SELECT sender_id, data FROM events")
                if sender.startswith(sender_prefix) and json.loads(data).get("event") == "user"]
    assert any("用水报装" in text and "*" in text for text in said) and not any(MOBILE in text for text in said), said
    # the cookie anyone can get is good for its own conversations only, not for another's
    other = httpx.get(public_hall + "/api/v1/chat/staff", params={"session_id": "window-3"}, cookies={COOKIE_NAME: cookie["value"]})
    assert other.status_code == 403 and "不属于" in other.json()["error"]["message"]
    tab.close()


def test_without_public_mode_a_phone_without_a_token_is_told_how_to_get_in(browser: Any, assistant: Assistant) -> None:
    tab = Kiosk(browser, assistant.stack.kefu_url, "phone", token=None)
    assert tab.page.evaluate("document.body.dataset.ready") == "no"
    assert "带令牌的地址" in tab.chat_text() and not tab.context.cookies()
    refused = httpx.post(assistant.stack.kefu_url + "/api/v1/session/public")
    assert refused.status_code == 403 and "未开放公众访问" in refused.json()["error"]["message"]
    tab.close()


def test_a_kiosk_renews_its_session_and_keeps_working_past_the_expiry(browser: Any, assistant: Assistant,
                                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    # A cookie lifetime of 6 s instead of 12 h: the page renews at half-life, every 3 s.
    with hall_service(assistant, tmp_path_factory.mktemp("kefu-renew"), env={"GOVQA_KEFU_SESSION_SECONDS": "6"}) as base:
        tab = Kiosk(browser, base, "kiosk")
        first = session_cookie(tab)["value"]
        tab.page.wait_for_function("() => Number(document.body.dataset.renewals || 0) >= 3", timeout=60_000)
        # three renewals later the first cookie is past its lifetime: the server refuses it ...
        assert httpx.get(base + "/api/v1/session", cookies={COOKIE_NAME: first}).status_code == 401
        assert session_cookie(tab)["value"] != first
        # ... and the kiosk, untouched by staff, still answers
        tab.ask("用水报装要什么材料")
        text = tab.chat_text()
        assert "登录已失效" not in text and parsed_guide("water-connection").section("申请材料").items[0] in text
        tab.close()


def test_a_screen_reader_hears_who_speaks_and_what_each_button_group_chooses(kiosk: Kiosk) -> None:
    chat = kiosk.page.locator("#chat")
    assert (chat.get_attribute("role"), chat.get_attribute("aria-live")) == ("log", "polite")
    kiosk.ask("注销公司")
    choice = kiosk.page.locator(".choices[role=group]").last
    assert choice.get_attribute("aria-label") == "选择事项"
    kiosk.click("简易注销")
    labels = kiosk.page.locator(".row .speaker-label").all_inner_texts()
    assert labels.count("您：") == 2 and labels.count("助手：") >= 3, labels
    user = kiosk.page.locator(".row.user").last
    assert user.locator(".speaker-label").inner_text() == "您："
    assert not user.locator(".speaker-label").is_visible() or user.locator(".speaker-label").bounding_box()["width"] <= 1  # for the ear only
    assert kiosk.page.locator(".choices[role=group]").last.get_attribute("aria-label") == "评价这条回答"
    assert kiosk.page.locator(".font-size[role=group]").get_attribute("aria-label") == "字号"
    assert kiosk.page.locator("#examples").get_attribute("role") == "group"


def test_the_largest_font_leaves_room_for_the_conversation(kiosk: Kiosk) -> None:
    # At 175% on a phone the header wrapped one character a line and the conversation kept 135 px (a user trial).
    while kiosk.page.locator("#font-larger").is_enabled():
        kiosk.page.click("#font-larger")
    kiosk.ask("开公司要带什么材料")
    height = VIEWPORTS[kiosk.name][1]
    chat = kiosk.page.locator("#chat").bounding_box()
    assert chat and chat["height"] >= 0.4 * height, (chat, height)
    title = kiosk.page.locator(".brand h1")
    assert title.bounding_box()["height"] <= 2 * float(title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    kiosk.assert_fits_the_screen()
    kiosk.screenshot("font-largest")
    kiosk.page.evaluate("localStorage.clear()")


def test_the_font_size_control_enlarges_the_text_and_is_remembered(kiosk: Kiosk) -> None:
    normal, larger = kiosk.enlarge()
    kiosk.assert_fits_the_screen()
    kiosk.screenshot("font-larger")
    kiosk.page.reload()
    kiosk.page.wait_for_selector("body[data-ready]")
    assert kiosk.page.evaluate(BUBBLE_FONT) == larger  # remembered
    kiosk.page.click("#font-smaller")
    kiosk.page.click("#font-smaller")
    kiosk.page.click("#font-smaller")
    assert kiosk.page.evaluate(BUBBLE_FONT) < normal
