"""The Telegram bot's inline buttons end to end: a clarifying question answered by a button, a used
keyboard, a double tap, a 👍 stored with its answer, and a 👎 bound to its answer.

The bot is the real python-telegram-bot client, started as `make run` starts it, against a local
fake Bot API server and the real Rasa and action servers (fixtures in conftest.py, the user's side
in tests/support/telegram.py)."""

from __future__ import annotations

from bot.launcher.stack import Stack
from protocol import rating_payload
from tests.support.fake_bot_api import FakeBotApi
from tests.support.stack import Assistant
from tests.support.telegram import (
    Messages,
    RasaProxy,
    ask,
    assert_answers,
    buttons,
    click,
    now,
    rated,
    records,
    say,
    sent_to_rasa,
    text,
    wait_records,
)


def with_buttons(messages: Messages) -> bool:
    """A question back (which one do you mean?) is complete: its message carries the choices."""
    return bool(buttons(messages[-1]))


def test_a_clarifying_question_is_answered_by_a_button(api: FakeBotApi, bot: Stack) -> None:
    question = say(api, 1003, "注销公司", until=with_buttons)
    titles = [b["text"] for b in buttons(question[-1])]
    assert any("简易注销" in t for t in titles) and any("一般注销" in t for t in titles), titles
    answer = click(api, 1003, question[-1], "简易注销", until=rated)
    assert_answers(text(answer), "simplified-deregistration")
    marked = buttons(now(api, 1003, question[-1]))
    assert len(marked) == 1 and marked[0]["text"].startswith("✓ 已选：") and "简易注销" in marked[0]["text"]

    # The used keyboard cannot send anything again: the query is answered "used" instead of a turn.
    mark = api.mark(1003)
    [query] = api.click(1003, question[-1], "已选")
    api.wait_until(lambda: api.callback_queries[query]["answered"] is not None, 60, "the answer to the query")
    assert "用过" in api.callback_queries[query]["answered"]["text"] and api.mark(1003) == mark


def test_a_double_tap_on_a_button_sends_it_to_rasa_once(api: FakeBotApi, bot: Stack, rasa: RasaProxy,
                                                        assistant: Assistant) -> None:
    answer = ask(api, 1016, "燃气开户要什么材料")
    assert_answers(text(answer), "gas-connection", "申请材料")
    mark, asked = api.mark(1016), len(rasa.requests)
    taps = api.click(1016, answer[-1], "好评", taps=2)  # fetched together, handled concurrently
    api.wait_until(lambda: all(api.callback_queries[q]["answered"] is not None for q in taps), 60, "both taps answered")
    assert "感谢" in text(api.wait_messages(1016, since=mark))
    # One tap made the turn; the other was told the button is used (it never went on to Rasa).
    told = sorted(str(api.callback_queries[q]["answered"].get("text") or "") for q in taps)
    assert told[0] == "" and "用过" in told[1], told
    [row] = wait_records(assistant, "feedback", 1016)
    assert sent_to_rasa(rasa, 1016, since=asked) == [rating_payload("good", row["answer_id"])]  # the rating names its answer
    assert [b["text"] for b in buttons(now(api, 1016, answer[-1]))] == ["✓ 已选：👍 好评"]  # the mark stays


def test_a_good_rating_is_stored_with_the_answer(api: FakeBotApi, bot: Stack, assistant: Assistant) -> None:
    answer = ask(api, 1004, "办施工许可证要交钱吗")
    assert_answers(text(answer), "construction-permit", "收费标准")
    thanks = click(api, 1004, answer[-1], "好评")
    assert "感谢" in text(thanks)
    rows = wait_records(assistant, "feedback", 1004)
    assert len(rows) == 1 and rows[0]["rating"] == "good" and rows[0]["guide_id"] == "construction-permit"
    assert rows[0]["question"] == "办施工许可证要交钱吗" and rows[0]["answer_id"]


def test_a_bad_rating_names_its_answer_and_a_question_after_it_is_answered(api: FakeBotApi, bot: Stack, rasa: RasaProxy,
                                                                         assistant: Assistant) -> None:
    first = ask(api, 1017, "开办企业需要什么材料")
    second = ask(api, 1017, "用水报装要多久")
    assert buttons(now(api, 1017, first[-1])) == []  # only the latest keyboard is live: no old button can rate
    asked = len(rasa.requests)
    prompt = click(api, 1017, second[-1], "差评")
    assert "缺了什么" in text(prompt)
    [payload] = sent_to_rasa(rasa, 1017, since=asked)  # behind its short callback data, the payload names the answer
    [row] = wait_records(assistant, "feedback", 1017)
    assert payload == rating_payload("bad", row["answer_id"]) and (row["guide_id"], row["section"]) == ("water-connection", "办理时限")
    # after the comment request a question is answered, not kept as the comment
    assert_answers(text(ask(api, 1017, "施工许可证在哪里办理")), "construction-permit", "办理地点")
    wait_records(assistant, "questions", 1017, count=3)  # records are written in order: a comment would be there by now
    assert [r["comment"] for r in records(assistant, "feedback", 1017)] == [None]
