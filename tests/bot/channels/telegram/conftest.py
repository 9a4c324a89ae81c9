"""Fixtures of the Telegram bot tests (test_bot_*.py), one set per test module: the fake Bot API
server (with the staff group), the proxy to the running assistant's Rasa, and the bot started as
`make run` starts it, polling that server (helpers are in tests/support/telegram.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.launcher.stack import Stack
from tests.support.fake_bot_api import FakeBotApi
from tests.support.stack import Assistant
from tests.support.telegram import STAFF_CHAT, RasaProxy, telegram_stack


@pytest.fixture(scope="module")
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        fake.add_group(STAFF_CHAT, "政务服务中心人工坐席")
        yield fake


@pytest.fixture(scope="module")
def rasa(assistant: Assistant) -> Iterator[RasaProxy]:
    proxy = RasaProxy(assistant.stack.rasa_url, assistant.stack.rest_token).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def bot(api: FakeBotApi, rasa: RasaProxy, assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The index the assistant answers from: /start offers its example questions (knowledge/examples.py).
    stack = telegram_stack(api, rasa, tmp_path_factory.mktemp("telegram"), TELEGRAM_STAFF_CHAT_ID=str(STAFF_CHAT),
                           GOVQA_INDEX_DIR=str(assistant.settings.index_dir))
    stack.start_telegram()
    api.wait_until(lambda: bool(api.called("getUpdates")) or stack.telegram.poll() is not None, 60, "the bot to start polling")
    assert stack.telegram.poll() is None, (stack.logs / "telegram.log").read_text()
    yield stack
    stack.stop()
