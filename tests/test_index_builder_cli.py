"""The admin CLI as an admin runs it: exit codes, messages naming file and line, --json output."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.index.builder import BuildReport
from knowledge.records.store import ANSWERED, NOT_FOUND, Records
from knowledge.settings import Settings, load_settings
from tests.support import ROOT, age_row, json_lines, run_cli, settings_env, staff_today

pytestmark = pytest.mark.integration  # runs index_builder.py in a subprocess


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
    assert single.stderr.startswith("正在加载模型和索引…")  # said before the model loads; stdout stays pure JSON
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
    readable = run_cli(settings, "query", "开公司要带什么材料", "-k", "3")
    assert readable.returncode == 0 and "正在加载模型和索引…" in readable.stderr
    assert "决策：回答" in readable.stdout and "示例问法" in readable.stdout and " · question" not in readable.stdout


def test_query_without_an_index_exits_3(tmp_path: Path, kb_copy: Settings) -> None:
    empty = kb_copy.replace(index_dir=tmp_path / "nothing-here")
    result = run_cli(empty, "query", "开公司", "--json")
    assert result.returncode == 3
    assert "build" in result.stderr


@pytest.mark.parametrize("args", [["frobnicate"], [], ["query", "x", "-k", "0"], ["report", "--days", "0"], ["report", "--days", "9999"],
                                  ["purge", "--days", "-1"], ["purge", "--days", "x"], ["report", "--channel", "web"],
                                  ["report", "--since", "2026-02-30"], ["report", "--since", "2026-11-01", "--days", "3"],
                                  ["report", "--since", "2026-12-01", "--until", "2026-11-01"], ["list", "--verbose"]])
def test_bad_usage_exits_2_and_says_why_in_chinese(kb_copy: Settings, args: list[str]) -> None:
    result = run_cli(kb_copy, *args)
    assert result.returncode == 2 and result.stderr.strip()
    for english in ("usage:", "error:", "invalid", "argument", "required", "unrecognized", "Traceback"):
        assert english not in result.stderr, result.stderr


def test_help_is_in_chinese(kb_copy: Settings) -> None:
    for args in (["--help"], ["report", "--help"], ["query", "-h"]):
        result = run_cli(kb_copy, *args)
        assert result.returncode == 0 and result.stdout.startswith("用法：index_builder.py")
        for english in ("usage:", "show this help", "positional arguments", "options:"):
            assert english not in result.stdout
    report = run_cli(kb_copy, "report", "--help").stdout
    assert "--channel" in report and "--include-test" in report and "--since" in report and "测试流量" in report


def test_list_rollback_and_eval(kb_copy: Settings) -> None:
    assert run_cli(kb_copy, "build", "--no-gate").returncode == 0
    path = kb_copy.guides_dir / "seal-engraving.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    status = run_cli(kb_copy, "status").stdout
    assert "改动" in status and "交叉验证" in status and "示例评测集：Top-1" in status
    numbers = status.split("源文件")[0]  # the last line names changed files, whose paths may hold anything
    assert not re.search(r"[a-z]+_[a-z_]+|top[13]\b", numbers), numbers  # no raw metric keys (answered_right, inscope_rejected…)
    assert run_cli(kb_copy, "build", "--no-gate").returncode == 0
    unchanged = run_cli(kb_copy, "build", "--if-changed")
    assert unchanged.returncode == 0 and "没有改动" in unchanged.stdout
    header, *versions, total = run_cli(kb_copy, "list").stdout.splitlines()
    assert header.split() == ["版本", "构建时间", "指南", "切块", "Top-1（示例评测集）"]
    assert len(versions) == 2 and versions[-1].startswith("*") and total.startswith("共 2 个版本")
    rolled = run_cli(kb_copy, "rollback")
    assert rolled.returncode == 0 and versions[0].split()[0] in rolled.stdout
    evaluated = run_cli(kb_copy, "eval")
    assert evaluated.returncode == 0 and "正在加载模型和索引…" in evaluated.stderr
    assert "题目数：范围内问题" in evaluated.stdout and "in_scope" not in evaluated.stdout and '"kind"' not in evaluated.stdout
    report = json.loads((kb_copy.reports_dir / "retrieval-eval.json").read_text(encoding="utf-8"))
    assert report["metrics"]["top1"] >= 0.95
    assert "Top-1" in (kb_copy.reports_dir / "retrieval-eval.txt").read_text(encoding="utf-8")


def test_build_names_the_guides_it_changed_and_what_the_gate_compared(kb_copy: Settings) -> None:
    first = run_cli(kb_copy, "build")
    assert first.returncode == 0, first.stderr
    assert "新增指南" not in first.stdout and "删除指南" not in first.stdout  # a first build adds everything
    (kb_copy.guides_dir / "gas-connection.md").unlink()
    shutil.copy(ROOT / "tests" / "data" / "unseen" / "guides" / "dog-registration.md", kb_copy.guides_dir)
    second = run_cli(kb_copy, "build")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "新增指南 1 个：养犬登记（犬只登记证办理）（dog-registration）" in second.stdout
    assert "删除指南 1 个：用气报装（gas-connection）" in second.stdout and "不再提供该事项" in second.stdout
    assert re.search(r"发布门槛：通过。和原来正在服务的版本比，共同的评测问题 \d+ 个：Top-1 0\.\d{4} → 0\.\d{4}，答对或确认对 .* → .*，"
                     r"无关问题被直接回答 .* → ", second.stdout), second.stdout
    status = run_cli(kb_copy, "status").stdout
    assert "发布门槛：通过。和当时正在服务的版本比，共同的评测问题" in status and "分数单位" not in status and "top, gap" not in status


def test_a_first_build_refused_by_the_gate_says_it_missed_the_first_builds_floors(kb_copy: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to compare with: the refusal said "与正在服务的版本相比有退步" and "原来发布的索引保持不变，继续服务", neither true."""
    monkeypatch.setenv("GOVQA_GATE_TOP1", "1.01")  # a floor no build meets
    done = run_cli(kb_copy, "build")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "构建失败：未达到首次构建的发布门槛，未发布新索引：Top-1 " in done.stderr and "< 1.01" in done.stderr
    assert "退步" not in done.stderr and "继续服务" not in done.stderr
    assert "此前没有发布过索引，现在仍然没有可用的索引：改正后再运行 python3 index_builder.py build" in done.stderr
    assert not (kb_copy.index_dir / "CURRENT").exists()


