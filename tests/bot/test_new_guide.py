"""An admin adds a guide and runs the index builder: the running assistant answers it within
seconds, with the same Rasa model and no restart."""

from __future__ import annotations

import time

from conftest import Assistant
from support import run_cli, write_guide

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
