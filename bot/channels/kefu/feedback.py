"""What the assistant's replies mean for POST /api/v1/feedback: was the rating taken, did a 差评
open the comment form, was the comment saved.

After /feedback_good action_record_feedback stores the rating and says ``utter_feedback_thanks``.
After /feedback_bad it stores the rating and the feedback_form asks for the comment with
``utter_ask_feedback_comment`` (data/rules.yml: "差评 asks what was missing"); the next message of
that conversation is stored as the comment and answered with ``utter_feedback_comment_saved``.
When the 差评 did not open the form (the form was still waiting for an earlier comment and took
the rating itself as that comment, the action server was down …) the next message would be a new
question, so the hall API sends the comment only after the prompt and reports each step recorded
only when the assistant confirmed it. The texts are read from domain.yml, the file Rasa is trained
from, so a reworded response needs no change here.

Usage::

    texts = FeedbackTexts.from_domain(ROOT / "domain.yml")
    texts.acknowledges("good", reply)   # True: the thanks for a 好评
    texts.asks_for_comment(reply)       # True: the form asks for the comment (so the 差评 was taken)
    texts.comment_saved(reply)          # True: the comment was stored
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.channels.rasa_client import AssistantReply

log = logging.getLogger(__name__)

THANKS = "utter_feedback_thanks"
ASK_COMMENT = "utter_ask_feedback_comment"
COMMENT_SAVED = "utter_feedback_comment_saved"


def _response_texts(responses: dict[str, Any], name: str) -> frozenset[str]:
    return frozenset(str(variant["text"]).strip() for variant in responses.get(name) or []
                     if isinstance(variant, dict) and variant.get("text"))


@dataclass(frozen=True)
class FeedbackTexts:
    """The texts of the three responses (every variant of each)."""

    thanks: frozenset[str]
    prompts: frozenset[str]
    saved: frozenset[str]

    @classmethod
    def from_domain(cls, domain: Path) -> FeedbackTexts:
        """Read the responses from domain.yml. When that fails there are none: nothing is then
        reported recorded and no comment is sent (a claim of "recorded" must be true), and the
        error is logged for the operator."""
        try:
            responses = (yaml.safe_load(domain.read_text(encoding="utf-8")) or {}).get("responses") or {}
            texts = cls(*(_response_texts(responses, name) for name in (THANKS, ASK_COMMENT, COMMENT_SAVED)))
        except (OSError, yaml.YAMLError, AttributeError) as error:
            log.error("无法读取 %s 的评价回复（%s）：评价将报告为未记录，差评意见不会转给助手", domain, error)
            return cls(frozenset(), frozenset(), frozenset())
        if not (texts.thanks and texts.prompts and texts.saved):
            log.error("%s 缺少回复 %s、%s 或 %s：相应的评价将报告为未记录", domain, THANKS, ASK_COMMENT, COMMENT_SAVED)
        return texts

    def acknowledges(self, rating: str, reply: AssistantReply) -> bool:
        """Whether `reply` is the assistant taking a rating ("good" or "bad")."""
        return self._says(self.thanks if rating == "good" else self.prompts, reply)

    def asks_for_comment(self, reply: AssistantReply) -> bool:
        return self._says(self.prompts, reply)

    def comment_saved(self, reply: AssistantReply) -> bool:
        return self._says(self.saved, reply)

    @staticmethod
    def _says(texts: frozenset[str], reply: AssistantReply) -> bool:
        return any(text.strip() in texts for text in reply.texts)
