"""The admin CLI as an admin runs it: exit codes, messages naming file and line, --json output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import json_lines, run_cli

from knowledge.builder import BuildReport
from knowledge.settings import Settings


def test_validate_bundled_knowledge_base_passes(bundled: tuple[Settings, BuildReport]) -> None:
    settings, _report = bundled
    result = run_cli(settings, "validate")
    assert result.returncode == 0, result.stderr
    assert "校验通过" in result.stdout and "指南 36 个" in result.stdout


def test_validate_reports_file_line_and_exits_nonzero(kb_copy: Settings) -> None:
    path = kb_copy.guides_dir / "gas-connection.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    line_no = next(i for i, line in enumerate(lines, start=1) if line.startswith("department:"))
    del lines[line_no - 1]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (kb_copy.guides_dir / "broken-yaml.md").write_text("---\nid: broken-yaml\ntitle: [未闭合\n---\n", encoding="utf-8")
    result = run_cli(kb_copy, "validate")
    assert result.returncode == 1
    assert "gas-connection.md:1: 缺少必填字段 department" in result.stderr
    assert "broken-yaml.md:" in result.stderr and "YAML 语法错误" in result.stderr


def test_build_failure_keeps_serving_and_says_so(kb_copy: Settings) -> None:
    first = run_cli(kb_copy, "build", "--no-gate")
    assert first.returncode == 0, first.stderr
    (kb_copy.guides_dir / "gbk.md").write_bytes("---\nid: gbk\n---\n申请材料".encode("gbk"))
    second = run_cli(kb_copy, "build")
    assert second.returncode == 1
    assert "gbk.md:" in second.stderr and "UTF-8" in second.stderr
    assert "继续服务" in second.stderr
    status = run_cli(kb_copy, "status", "--json")
    assert status.returncode == 0
    assert json.loads(status.stdout)["version"] in first.stdout


def test_query_json_and_stdin(bundled: tuple[Settings, BuildReport]) -> None:
    settings, _report = bundled
    single = run_cli(settings, "query", "办营业执照去哪里", "--json", "-k", "3")
    assert single.returncode == 0, single.stderr
    data = json.loads(single.stdout)
    assert data["question"] == "办营业执照去哪里"
    assert data["decision"] == "answer"
    assert data["hits"][0]["guide_id"] == "company-setup"
    assert len(data["hits"]) <= 3
    many = run_cli(settings, "query", "-", stdin="今天天气怎么样\n公司注销\n\n惠企政策免申即享由哪些部门牵头\n")
    rows = json_lines(many.stdout)
    assert [row["decision"] for row in rows[:2]] == ["none", "ambiguous"]
    assert len(rows) == 3
    assert any(hit["guide_id"] is None and "华容区" in hit["source"] for hit in rows[2]["hits"])


def test_query_without_an_index_exits_3(tmp_path: Path, kb_copy: Settings) -> None:
    empty = kb_copy.replace(index_dir=tmp_path / "nothing-here")
    result = run_cli(empty, "query", "开公司", "--json")
    assert result.returncode == 3
    assert "build" in result.stderr


@pytest.mark.parametrize("args", [["frobnicate"], ["query", "x", "-k", "0"]])
def test_bad_usage_exits_2(kb_copy: Settings, args: list[str]) -> None:
    assert run_cli(kb_copy, *args).returncode == 2


def test_list_rollback_and_eval(kb_copy: Settings) -> None:
    assert run_cli(kb_copy, "build", "--no-gate").returncode == 0
    path = kb_copy.guides_dir / "seal-engraving.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert "改动" in run_cli(kb_copy, "status").stdout
    assert run_cli(kb_copy, "build", "--no-gate").returncode == 0
    unchanged = run_cli(kb_copy, "build", "--if-changed")
    assert unchanged.returncode == 0 and "没有改动" in unchanged.stdout
    listing = run_cli(kb_copy, "list").stdout.splitlines()
    assert len(listing) == 2 and listing[-1].startswith("*")
    rolled = run_cli(kb_copy, "rollback")
    assert rolled.returncode == 0 and listing[0].split()[0] in rolled.stdout
    evaluated = run_cli(kb_copy, "eval")
    assert evaluated.returncode == 0
    report = json.loads((kb_copy.reports_dir / "retrieval-eval.json").read_text(encoding="utf-8"))
    assert report["metrics"]["top1"] >= 0.95
    assert "Top-1" in (kb_copy.reports_dir / "retrieval-eval.txt").read_text(encoding="utf-8")