def test_a_current_naming_a_deleted_version_folder_is_explained_by_every_command(kb_copy: Settings) -> None:
    """The serving version's folder deleted by hand: `status` crashed with a traceback, so did `build --if-changed`
    (`make run`); `query` and `eval` said nothing was ever published."""
    from knowledge.index.store import IndexStore

    for _ in range(2):
        assert run_cli(kb_copy, "build", "--no-gate").returncode == 0
    store = IndexStore(kb_copy.index_dir)
    kept, current = store.list_versions()
    shutil.rmtree(store.versions / current)
    for args in (["status"], ["list"], ["query", "开公司要带什么材料"], ["eval"]):
        result = run_cli(kb_copy, *args)
        assert result.returncode == 3 and "Traceback" not in result.stderr, (args, result.stderr)
        assert f"CURRENT 指向索引版本 {current}，但它的文件夹" in result.stderr and f"保留的版本：{kept}" in result.stderr
        assert f"rollback <版本> 回到保留的版本（例如 rollback {kept}）" in result.stderr and "index_builder.py build" in result.stderr
    rebuilt = run_cli(kb_copy, "build", "--if-changed")  # sources unchanged, but nothing serves: rebuilt and published
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert f"CURRENT 指向的索引版本 {current} 不可用" in rebuilt.stdout and "已发布索引版本" in rebuilt.stdout
    assert run_cli(kb_copy, "status").returncode == 0


@pytest.mark.parametrize(("args", "code"), [(["status"], 3), (["report"], 0), (["list"], 3)])
@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_reader_that_stops_reading_ends_the_command_quietly(admin: Settings, args: list[str], code: int, unbuffered: str) -> None:
    """`status | head -1`: the output nobody reads is dropped; no traceback, the command's own exit code."""
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first line: every write to the pipe fails
    try:
        result = subprocess.run([sys.executable, str(ROOT / "index_builder.py"), *args], cwd=ROOT, stdout=write, stderr=subprocess.PIPE,
                                env={**settings_env(admin), "PYTHONUNBUFFERED": unbuffered}, text=True, timeout=120)
    finally:
        os.close(write)
    assert "BrokenPipeError" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_failure_piped_to_a_reader_that_stops_reading_still_fails(admin: Settings, tmp_path: Path, command: str) -> None:
    """`build 2>&1 | head -1`: the problems go to stderr; its broken pipe once turned a failed build into exit code 0."""
    guides = tmp_path / "guides"
    guides.mkdir()
    for n in range(300):  # more than a pipe's buffer of problems
        (guides / f"broken-{n}.md").write_text(f"---\nid: broken-{n}\ntitle: [未闭合\n---\n", encoding="utf-8")
    read, write = os.pipe()
    os.close(read)
    try:
        result = subprocess.run([sys.executable, str(ROOT / "index_builder.py"), command], cwd=ROOT, stdout=write, stderr=write,
                                env={**settings_env(admin), "GOVQA_GUIDES_DIR": str(guides)}, timeout=120)
    finally:
        os.close(write)
    assert result.returncode == 1
    assert not (admin.index_dir / "CURRENT").exists()


