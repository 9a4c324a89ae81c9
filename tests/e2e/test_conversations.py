"""End-to-end conversations through Rasa's REST channel, against the real Rasa server and action
server. Each asserts what the user would check: the right guide, the complete section as the
guide file has it, and whom to call."""

from __future__ import annotations

import pytest

from tests.support import Turn, assert_guide_answer, parsed_guide, wait_for_rows
from tests.support.stack import Assistant

# One question, one answer: every aspect intent, colloquial wording.
SINGLE_QUESTIONS = [
    ("开办企业需要什么材料", "company-setup", "申请材料"),
    ("装自来水要多长时间", "water-connection", "办理时限"),
    ("办施工许可证要交钱吗", "construction-permit", "收费标准"),
    ("食品经营许可证去哪里办", "food-business-license", "办理地点"),
    ("个体户营业执照的办理流程是什么", "individual-business-registration", "办理流程"),
    ("用电报装的咨询电话是多少", "electricity-connection", None),
    ("申请简易注销需要满足什么条件", "simplified-deregistration", "受理条件"),
    ("刻章可以在网上办吗", "seal-engraving", "网上办理"),
    ("公司开对公账户要带哪些资料", "bank-account", "申请材料"),
    ("用气报装多少钱", "gas-connection", "收费标准"),
    ("劳动仲裁怎么申请", "labor-arbitration", "办理流程"),
    ("营业执照丢了补办要多久", "license-reissue", "办理时限"),
]


@pytest.mark.parametrize(("question", "guide_id", "heading"), SINGLE_QUESTIONS)
def test_a_question_is_answered_completely_with_contacts(assistant: Assistant, question: str, guide_id: str, heading: str | None) -> None:
    turn = assistant.chat().say(question)
    assert_guide_answer(turn, guide_id, heading)
    assert {b["title"] for b in turn.buttons} >= {"👍 好评", "👎 差评"}


def test_follow_ups_keep_the_item(assistant: Assistant) -> None:
    chat = assistant.chat()
    assert_guide_answer(chat.say("开公司要带什么材料"), "company-setup", "申请材料")
    assert_guide_answer(chat.say("那要多久？"), "company-setup", "办理时限")
    assert_guide_answer(chat.say("在哪里办呢"), "company-setup", "办理地点")
    assert_guide_answer(chat.say("收费吗"), "company-setup", "收费标准")


def test_naming_another_item_switches(assistant: Assistant) -> None:
    chat = assistant.chat()
    assert_guide_answer(chat.say("用水报装要多久"), "water-connection", "办理时限")
    assert_guide_answer(chat.say("用电报装要多久"), "electricity-connection", "办理时限")
    assert_guide_answer(chat.say("那要交哪些材料"), "electricity-connection", "申请材料")


def test_elliptical_question_keeps_the_aspect_for_the_new_item(assistant: Assistant) -> None:
    chat = assistant.chat()
    assert_guide_answer(chat.say("开公司要带什么材料"), "company-setup", "申请材料")
    assert_guide_answer(chat.say("那个体户呢？"), "individual-business-registration", "申请材料")


def test_ambiguous_question_is_asked_back_and_a_button_picks(assistant: Assistant) -> None:
    chat = assistant.chat()
    turn = chat.say("注销公司")
    assert turn.payload("clarify") is not None, turn
    titles = {parsed_guide(g).title for g in ("company-deregistration", "simplified-deregistration")}
    assert all(title in turn.text for title in titles)
    answer = chat.click(turn.button("简易注销"))
    assert_guide_answer(answer, "simplified-deregistration")


def test_a_typed_number_picks_and_answers_the_original_aspect(assistant: Assistant) -> None:
    chat = assistant.chat()
    turn = chat.say("注销要多久")
    choices = turn.payload("clarify")
    assert choices is not None, turn
    answer = chat.say("2")
    assert_guide_answer(answer, choices["choices"][1], "办理时限")


def test_a_typed_name_picks(assistant: Assistant) -> None:
    chat = assistant.chat()
    turn = chat.say("公司注销去哪办")
    assert turn.payload("clarify") is not None, turn
    assert_guide_answer(chat.say("一般注销"), "company-deregistration", "办理地点")


OFF_TOPIC = ["今天天气怎么样", "推荐个股票吧", "给我讲个笑话", "python怎么写冒泡排序", "头疼发烧吃什么药", "美国旅游签证怎么办", "asdfghjkl"]


