"""The clerk's guide search (bot/channels/kefu/desk_search.py) is the assistant's retriever on the
published index: a paraphrase with no word of the guide's title finds it, and the clerk is told
what the assistant would do with the question."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.channels.kefu.desk_search import DeskSearch


def test_a_paraphrase_finds_the_guide_the_assistant_would(bundled: tuple[Any, Any]) -> None:
    settings, _report = bundled
    search = DeskSearch(settings)
    found = asyncio.run(search.run("公司不想开了"))
    guides = [result["guide_id"] for result in found["results"]]
    assert "company-deregistration" in guides[:3], guides
    assert len(guides) == len(set(guides)) and found["decision_label"].startswith("助手会")
    first = found["results"][0]
    assert first["title"] and first["snippet"] and found["index_version"]
    # a second search reuses the loaded retriever
    again = search.search("营业执照丢了怎么补办")
    assert again["results"][0]["guide_id"] == "license-reissue"
