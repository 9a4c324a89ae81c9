"""An admin adds a guide and runs the index builder: the running assistant answers it within
seconds, with the same Rasa model and no restart."""

from __future__ import annotations

import time

from tests.support import run_cli, write_guide
from tests.support.stack import Assistant

NEW_GUIDE = """---
id: animal-clinic-license
title: 动物诊疗许可证核发
aliases: [开宠物医院办证, 宠物诊所许可, 动物诊疗许可]
category: 农业农村
department: 示例区农业农村局
contacts:
  - unit: 示例区政务服务中心农业农村窗口
    phone: "0000-7777001"
    address: 示例区政务服务中心三楼C区21号窗口
    hours: 工作日 9:00-17:00
updated: 2026-11-01
source: 《示例区动物诊疗许可办事指南》
questions:
  - 开宠物医院要办什么证
  - 宠物诊所许可证要什么材料
  - 动物诊疗许可证多久能批下来
---
## 申请材料
1. 《动物诊疗许可证申请表》原件1份
2. 诊疗场所使用权证明复印件1份
3. 执业兽医资格证书复印件1份
4. 诊疗设备和器械清单原件1份
## 办理流程
1. 提交申请
2. 现场核查
3. 发证
## 办理时限
承诺10个工作日（法定20个工作日）
## 收费标准
不收费
## 办理地点
示例区政务服务中心三楼C区21号窗口
"""


def test_a_new_guide_is_answered_without_retraining_or_restart(assistant: Assistant) -> None:
    model_before = assistant.stack.model
    rasa_pid = assistant.stack.rasa.pid
    question = "开宠物医院要准备哪些材料"
    before = assistant.chat().say(question)
    assert "0000-7777001" not in before.text

    write_guide(assistant.settings.guides_dir, "animal-clinic-license", text=NEW_GUIDE)
    built = run_cli(assistant.settings, "build")
    assert built.returncode == 0, built.stdout + built.stderr

    deadline = time.monotonic() + 15
    while True:
        turn = assistant.chat().say(question)
        if turn.guide_id == "animal-clinic-license" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert turn.guide_id == "animal-clinic-license", turn
    assert "0000-7777001" in turn.text and "执业兽医资格证书复印件1份" in turn.text
    assert assistant.stack.model == model_before and assistant.stack.rasa.pid == rasa_pid


# Ways to ask about the new guide without its name. On this knowledge base the calibrated model
# answers nearly all of them directly (the guide is distinct); none may be refused or answered
# with another guide, and any it is unsure of is asked about ("您问的是【…】吗？").
VAGUE = ("给猫狗看病的店要办啥手续", "想开个给小动物看病的店要准备什么", "小动物诊所的证怎么弄", "宠物看病的地方开业要什么证",
         "我是兽医想开店，要去哪办证", "动物医院开业需要审批吗", "兽医诊所的许可证去哪办", "开家兽医院需要什么")


def test_an_added_guide_is_answered_or_confirmed_never_refused(assistant: Assistant) -> None:
    if not (assistant.settings.guides_dir / "animal-clinic-license.md").exists():
        write_guide(assistant.settings.guides_dir, "animal-clinic-license", text=NEW_GUIDE)
        assert run_cli(assistant.settings, "build").returncode == 0
    deadline = time.monotonic() + 15
    while assistant.chat().say("动物诊疗许可证要什么材料").guide_id != "animal-clinic-license":  # the new version is served
        assert time.monotonic() < deadline, "the action server did not switch to the new index"
        time.sleep(0.5)
    for question in VAGUE:
        chat = assistant.chat("vague")
        turn = chat.say(question)
        if turn.payload("confirm"):
            assert turn.payload("confirm")["guide"]["id"] == "animal-clinic-license", turn
            turn = chat.click(turn.button("是"))
        assert turn.guide_id == "animal-clinic-license", (question, turn)
        assert "0000-7777001" in turn.text
    # The confirm band end to end on the same running stack, with the added guide in the index:
    # ask, 是, then a follow-up that keeps the confirmed item.
    chat = assistant.chat("confirm")
    asked = chat.say("家里通煤气多少钱")
    assert asked.payload("confirm")["guide"]["id"] == "gas-connection", asked
    assert "【用气报装】" in asked.text and [b["title"] for b in asked.buttons] == ["是", "不是"]
    yes = chat.say("是")  # typed, as on a phone
    assert yes.guide_id == "gas-connection" and "收费标准" in yes.text
    follow = chat.say("那要多久？")
    assert follow.guide_id == "gas-connection" and "办理时限" in follow.text
    other = assistant.chat("confirm-no")
    assert other.say("家里通煤气多少钱").payload("confirm")
    no = other.click({"title": "不是", "payload": "/deny"})
    assert no.answer is None and "12345" in no.text and no.button("转人工")


def test_a_guide_the_admin_removes_is_said_to_be_gone_not_answered_with_another(assistant: Assistant) -> None:
    """The admin deletes the added guide and rebuilds: the build names it, and a citizen who names it (or follows
    up on it in a conversation begun before) hears it is no longer offered, with the hotline, not another guide."""
    path = assistant.settings.guides_dir / "animal-clinic-license.md"
    if not path.exists():
        write_guide(assistant.settings.guides_dir, "animal-clinic-license", text=NEW_GUIDE)
        assert run_cli(assistant.settings, "build").returncode == 0
    chat = assistant.chat("removed")
    deadline = time.monotonic() + 15
    while chat.say("动物诊疗许可证要什么材料").guide_id != "animal-clinic-license":
        assert time.monotonic() < deadline, "the action server did not switch to the new index"
        time.sleep(0.5)
    path.unlink()
    built = run_cli(assistant.settings, "build")
    assert built.returncode == 0 and "动物诊疗许可证核发" in built.stdout, built.stdout + built.stderr
    deadline = time.monotonic() + 15
    while True:
        turn = assistant.chat("removed-new").say("动物诊疗许可证要什么材料")
        if "已不在" in turn.text or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "【动物诊疗许可证核发】已不在" in turn.text and "12345" in turn.text and turn.answer is None, turn
    follow = chat.say("那要多久？")  # the conversation begun while it was published
    assert "【动物诊疗许可证核发】已不在" in follow.text and follow.answer is None, follow