@pytest.mark.parametrize("message", OFF_TOPIC)
def test_off_topic_gets_an_honest_answer_and_no_guide(assistant: Assistant, message: str) -> None:
    chat = assistant.chat()
    chat.say("开公司要带什么材料")
    turn = chat.say(message)
    assert turn.answer is None, turn  # never the previous guide, never a guess
    assert "12345" in turn.text
    assert "抱歉" in turn.text


def test_unknown_procedure_says_so_and_offers_people(assistant: Assistant) -> None:
    chat = assistant.chat()
    turn = chat.say("游艇驾驶证考试要带什么材料")
    assert turn.answer is None, turn  # never a guess: at most the one question "您问的是…吗？"
    if turn.payload("confirm"):
        turn = chat.click(turn.button("不是"))
    assert turn.answer is None and "没有" in turn.text and "12345" in turn.text
    handoff = chat.click(turn.button("转人工"))
    assert handoff.payload("handoff") is not None


def test_request_human_with_an_item_in_context(assistant: Assistant) -> None:
    chat = assistant.chat()
    chat.say("用水报装要什么材料")
    turn = chat.say("转人工")
    marker = turn.payload("handoff")
    assert marker is not None and marker["guide_id"] == "water-connection"
    water = parsed_guide("water-connection")
    assert water.contacts[0].phone in turn.text and "12345" in turn.text
    rows = wait_for_rows(assistant.settings.records_db, "handoffs", lambda r: r["sender_id"] == chat.sender)
    assert rows and rows[-1]["reason"] == "request_human" and "用水报装要什么材料" in rows[-1]["transcript"]


def test_a_question_in_traditional_characters_is_answered_and_kept_as_typed(assistant: Assistant) -> None:
    """Someone whose input method writes traditional characters gets the answer a simplified question gets, follows up
    in them, and the staff who take over read what they typed (the transcript), not a conversion."""
    chat = assistant.chat()
    assert_guide_answer(chat.say("營業執照丟了，補辦要帶什麼材料"), "license-reissue", "申请材料")
    assert_guide_answer(chat.say("在哪裡辦呢"), "license-reissue", "办理地点")
    turn = chat.say("轉人工")
    assert turn.payload("handoff") is not None
    rows = wait_for_rows(assistant.settings.records_db, "handoffs", lambda r: r["sender_id"] == chat.sender)
    assert rows and "營業執照丟了，補辦要帶什麼材料" in rows[-1]["transcript"]


def test_full_width_letters_are_read_as_ascii_and_kept_as_typed(assistant: Assistant) -> None:
    """An input method in full-width mode types "ＣＡ": the NLU and the retriever read "CA" (knowledge/text.py
    half_width); the question record holds the question as read, like a traditional one read in simplified."""
    chat = assistant.chat()
    assert_guide_answer(chat.say("参加工程投标办ＣＡ数字证书要钱吗"), "bidding-online", "收费标准")
    rows = wait_for_rows(assistant.settings.records_db, "questions", lambda r: r["sender_id"] == chat.sender)
    assert rows and rows[-1]["question"] == "参加工程投标办CA数字证书要钱吗"


def test_no_right_after_an_answer_says_it_missed_and_rates_it(assistant: Assistant) -> None:
    """"不是" to the answer just given: not "好的。还有什么想了解的", but the other guides, 12345 and 转人工; the answer gets
    a 差评 in the records (a user trial)."""
    chat = assistant.chat()
    answered = chat.say("用水报装要什么材料")
    assert answered.guide_id == "water-connection", answered
    turn = chat.say("不是")
    assert "刚才的回答不是您要问的" in turn.text and "12345" in turn.text and turn.button("转人工")
    rows = wait_for_rows(assistant.settings.records_db, "feedback", lambda r: r["sender_id"] == chat.sender)
    assert rows and rows[-1]["rating"] == "bad" and rows[-1]["guide_id"] == answered.guide_id


def test_complaint_is_handed_over(assistant: Assistant) -> None:
    chat = assistant.chat()
    turn = chat.say("我要投诉，跑了三趟都没办成")
    marker = turn.payload("handoff")
    assert marker is not None and marker["reason"] == "complain"
    assert "办不成事" in turn.text and "12345" in turn.text


def test_good_rating_is_stored_with_the_answer(assistant: Assistant) -> None:
    chat = assistant.chat()
    answer = chat.say("办施工许可证要交钱吗")
    thanks = chat.click(answer.button("好评"))
    assert "感谢" in thanks.text
    rows = wait_for_rows(assistant.settings.records_db, "feedback", lambda r: r["sender_id"] == chat.sender)
    assert len(rows) == 1
    assert rows[0]["rating"] == "good" and rows[0]["guide_id"] == "construction-permit"
    assert rows[0]["section"] == "收费标准" and rows[0]["question"] == "办施工许可证要交钱吗" and rows[0]["index_version"]


