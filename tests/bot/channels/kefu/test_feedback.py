"""The assistant's feedback responses as the hall API recognises them: by the custom payload that
domain.yml gives them (protocol.PAYLOAD_FEEDBACK), not by their wording."""

from __future__ import annotations

import pytest

from bot.channels.kefu.feedback import acknowledges, asks_for_comment, comment_saved, unknown_answer
from bot.channels.rasa_client import AssistantReply
from protocol import FEEDBACK_ASK_COMMENT, FEEDBACK_COMMENT_SAVED, FEEDBACK_THANKS, FEEDBACK_UNKNOWN_ANSWER, PAYLOAD_FEEDBACK
from tests.support.kefu import domain_response

THANKS = AssistantReply(domain_response("utter_feedback_thanks"))
ASK_COMMENT = AssistantReply(domain_response("utter_ask_feedback_comment"))
COMMENT_SAVED = AssistantReply(domain_response("utter_feedback_comment_saved"))
UNKNOWN = AssistantReply(domain_response("utter_feedback_unknown_answer"))


@pytest.mark.parametrize(("name", "value"), [("utter_feedback_thanks", FEEDBACK_THANKS),
                                             ("utter_ask_feedback_comment", FEEDBACK_ASK_COMMENT),
                                             ("utter_feedback_comment_saved", FEEDBACK_COMMENT_SAVED),
                                             ("utter_feedback_unknown_answer", FEEDBACK_UNKNOWN_ANSWER)])
def test_the_domain_responses_carry_the_protocol_payload(name: str, value: str) -> None:
    messages = domain_response(name)
    assert {PAYLOAD_FEEDBACK: value} in [m.get("custom") for m in messages]
    assert AssistantReply(messages).feedback == value and AssistantReply(messages).text  # the text is kept too


def test_each_reply_means_what_its_payload_says() -> None:
    assert "缺了什么" in ASK_COMMENT.text and asks_for_comment(ASK_COMMENT)
    assert acknowledges("bad", ASK_COMMENT) and not acknowledges("good", ASK_COMMENT)
    assert acknowledges("good", THANKS) and not acknowledges("bad", THANKS) and not asks_for_comment(THANKS)
    # a 差评 that brought its comment is taken and its comment saved in one reply
    assert comment_saved(COMMENT_SAVED) and acknowledges("bad", COMMENT_SAVED) and not acknowledges("good", COMMENT_SAVED)
    assert unknown_answer(UNKNOWN) and not acknowledges("bad", UNKNOWN) and not acknowledges("good", UNKNOWN)
    assert COMMENT_SAVED.buttons == [{"title": "转人工", "payload": "/request_human"}]
    assert not comment_saved(AssistantReply([{"text": "您好"}, {"custom": {"answer": {}}}]))


def test_the_wording_does_not_matter() -> None:
    reworded = AssistantReply([{"text": "谢谢夸奖！"}, {"custom": {PAYLOAD_FEEDBACK: FEEDBACK_THANKS}}])
    assert acknowledges("good", reworded)
    same_text_no_payload = AssistantReply([m for m in THANKS.messages if "custom" not in m])
    assert same_text_no_payload.text == THANKS.text and not acknowledges("good", same_text_no_payload)


@pytest.mark.parametrize("custom", [{PAYLOAD_FEEDBACK: {"kind": FEEDBACK_THANKS}}, {PAYLOAD_FEEDBACK: None}, "feedback", ["thanks"]])
def test_a_malformed_payload_claims_nothing(custom: object) -> None:
    reply = AssistantReply([{"text": "感谢您的好评！"}, {"custom": custom}])
    assert reply.feedback is None and not acknowledges("good", reply)
