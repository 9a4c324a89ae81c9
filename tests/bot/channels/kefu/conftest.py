"""Fixtures of the hall API tests (test_api_*.py): the running hall service over HTTP, and settings
for the hall app on an ASGI client (helpers are in tests/support/kefu.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.settings import load_settings
from tests.support.kefu import CHROMIUM, CHROMIUM_ARGS, VIEWPORTS, Api, Kiosk, bundled_guides, publish_guides
from tests.support.stack import Assistant


@pytest.fixture(scope="module")
def api(assistant: Assistant) -> Api:
    """The hall service of the running assistant (so a test using it is an end-to-end test)."""
    return Api(assistant.stack.kefu_url)


@pytest.fixture
def small_settings(tmp_path: Path) -> Any:
    """Settings whose published index holds only the bundled guides (no model needed), with no
    retries and a short timeout towards Rasa."""
    publish_guides(tmp_path / "index", bundled_guides())
    return load_settings(index_dir=tmp_path / "index", rasa_retries=0, rasa_timeout_seconds=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's, driven by Playwright) for the web page tests."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=list(VIEWPORTS))
def kiosk(request: pytest.FixtureRequest, browser: Any, assistant: Assistant) -> Iterator[Kiosk]:
    """The chat page logged in with the token (kiosk mode), on the 1920×1080 kiosk and the 390×844 phone."""
    tab = Kiosk(browser, assistant.stack.kefu_url, request.param)
    yield tab
    tab.close()
