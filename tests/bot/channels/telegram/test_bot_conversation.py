"""The Telegram bot end to end, a user's conversation: /start and its example questions, a question
and its follow-up, /reset, /help and unknown commands, an answer longer than one message.

The bot is the real python-telegram-bot client, started as `make run` starts it, against a local
fake Bot API server and the real Rasa and action servers (fixtures in conftest.py, the user's side
in tests/support/telegram.py)."""

from __future__ import annotations

import time

from bot.launcher.stack import Stack
from tests.support import parsed_guide, run_cli, write_guide
from tests.support.fake_bot_api import FakeBotApi
from tests.support.stack import Assistant
from tests.support.telegram import ask, assert_answers, buttons, click, now, rated, say, text


def test_start_welcomes_with_example_questions_that_can_be_clicked(api: FakeBotApi, bot: Stack) -> None:
    assert {c["command"] for c in api.commands} == {"start", "help", "reset", "human"}
    welcome = say(api, 1001, "/start")
    assert len(welcome) == 1 and "政务服务智能问答助手" in welcome[0]["text"] and "12345" in welcome[0]["text"]
    examples = [b["text"] for b in buttons(welcome[0])]
    # The published sample guides' examples (knowledge/examples.py), each answered by its guide.
    assert examples == ["开公司要带什么材料？", "新开的店铺怎么申请装电表？", "惠企政策的钱多久能到账？"]
    assert all(e in welcome[0]["text"] for e in examples)
    answer = click(api, 1001, welcome[0], "开公司", until=rated)
    assert_answers(text(answer), "company-setup", "申请材料")
    assert [b["text"] for b in buttons(now(api, 1001, welcome[0]))] == ["✓ 已选：开公司要带什么材料？"]


def test_a_whole_conversation_with_a_follow_up(api: FakeBotApi, bot: Stack) -> None:
    answer = ask(api, 1002, "开办企业需要什么材料")
    assert_answers(text(answer), "company-setup", "申请材料")
    assert (1002, "typing") in api.chat_actions
    assert {b["text"] for b in buttons(answer[-1])} == {"👍 好评", "👎 差评"}
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(answer[-1]))
    assert any(e["type"] == "bold" for e in answer[0].get("entities", [])), "the title is bold"

    follow_up = ask(api, 1002, "那要多久？")
    assert_answers(text(follow_up), "company-setup", "办理时限")
    # Rasa's buttons are about its latest answer: the older keyboard is gone.
    assert buttons(now(api, 1002, answer[-1])) == [] and buttons(follow_up[-1])


def test_reset_starts_a_new_conversation(api: FakeBotApi, bot: Stack) -> None:
    assert_answers(text(ask(api, 1005, "用水报装要多久")), "water-connection", "办理时限")
    done = say(api, 1005, "/reset")
    assert "新的对话" in text(done)
    assert all(not buttons(m) for m in api.messages_to(1005)), "no keyboard of the old conversation stays usable"
    after = say(api, 1005, "那要多久？")
    assert "哪个事项" in text(after) and parsed_guide("water-connection").contacts[0].phone not in text(after)


def test_help_and_unknown_commands(api: FakeBotApi, bot: Stack) -> None:
    assert "/reset" in text(say(api, 1010, "/help")) and "/human" in text(say(api, 1010, "/help"))
    assert "没有这个命令" in text(say(api, 1010, "/foo"))


def test_a_long_answer_is_split_into_messages_between_lines(api: FakeBotApi, bot: Stack, assistant: Assistant) -> None:
    items = [f"第{n}号古树名木的树种鉴定报告、胸径和冠幅测量记录及东南西北四个方向的现场照片原件1份（由具备资质的园林绿化鉴定机构出具）"
             for n in range(1, 81)]
    guide = LONG_GUIDE.replace("{items}", "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1)))
    path = write_guide(assistant.settings.guides_dir, "ancient-tree-relocation", text=guide)
    try:
        # --no-gate: publishing through the evaluation gate is test_new_guide's subject; here only the answer's length matters.
        built = run_cli(assistant.settings, "build", "--no-gate")
        assert built.returncode == 0, built.stdout + built.stderr
        # The action server picks the new index up within index_poll_seconds: seen through the REST channel,
        # so that the Telegram chat asks once and gets an answer (which ends with 👍/👎).
        probe, deadline = assistant.chat("tree"), time.monotonic() + 60
        while "古树名木迁移审批" not in probe.say("迁移古树名木要准备哪些材料").text:
            assert time.monotonic() < deadline, "the new guide was not picked up within 60 s"
            time.sleep(0.5)
        answer = ask(api, 1007, "迁移古树名木要准备哪些材料")
        assert "古树名木迁移审批" in text(answer)
        assert len(answer) >= 2, f"expected a split answer, got {[len(m['text']) for m in answer]}"
        assert all(len(m["text"].encode("utf-16-le")) // 2 <= 4096 for m in answer)
        lines = [line for m in answer for line in m["text"].split("\n")]
        for n, item in enumerate(items, 1):
            assert f"{n}. {item}" in lines, f"item {n} missing or cut"
        assert "0000-7777088" in text(answer)
        assert not any(buttons(m) for m in answer[:-1]) and {b["text"] for b in buttons(answer[-1])} == {"👍 好评", "👎 差评"}
    finally:
        path.unlink()
        rebuilt = run_cli(assistant.settings, "build", "--no-gate")  # back to the knowledge base the other tests expect
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr


LONG_GUIDE = """---
id: ancient-tree-relocation
title: 古树名木迁移审批
aliases: [古树迁移, 移植古树, 古树名木移植]
category: 园林绿化
department: 示例区园林绿化局
contacts:
  - unit: 示例区政务服务中心园林绿化窗口
    phone: "0000-7777088"
    address: 示例区政务服务中心三楼C区25号窗口
    hours: 工作日 9:00-17:00
updated: 2026-11-01
source: 《示例区古树名木迁移审批办事指南》
questions:
  - 迁移古树名木要准备哪些材料
  - 古树移植审批要多久
  - 古树名木迁移去哪里办
---
## 申请材料
{items}
## 办理流程
1. 提交申请
2. 专家论证
3. 审批
## 办理时限
承诺15个工作日（法定20个工作日）
## 收费标准
不收费
## 办理地点
示例区政务服务中心三楼C区25号窗口
"""
