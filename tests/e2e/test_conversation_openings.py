"""End-to-end: a question read with the matter the user described just before it, when neither could be placed alone
(actions/opening.py), through the real Rasa server and action server."""

from __future__ import annotations

from tests.support import assert_guide_answer
from tests.support.stack import Assistant


def test_a_question_after_a_refused_matter_is_read_with_it(assistant: Assistant) -> None:
    # alone, "太旧了咋整" names no matter: nothing is guessed
    alone = assistant.chat().say("太旧了咋整")
    assert alone.answer is None and alone.payload("confirm") is None, alone
    chat = assistant.chat()
    first = chat.say("店里那台电梯用了好多年了")  # tells a situation, asks nothing: not placed
    assert first.answer is None and first.payload("confirm") is None, first
    turn = chat.say("太旧了咋整")  # the elevator's matter, as a clerk would hear it
    confirm = turn.payload("confirm")
    assert confirm is not None and confirm["guide"]["id"] == "special-equipment-registration", turn
    assert_guide_answer(chat.say("是"), "special-equipment-registration")


def test_a_chat_after_an_off_topic_remark_gets_no_guide(assistant: Assistant) -> None:
    chat = assistant.chat()
    chat.say("今天天气真好")
    turn = chat.say("明天会下雨吗")
    assert turn.answer is None and turn.payload("confirm") is None and turn.payload("clarify") is None, turn
