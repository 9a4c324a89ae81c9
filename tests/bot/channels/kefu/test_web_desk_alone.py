"""The staff desk page (web/desk.html, desk.js) in headless Chromium against the hall service alone (no Rasa, no action
server: tests/support/kefu.py `page_service`; the handoff is written with the records store as the action server
writes it), for what the desk's script decides itself: how a clicked button reads in the transcript, and a handoff's
reason in the queue. The payloads and the reasons come from protocol.py through the page (page.py render_desk), never
from the script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from knowledge.records.desk import DeskRecords
from protocol import AFFIRM, DENY, FEEDBACK_GOOD, REASON_REQUEST_HUMAN, REQUEST_HUMAN, STAFF_TOKEN_ENV, rating_payload
from tests.support.kefu import CHROMIUM, TIMEOUT_MS, page_service

pytest.importorskip("playwright.sync_api")
# A browser: end to end, though no assistant runs (conftest.py marks by fixture only `assistant` tests).
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium 未安装：运行 bash scripts/setup_browser.sh")]

STAFF_TOKEN = "test-staff-token"


def _logged_in(browser: Any, base: str) -> tuple[Any, Any, list[str]]:
    """A clerk (王芳) logged in at the desk: the browser context, its page (the queue shown) and the page's script errors
    from the first load on."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base + "/desk")
    page.wait_for_selector("body[data-ready=login]")
    page.fill("#login-token", STAFF_TOKEN)
    page.fill("#login-clerk", "王芳")
    page.click("#login-go")
    page.wait_for_selector("body[data-ready=desk]")
    return context, page, errors


def test_the_transcript_reads_each_button_as_the_citizen_saw_it(browser: Any, tmp_path: Path) -> None:
    with page_service(tmp_path, {}, env={STAFF_TOKEN_ENV: STAFF_TOKEN}) as (base, _received):
        DeskRecords(tmp_path / "records.sqlite3").add_handoff("kefu-test-desk-buttons", reason=REASON_REQUEST_HUMAN, guide_id=None,
                                                              question="开办企业要什么材料", transcript=[
            {"from": "user", "text": "开办企业要什么材料"}, {"from": "bot", "text": "您问的是【企业开办】的申请材料吗？"},
            {"from": "user", "text": AFFIRM}, {"from": "user", "text": DENY}, {"from": "user", "text": FEEDBACK_GOOD},
            {"from": "user", "text": rating_payload("bad", "kqzvtmwrbahe", "没写复印件要几份")},
            {"from": "user", "text": '/choose{"pick": "company-setup"}'}, {"from": "user", "text": REQUEST_HUMAN}])
        context, page, errors = _logged_in(browser, base)
        assert "要求转人工" in page.locator("#queue li").inner_text()  # its reason in the desk's words (data-reasons)
        page.click("#queue li")
        page.wait_for_function("() => document.querySelectorAll('#transcript li').length === 8")
        assert "要求转人工" in page.locator("#case-meta").inner_text()
        lines = [line.split("：", 1)[1] for line in page.locator("#transcript li").all_inner_texts()]
        assert lines == ["开办企业要什么材料", "您问的是【企业开办】的申请材料吗？", "（点击了“是”）", "（点击了“不是”）",
                         "（点击了“好评”）", "（点击了“差评”）", "（点击了按钮）", "（点击了“转人工”）"]
        assert not errors, errors
        context.close()


def test_a_reason_the_desk_has_no_words_for_reads_as_itself(browser: Any, tmp_path: Path) -> None:
    """Looked up in a Map: "constructor" is no key of the desk's reasons, though every plain object has one."""
    with page_service(tmp_path, {}, env={STAFF_TOKEN_ENV: STAFF_TOKEN}) as (base, _received):
        DeskRecords(tmp_path / "records.sqlite3").add_handoff("kefu-test-desk-reason", reason="constructor", guide_id=None,
                                                              question="开办企业要什么材料", transcript=[])
        context, page, errors = _logged_in(browser, base)
        assert page.locator("#queue li .meta").inner_text() == "constructor"
        page.click("#queue li")
        page.wait_for_function("() => document.getElementById('case-meta').textContent.includes('constructor')")
        assert "function" not in page.locator("#case-meta").inner_text()
        assert not errors, errors
        context.close()