def test_an_edited_out_of_scope_file_is_a_change_to_build(kb_copy: Settings, tmp_path: Path) -> None:
    """The anchors are embedded and calibrated against: `make run` (build --if-changed) must rebuild after an admin adds one."""
    anchors = tmp_path / "out_of_scope.yml"
    shutil.copy(kb_copy.out_of_scope_file, anchors)
    settings = dataclasses.replace(kb_copy, out_of_scope_file=anchors)
    assert run_cli(settings, "build", "--no-gate").returncode == 0
    assert "没有改动" in run_cli(settings, "build", "--if-changed").stdout
    anchors.write_text(anchors.read_text(encoding="utf-8") + "    - 周末去哪里露营比较好\n", encoding="utf-8")
    assert "改动" in run_cli(settings, "status").stdout.split("源文件")[-1]
    rebuilt = run_cli(settings, "build", "--if-changed")
    assert rebuilt.returncode == 0 and "没有改动" not in rebuilt.stdout



def test_the_admins_example_questions_are_published_by_the_next_build(kb_copy: Settings) -> None:
    """settings.yml's example_questions replace the ones chosen from the guides; `make run` (build --if-changed)
    rebuilds when they differ from the serving version's, so the assistant offers them without a manual build."""
    from knowledge.examples import Examples
    from knowledge.index.store import IndexStore

    assert run_cli(kb_copy, "build", "--no-gate").returncode == 0
    store = IndexStore(kb_copy.index_dir)
    derived = Examples.of(store.manifest(store.current_version() or ""))
    assert derived.questions[0] == "开公司要带什么材料？" and "从指南中选出" in run_cli(kb_copy, "status").stdout
    assert "没有改动" in run_cli(kb_copy, "build", "--if-changed").stdout
    own = dataclasses.replace(kb_copy, example_questions=("用水报装要多久？", "注销公司要什么材料？", "火星上的签证怎么办？"))
    assert "需要重建索引" in run_cli(own, "status").stdout
    rebuilt = run_cli(own, "build", "--if-changed")
    assert rebuilt.returncode == 0 and "继续使用当前索引" not in rebuilt.stdout
    assert "示例问题" in rebuilt.stdout.split("\n")[0]  # says why it rebuilds
    published = Examples.of(store.manifest(store.current_version() or ""))
    assert published.questions == ("用水报装要多久？", "注销公司要什么材料？", "火星上的签证怎么办？")
    assert published.items == derived.items
    # The build checks the administrator's questions against its own index: one no guide answers is named.
    assert "“火星上的签证怎么办？”没有指南能直接回答" in rebuilt.stdout
    assert "“用水报装要多久？”" not in rebuilt.stdout
    status = run_cli(own, "status").stdout
    assert "settings.yml 指定" in status and "“火星上的签证怎么办？”没有指南能直接回答" in status
    assert "没有改动" in run_cli(own, "build", "--if-changed").stdout


def test_a_version_with_an_older_decision_format_is_rebuilt_by_if_changed(kb_copy: Settings) -> None:
    """An upgrade that changes how the decision model works must take effect on `make run` without an
    admin knowing to rebuild: the serving version's manifest says which format its model is."""
    from knowledge.index.store import IndexStore

    assert run_cli(kb_copy, "build", "--no-gate").returncode == 0
    store = IndexStore(kb_copy.index_dir)
    old = store.current_version()
    manifest_path = kb_copy.index_dir / "versions" / old / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert "没有改动" in run_cli(kb_copy, "build", "--if-changed").stdout
    del manifest["calibration"]["format"]  # as a version built before formats were recorded
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    rebuilt = run_cli(kb_copy, "build", "--if-changed")
    assert rebuilt.returncode == 0 and "旧版本的格式" in rebuilt.stdout
    assert store.current_version() != old

# --- report and purge: the records database and Rasa's tracker store ---------------------------------

