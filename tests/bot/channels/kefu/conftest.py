"""Fixtures of the hall API tests (test_api_*.py): the running hall service over HTTP, and settings
for the hall app on an ASGI client (helpers are in tests/support/kefu.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from knowledge.settings import load_settings
from tests.support.kefu import Api, bundled_guides, publish_guides
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
