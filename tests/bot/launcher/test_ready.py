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


def test_the_pools_and_stores_are_printed_without_passwords() -> None:
    from bot.launcher.ready import scale_out_lines

    pool = SimpleNamespace(ports=[5006, 5007], port=5005)
    actions = SimpleNamespace(ports=[5056, 5057, 5058], port=5055)
    settings = load_settings(database_url="postgresql://govqa:pw-secret@db:5432/govqa", redis_url="redis://:pw-secret@cache:6379/0")
    text = scale_out_lines(SimpleNamespace(pool=pool, action_pool=actions, settings=settings))
    assert "Rasa 实例" in text and "2 个，端口 5006, 5007（HAProxy 在 5005）" in text
    assert "动作服务器实例" in text and "3 个，端口 5056, 5057, 5058（HAProxy 在 5055）" in text
    assert "pw-secret" not in text and "db:5432" in text
    assert scale_out_lines(SimpleNamespace(pool=None, action_pool=None, settings=load_settings())) == ""