TRACKER_SCHEMA = """
CREATE TABLE events (
    id INTEGER NOT NULL, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT,
    intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT, PRIMARY KEY (id)
);
CREATE INDEX ix_events_sender_id ON events (sender_id);
"""


@pytest.fixture
def admin(tmp_path: Path) -> Settings:
    """Settings whose records and tracker databases live in tmp (never the developer's var/)."""
    return load_settings(index_dir=tmp_path / "index", reports_dir=tmp_path / "reports",
                         records_db=tmp_path / "records.sqlite3", tracker_db=tmp_path / "tracker.sqlite3")


def run_admin(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """run_cli with extra environment variables."""
    environment = {**settings_env(settings), **env}
    return subprocess.run([sys.executable, str(ROOT / "index_builder.py"), *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def make_tracker(path: Path, events: list[tuple[str, float]]) -> None:
    """A tracker store shaped like Rasa's SQLTrackerStore: (sender_id, age in days) per event."""
    now = time.time()
    with sqlite3.connect(path) as connection:
        connection.executescript(TRACKER_SCHEMA)
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) VALUES (?, 'user', ?, 'greet', NULL, ?)",
            [(sender, now - days * 86400, json.dumps({"event": "user", "text": "你好"})) for sender, days in events])
    connection.close()


def tracker_events(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = [row[0] for row in connection.execute("SELECT sender_id FROM events ORDER BY id")]
    connection.close()
    return rows


def test_report_writes_a_page_and_a_summary(admin: Settings) -> None:
    records = Records.from_settings(admin)
    records.add_question("u1", "开公司要带什么材料，手机13812345678", outcome=ANSWERED, guide_id="company-setup", confidence=0.9)
    records.add_question("u2", "狗证怎么办理", outcome=NOT_FOUND)
    records.add_feedback("u1", "bad", question="开公司", guide_id="company-setup", section=None, index_version=None)
    result = run_admin(admin, "report", "--days", "7")
    assert result.returncode == 0, result.stderr
    path = admin.reports_dir / f"admin-report-{staff_today(admin).isoformat()}.html"
    assert f"报告已写入 {path}" in result.stdout
    assert "近 7 天：提问 2 次，已回答 1 次（50%），未能回答 1 次；好评 0 / 差评 1" in result.stdout
    page = path.read_text(encoding="utf-8")
    assert "企业开办（公司设立登记）" in page and "狗证怎么办理" in page and "13812345678" not in page
    out = admin.reports_dir.parent / "elsewhere" / "r.html"
    assert run_admin(admin, "report", "--out", str(out)).returncode == 0 and out.exists()


def test_report_by_channel_and_period_without_test_traffic(admin: Settings) -> None:
    records = Records.from_settings(admin)
    records.add_question("kefu-web-1", "开公司要带什么材料", outcome=ANSWERED, guide_id="company-setup", confidence=0.9)
    records.add_question("tg-42", "狗证怎么办理", outcome=NOT_FOUND)
    records.add_question("partner-1", "公司注销", outcome=NOT_FOUND)
    for sender in ("test-1", "kefu-load-kefu-1-0-0", "unseen-q1"):
        records.add_question(sender, "压测问题", outcome=NOT_FOUND)
    age_row(admin.records_db, "questions", records.add_question("kefu-web-2", "上个月的问题", outcome=NOT_FOUND), days=40)
    today = staff_today(admin).isoformat()

    default = run_admin(admin, "report")
    assert default.returncode == 0, default.stderr
    assert "近 30 天：提问 3 次" in default.stdout and "已排除测试流量：提问 3 条" in default.stdout
    page = (admin.reports_dir / f"admin-report-{today}.html").read_text(encoding="utf-8")
    assert "渠道：全部渠道 · 不含测试流量" in page and "压测问题" not in page

    kefu = run_admin(admin, "report", "--channel", "kefu", "--days", "7")
    assert kefu.returncode == 0, kefu.stderr
    assert "近 7 天：提问 1 次，已回答 1 次（100%）" in kefu.stdout and "渠道：政务服务大厅" in kefu.stdout
    page = (admin.reports_dir / f"admin-report-{today}-kefu.html").read_text(encoding="utf-8")
    assert "渠道：政务服务大厅（网页、自助终端、大厅 API）" in page and "狗证怎么办理" not in page and "其他渠道的记录未计入：提问 2 条" in page

    everything = run_admin(admin, "report", "--include-test", "--channel", "all")
    assert everything.returncode == 0 and "提问 6 次" in everything.stdout and "含测试流量" in everything.stdout
    assert (admin.reports_dir / f"admin-report-{today}-with-test.html").exists()

    since = (staff_today(admin) - dt.timedelta(days=45)).isoformat()
    until = (staff_today(admin) - dt.timedelta(days=1)).isoformat()
    old = run_admin(admin, "report", "--since", since, "--until", until, "--out", str(admin.reports_dir / "old.html"))
    assert old.returncode == 0, old.stderr
    assert f"{since} 至 {until}：提问 1 次" in old.stdout
    assert "上个月的问题" in (admin.reports_dir / "old.html").read_text(encoding="utf-8")


def test_report_without_data_says_so(admin: Settings) -> None:
    result = run_admin(admin, "report")
    assert result.returncode == 0, result.stderr
    assert "还没有任何记录" in result.stdout
    assert not admin.records_db.exists()


def test_purge_applies_retention_to_records_and_tracker(admin: Settings) -> None:
    records = Records.from_settings(admin)
    old = [records.add_question("u1", "旧问题", outcome=NOT_FOUND),
           records.add_feedback("u1", "good", question=None, guide_id=None, section=None, index_version=None),
           records.add_handoff("u1", reason="complain", guide_id=None, question="旧投诉", transcript=[])]
    records.add_question("u2", "新问题", outcome=NOT_FOUND)
    records.add_feedback("u2", "bad", question=None, guide_id=None, section=None, index_version=None)
    for table, row_id in zip(("questions", "feedback", "handoffs"), old, strict=True):
        age_row(admin.records_db, table, row_id, days=45)
    make_tracker(admin.tracker_db, [("gone", 45), ("gone", 44), ("ongoing", 50), ("ongoing", 1), ("new", 0), ("new", 29)])
    admin.reports_dir.mkdir(parents=True, exist_ok=True)
    old_report, new_report = admin.reports_dir / "admin-report-old.html", admin.reports_dir / "admin-report-new.html"
    old_report.write_text("旧报告"), new_report.write_text("新报告")
    os.utime(old_report, (time.time() - 45 * 86400,) * 2)
    result = run_admin(admin, "purge", GOVQA_RETENTION_DAYS="30")  # the default comes from settings
    assert result.returncode == 0, result.stderr
    assert "保留最近 30 天" in result.stdout
    for line in ("提问记录（questions）：删除 1 条", "评价（feedback）：删除 1 条", "转人工记录（handoffs）：删除 1 条",
                 "对话事件（events）：删除 3 条，其中 1 个对话已全部删除"):
        assert line in result.stdout
    assert [row["question"] for row in records.rows("questions")] == ["新问题"]
    assert [row["rating"] for row in records.rows("feedback")] == ["bad"] and records.rows("handoffs") == []
    assert tracker_events(admin.tracker_db) == ["ongoing", "new", "new"]
    assert not old_report.exists() and new_report.exists()
    again = run_admin(admin, "purge", "--days", "1")
    assert again.returncode == 0 and "对话事件（events）：删除 2 条，其中 1 个对话已全部删除" in again.stdout
    assert tracker_events(admin.tracker_db) == ["new"]


def test_purge_without_databases_creates_nothing(admin: Settings) -> None:
    result = run_admin(admin, "purge")
    assert result.returncode == 0, result.stderr
    assert "保留最近 180 天" in result.stdout and result.stdout.count("还不存在") == 2
    assert not admin.records_db.exists() and not admin.tracker_db.exists()


def test_purge_and_report_on_a_corrupt_or_locked_database(admin: Settings) -> None:
    admin.records_db.write_bytes(b"this is not a database" * 100)
    make_tracker(admin.tracker_db, [("gone", 400)])
    corrupt = run_admin(admin, "purge")
    assert corrupt.returncode == 1
    assert "问答记录库文件已损坏或不是 SQLite 数据库" in corrupt.stderr and "Traceback" not in corrupt.stderr
    assert "删除 1 条" in corrupt.stdout  # the tracker store was still purged
    report = run_admin(admin, "report")
    assert report.returncode == 1 and "已损坏" in report.stderr and "Traceback" not in report.stderr
    admin.records_db.unlink()
    holder = sqlite3.connect(admin.tracker_db)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # as if Rasa were in the middle of a write
        locked = run_admin(admin, "purge")
    finally:
        holder.close()
    assert locked.returncode == 1
    assert "对话记录库（Rasa tracker store）正被其他程序占用" in locked.stderr and "Traceback" not in locked.stderr
