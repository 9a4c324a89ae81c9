"""The assistant's feedback responses as the hall API recognises them, read from domain.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.kefu.feedback import FeedbackTexts
from bot.channels.rasa_client import AssistantReply
from knowledge.settings import ROOT


def test_feedback_texts_come_from_the_domain() -> None:
    texts = FeedbackTexts.from_domain(ROOT / "domain.yml")
    prompt, = texts.prompts
    assert "缺了什么" in prompt and texts.thanks and texts.saved
    assert texts.asks_for_comment(AssistantReply([{"text": prompt + "\n"}]))
    assert texts.acknowledges("bad", AssistantReply([{"text": prompt}])) and not texts.acknowledges("good", AssistantReply([{"text": prompt}]))
    assert not texts.comment_saved(AssistantReply([{"text": "您好"}, {"custom": {"answer": {}}}]))


def test_without_a_domain_nothing_is_claimed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    texts = FeedbackTexts.from_domain(tmp_path / "missing.yml")
    reply = AssistantReply([{"text": next(iter(FeedbackTexts.from_domain(ROOT / "domain.yml").thanks))}])
    assert not texts.acknowledges("good", reply) and not texts.asks_for_comment(reply)
    assert "missing.yml" in caplog.text
