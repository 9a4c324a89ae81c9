"""The web chat page in headless Chromium (Debian's /usr/bin/chromium driven by Playwright), on a
1920×1080 hall kiosk and a 390×844 phone, against the running assistant: a citizen types a
question, sees the answer with the phone number, clicks buttons, opens the printable notice.
Screenshots are kept under var/test-artifacts/screenshots/ for review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.examples import Examples, derive_examples
from knowledge.index.store import IndexStore
from tests.support import free_port, parsed_guide, wait_for_rows
from tests.support.kefu import CHROMIUM, VIEWPORTS, Kiosk, bundled_guides, hall_service, pdf_pages, publish_guides
from tests.support.stack import Assistant

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium 未安装：运行 bash scripts/setup_browser.sh")


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
    shown = kiosk.chat_text()  # what is on screen (innerText leaves out what CSS hides)
    for contact in guide.contacts:
        phone = card.locator(".phone", has_text=contact.phone)
        assert phone.is_visible() and phone.get_attribute("href") == "tel:" + contact.phone.replace("-", "")
        # a phone shows each number once (in the card, tap-to-call); the kiosk also has it in the answer text
        assert shown.count(contact.phone) == (1 if kiosk.name == "phone" else 2), (contact.phone, shown)
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


def test_the_example_chips_are_the_published_guides_and_each_is_answered(kiosk: Kiosk, assistant: Assistant) -> None:
    store = IndexStore(assistant.settings.index_dir)
    published = Examples.of(store.manifest(store.current_version() or ""))
    chips = kiosk.page.locator("#examples button")
    assert [chips.nth(n).inner_text() for n in range(chips.count())] == list(published.questions) != []
    answers = kiosk.page.locator(".row.bot").count()
    chips.first.click()
    kiosk.wait_for_reply(answers)
    assert kiosk.page.locator(".guide-card .guide-title").last.inner_text() == parsed_guide("company-setup").title


def test_an_office_asked_by_name_shows_its_phones_in_a_card(kiosk: Kiosk) -> None:
    kiosk.ask("市监局电话多少")  # the bureau handles several matters: its phones, then which matter to tell more of
    card = kiosk.page.locator(".offices-card").last
    assert card.locator(".guide-title").inner_text() == "您问的单位"
    units = card.locator(".unit").all_inner_texts()
    assert units and all("市场监督管理局" in unit for unit in units), units
    assert len(units) == len(set(units)), units  # each unit once, with all its phones (登记注册科 has three)
    registration = card.locator(".contact").nth(units.index("示例区市场监督管理局登记注册科"))
    assert registration.locator(".phone").count() == 3 and registration.locator(".detail", has_text="办理：").count() == 3
    shown = kiosk.chat_text()
    for index in range(card.locator(".phone").count()):
        phone = card.locator(".phone").nth(index)
        number = phone.inner_text()
        assert phone.is_visible() and phone.get_attribute("href") == "tel:" + number.replace("-", "")
        # a phone shows each number once, in the card, as in an answer's card; the kiosk has the text too (where a unit
        # of several phones also says which phone is for which matter)
        assert shown.count(number) == 1 if kiosk.name == "phone" else shown.count(number) >= 2, (number, shown)
    matters = kiosk.page.locator(".choices button:not(:disabled)")
    assert matters.count() >= 2  # the matters to pick
    # which office handles which matter is in the card, where the phone's text lines are hidden
    assert "办理：" in card.inner_text() and card.locator(".detail", has_text="办理：").first.is_visible()
    kiosk.assert_fits_the_screen()
    kiosk.screenshot("offices")


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
    assert kiosk.page.locator(".row.user .bubble").last.inner_text() == "转人工"
    bubble = kiosk.page.locator(".bubble.handoff").last.inner_text()
    assert "人工" in bubble and "12345" in bubble
    for contact in parsed_guide("seal-engraving").contacts:
        assert contact.phone in kiosk.page.locator(".guide-card").last.inner_text()
    kiosk.screenshot("handoff")


def test_the_printable_notice_opens_over_the_chat_and_back_keeps_the_conversation(kiosk: Kiosk) -> None:
    kiosk.ask("用水报装要什么材料")
    guide = parsed_guide("water-connection")
    materials = guide.section("申请材料").items
    before = kiosk.chat_text()
    kiosk.page.locator("a.notice-link").last.click()
    overlay = kiosk.page.locator(".notice-overlay[role=dialog]")
    assert overlay.is_visible() and kiosk.page.url.rstrip("/") == kiosk.base  # the same page, no navigation
    notice = kiosk.page.frame_locator(".notice-frame")
    text = notice.locator("body").inner_text()
    assert notice.locator("input[type=checkbox]").count() == len(materials)
    for item in materials:
        assert item in text
    for contact in guide.contacts:
        assert contact.phone in text
    assert guide.updated in text and "一次性告知单" in text
    # the notice reads at the chat's size: the same root font size as the page
    sizes = [kiosk.page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)"),
             kiosk.page.frame(url=lambda url: url.endswith("/notice")).evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")]
    assert sizes[0] == sizes[1], sizes
    kiosk.screenshot("notice")
    kiosk.page.click("#notice-back")  # 返回对话
    assert kiosk.page.locator(".notice-overlay").count() == 0
    assert kiosk.chat_text() == before  # the whole conversation still shown, as it was
    kiosk.ask("那要多久？")  # and it goes on in the same conversation: the follow-up keeps the item
    assert kiosk.page.locator(".guide-card .guide-title").last.inner_text() == guide.title


def test_the_notice_on_its_own_has_back_and_prints_on_one_a4_page(kiosk: Kiosk) -> None:
    tab = kiosk.context.new_page()  # the notice opened on its own (a staff member's "open in new tab")
    tab.goto(kiosk.base + "/api/v1/guides/water-connection/notice")
    assert tab.locator("#back").is_visible() and tab.locator("#back").inner_text() == "← 返回"
    for guide_id in ("company-setup", "water-connection"):
        tab.goto(kiosk.base + f"/api/v1/guides/{guide_id}/notice")
        assert pdf_pages(tab.pdf(format="A4")) == 1, guide_id
    tab.emulate_media(media="print")
    assert not tab.locator("#print").is_visible() and not tab.locator("#back").is_visible()  # no buttons on paper
    tab.close()


def test_new_conversation_forgets_the_item(kiosk: Kiosk) -> None:
    kiosk.ask("开公司要带什么材料")
    kiosk.page.click("#restart")
    assert kiosk.page.locator(".row.user").count() == 0
    kiosk.ask("那要多久？")
    assert "哪个事项" in kiosk.page.locator(".row.bot .bubble").last.inner_text()


def test_a_new_conversation_offers_the_examples_published_now(browser: Any, assistant: Assistant,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    """A kiosk stays open for days: after a rebuild or a rollback, the next conversation (新对话, the idle
    reset) offers the chips of the version published now, and no chips → a greeting that points at none."""
    folder = tmp_path_factory.mktemp("kefu-examples")
    index = folder / "index"
    own = {"fishing-boat": {"id": "fishing-boat", "title": "渔船登记", "aliases": [], "category": "农业农村",
                            "questions": ["渔船登记要什么材料"], "department": "县农业农村局", "updated": "2026-01-01"}}
    publish_guides(index, own)
    chips_js = "[...document.querySelectorAll('#examples button')].map((b) => b.textContent)"
    greeting_js = "document.querySelector('.row.bot .bubble').textContent"
    with hall_service(assistant, folder, env={"GOVQA_INDEX_DIR": str(index)}) as base:
        tab = Kiosk(browser, base, "kiosk")
        assert tab.page.evaluate(chips_js) == ["渔船登记要什么材料？"] and "常见问题" in tab.page.evaluate(greeting_js)
        publish_guides(index, bundled_guides(), version="20260102-000000-bbbbbb")  # a rebuild while the page is open
        tab.page.click("#restart")
        published = list(derive_examples(bundled_guides().values()).questions)
        tab.page.wait_for_function(f"(expected) => JSON.stringify({chips_js}) === JSON.stringify(expected)", arg=published)
        tab.page.locator("#examples button").first.click()  # the new chip sends its question
        assert published[0] in tab.page.locator(".row.user").last.inner_text()
        (index / "CURRENT").unlink()  # nothing published any more
        tab.page.click("#restart")
        tab.page.wait_for_function(f"() => {chips_js}.length === 0")
        greeting = tab.page.evaluate(greeting_js)
        assert "您好" in greeting and "常见问题" not in greeting
        tab.close()


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


@pytest.fixture(scope="module")
def kefu_without_rasa(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second hall service whose Rasa is not running: what a kiosk sees while Rasa restarts."""
    dead = free_port()
    with hall_service(assistant, tmp_path_factory.mktemp("kefu-down"), rasa_url=f"http://127.0.0.1:{dead}/webhooks/rest/webhook",
                      env={"GOVQA_RASA_RETRIES": "1"}) as base:
        yield base


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
