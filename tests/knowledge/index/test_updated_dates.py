"""A guide edited without its `updated:` date changed: `build` warns, naming the file, the line of `updated:` and
what changed, and publishes all the same (knowledge/index/updated_dates.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from knowledge.index.builder import build_index
from knowledge.index.embedding import Embedder
from knowledge.index.store import IndexStore
from knowledge.index.updated_dates import stale_dates
from knowledge.settings import Settings
from knowledge.sources.guides import parse_guide
from knowledge.sources.model import Guide
from tests.support import GUIDE_UPDATED_LINE, guide_text, run_cli, write_guide


def _parsed(folder: Path, text: str) -> Guide:
    path = write_guide(folder, text=text)
    guide, problems = parse_guide(path, display_path=str(path))  # as the build shows a file outside the repository
    assert guide is not None, problems
    return guide


def _serving(folder: Path) -> dict[str, dict]:
    """The published entry of the plain test guide, as guides.json holds it."""
    guide = _parsed(folder / "before", guide_text())
    return {guide.id: json.loads(json.dumps(guide.as_dict(), ensure_ascii=False))}


def test_an_edit_without_a_new_date_is_a_warning_on_the_updated_line(tmp_path: Path) -> None:
    edited = _parsed(tmp_path, guide_text().replace("承诺3个工作日", "承诺5个工作日").replace("1. 提交申请", "1. 网上提交申请"))
    [problem] = stale_dates([edited], _serving(tmp_path))
    assert not problem.is_error and problem.line == GUIDE_UPDATED_LINE and problem.path.endswith("test-item.md")
    assert str(problem).endswith("警告：内容改了（办理流程、办理时限），但 updated: 还是 2026-05-01，群众看到的更新日期不对："
                                 "请把 updated: 改成这次修改的日期（本次照常发布）")


def test_a_new_date_new_sample_questions_or_aliases_and_new_guides_say_nothing(tmp_path: Path) -> None:
    serving = _serving(tmp_path)
    dated = guide_text().replace("承诺3个工作日", "承诺5个工作日").replace("updated: 2026-05-01", "updated: 2026-06-01")
    asked = guide_text(alias="测测看").replace("  - 测试事项去哪办", "  - 测试事项去哪办\n  - 测试事项能网上办吗")
    for text in (dated, asked, guide_text()):
        assert stale_dates([_parsed(tmp_path, text)], serving) == [], text
    other = _parsed(tmp_path, guide_text("new-item").replace("承诺3个工作日", "承诺5个工作日"))
    assert stale_dates([other], serving) == []  # not in the serving version: nothing to compare with


def test_many_changes_are_counted_after_the_first_three(tmp_path: Path) -> None:
    text = guide_text()
    for old, new in (("测试类别", "别的类别"), ("九楼9号窗口\n##", "八楼8号窗口\n##"), ("承诺3个工作日", "承诺5个工作日"),
                     ("不收费", "收费10元"), ("可以。", "不可以。")):
        text = text.replace(old, new)
    [problem] = stale_dates([_parsed(tmp_path, text)], _serving(tmp_path))
    assert "内容改了（类别（category）、办理时限、收费标准 等 5 处）" in problem.message


def test_build_warns_about_an_edited_guide_whose_date_is_unchanged_and_publishes(kb_copy: Settings, embedder: Embedder) -> None:
    build_index(kb_copy, embedder=embedder)
    path = kb_copy.guides_dir / "water-connection.md"
    text = path.read_text(encoding="utf-8")
    line = 1 + text.splitlines().index("updated: 2026-03-01")
    path.write_text(text.replace("不超过3个工作日装表通水", "不超过2个工作日装表通水", 1), encoding="utf-8")
    done = run_cli(kb_copy, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"water-connection\.md:{line}: 警告：内容改了（办理时限），但 updated: 还是 2026-03-01，群众看到的更新日期不对",
                     done.stderr), done.stderr
    store = IndexStore(kb_copy.index_dir)
    assert "不超过2个工作日装表通水" in json.dumps(store.guides()["water-connection"], ensure_ascii=False)  # published all the same

    path.write_text(path.read_text(encoding="utf-8").replace("updated: 2026-03-01", "updated: 2026-12-06"), encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace("不超过2个工作日", "不超过1个工作日", 1), encoding="utf-8")
    again = run_cli(kb_copy, "build")
    assert again.returncode == 0 and "updated: 还是" not in again.stdout + again.stderr, again.stderr
