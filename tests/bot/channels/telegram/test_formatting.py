"""Unit tests of what the Telegram bot sends: splitting, escaping, keyboards, the staff notice,
the bot's configuration, retention and log redaction, and the fake Bot API's own HTML checking."""

from __future__ import annotations

import asyncio
import calendar
import json
import logging
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.ext import Application

from actions import replies
from bot.channels.rasa_client import AssistantReply
from bot.channels.telegram import chats
from bot.channels.telegram.app import build_application, file_base_url
from bot.channels.telegram.chats import DAY, expire_chat, expire_daily, sender_id
from bot.channels.telegram.config import BotConfig
from bot.channels.telegram.conversation import reply_parts
from bot.channels.telegram.formatting import (
    CALLBACK_DATA_LIMIT,
    MESSAGE_LIMIT,
    USED_BUTTON,
    ButtonStore,
    button_beside,
    button_title,
    callback_key,
    inline_keyboard,
    marks_of,
    picked_keyboard,
    plain_text,
    recent_lines,
    split_text,
    to_html,
    used_keyboard,
    utf16_len,
)
from bot.channels.telegram.logs import RedactSecrets
from bot.channels.telegram.staff import staff_notice
from knowledge.examples import Examples
from knowledge.retrieval.retriever import GuideCandidate
from knowledge.settings import load_settings
from protocol import FEEDBACK_BAD, FEEDBACK_GOOD, REQUEST_HUMAN, SENDER_PREFIX_TELEGRAM, rating_payload
from tests.support.fake_bot_api import ApiError, check_keyboard, parse_html

# --- splitting ---------------------------------------------------------------------------------


def test_a_short_text_is_one_message() -> None:
    assert split_text("【开办企业】\n申请材料：\n1. 身份证") == ["【开办企业】\n申请材料：\n1. 身份证"]


def test_a_long_text_is_split_between_lines_and_every_line_stays_whole() -> None:
    lines = [f"{n}. 申请人身份证明复印件1份（个人提供身份证，单位提供营业执照或统一社会信用代码证明）第{n}项" for n in range(1, 200)]
    text = "【很长的事项】\n\n申请材料：\n" + "\n".join(lines)
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(utf16_len(chunk) <= MESSAGE_LIMIT for chunk in chunks)
    for line in lines:
        assert sum(line in chunk.split("\n") for chunk in chunks) == 1, f"{line!r} was cut or repeated"
    assert "\n".join(chunks) == text


def test_a_single_line_longer_than_the_limit_is_cut_after_a_sentence() -> None:
    sentence = "根据规定需要提交的材料包括申请书原件一份。"
    line = sentence * 400  # one line of 8400 characters
    chunks = split_text(line)
    assert all(utf16_len(chunk) <= MESSAGE_LIMIT for chunk in chunks)
    assert "".join(chunks) == line
    assert all(chunk.endswith("。") for chunk in chunks)


def test_a_line_without_any_break_is_cut_hard() -> None:
    line = "开" * 9000
    chunks = split_text(line)
    assert [len(chunk) for chunk in chunks] == [4096, 4096, 808]


def test_emoji_count_as_two_units_as_telegram_counts_them() -> None:
    chunks = split_text("👍" * 3000)
    assert [len(chunk) for chunk in chunks] == [2048, 952]
    assert all(utf16_len(chunk) <= MESSAGE_LIMIT for chunk in chunks)


def test_blank_lines_at_a_cut_are_dropped_and_blank_texts_give_nothing() -> None:
    assert split_text("一行\n\n\n两行", limit=4) == ["一行", "两行"]
    assert split_text("") == []
    assert split_text(" \n \n") == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("开办企业材料。；，<>&👍 ab\n"), max_size=120), max_size=40),
       st.integers(min_value=8, max_value=300))
def test_splitting_keeps_every_character_within_the_limit(parts: list[str], limit: int) -> None:
    text = "\n".join(parts)
    chunks = split_text(text, limit=limit)
    assert all(0 < utf16_len(chunk) <= limit for chunk in chunks)
    # Nothing but whitespace at the cuts is lost.
    assert "".join("".join(chunks).split()) == "".join(text.split())


