"""The web page in headless Chromium against the hall service alone (no Rasa, no action server: a fake
Rasa answers with the replies the actions build, tests/support/kefu.py `page_service`), for what the
page itself decides: what a shared hall kiosk keeps for the next citizen, what a citizen's own phone
(public mode) keeps for its owner, and what a screen reader hears a button group called. The service
runs in public mode, so one serves both: a kiosk logs in with the token, a phone without."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions import contact_replies, replies
from knowledge.examples import derive_examples
from knowledge.retrieval.retriever import GuideCandidate
from protocol import REQUEST_HUMAN
from tests.support import parsed_guide
from tests.support.kefu import BUBBLE_FONT, CHROMIUM, Kiosk, bundled_guides, page_service, rest_output

pytest.importorskip("playwright.sync_api")
# A browser: end to end, though no assistant runs (conftest.py marks by fixture only `assistant` tests).
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium 未安装：运行 bash scripts/setup_browser.sh")]

HOTLINE = "12345"
OFF_TOPIC = "今天天气怎么样"
NOTHING_CLOSE = "结婚登记要带什么材料"
REMOVED = "用气报装要什么材料"
TWO_CLOSE = "公司不开了怎么弄"
COMPLAINT = "窗口态度太差，我要投诉"
COMPLAINT_VIA_HOTLINE = "窗口办事太慢，我要投诉"
SUPERVISION_PHONE = "0000-1230000"
RATED = "开办企业要什么材料"


def _near(*guide_ids: str) -> list[GuideCandidate]:
    return [GuideCandidate(guide_id, parsed_guide(guide_id).title, 0.5) for guide_id in guide_ids]


# Each message's reply as the action server builds it (actions/replies.py), through Rasa's REST channel.
REPLIES = {
    OFF_TOPIC: rest_output(replies.out_of_scope(HOTLINE, derive_examples(bundled_guides().values()))),
    NOTHING_CLOSE: rest_output(replies.not_found([], HOTLINE)),
    REMOVED: rest_output(replies.removed_guide("gas-connection", "用气报装", HOTLINE)),
    TWO_CLOSE: rest_output(replies.not_found(_near("company-deregistration", "simplified-deregistration"), HOTLINE)),
    # the first of the nearest matters, picked: answered as anything else would be (the page is what is tested)
    replies.pick_payload("company-deregistration"): [{"recipient_id": "kefu-x", "text": f"【{parsed_guide('company-deregistration').title}】……"}],
    # an answer's own buttons: its ratings, named by their answer (the page knows them from data-ratings), and 转人工
    RATED: [{"recipient_id": "kefu-x", "text": "【企业开办】申请材料：……",
             "buttons": [*replies.feedback_buttons("kqzvtmwrbahe"), replies.handoff_button()]}],
    REQUEST_HUMAN: rest_output(contact_replies.handoff(None, reason="request_human", record_id=None, hotline=HOTLINE)),
    # a complaint about the water connection: its supervising department has its own line, or (most guides) the hotline's
    COMPLAINT: rest_output(contact_replies.handoff({**parsed_guide("water-connection").as_dict(), "complaint_phone": SUPERVISION_PHONE},
                                                   reason="complain", record_id=7, hotline=HOTLINE)),
    COMPLAINT_VIA_HOTLINE: rest_output(contact_replies.handoff({**parsed_guide("water-connection").as_dict(), "complaint_phone": HOTLINE},
                                                               reason="complain", record_id=8, hotline=HOTLINE)),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The base URL, and every request the fake Rasa received."""
    with page_service(tmp_path_factory.mktemp("kefu-page"), REPLIES, env={"GOVQA_KEFU_PUBLIC": "true"}) as running:
        yield running


@pytest.fixture
def hall(service: tuple[str, list[dict[str, Any]]]) -> str:
    return service[0]


def reload(tab: Kiosk) -> None:
    tab.page.reload()
    tab.page.wait_for_selector("body[data-ready]")


def test_a_new_conversation_on_a_kiosk_starts_at_the_default_font_size(browser: Any, hall: str) -> None:
    tab = Kiosk(browser, hall, "kiosk")
    assert tab.page.evaluate("document.body.dataset.mode") == "kiosk"
    normal = tab.page.evaluate(BUBBLE_FONT)
    tab.enlarge()
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
    tab.enlarge()
    tab.ask(OFF_TOPIC)
    tab.page.wait_for_selector(".idle-notice", timeout=15_000)
    assert tab.page.evaluate(BUBBLE_FONT) == normal
    # A+ pressed and nothing asked: no conversation to clear, the size still goes back for the next citizen
    tab.enlarge()
    tab.page.wait_for_function(f"(normal) => {BUBBLE_FONT} === normal", arg=normal, timeout=15_000)
    assert "秒后将清空对话" not in tab.chat_text()  # nothing to warn about
    tab.close()


def test_a_citizens_own_phone_keeps_its_font_size_in_a_new_conversation(browser: Any, hall: str) -> None:
    tab = Kiosk(browser, hall, "phone", token=None)
    assert tab.page.evaluate("document.body.dataset.mode") == "public"
    _, larger = tab.enlarge()
    tab.ask(OFF_TOPIC)
    tab.page.click("#restart")
    assert tab.page.locator(".row.user").count() == 0 and tab.page.evaluate(BUBBLE_FONT) == larger
    reload(tab)
    assert tab.page.evaluate(BUBBLE_FONT) == larger
    tab.close()


