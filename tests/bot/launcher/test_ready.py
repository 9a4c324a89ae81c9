"""What `make run` prints: the public address for citizens' phones only when the public mode is on."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.launcher.ready import public_line
from knowledge.settings import load_settings

pytestmark = pytest.mark.unit


def stack_with(public: bool) -> Any:
    return SimpleNamespace(settings=load_settings(kefu_public=public), kefu_url="http://127.0.0.1:8000")


def test_the_public_address_is_printed_only_in_public_mode() -> None:
    assert public_line(stack_with(False)) == ""
    line = public_line(stack_with(True))
    assert "http://127.0.0.1:8000/ " in line and "无需令牌" in line and "token" not in line
