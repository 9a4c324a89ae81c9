"""What the assistant's replies mean for POST /api/v1/feedback: was the rating taken, did a 差评
ask for the comment, was the comment saved.

The hall API sends one rating payload naming the answer (protocol.rating_payload: a 差评 carries
its comment too). action_record_feedback stores the rating of that answer and says
``utter_feedback_thanks`` (好评), ``utter_ask_feedback_comment`` (差评 without a comment: the
feedback_form asks what was missing) or ``utter_feedback_comment_saved`` (差评 with its comment);
an answer the conversation no longer remembers is rated not at all, ``utter_feedback_unknown_answer``.
When nothing confirms the rating (the action server was down …) the hall API claims nothing.

The responses carry a custom payload in domain.yml, ``{feedback: thanks}``, ``{feedback: ask_comment}``,
``{feedback: comment_saved}`` and ``{feedback: unknown_answer}`` (the key and values are in
protocol.py), which the REST channel returns as a message of its own; their texts can be reworded
freely.

Usage::

    acknowledges("good", reply)   # True: the thanks for a 好评
    asks_for_comment(reply)       # True: the form asks for the comment (so the 差评 was taken)
    comment_saved(reply)          # True: the comment was stored (with its 差评, or after it)
    unknown_answer(reply)         # True: the answer id is not (or no longer) known; nothing stored
"""

from __future__ import annotations

from bot.channels.rasa_client import AssistantReply
from protocol import FEEDBACK_ASK_COMMENT, FEEDBACK_COMMENT_SAVED, FEEDBACK_THANKS, FEEDBACK_UNKNOWN_ANSWER


def acknowledges(rating: str, reply: AssistantReply) -> bool:
    """Whether `reply` is the assistant taking a rating ("good" or "bad"; a 差评 asks for its comment,
    or says the comment that came with it was saved)."""
    if rating == "good":
        return reply.feedback == FEEDBACK_THANKS
    return reply.feedback in (FEEDBACK_ASK_COMMENT, FEEDBACK_COMMENT_SAVED)


def asks_for_comment(reply: AssistantReply) -> bool:
    return reply.feedback == FEEDBACK_ASK_COMMENT


def comment_saved(reply: AssistantReply) -> bool:
    return reply.feedback == FEEDBACK_COMMENT_SAVED


def unknown_answer(reply: AssistantReply) -> bool:
    return reply.feedback == FEEDBACK_UNKNOWN_ANSWER