def last_group(tab: Kiosk) -> tuple[str | None, list[str]]:
    """The name of the last button group, as a screen reader announces it, and its buttons."""
    group = tab.page.locator(".choices[role=group]").last
    return group.get_attribute("aria-label"), group.locator("button").all_inner_texts()


def test_a_group_holding_only_the_handoff_button_is_named_for_it(browser: Any, service: tuple[str, list[dict[str, Any]]]) -> None:
    base, received = service
    tab = Kiosk(browser, base, "kiosk")
    # nothing close was found, the matter was removed, the question is not ours: no matter to choose
    for question in (NOTHING_CLOSE, REMOVED, OFF_TOPIC):
        tab.ask(question)
        assert last_group(tab) == ("联系工作人员", ["转人工"]), question
    # the nearest matters, with 转人工 after them, are still matters to choose
    tab.ask(TWO_CLOSE)
    label, buttons = last_group(tab)
    assert label == "相近事项" and buttons[-1] == "转人工" and len(buttons) == 3, buttons
    # the ratings of an answer are a group of their own, after the others
    tab.ask(RATED)
    groups = tab.page.locator(".choices[role=group]")
    assert [groups.nth(-2).get_attribute("aria-label"), last_group(tab)[0]] == ["联系工作人员", "评价这条回答"]
    # the group's button and the page's own 转人工 send the payload the assistant knows (protocol.REQUEST_HUMAN)
    tab.ask(OFF_TOPIC)
    tab.click("转人工")
    before = tab.page.locator(".row.bot").count()
    tab.page.click("#human")
    tab.wait_for_reply(before)
    assert [request["message"] for request in received[-2:]] == [REQUEST_HUMAN, REQUEST_HUMAN]
    assert "已为您转接人工服务" in tab.page.locator(".row.bot .bubble").last.inner_text()
    tab.close()


def test_a_complaints_card_names_whom_to_complain_to(browser: Any, hall: str) -> None:
    """The structured reply's `supervision` on the card, before the windows complained about, tap-to-call; on a phone
    the text's own 投诉监督 line then hides like the windows' (the number once, in the card)."""
    department = parsed_guide("water-connection").department
    tab = Kiosk(browser, hall, "phone", token=None)
    tab.ask(COMPLAINT)
    card = tab.page.locator(".guide-card").last
    note = card.locator(".supervision")
    assert note.locator(".unit").inner_text() == f"投诉监督：{department}"
    assert note.locator("a.phone").inner_text() == SUPERVISION_PHONE
    assert note.locator("a.phone").get_attribute("href") == "tel:00001230000"
    assert card.evaluate("c => c.querySelector('.supervision').nextElementSibling.matches('.contacts')")  # before the windows
    supervision_line = tab.page.locator(".row.bot .bubble .line", has_text="的投诉监督：").last
    assert "in-card" in (supervision_line.get_attribute("class") or "") and not supervision_line.is_visible()
    # the hotline passes the complaint on: said on the card; the text's hotline line stays visible
    tab.ask(COMPLAINT_VIA_HOTLINE)
    note = tab.page.locator(".guide-card").last.locator(".supervision")
    assert note.locator("a.phone").inner_text() == HOTLINE and "经政务服务便民热线转达" in note.inner_text()
    assert tab.page.locator(".row.bot .bubble", has_text="记录编号：8").locator(".line", has_text="（投诉、咨询、求助）").is_visible()
    # a plain 转人工 names no supervision
    before = tab.page.locator(".row.bot").count()
    tab.page.click("#human")
    tab.wait_for_reply(before)
    assert "已为您转接人工服务" in tab.chat_text() and tab.page.locator(".supervision").count() == 2
    tab.close()


def test_picking_a_matter_leaves_the_handoff_button_beside_it_usable(browser: Any, service: tuple[str, list[dict[str, Any]]]) -> None:
    """One choice per group, but 转人工 next to the nearest matters stays usable after a pick (the pick may not have been
    what the citizen needed); once used, it is spent like any other choice."""
    base, received = service
    tab = Kiosk(browser, base, "kiosk")
    tab.ask(TWO_CLOSE)
    group = tab.page.locator(".choices[role=group]").last
    tab.click("1. " + parsed_guide("company-deregistration").title)
    assert received[-1]["message"] == replies.pick_payload("company-deregistration")
    state = group.locator("button").evaluate_all("buttons => buttons.map((b) => [b.textContent, b.disabled])")
    assert [disabled for _, disabled in state] == [True, True, False] and state[-1][0] == "转人工", state
    before = tab.page.locator(".row.bot").count()
    group.locator("button", has_text="转人工").click()
    tab.wait_for_reply(before)
    assert received[-1]["message"] == REQUEST_HUMAN
    assert group.locator("button:disabled").count() == 3 and "chosen" in (group.locator("button").last.get_attribute("class") or "")
    tab.close()
