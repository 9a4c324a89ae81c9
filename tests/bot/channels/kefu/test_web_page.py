"""The web chat page in headless Chromium (Debian's /usr/bin/chromium driven by Playwright), on a
1920×1080 hall kiosk and a 390×844 phone, against the running assistant: a citizen types a
question, sees the answer with the phone number, clicks buttons, opens the printable notice.
Screenshots are kept under var/test-artifacts/screenshots/ for review."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ROOT, free_port, parsed_guide, wait_for_rows
from tests.support.kefu import TOKEN
from tests.support.stack import Assistant

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
VIEWPORTS = {"kiosk": (1920, 1080), "phone": (390, 844)}
TIMEOUT_MS = 90_000  # one answer can take a while on a busy 2-core machine

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium 未安装：运行 bash scripts/setup_browser.sh")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Kiosk:
    """One browser tab on the chat page, with what the test needs to look at."""

    def __init__(self, browser: Any, base: str, viewport: str, *, token: str | None = TOKEN, path: str = "/") -> None:
        width, height = VIEWPORTS[viewport]
        self.name = viewport
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(base + path + (f"#token={token}" if token else ""))
        self.page.wait_for_selector("body[data-ready]")

    def ask(self, question: str) -> None:
        answers = self.page.locator(".row.bot").count()
        self.page.fill("#message", question)
        self.page.press("#message", "Enter")
        self.wait_for_reply(answers)

    def wait_for_reply(self, bot_rows_before: int) -> None:
        self.page.wait_for_function(
            "n => !document.querySelector('.typing') && document.querySelectorAll('.row.bot').length > n", arg=bot_rows_before)

    def click(self, title_part: str) -> None:
        answers = self.page.locator(".row.bot").count()
        self.page.locator(".choices button:not(:disabled)", has_text=title_part).first.click()
        self.wait_for_reply(answers)

    def chat_text(self) -> str:
        return self.page.inner_text("#chat")

    def screenshot(self, what: str, page: Any = None) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"kefu-{self.name}-{what}.png"
        (page or self.page).screenshot(path=str(path), full_page=page is not None)
        return path

    def assert_fits_the_screen(self) -> None:
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"page wider than the {self.name} screen by {overflow}px"
        box = self.page.locator("#composer").bounding_box()
        assert box and box["y"] + box["height"] <= VIEWPORTS[self.name][1] + 1, "the input box is off screen"

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()


@pytest.fixture(params=list(VIEWPORTS))
def kiosk(request: pytest.FixtureRequest, browser: Any, assistant: Assistant) -> Iterator[Kiosk]:
    tab = Kiosk(browser, assistant.stack.kefu_url, request.param)
    yield tab
    tab.close()


def test_a_question_shows_the_answer_the_guide_card_and_the_phones(kiosk: Kiosk) -> None:
    assert kiosk.page.evaluate("document.body.dataset.ready") == "yes"
    assert "token" not in kiosk.page.url  # the token left the address bar after logging in
    kiosk.ask("开办企业需要什么材料")
    guide = parsed_guide("company-setup")
    text = kiosk.chat_text()
    for item in guide.section("申请材料").items:
        assert item in text, f"missing material {item!r}"
    card = kiosk.page.locator(".guide-card").last
    assert card.locator(".guide-title").inner_text() == guide.title
    assert guide.department in card.inner_text() and guide.updated in card.inner_text()
    for contact in guide.contacts:
        phone = card.locator(".phone", has_text=contact.phone)
        assert phone.is_visible() and phone.get_attribute("href") == "tel:" + contact.phone.replace("-", "")
    assert card.locator("a.notice-link").inner_text() == "打印一次性告知单"
    kiosk.assert_fits_the_screen()
    kiosk.screenshot("answer")
    assert all(url.startswith(kiosk.base) or url.startswith("data:") for url in kiosk.requests), kiosk.requests


def test_large_text_on_the_kiosk_and_finger_sized_buttons_on_the_phone(kiosk: Kiosk) -> None:
    size = kiosk.page.evaluate("parseFloat(getComputedStyle(document.querySelector('.bubble')).fontSize)")
    height = kiosk.page.evaluate("document.querySelector('#send').getBoundingClientRect().height")
    if kiosk.name == "kiosk":
        assert size >= 22, size
    else:
        assert 16 <= size <= 18, size
    assert height >= 40, height


def test_clicking_a_choice_sends_it_and_answers(kiosk: Kiosk) -> None:
    kiosk.ask("注销公司")
    chosen = parsed_guide("simplified-deregistration")
    kiosk.click("简易注销")
    assert chosen.title in kiosk.page.locator(".row.user").last.inner_text()  # the button title is the user's message
    assert kiosk.page.locator(".guide-card .guide-title").last.inner_text() == chosen.title
    # a used choice group cannot be clicked again
    assert kiosk.page.locator(".choices").first.locator("button:not(:disabled)").count() == 0
    for contact in chosen.contacts:
        assert contact.phone in kiosk.page.locator(".guide-card").last.inner_text()
    kiosk.screenshot("choice")


def test_good_and_bad_ratings(kiosk: Kiosk) -> None:
    kiosk.ask("用水报装要多久")
    kiosk.click("好评")
    assert "感谢" in kiosk.page.locator(".row.bot .bubble").last.inner_text()
    kiosk.ask("用气报装多少钱")
    kiosk.click("差评")
    assert "缺了什么" in kiosk.page.locator(".row.bot .bubble").last.inner_text()
    kiosk.ask("没写表具费用")
    assert "已记录" in kiosk.chat_text()
    kiosk.screenshot("feedback")


def test_an_older_answers_rating_rates_that_answer(kiosk: Kiosk, assistant: Assistant) -> None:
    kiosk.ask("开办企业需要什么材料")
    kiosk.ask("用水报装要多久")
    assert kiosk.page.locator(".choice.feedback").count() == 4  # both answers' 好评 / 差评, shown as ratings
    kiosk.click("差评")  # the first one still enabled: under the older answer
    assert "缺了什么" in kiosk.page.locator(".row.bot .bubble").last.inner_text()
    comment = f"没写清楚委托书的要求（{kiosk.name}）"
    kiosk.ask(comment)
    rows = wait_for_rows(assistant.settings.records_db, "feedback", lambda row: row["comment"] == comment, timeout=30)
    assert [(row["guide_id"], row["section"]) for row in rows] == [("company-setup", "申请材料")]


def test_the_handoff_button(kiosk: Kiosk) -> None:
    kiosk.ask("刻章要带什么材料")
    before = kiosk.page.locator(".row.bot").count()
    kiosk.page.click("#human")
    kiosk.wait_for_reply(before)
    assert kiosk.page.locator(".row.user").last.inner_text() == "转人工"
    bubble = kiosk.page.locator(".bubble.handoff").last.inner_text()
    assert "人工" in bubble and "12345" in bubble
    for contact in parsed_guide("seal-engraving").contacts:
        assert contact.phone in kiosk.page.locator(".guide-card").last.inner_text()
    kiosk.screenshot("handoff")


def test_the_printable_notice_opens_from_the_answer(kiosk: Kiosk) -> None:
    kiosk.ask("用水报装要什么材料")
    with kiosk.context.expect_page() as opened:
        kiosk.page.locator("a.notice-link").last.click()
    notice = opened.value
    notice.wait_for_load_state()
    guide = parsed_guide("water-connection")
    assert notice.url.endswith("/api/v1/guides/water-connection/notice")
    text = notice.inner_text("body")
    materials = guide.section("申请材料").items
    assert notice.locator("input[type=checkbox]").count() == len(materials)
    for item in materials:
        assert item in text
    for contact in guide.contacts:
        assert contact.phone in text
    assert guide.updated in text and "一次性告知单" in text
    kiosk.screenshot("notice", page=notice)
    notice.emulate_media(media="print")
    assert not notice.locator("#print").is_visible()  # the print button is not printed
    notice.close()


def test_new_conversation_forgets_the_item(kiosk: Kiosk) -> None:
    kiosk.ask("开公司要带什么材料")
    kiosk.page.click("#restart")
    assert kiosk.page.locator(".row.user").count() == 0
    kiosk.ask("那要多久？")
    assert "哪个事项" in kiosk.page.locator(".row.bot .bubble").last.inner_text()


def test_an_idle_kiosk_warns_then_clears_the_conversation_for_the_next_citizen(browser: Any, assistant: Assistant) -> None:
    # ?idle=4 shortens the page's data-idle-seconds (180) for the test: a warning after 3 s without
    # input, the reset 1 s later.
    tab = Kiosk(browser, assistant.stack.kefu_url, "kiosk", path="/?idle=4")
    assert tab.page.url.endswith("/?idle=4")  # the token left the address, the setting stayed
    assert tab.page.get_attribute("#message", "maxlength") == str(assistant.settings.message_max_chars)
    tab.ask("开办企业需要什么材料")
    material = parsed_guide("company-setup").section("申请材料").items[0]
    assert material in tab.chat_text()
    # a touch during the warning keeps the conversation
    tab.page.wait_for_selector(".idle-warning", timeout=15_000)
    assert "秒后将清空对话" in tab.page.inner_text(".idle-warning")
    tab.screenshot("idle-warning")
    tab.page.click(".idle-warning button")
    assert tab.page.locator(".idle-warning").count() == 0 and tab.page.locator(".row.user").count() == 1
    # no input at all: the transcript is gone, a short notice and the greeting remain
    tab.page.wait_for_selector(".idle-notice", timeout=15_000)
    text = tab.chat_text()
    assert tab.page.locator(".row.user").count() == 0 and tab.page.locator(".guide-card").count() == 0
    assert material not in text and "已清除" in text and "您好" in text
    assert tab.page.input_value("#message") == ""
    tab.screenshot("idle-reset")
    # and a new Rasa conversation: a follow-up has no item to refer to
    tab.ask("那要多久？")
    assert "哪个事项" in tab.page.locator(".row.bot .bubble").last.inner_text()
    tab.close()


def test_without_a_token_the_page_says_how_to_open_it(browser: Any, assistant: Assistant) -> None:
    tab = Kiosk(browser, assistant.stack.kefu_url, "phone", token=None)
    assert tab.page.evaluate("document.body.dataset.ready") == "no"
    assert "带令牌的地址" in tab.chat_text()
    tab.screenshot("no-token")
    tab.close()


@pytest.fixture(scope="module")
def kefu_without_rasa(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second hall service whose Rasa is not running: what a kiosk sees while Rasa restarts."""
    port, dead = free_port(), free_port()
    log = tmp_path_factory.mktemp("kefu-down") / "kefu.log"
    env = {**assistant.stack.env, "KEFU_API_TOKEN": TOKEN, "GOVQA_RASA_RETRIES": "1"}
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "-m", "bot.channels.kefu.api", "--host", "127.0.0.1", "--port", str(port), "--rasa-url",
                                    f"http://127.0.0.1:{dead}/webhooks/rest/webhook"], cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(20)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_assistant_down_shows_a_clear_message_with_the_hotline(browser: Any, kefu_without_rasa: str, viewport: str) -> None:
    tab = Kiosk(browser, kefu_without_rasa, viewport)
    tab.ask("开办企业需要什么材料")
    warning = tab.page.locator(".bubble.warning").last.inner_text()
    assert "暂时无法回答" in warning and "12345" in warning
    tab.screenshot("unavailable")
    tab.close()


def test_the_api_reference_page_renders_offline(browser: Any, assistant: Assistant) -> None:
    tab = Kiosk(browser, assistant.stack.kefu_url, "kiosk")  # logs in: the cookie lets /docs read /openapi.json
    tab.page.goto(assistant.stack.kefu_url + "/docs")
    tab.page.wait_for_selector(".operation")
    assert not tab.page.locator("#login").is_visible()  # logged in: no token form
    text = tab.page.inner_text("body")
    for path in ("/api/v1/chat", "/api/v1/guides/{guide_id}/notice", "/api/v1/feedback", "ChatResponse"):
        assert path in text
    assert all(url.startswith(tab.base) or url.startswith("data:") for url in tab.requests), tab.requests
    tab.screenshot("docs")
    tab.close()
