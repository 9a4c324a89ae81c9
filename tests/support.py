"""Helpers shared by the tests: a valid guide to start from, and running the admin CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ROOT / "knowledge" / "guides"
DOCUMENTS = ROOT / "knowledge" / "documents"
SEEDS = ROOT.parent / "shared" / "seeds"

VALID_GUIDE = """---
id: {id}
title: {title}
aliases: [{alias}]
category: 测试类别
department: 示例区测试局
contacts:
  - unit: 示例区政务服务中心测试窗口
    phone: "0000-7654321"
    address: 示例区政务服务中心九楼9号窗口
    hours: 工作日 9:00-17:00
updated: 2026-05-01
source: 《示例区测试办事指南》
questions:
  - 测试事项要带什么
  - 测试事项要多久
  - 测试事项去哪办
---
## 申请材料
1. 《测试申请表》原件1份
2. 申请人身份证复印件1份
3. 场地证明复印件1份
4. 授权委托书原件1份
## 办理流程
1. 提交申请
2. 审核
3. 发证
## 办理时限
承诺3个工作日（法定20个工作日）
## 收费标准
不收费
## 办理地点
示例区政务服务中心九楼9号窗口
## 常见问题
### 可以网上办吗？
可以。
### 要本人到场吗？
不用。
"""


def guide_text(guide_id: str = "test-item", title: str = "测试事项登记", alias: str = "测一测") -> str:
    return VALID_GUIDE.format(id=guide_id, title=title, alias=alias)


def write_guide(folder: Path, guide_id: str = "test-item", text: str | None = None, **fields: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{guide_id}.md"
    path.write_text(text if text is not None else guide_text(guide_id, **fields), encoding="utf-8")
    return path


def settings_env(settings: Any) -> dict[str, str]:
    """Environment variables that point the CLI at the same folders as `settings`."""
    env = dict(os.environ)
    for name in ("guides_dir", "documents_dir", "index_dir", "embedding_cache", "reports_dir", "out_of_scope_file", "eval_questions"):
        env["GOVQA_" + name.upper()] = str(getattr(settings, name))
    return env


def run_cli(settings: Any, *args: str, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `python3 index_builder.py ARGS` as an admin would, against `settings`' folders."""
    return subprocess.run(
        [sys.executable, str(ROOT / "index_builder.py"), *args],
        cwd=ROOT, env=settings_env(settings), input=stdin, capture_output=True, text=True, timeout=timeout,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
