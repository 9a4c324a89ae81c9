"""The staff desk end to end, in headless Chromium with two browser contexts (two people, two
cookie jars) against the running assistant: a citizen on the chat page asks for 转人工; a clerk on
the desk page sees it in the queue with the masked transcript, the guide in context and the
question, takes it, reads what the citizen types meanwhile, replies; the citizen's page shows
"工作人员已接入" and the reply; the clerk closes it with an outcome. Then the clerk's console: a
search the way the assistant searches ("公司不想开了" finds 企业注销), the full guide card, the
session's history. Every staff action is in the records. Screenshots in var/test-artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.records.desk import DeskRecords
from knowledge.records.staff_hours import StaffHours
from tests.support import ROOT, parsed_guide
from tests.support.kefu import TOKEN
from tests.support.stack import STAFF_TOKEN, Assistant

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
TIMEOUT_MS = 90_000  # an answer, or the first search loading the model, can take a while on a busy 2-core machine
MOBILE = "13812345678"

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium 未安装：运行 bash scripts/setup_browser.sh")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def tab(browser: Any, url: str, width: int = 1920, height: int = 1080) -> tuple[Any, Any, list[str]]:
    """A new browser context (its own cookies: another person) with one page on `url`."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return context, page, errors


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"desk-{name}.png"))


def citizen_says(page: Any, text: str) -> None:
    rows = page.locator(".row.bot").count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    page.wait_for_function("n => !document.querySelector('.typing') && document.querySelectorAll('.row.bot').length > n", arg=rows)


def test_a_clerk_takes_a_web_handoff_replies_and_closes_it(browser: Any, assistant: Assistant) -> None:
    base = assistant.stack.kefu_url
    citizen_context, citizen, citizen_errors = tab(browser, base + f"/#token={TOKEN}", 390, 844)
    citizen.wait_for_selector("body[data-ready=yes]")
    citizen_says(citizen, "营业执照丢了怎么补办")
    citizen_says(citizen, f"我的手机是 {MOBILE}")
    rows = citizen.locator(".row.bot").count()
    citizen.click("#human")
    citizen.wait_for_function("n => !document.querySelector('.typing') && document.querySelectorAll('.row.bot').length > n", arg=rows)
    handoff_text = citizen.locator(".bubble.handoff").last.inner_text()
    number = int(re.search(r"记录编号：(\d+)", handoff_text).group(1))
    settings = assistant.settings
    on_duty = StaffHours.parse(settings.staff_hours, settings.staff_timezone).on_duty()
    assert "12345" in handoff_text and ("会在这里回复您" if on_duty else "现在是非工作时间") in handoff_text

    clerk_context, clerk, clerk_errors = tab(browser, base + "/desk")
    clerk.wait_for_selector("body[data-ready=login]")
    # a citizen's token does not open the desk
    clerk.fill("#login-token", TOKEN)
    clerk.fill("#login-clerk", "王芳")
    clerk.click("#login-go")
    clerk.wait_for_function("() => document.querySelector('#login-error').textContent.includes('令牌无效')")
    clerk.fill("#login-token", STAFF_TOKEN)
    clerk.click("#login-go")
    clerk.wait_for_selector("body[data-ready=desk]")
    assert "王芳" in clerk.inner_text("#whoami")

    item = clerk.locator(f"#queue li[data-id='{number}']")
    item.wait_for()
    assert "网页/自助终端" in item.inner_text() and "等待接入" in item.inner_text()
    assert "等待" in clerk.title()  # seen from another tab
    item.click()
    clerk.wait_for_selector("#case:not([hidden])")
    transcript = clerk.inner_text("#transcript")
    assert "营业执照丢了怎么补办" in transcript and MOBILE not in transcript and "138****5678" in transcript
    assert re.search(r"\d\d:\d\d 群众：", transcript), transcript  # each line says when it was said
    assert parsed_guide("license-reissue").title in clerk.inner_text("#case-guide")
    shot(clerk, "queue")

    clerk.click("#take")
    clerk.wait_for_function("() => document.querySelector('#case').dataset.status === 'taken'")
    citizen.wait_for_function("() => document.querySelector('#chat').innerText.includes('工作人员已接入')")

    # while the clerk holds the conversation, what the citizen types goes to the clerk, not to the assistant
    citizen_says(citizen, "请问要带原件吗")
    assert "已发给工作人员" in citizen.locator(".row.bot .bubble").last.inner_text()
    clerk.wait_for_function("() => document.querySelector('#lines').innerText.includes('请问要带原件吗')")

    clerk.fill("#reply-text", "您好，请带营业执照副本和身份证原件到3号窗口办理。")
    clerk.click("#reply-send")
    citizen.wait_for_selector(".bubble.staff")
    reply = citizen.locator(".row.staff").last.inner_text()
    assert "请带营业执照副本和身份证原件到3号窗口办理" in reply and "工作人员（王芳）" in reply
    shot(citizen, "citizen-reply")

    clerk.select_option("#outcome", "answered")
    clerk.fill("#note", "已告知补办材料")
    clerk.click("#close")
    clerk.wait_for_function("() => document.querySelector('#case').dataset.status === 'closed'")
    assert "已解答" in clerk.inner_text("#case-meta")
    citizen.wait_for_function("() => document.querySelector('#chat').innerText.includes('已结束本次人工服务')")
    shot(clerk, "closed")

    # the citizen talks to the assistant again
    citizen_says(citizen, "那要多久？")
    assert "已发给工作人员" not in citizen.locator(".row.bot .bubble").last.inner_text()

    actions = DeskRecords(assistant.settings.records_db).actions(number)
    assert [(a["action"], a["clerk"]) for a in actions] == [("take", "王芳"), ("reply", "王芳"), ("close", "王芳")]
    assert not citizen_errors and not clerk_errors, citizen_errors + clerk_errors
    citizen_context.close()

    # --- the console, same desk page and login ---
    clerk.fill("#search-q", "公司不想开了")
    clerk.click("#search-go")
    first = clerk.locator("#results li").first
    first.wait_for()
    titles = clerk.inner_text("#results")
    assert "注销" in titles, titles
    clerk.locator("#results li", has_text="注销").first.click()
    clerk.wait_for_selector("#guide-card:not([hidden])")
    card = clerk.inner_text("#guide-card")
    guide = parsed_guide(clerk.get_attribute("#guide-card", "data-guide"))
    assert guide.title in card and "申请材料" in card
    for contact in guide.contacts:
        assert contact.phone in card and contact.unit in card
    clerk.click("#copy-guide")
    clerk.wait_for_function("() => document.querySelector('#copy-note').textContent === '已复制'")
    assert guide.title in clerk.evaluate("navigator.clipboard.readText()")
    history = clerk.inner_text("#history")
    assert "营业执照丢了怎么补办" in history and f"转人工 #{number}" in history
    assert f"【{parsed_guide('license-reissue').title}】" in history and "（license-reissue）" not in history  # the title, not the id
    clerk.emulate_media(media="print")
    assert not clerk.locator("#queue").is_visible() and clerk.locator("#guide-card").is_visible()
    clerk.emulate_media(media="screen")
    shot(clerk, "console")
    assert not clerk_errors, clerk_errors
    clerk_context.close()
