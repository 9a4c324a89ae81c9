"""What the assistant's replies mean for POST /api/v1/feedback: was the rating taken, did a 差评
open the comment form, was the comment saved.

After /feedback_good action_record_feedback stores the rating and says ``utter_feedback_thanks``.
After /feedback_bad it stores the rating and the feedback_form asks for the comment with
``utter_ask_feedback_comment`` (data/rules.yml: "差评 asks what was missing"); the next message of
that conversation is stored as the comment and answered with ``utter_feedback_comment_saved``.
When the 差评 did not open the form (the form was still waiting for an earlier comment and took
the rating itself as that comment, the action server was down …) the next message would be a new
question, so the hall API sends the comment only after the prompt and reports each step recorded
only when the assistant confirmed it.

The three responses carry a custom payload in domain.yml, ``{feedback: thanks}``,
``{feedback: ask_comment}`` and ``{feedback: comment_saved}`` (the key and values are in
protocol.py), which the REST channel returns as a message of its own; their texts can be reworded
freely.

Usage::

    acknowledges("good", reply)   # True: the thanks for a 好评
    asks_for_comment(reply)       # True: the form asks for the comment (so the 差评 was taken)
    comment_saved(reply)          # True: the comment was stored
"""

from __future__ import annotations

from bot.channels.rasa_client import AssistantReply
from protocol import FEEDBACK_ASK_COMMENT, FEEDBACK_COMMENT_SAVED, FEEDBACK_THANKS


def acknowledges(rating: str, reply: AssistantReply) -> bool:
    """Whether `reply` is the assistant taking a rating ("good" or "bad")."""
    return reply.feedback == (FEEDBACK_THANKS if rating == "good" else FEEDBACK_ASK_COMMENT)


def asks_for_comment(reply: AssistantReply) -> bool:
    return reply.feedback == FEEDBACK_ASK_COMMENT


def comment_saved(reply: AssistantReply) -> bool:
    return reply.feedback == FEEDBACK_COMMENT_SAVED
