"""/start, /help and the hint for a sticker offer the example questions of the knowledge base
published now (knowledge/examples.py): a deployment that replaced the sample guides gets its own,
a rebuild is picked up without restarting the bot, and with no index no item is named."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.channels.telegram import handlers
from bot.channels.telegram.config import BotConfig
from bot.channels.telegram.conversation import TelegramAssistant
from bot.channels.telegram.texts import help_text, non_text_hint, welcome_text
from knowledge.examples import Examples
from tests.support.kefu import bundled_guides, publish_guides

pytestmark = pytest.mark.unit

OWN = {"fishing-boat": {"id": "fishing-boat", "title": "渔船登记", "aliases": [], "category": "农业农村", "questions": ["渔船登记要什么材料"]},
       "well-permit": {"id": "well-permit", "title": "取水许可", "aliases": [], "category": "水利",
                       "questions": ["打井取水要审批吗", "取水许可多久能批"]}}
SAMPLE = ("企业开办", "用水报装", "施工许可", "开办企业", "开公司", "食品经营")


def assistant(index_dir: Path | None) -> TelegramAssistant:
    return TelegramAssistant(BotConfig(token="1:abc", rasa_url="http://127.0.0.1:9/webhooks/rest/webhook", index_dir=index_dir))


def start(bot: TelegramAssistant, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[dict[str, str]]]:
    """What /start shows: its text and its buttons."""
    shown: list[Any] = []

    async def show(context: Any, chat_id: int, parts: list[Any]) -> None:
        shown.extend(parts)

    monkeypatch.setattr(handlers, "show", show)
    asyncio.run(handlers.start(bot, SimpleNamespace(effective_chat=SimpleNamespace(id=1)), SimpleNamespace()))  # type: ignore[arg-type]
    (text, buttons), = shown
    return text, buttons


def test_start_offers_the_published_guides_and_follows_a_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_guides(tmp_path, OWN)
    bot = assistant(tmp_path)
    text, buttons = start(bot, monkeypatch)
    assert [b["payload"] for b in buttons] == ["渔船登记要什么材料？", "取水许可多久能批？"]
    assert all(f"· {b['title']}" in text for b in buttons) and not any(name in text for name in SAMPLE)
    for said in (help_text("12345", bot.examples()), non_text_hint(bot.examples())):
        assert "“渔船登记要什么材料”" in said and not any(name in said for name in SAMPLE)

    publish_guides(tmp_path, bundled_guides(), version="20260102-000000-bbbbbb")  # a rebuild, the bot still running
    text, buttons = start(bot, monkeypatch)
    assert buttons[0]["payload"] == "开公司要带什么材料？" and "渔船登记" not in text


def test_without_an_index_start_names_no_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for bot in (assistant(None), assistant(tmp_path / "none")):
        text, buttons = start(bot, monkeypatch)
        assert buttons == [] and "· " not in text and "下面的例子" not in text and "12345" in text
    assert not any(name in welcome_text("12345", Examples()) + non_text_hint(Examples()) for name in SAMPLE)