# --- escaping ----------------------------------------------------------------------------------


def test_html_is_escaped_and_headings_are_bold() -> None:
    html = to_html("【开办企业】\n申请材料：\n1. <身份证> & \"复印件\"\n<script>alert(1)</script>")
    assert html == ("<b>【开办企业】</b>\n<b>申请材料：</b>\n1. &lt;身份证&gt; &amp; \"复印件\"\n"
                    "&lt;script&gt;alert(1)&lt;/script&gt;")
    text, entities = parse_html(html)
    assert text == "【开办企业】\n申请材料：\n1. <身份证> & \"复印件\"\n<script>alert(1)</script>"
    assert [entity["type"] for entity in entities] == ["bold", "bold"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_text_survives_telegram_html_parsing_unchanged(text: str) -> None:
    assert parse_html(to_html(text))[0] == text


def test_the_fake_server_rejects_what_telegram_rejects() -> None:
    for bad in ("<script>x</script>", "a < b", "A&B", "<b>open", "<i>x</b>"):
        with pytest.raises(ApiError, match="can't parse entities"):
            parse_html(bad)
    text, entities = parse_html("👍 <b>好评</b> &lt;ok&gt;")
    assert text == "👍 好评 <ok>"
    assert entities == [{"type": "bold", "offset": 3, "length": 2}]  # 👍 is two UTF-16 units


# --- keyboards ---------------------------------------------------------------------------------


def test_every_payload_gets_a_short_stable_key() -> None:
    store = ButtonStore({})
    long_payload = '/choose{"pick": "' + "a-very-long-guide-identifier-" * 5 + '"}'
    rating = rating_payload("bad", "kqzvtmwrbahe", "没说清楚表具费用谁出" * 5)  # a rating names its answer: over 64 bytes
    for payload in (FEEDBACK_GOOD, '/choose{"pick": "company-setup"}', long_payload, "开办企业需要什么材料？", rating):
        key = store.key(payload)
        assert len(key.encode()) <= CALLBACK_DATA_LIMIT
        assert key == callback_key(payload) == store.key(payload)
        assert store.payload(key) == payload
    assert store.payload("b:unknown") is None


def test_the_store_is_bounded_and_keeps_payloads_in_use() -> None:
    store = ButtonStore({}, limit=3)
    first = store.key(FEEDBACK_GOOD)
    for n in range(2):
        store.key(f"/choose{{\"pick\": \"g{n}\"}}")
    store.key(FEEDBACK_GOOD)  # used again: now the newest
    store.key(FEEDBACK_BAD)
    assert len(store.mapping) == 3
    assert store.payload(first) == FEEDBACK_GOOD
    assert store.payload(callback_key('/choose{"pick": "g0"}')) is None


def test_rasa_buttons_become_an_inline_keyboard() -> None:
    store = ButtonStore({})
    feedback = inline_keyboard([{"title": "👍 好评", "payload": FEEDBACK_GOOD}, {"title": "👎 差评", "payload": FEEDBACK_BAD}], store)
    assert feedback is not None and [len(row) for row in feedback.inline_keyboard] == [2]
    choices = inline_keyboard([{"title": "1. 企业注销登记（一般注销）", "payload": '/choose{"pick": "company-deregistration"}'},
                               {"title": "2. 简易注销登记", "payload": '/choose{"pick": "simplified-deregistration"}'},
                               {"title": "转人工", "payload": REQUEST_HUMAN}], store)
    assert choices is not None and [len(row) for row in choices.inline_keyboard] == [1, 1, 1]
    data = choices.inline_keyboard[1][0].callback_data
    assert store.payload(data) == '/choose{"pick": "simplified-deregistration"}'
    assert button_title(choices, data) == "2. 简易注销登记"
    assert check_keyboard(json.loads(json.dumps(choices.to_dict()))) is not None  # what Telegram accepts
    assert inline_keyboard([], store) is None
    assert inline_keyboard([{"title": "", "payload": "/x"}], store) is None


def test_a_refusal_comes_with_a_handoff_button() -> None:
    """"今天天气怎么样": the refusal's text and its 转人工 button, as Rasa's REST channel hands them to the bot."""
    refusal = replies.out_of_scope("12345", Examples())
    [(text, buttons)] = reply_parts(AssistantReply([{"recipient_id": "tg-1", "text": refusal.text, "buttons": refusal.buttons},
                                                    {"recipient_id": "tg-1", "custom": refusal.custom}]), "12345")
    store = ButtonStore({})
    keyboard = inline_keyboard(buttons, store)
    assert "不在我的服务范围内" in text and keyboard is not None
    [[button]] = keyboard.inline_keyboard
    assert button.text == "转人工" and store.payload(str(button.callback_data)) == REQUEST_HUMAN


def test_button_payloads_expire_after_the_retention_period() -> None:
    store = ButtonStore({})
    old, new = store.key(FEEDBACK_GOOD, now=1000.0), store.key(FEEDBACK_BAD, now=5000.0)
    store.mapping["b:legacy"] = REQUEST_HUMAN  # an older state file: no date
    assert store.payload("b:legacy") == REQUEST_HUMAN
    assert store.expire(before=2000.0, now=6000.0) == 1
    assert store.payload(old) is None and store.payload(new) == FEEDBACK_BAD
    assert store.mapping["b:legacy"] == (REQUEST_HUMAN, 6000.0)  # dated now: a retention period from here


def test_a_used_keyboard_says_what_was_chosen() -> None:
    used = used_keyboard("👍 好评")
    assert used.inline_keyboard[0][0].text == "✓ 已选：👍 好评"
    assert used.inline_keyboard[0][0].callback_data == USED_BUTTON
    assert button_title(used, "nothing") == ""


def test_a_pick_beside_the_handoff_button_keeps_it_under_the_choice() -> None:
    """Not found, with the nearest matters and 转人工 (actions/replies.py): a matter picked leaves 转人工 as it was shown,
    sending what it sent; 转人工 picked, or a keyboard without it, has nothing beside the choice."""
    store = ButtonStore({})
    near = [GuideCandidate("company-deregistration", "企业注销登记（一般注销）", 0.5)]
    keyboard = inline_keyboard(replies.not_found(near, "12345").buttons, store)
    assert keyboard is not None
    [[pick], [handoff]] = keyboard.inline_keyboard
    kept = button_beside(keyboard, str(pick.callback_data), REQUEST_HUMAN, store)
    assert kept is not None and (kept.text, kept.callback_data) == (handoff.text, handoff.callback_data) == ("转人工", callback_key(REQUEST_HUMAN))
    assert button_beside(keyboard, str(handoff.callback_data), REQUEST_HUMAN, store) is None
    ratings = inline_keyboard(replies.feedback_buttons("kqzvtmwrbahe"), store)
    assert ratings is not None and button_beside(ratings, str(ratings.inline_keyboard[0][0].callback_data), REQUEST_HUMAN, store) is None
    picked = picked_keyboard(pick.text, kept)
    assert [[b.text for b in row] for row in picked.inline_keyboard] == [["✓ 已选：1. 企业注销登记（一般注销）"], ["转人工"]]
    assert picked.inline_keyboard[0][0].callback_data == USED_BUTTON and check_keyboard(json.loads(json.dumps(picked.to_dict())))
    spent = used_keyboard(pick.text, kept.text)  # then 转人工 too: both marks, nothing left to tap
    assert [[(b.text, b.callback_data) for b in row] for row in spent.inline_keyboard] == [
        [("✓ 已选：1. 企业注销登记（一般注销）", USED_BUTTON)], [("✓ 已选：转人工", USED_BUTTON)]]


def test_an_expired_keyboard_keeps_only_its_marks() -> None:
    """A stale tap on a kept 转人工 a later pick spent: the pick's mark stays; a keyboard never used has nothing to keep."""
    store = ButtonStore({})
    handoff = inline_keyboard([{"title": "转人工", "payload": REQUEST_HUMAN}], store)
    assert handoff is not None
    kept = marks_of(picked_keyboard("1. 企业注销登记", handoff.inline_keyboard[0][0]))
    assert kept is not None and [[b.text for b in row] for row in kept.inline_keyboard] == [["✓ 已选：1. 企业注销登记"]]
    assert marks_of(handoff) is None and marks_of(None) is None


# --- the staff notice ----------------------------------------------------------------------------


def test_the_staff_notice_has_the_message_the_question_the_reason_and_the_transcript() -> None:
    at = time.mktime((2026, 5, 14, 10, 21, 0, 0, 0, -1))
    sender = f"{SENDER_PREFIX_TELEGRAM}42"
    transcript = [("user", at, "用水报装要什么材料"), ("bot", at, "【用水报装】" + "材料" * 400),
                  ("user", at + 60, "我要投诉，跑了三趟都没办成")]
    notice = staff_notice(handoff={"reason": "complain", "record_id": 17, "guide_id": "water-connection", "guide_title": "用水报装"},
                          user="张三 @zhangsan", sender=sender, message="我要投诉，跑了三趟都没办成", question="用水报装要什么材料",
                          transcript=transcript, hotline="12345")
    assert "用户投诉或反映办事困难" in notice and "记录编号：17" in notice and "相关事项：【用水报装】（water-connection）" in notice
    assert "用户的消息：我要投诉，跑了三趟都没办成" in notice and "此前咨询的问题：用水报装要什么材料" in notice
    assert "张三 @zhangsan" in notice and sender in notice
    assert "[05-14 10:21] 用户：用水报装要什么材料" in notice and "[05-14 10:22] 用户：我要投诉，跑了三趟都没办成" in notice
    assert "材料" * 100 + "……" in notice and "材料" * 200 not in notice  # long answers are cut for the staff
    # On the deployment's clock, as the desk's times: 02:21 UTC is 10:21 in Beijing whatever the server's zone.
    utc = calendar.timegm((2026, 5, 14, 2, 21, 0))
    beijing = staff_notice(handoff={"reason": "request_human"}, user="张三", sender=sender, message="/human（转人工）",
                           transcript=[("user", utc, "用水报装要什么材料")], hotline="12345", timezone="Asia/Shanghai")
    assert "[05-14 10:21] 用户：用水报装要什么材料" in beijing
    # Without an answered question before, only the message; a line of an older state file shows its own time.
    first = staff_notice(handoff={"reason": "request_human"}, user="张三", sender=sender, message="/human（转人工）",
                         transcript=[("user", "05-14 10:21", "/human（转人工）")], hotline="12345")
    assert "用户的消息：/human（转人工）" in first and "此前咨询的问题" not in first and "[05-14 10:21]" in first


def test_invisible_and_control_characters_are_not_passed_to_the_staff() -> None:
    assert plain_text("开\u200b办\u200d企\ufeff业\x00\x1b[31m\r\n第二行\u202eأ") == "开办企业[31m\n第二行أ"
    assert plain_text("普通的一句话\n第二行") == "普通的一句话\n第二行"


# --- configuration and logs -----------------------------------------------------------------------


def test_configuration_comes_from_the_environment_and_settings() -> None:
    settings_ = load_settings()
    env = {"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
           "TELEGRAM_STAFF_CHAT_ID": "-100123", "TELEGRAM_WEBHOOK_SECRET": "s3cret"}
    config = BotConfig.from_environment("http://rasa/webhooks/rest/webhook", settings_, env)
    assert (config.token, config.base_url, config.staff_chat_id, config.webhook_secret) == ("1:abc", "http://127.0.0.1:8081/bot", -100123, "s3cret")
    assert config.hotline == settings_.hotline and config.message_max_chars == settings_.message_max_chars
    assert config.mode == settings_.telegram_mode
    generated = BotConfig.from_environment("u", settings_, {"TELEGRAM_BOT_TOKEN": "1:abc"})
    assert generated.staff_chat_id is None and generated.base_url is None and len(generated.webhook_secret) >= 32
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        BotConfig.from_environment("u", settings_, {})
    with pytest.raises(ValueError, match="TELEGRAM_STAFF_CHAT_ID"):
        BotConfig.from_environment("u", settings_, {"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_STAFF_CHAT_ID": "@staff"})
    with pytest.raises(ValueError, match="telegram_webhook_url"):
        BotConfig.from_environment("u", settings_.replace(telegram_mode="webhook", telegram_webhook_url=""), {"TELEGRAM_BOT_TOKEN": "1:abc"})


def test_sender_ids_and_urls() -> None:
    assert sender_id(42, 0) == f"{SENDER_PREFIX_TELEGRAM}42" and sender_id(-100, 2) == f"{SENDER_PREFIX_TELEGRAM}-100-2"
    assert file_base_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


# --- retention ---------------------------------------------------------------------------------------


def test_transcript_lines_and_chats_expire_after_the_retention_period() -> None:
    lines = [("user", 100.0, "旧问题"), ("bot", 100.0, "旧回答"), ("user", "05-14 10:21", "旧格式"), ("user", 300.0, "新问题")]
    assert recent_lines(lines, since=200.0) == [("user", 300.0, "新问题")]

    active = {"active": 300.0, "generation": 2, "keyboard": 7, "question": (100.0, "旧问题"), "transcript": list(lines)}
    assert expire_chat(active, before=200.0) is True
    assert active == {"active": 300.0, "generation": 2, "keyboard": 7, "transcript": [("user", 300.0, "新问题")]}
    recent_question = {"active": 300.0, "question": (250.0, "新问题")}
    assert expire_chat(recent_question, before=200.0) and recent_question["question"] == (250.0, "新问题")
    for idle in ({"active": 100.0, "transcript": [("user", 100.0, "旧")]}, {"generation": 1, "question": "旧格式"}, {}):
        assert expire_chat(idle, before=200.0) is False  # the caller drops the whole chat


def test_the_running_bot_expires_chats_once_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    application = Application.builder().token("1:abc").build()
    now = time.time()
    application.chat_data[1].update(active=now - 31 * DAY, transcript=[("user", now - 31 * DAY, "旧")])
    application.chat_data[2].update(active=now, transcript=[("user", now - 31 * DAY, "旧"), ("user", now, "新")])
    application.bot_data["buttons"] = {"b:old": (FEEDBACK_GOOD, now - 31 * DAY), "b:new": (FEEDBACK_BAD, now)}
    monkeypatch.setattr(chats, "EXPIRE_EVERY", 0.01)

    async def a_few_days() -> None:
        task = asyncio.create_task(expire_daily(application, retention_days=30))
        await asyncio.sleep(0.1)
        task.cancel()

    asyncio.run(a_few_days())
    assert list(application.chat_data) == [2] and application.chat_data[2]["transcript"] == [("user", now, "新")]
    assert list(application.bot_data["buttons"]) == ["b:new"]


def test_the_token_is_redacted_from_log_messages_and_traces(caplog: pytest.LogCaptureFixture) -> None:
    token = "123456:SECRET-part"
    logger = logging.getLogger("test.redact")
    redact = RedactSecrets(token, token.partition(":")[2])
    caplog.handler.addFilter(redact)
    try:
        logger.warning("POST http://api/bot%s/getMe", token)
        try:
            raise RuntimeError(f"failed http://api/bot{token}/sendMessage")
        except RuntimeError:
            logger.exception("boom")
    finally:
        caplog.handler.removeFilter(redact)
    assert "SECRET-part" not in caplog.text
    assert "<TELEGRAM_BOT_TOKEN>" in caplog.text


def test_a_damaged_state_file_is_moved_aside_so_the_bot_still_starts(tmp_path: Path) -> None:
    state = tmp_path / "telegram" / "state.pickle"
    state.parent.mkdir()
    state.write_bytes(b"not a pickle")
    application = build_application(BotConfig(token="1:abc", rasa_url="http://127.0.0.1:9/webhooks/rest/webhook", state_file=state))
    assert application.persistence is not None and not state.exists()
    assert [p.name.startswith("state.pickle.broken-") for p in state.parent.iterdir()] == [True]