def test_bad_rating_asks_what_was_missing_and_stores_it(assistant: Assistant) -> None:
    chat = assistant.chat()
    answer = chat.say("用气报装多少钱")
    ask = chat.click(answer.button("差评"))
    assert "缺了什么" in ask.text
    saved = chat.say("没有说清楚表具的费用谁出")
    assert "已记录" in saved.text
    rows = wait_for_rows(assistant.settings.records_db, "feedback", lambda r: r["sender_id"] == chat.sender and r["comment"])
    assert rows[-1]["rating"] == "bad" and rows[-1]["guide_id"] == "gas-connection"
    assert rows[-1]["comment"] == "没有说清楚表具的费用谁出"
    # the conversation goes on normally after the comment
    assert_guide_answer(chat.say("燃气开户要多久"), "gas-connection", "办理时限")


def test_policy_question_quotes_the_document_and_its_units(assistant: Assistant) -> None:
    turn = assistant.chat().say("惠企政策免申即享由哪些部门牵头")
    assert "华容区2022年营商环境创优行动方案" in turn.text
    assert "牵头单位" in turn.text and "区财政局" in turn.text


def test_faq_entry_is_answered(assistant: Assistant) -> None:
    turn = assistant.chat().say("开公司的住所可以用住宅吗")
    assert_guide_answer(turn, "company-setup")
    assert "住所申报承诺制" in turn.text


@pytest.mark.parametrize(("message", "expected"), [
    ("你好", "· 开公司要带什么材料？"),  # the published guides' examples (knowledge/examples.py)
    ("你是谁", "机器人"),
    ("你能做什么", "· 新开的店铺怎么申请装电表？"),
    ("谢谢", "不客气"),
    ("再见", "再见"),
    ("你吃饭了吗", "办事"),
])
def test_small_talk(assistant: Assistant, message: str, expected: str) -> None:
    turn = assistant.chat().say(message)
    assert expected in turn.text, turn
    assert turn.answer is None


def test_a_follow_up_with_nothing_in_context_asks_which_item(assistant: Assistant) -> None:
    chat = assistant.chat()
    turn = chat.say("那要多久？")
    assert turn.answer is None and "哪个事项" in turn.text
    assert_guide_answer(chat.say("用水报装"), "water-connection", "办理时限")


def test_a_question_the_assistant_is_unsure_of_is_confirmed_once(assistant: Assistant) -> None:
    # "通煤气" names the gas guide in none of its words (用气, 燃气, 天然气), and mortgages and power score close behind:
    # the assistant asks before answering.
    chat = assistant.chat()
    asked = chat.say("家里通煤气多少钱")
    assert asked.answer is None and asked.payload("confirm")["guide"]["id"] == "gas-connection", asked
    assert "【用气报装】的收费标准吗" in asked.text
    assert_guide_answer(chat.click(asked.button("是")), "gas-connection", "收费标准")
    assert_guide_answer(chat.say("在哪办？"), "gas-connection", "办理地点")


def test_asking_on_instead_of_yes_keeps_the_guide_asked_about(assistant: Assistant) -> None:
    # Not 是 but another question: the confirm is asked again for that aspect, and "是的，要多久" answers it and asks on.
    chat = assistant.chat()
    assert chat.say("家里通煤气多少钱").payload("confirm")["guide"]["id"] == "gas-connection"
    again = chat.say("在哪办")
    assert again.answer is None and again.payload("confirm")["guide"]["id"] == "gas-connection", again
    assert "【用气报装】的办理地点吗" in again.text
    assert_guide_answer(chat.say("是的，要多久"), "gas-connection", "办理时限")


def test_deny_after_an_answer(assistant: Assistant) -> None:
    chat = assistant.chat()
    chat.say("用气报装多少钱")
    turn = chat.say("不用了")
    assert "还有什么" in turn.text and turn.answer is None


@pytest.mark.parametrize("message", ["   ", "？？？", "<script>alert(1)</script>", "' OR 1=1; DROP TABLE feedback; --", "开" * 3000, "🙂🙂🙂"])
def test_strange_input_gets_a_polite_reply(assistant: Assistant, message: str) -> None:
    turn: Turn = assistant.chat().say(message)
    assert turn.messages, "the user must never be left without a reply"
    assert "Traceback" not in turn.text and "Error" not in turn.text
