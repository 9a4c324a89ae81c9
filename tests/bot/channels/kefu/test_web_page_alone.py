"""The web page in headless Chromium against the hall service alone (no Rasa, no action server: a fake
Rasa answers with the replies the actions build, tests/support/kefu.py `page_service`), for what the
page itself decides: what a shared hall kiosk keeps for the next citizen, and what a citizen's own phone
(public mode) keeps for its owner. The service runs in public mode, so one serves both: a kiosk logs in
with the token, a phone without."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions import replies
from knowledge.examples import derive_examples
from tests.support.kefu import CHROMIUM, Kiosk, bundled_guides, page_service, rest_output

pytest.importorskip("playwright.sync_api")
# A browser: end to end, though no assistant runs (conftest.py marks by fixture only `assistant` tests).
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium 未安装：运行 bash scripts/setup_browser.sh")]

HOTLINE = "12345"
OFF_TOPIC = "今天天气怎么样"
REPLIES = {
    OFF_TOPIC: rest_output(replies.out_of_scope(HOTLINE, derive_examples(bundled_guides().values()))),
}
BUBBLE_FONT = "parseFloat(getComputedStyle(document.querySelector('.row.bot .bubble')).fontSize)"


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with page_service(tmp_path_factory.mktemp("kefu-page"), REPLIES, env={"GOVQA_KEFU_PUBLIC": "true"}) as (base, _received):
        yield base


def enlarge(tab: Kiosk) -> float:
    """A+ twice, as a citizen with poor sight does: the text size then."""
    normal = tab.page.evaluate(BUBBLE_FONT)
    tab.page.click("#font-larger")
    tab.page.click("#font-larger")
    larger = tab.page.evaluate(BUBBLE_FONT)
    assert larger >= normal * 1.25, (normal, larger)
    return larger


def reload(tab: Kiosk) -> None:
    tab.page.reload()
    tab.page.wait_for_selector("body[data-ready]")


def test_a_new_conversation_on_a_kiosk_starts_at_the_default_font_size(browser: Any, hall: str) -> None:
    tab = Kiosk(browser, hall, "kiosk")
    assert tab.page.evaluate("document.body.dataset.mode") == "kiosk"
    normal = tab.page.evaluate(BUBBLE_FONT)
    enlarge(tab)
    tab.ask(OFF_TOPIC)
    tab.page.click("#restart")  # the citizen leaves with 新对话 (or the staff press it)
    assert tab.page.evaluate(BUBBLE_FONT) == normal
    assert tab.page.locator("#font-smaller").is_enabled() and tab.page.locator("#font-larger").is_enabled()
    reload(tab)  # forgotten, not only undone on screen: a reload does not bring it back
    assert tab.page.evaluate(BUBBLE_FONT) == normal
    tab.close()


def test_the_idle_reset_of_a_kiosk_returns_the_default_font_size(browser: Any, hall: str) -> None:
    # ?idle=4: the warning after 3 s without input, the reset 1 s later (test_web_page.py has the reset itself).
    tab = Kiosk(browser, hall, "kiosk", path="/?idle=4")
    normal = tab.page.evaluate(BUBBLE_FONT)
    enlarge(tab)
    tab.ask(OFF_TOPIC)
    tab.page.wait_for_selector(".idle-notice", timeout=15_000)
    assert tab.page.evaluate(BUBBLE_FONT) == normal
    # A+ pressed and nothing asked: no conversation to clear, the size still goes back for the next citizen
    enlarge(tab)
    tab.page.wait_for_function(f"(normal) => {BUBBLE_FONT} === normal", arg=normal, timeout=15_000)
    assert "秒后将清空对话" not in tab.chat_text()  # nothing to warn about
    tab.close()


def test_a_citizens_own_phone_keeps_its_font_size_in_a_new_conversation(browser: Any, hall: str) -> None:
    tab = Kiosk(browser, hall, "phone", token=None)
    assert tab.page.evaluate("document.body.dataset.mode") == "public"
    larger = enlarge(tab)
    tab.ask(OFF_TOPIC)
    tab.page.click("#restart")
    assert tab.page.locator(".row.user").count() == 0 and tab.page.evaluate(BUBBLE_FONT) == larger
    reload(tab)
    assert tab.page.evaluate(BUBBLE_FONT) == larger
    tab.close()
