"""End-to-end: a question read with the matter the user described just before it, when neither could be placed alone
(actions/opening.py), through the real Rasa server and action server."""

from __future__ import annotations

from tests.support import assert_guide_answer
from tests.support.stack import Assistant


def test_a_situation_naming_a_guide_is_offered_and_the_next_question_kept_with_it(assistant: Assistant) -> None:
    # alone, "太旧了咋整" names no matter: nothing is guessed
    alone = assistant.chat().say("太旧了咋整")
    assert alone.answer is None and alone.payload("confirm") is None, alone
    chat = assistant.chat()
    # tells a situation, asks nothing, but names the guide by a pair of its alias 电梯使用登记: offered, not refused
    first = chat.say("店里那台电梯用了好多年了")
    offered = first.payload("confirm")
    assert first.answer is None and offered is not None and offered["guide"]["id"] == "special-equipment-registration", first
    turn = chat.say("太旧了咋整")  # the elevator's matter, as a clerk would hear it
    confirm = turn.payload("confirm")
    assert confirm is not None and confirm["guide"]["id"] == "special-equipment-registration", turn
    assert_guide_answer(chat.say("是"), "special-equipment-registration")


def test_a_chat_after_an_off_topic_remark_gets_no_guide(assistant: Assistant) -> None:
    chat = assistant.chat()
    chat.say("今天天气真好")
    turn = chat.say("明天会下雨吗")
    assert turn.answer is None and turn.payload("confirm") is None and turn.payload("clarify") is None, turn


def test_off_topic_chat_or_a_complaint_after_an_unplaced_matter_gets_no_guide(assistant: Assistant) -> None:
    # the matter told first is in scope but not placed; what follows is not about it ("今天天气怎么样"), nor a question
    # at all ("？？？"), or is said to the assistant itself: each is refused as it would be alone
    for message in ("今天天气怎么样", "？？？", "你到底懂不懂啊？"):
        chat = assistant.chat()
        chat.say("我们几个人想合伙开个公司")
        turn = chat.say(message)
        assert turn.answer is None and turn.payload("confirm") is None and turn.payload("clarify") is None, turn


def test_that_document_after_an_answer_stays_with_the_matter(assistant: Assistant) -> None:
    # "还有那个…" points back at the matter just answered; it is no turning aside to another guide
    chat = assistant.chat()
    assert_guide_answer(chat.say("开公司要准备什么材料"), "company-setup")
    assert_guide_answer(chat.say("还有那个住所证明要什么样的"), "company-setup")


def test_a_guide_declined_by_the_button_does_not_come_back(assistant: Assistant) -> None:
    # "不是" pressed (the button sends /deny) to "您问的是【企业开办…】吗": the next item-free question is still read
    # with the matter told first, but never as the guide declined
    chat = assistant.chat()
    chat.say("我们几个人想合伙开个公司")
    confirm = chat.say("要准备什么").payload("confirm")
    assert confirm is not None and confirm["guide"]["id"] == "company-setup", confirm
    chat.say("/deny")
    turn = chat.say("要多久")
    again = turn.payload("confirm")
    assert turn.guide_id != "company-setup" and (again is None or again["guide"]["id"] != "company-setup"), turn
    assert "company-setup" not in str(turn.payload("clarify") or ""), turn


def test_an_aspect_asked_after_an_unplaced_situation_offers_the_closest_guides(assistant: Assistant) -> None:
    # not placed alone nor read together with the question: "哪个事项？" lists the guides closest to the situation
    # instead of general examples, with 转人工; the button answers the asked aspect of the guide picked
    chat = assistant.chat()
    first = chat.say("家里开了个小作坊做豆腐")
    assert first.answer is None and first.payload("confirm") is None, first
    turn = chat.say("要准备什么")
    asked = turn.payload("ask_item")
    assert asked is not None and "food-business-license" in asked.get("choices", []), turn
    assert turn.button("转人工")
    assert_guide_answer(chat.click(turn.button("食品经营许可")), "food-business-license", "申请材料")


def test_when_the_office_is_open_is_answered_with_the_contacts_hours(assistant: Assistant) -> None:
    chat = assistant.chat()
    assert_guide_answer(chat.say("装自来水要带什么材料"), "water-connection")
    turn = chat.say("周末上班不")
    assert turn.guide_id == "water-connection" and turn.answer["aspect"] == "contact", turn
    assert "办公时间：工作日 9:00-17:00" in turn.text
