"""What index_builder.py prints is Chinese: metric names, evaluation failures, argparse's help and errors."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

import index_builder
from knowledge.index.cli_gate import change_lines, findings_lines, gate_lines, worse_line
from knowledge.index.cli_pipe import run_quietly
from knowledge.index.cli_status import EVAL_MIN_QUESTIONS, calibration_lines, eval_line, eval_scope
from knowledge.index.evaluation import LABELS, format_report
from knowledge.index.gate import ADVICE, MIN_QUESTIONS, Findings
from knowledge.index.labels import METRIC_LABELS, label, labelled
from knowledge.index.removals import GuideChange
from knowledge.index.store import IndexStore

pytestmark = pytest.mark.unit


def test_every_metric_key_has_a_chinese_label() -> None:
    cv = ("top1", "answered_right", "within_band", "inscope_not_found", "offtopic_refused", "offtopic_answered", "unknown_answered")
    counts = ("in_scope", "off_topic", "ambiguous", "documents")
    gate = ("common_questions", "questions", "top1", "offtopic_answered")
    for key in (*LABELS, *cv, *counts, *gate):
        assert key in METRIC_LABELS, key
        assert not label(key).isascii() or key in ("top1", "top3", "mrr"), key
    assert labelled({"top1": 0.9, "answered_right": 0.8}) == "Top-1 0.9，直接答对 0.8"


def test_the_evaluation_is_printed_in_chinese() -> None:
    report = {"index_version": "v1", "counts": {"in_scope": 2, "off_topic": 1, "ambiguous": 0, "documents": 0},
              "metrics": {key: 0.5 for key in LABELS},
              "failures": [{"kind": "in_scope", "q": "开公司", "expected": "company-setup", "decision": "none", "got": ["a", "b"], "score": 0.1},
                           {"kind": "ambiguous", "q": "公司注销", "expected": ["x", "y"], "decision": "answer", "got": [], "score": 0.9},
                           {"kind": "documents", "q": "谁牵头", "decision": "none", "got": ["《文件》"]}]}
    text = format_report(report)
    assert "题目数：范围内问题 2，无关问题 1，有歧义的问题 0，政策文件问题 0" in text
    assert "· [范围内问题] 开公司：决策 无法回答（转 12345 / 人工），应为 company-setup，排在前面的 a、b，把握 0.1" in text
    assert "应为 x、y，排在前面的 无" in text and "[政策文件问题] 谁牵头：决策 无法回答" in text
    assert "in_scope" not in text and '"kind"' not in text and LABELS["top1"] in text


def test_columns_count_chinese_characters_twice() -> None:
    assert index_builder._pad("版本", 6) == "版本  " and index_builder._pad(36, -4) == "  36" and index_builder._pad("长文本", 2) == "长文本"


@pytest.mark.parametrize(("args", "message"), [
    ([], "缺少必需的参数：子命令"),
    (["frob"], "参数 子命令 的值 'frob' 无效，可选："),
    (["report", "--channel", "web"], "参数 --channel 的值 'web' 无效，可选：'all', 'kefu', 'telegram', 'rest'"),
    (["report", "--days", "x"], "参数 --days 的值 'x' 不是整数"),
    (["report", "--days"], "参数 --days 后面需要一个值"),
    (["report", "--since", "11/01"], "参数 --since：日期 '11/01' 的格式不对"),
    (["list", "--all"], "无法识别的参数：--all"),
])
def test_usage_errors_are_chinese(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        index_builder.make_parser().parse_args(args)
    assert exit_.value.code == index_builder.EXIT_USAGE
    error = capsys.readouterr().err
    assert error.startswith("用法：index_builder.py") and "：错误：" in error and message in error, error


# --- a reader that stops reading (cli_pipe.py) ------------------------------------------------------

@contextlib.contextmanager
def _readers_gone() -> Iterator[None]:
    """sys.stdout and sys.stderr write to pipes whose reader has exited, as after `validate 2>&1 | head -1` took
    its line. Set in the test itself: pytest puts its own sys.stdout back between a fixture and the test."""
    saved, streams = (sys.stdout, sys.stderr), []
    for buffering in (-1, 1):  # stdout to a pipe is block-buffered, stderr line-buffered
        read, write = os.pipe()
        os.close(read)
        streams.append(open(write, "w", buffering, encoding="utf-8"))  # closed below
    sys.stdout, sys.stderr = streams
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for stream in streams:
            with contextlib.suppress(OSError):  # BrokenPipeError when what is buffered still goes to the pipe
                stream.close()


def _failing_validation() -> int:
    for n in range(200):
        print(f"b{n}.md:3: YAML 语法错误", file=sys.stderr)  # the problems, on stderr
    print("校验未通过：错误 200 个")
    return index_builder.EXIT_FAILED


def _published_build() -> int:
    print("正在向量化…", file=sys.stderr)
    print("已发布索引版本 v2")
    return index_builder.EXIT_OK


def _written_past_the_streams() -> int:
    os.write(sys.stderr.fileno(), "构建失败\n".encode())  # as a child process or C code would: no outcome returned
    return index_builder.EXIT_OK


@pytest.mark.parametrize(("main", "code"), [(_failing_validation, 1), (_published_build, 0), (_written_past_the_streams, 1)])
def test_a_reader_that_stops_reading_never_changes_the_outcome(main: Callable[[], int], code: int) -> None:
    # It turned a BrokenPipeError from stderr (problems, "构建失败") into exit code 0: a failed build passed under `2>&1 | head`.
    with _readers_gone():
        assert run_quietly(main) == code
        print("到 /dev/null", file=sys.stderr)  # both streams stay quiet afterwards
        print("到 /dev/null")
        sys.stdout.flush()


# --- build, status, list and rollback: what the admin reads (hand-made versions, no model) -------------

def _findings(worse: int = 0, **metrics: object) -> dict:
    items = [{"q": f"问题{n}", "guide": "company-setup", "title": "企业开办", "got": "proxy-service", "got_title": "帮办代办服务",
              "advice": ADVICE} for n in range(worse)]
    return {"failures": [], "worse": items, "metrics": metrics or {"common_questions": 280, "Top-1 发布中 → 新": "0.9571 → 0.9536",
                                                                   "答对或确认对 发布中 → 新": "0.9429 → 0.9393",
                                                                   "无关问题被直接回答 发布中 → 新": "0.0000 → 0.0156"}}


def test_a_build_names_the_guides_it_added_and_removed() -> None:
    change = GuideChange(added=[("dog-registration", "养犬登记")], removed=[("gas-connection", "用气报装"), ("x", "某事项")])
    lines = change_lines(change)
    assert lines[0] == "新增指南 1 个：养犬登记（dog-registration）"
    assert lines[1] == "删除指南 2 个：用气报装（gas-connection）、某事项（x）"
    assert "不再提供" in lines[2] and len(lines) == 3
    assert change_lines(GuideChange()) == []  # a first build: every guide is new, naming them says nothing
    many = change_lines(GuideChange(added=[(f"g{n}", f"指南{n}") for n in range(25)]))
    assert many[0].startswith("新增指南 25 个：指南0（g0）") and many[0].endswith("等，另有 5 个")


def test_a_passing_gate_says_what_it_compared_and_lists_what_got_worse() -> None:
    lines = gate_lines(_findings(worse=12), serving="原来")
    assert lines[0] == ("发布门槛：通过。和原来正在服务的版本比，共同的评测问题 280 个：Top-1 0.9571 → 0.9536，"
                        "答对或确认对 0.9429 → 0.9393，无关问题被直接回答 0.0000 → 0.0156")
    assert "12 个问题变差了，但仍在允许的下降范围内" in lines[1]
    assert lines[2] == "  · 问题0（应为 企业开办（company-setup），现在排第一的是 帮办代办服务（proxy-service））"
    assert lines[2 + 10] == "  另有 2 个" and lines[-1] == "怎么办：" + ADVICE and len(lines) == 14
    assert gate_lines(_findings(), serving="当时") == [gate_lines(_findings())[0]]  # nothing worse: one line
    first = gate_lines(_findings(questions=288, top1=0.9583, offtopic_answered=0.0))
    assert first == ["发布门槛：通过。没有可比较的版本（首次构建），按固定门槛检查：评测问题 288，Top-1 0.9583，无关问题被直接回答 0.0"]
    assert "--no-gate" in gate_lines(None)[0]
    accepted = gate_lines({**_findings(worse=1), "failures": ["Top-1 从 0.95 降到 0.90"], "accepted": "临时合并"})
    assert accepted[0] == "⚠ 本版本未通过发布门槛，由管理员确认发布：临时合并（Top-1 从 0.95 降到 0.90）"
    assert "共同的评测问题 280 个" in accepted[1] and "帮办代办服务" in accepted[3]


def test_a_question_that_got_worse_says_which_guide_is_first_now() -> None:
    item = {"q": "开公司", "guide": "company-setup", "title": "企业开办", "advice": ADVICE}
    assert worse_line({**item, "got": "proxy-service", "got_title": "帮办代办服务"}).endswith("现在排第一的是 帮办代办服务（proxy-service））")
    assert "仍排第一，但把握不够" in worse_line({**item, "got": "company-setup", "got_title": "企业开办"})
    assert "现在没有指南排第一" in worse_line({**item, "got": None, "got_title": None})
    assert worse_line({"q": "开公司", "guide": "company-setup", "advice": ADVICE}) == "  · 开公司（应为 company-setup）"  # an older manifest
    findings = Findings(failures=["Top-1 从 0.95 降到 0.90"], worse=_findings(worse=1)["worse"], metrics={"common_questions": 3})
    text = "\n".join(findings_lines(findings))
    assert "两个版本共同的评测问题：3" in text and "✗ Top-1" in text and "现在排第一的是 帮办代办服务（proxy-service）" in text


def test_the_calibration_is_explained_without_jargon() -> None:
    calibration = {"method": "两个逻辑回归：属于本知识库的问题 vs 无关话题（top, gap, anchor）；找对指南 vs 知识库里没有的事项（top, lead, anchor）。"
                             "指南分 5 折交叉验证", "examples": {"positive": 469, "negative": 291}, "answer_at": 0.2865, "scope_at": 0.65,
                   "confirm_at": 0.1687, "spread": 0.2113, "cv": {"top1": 0.77, "within_band": 0.76}}
    text = "\n".join(calibration_lines(calibration, 0.1))
    assert "top, gap" not in text and "lead" not in text and "分数单位" not in text and "逻辑回归" not in text
    for words in ("按本知识库校准", "正例 469 个", "负例 291 个", "指南分 5 折交叉验证", "≥ 0.2865", "≥ 0.65", "< 0.1687", "0.2113",
                  "相差不到 0.0211", "交叉验证（留出的指南）：Top-1 0.77，答对或确认对 0.76"):
        assert words in text, words


def _manifest(version: str, guides: list[str], questions: int | None = 288, top1: float = 0.9583, **extra: object) -> dict:
    return {"version": version, "built_at": f"2026-12-0{version[-1]}T10:00:00", "counts": {"guides": len(guides), "documents": 0, "chunks": 9},
            "sources": {f"knowledge/guides/{g}.md": "0" for g in guides} | {"knowledge/documents/notice.md": "0"},
            "eval": None if questions is None else {"questions": {"in_scope": questions}, "metrics": {"top1": top1}}, **extra}


def test_evaluation_numbers_say_what_they_are_over_and_when_they_mean_nothing() -> None:
    asked = {f"g{n}" for n in range(36)}
    sample = eval_scope(_manifest("v1", sorted(asked)), asked)
    assert sample is not None and sample.applies and sample.cell(0.9583) == "0.9583（288 题）"
    assert eval_line(_manifest("v1", sorted(asked)), sample).startswith("示例评测集：Top-1 0.9583（范围内问题 288 个，覆盖本版本 36 个指南中的 36 个")
    own = _manifest("v2", ["g1", "g2", *(f"own{n}" for n in range(40))], questions=21)  # a deployment that kept two samples
    scope = eval_scope(own, asked)
    assert scope is not None and not scope.applies and scope.cell(0.5) == "不适用（只覆盖 2 个指南）"
    assert eval_line(own, scope).startswith("示例评测集不适用于本知识库（只覆盖 2 个指南）")
    assert eval_scope(_manifest("v3", ["g1"], questions=None), asked) is None
    assert EVAL_MIN_QUESTIONS == MIN_QUESTIONS


def test_evaluation_numbers_on_too_few_questions_say_so_not_that_few_guides_are_covered() -> None:
    asked = {f"g{n}" for n in range(36)}
    few = _manifest("v1", sorted(asked), questions=12)  # every guide asked about, but only 12 questions at build time
    scope = eval_scope(few, asked)
    assert scope is not None and not scope.applies and scope.cell(0.9) == "不适用（只有 12 题，少于 20 题）"
    assert eval_line(few, scope) == "示例评测集不适用于本版本（只有 12 题，少于 20 题）：题目太少，数字说明不了效果"
    unread = eval_scope(few, None)  # the question file is gone now: coverage unknown, not "0 guides"
    assert unread is not None and unread.cell(0.9) == "不适用（只有 12 题，少于 20 题）"
    assert "0 个指南" not in eval_line(few, unread) and "评测问题文件现在读不到" in eval_line(few, unread)
    enough = eval_scope(_manifest("v2", sorted(asked)), None)
    assert enough is not None and enough.applies and enough.cell(0.9583) == "0.9583（288 题）"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> IndexStore:
    """Hand-made versions v1..v4 (v3 published with --accept), the CLI pointed at them; an evaluation file
    asking about g0..g35."""
    questions = tmp_path / "questions.yml"
    questions.write_text(yaml.safe_dump({"in_scope": [{"q": f"问{n}", "guide": f"g{n}"} for n in range(36)]}), encoding="utf-8")
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("GOVQA_EVAL_QUESTIONS", str(questions))
    store = IndexStore(tmp_path / "index")
    sample = [f"g{n}" for n in range(36)]
    for version, guides, count in (("v1", sample, 288), ("v2", [*sample, "new"], 288), ("v3", sample[:35], 280),
                                   ("v4", ["g1", *(f"own{n}" for n in range(9))], 21)):
        folder = store.versions / version
        folder.mkdir(parents=True)
        extra = {"gate": {"failures": ["Top-1 下降"], "worse": [], "metrics": {}, "accepted": "临时合并"}} if version == "v3" else {}
        (folder / "manifest.json").write_text(json.dumps(_manifest(version, guides, count, **extra)), encoding="utf-8")
        store.publish(version, accepted="临时合并" if version == "v3" else None)
    return store


def test_list_marks_the_serving_accepted_and_rolled_back_versions(store: IndexStore, capsys: pytest.CaptureFixture[str]) -> None:
    store.rollback()  # v4 → v3
    assert index_builder.main(["list"]) == 0
    header, *rows, total = capsys.readouterr().out.splitlines()
    assert header.split() == ["版本", "构建时间", "指南", "切块", "Top-1（示例评测集）"]
    assert [row.split()[0] for row in rows] == ["v1", "v2", "*", "v4"] and rows[2].split()[1] == "v3"
    assert "0.9583（288 题）" in rows[0] and "不带版本的 rollback 回到此版本" in rows[1]
    assert "0.9583（280 题）" in rows[2] and "未过门槛、管理员确认发布：临时合并" in rows[2] and "回滚到此" in rows[2]
    assert "不适用（只覆盖 1 个指南）" in rows[3] and "从此版本回滚离开" in rows[3]
    assert total.startswith("共 4 个版本，* 为当前发布的版本（v3）") and "只保留最近 5 个版本" in total and "题数不同" in total
    assert index_builder.main(["list", "--history"]) == 0
    history = capsys.readouterr().out.splitlines()
    assert len(history) == 6 and "发布 v3，未过门槛、管理员确认发布：临时合并" in history[3] and "回滚到 v3，之前是 v4" in history[5]


def test_rollback_walks_back_and_says_when_nothing_older_is_kept(store: IndexStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert index_builder.main(["rollback"]) == 0
    assert capsys.readouterr().out == "已回滚，当前版本：v3；再运行一次 rollback 会回到 v2\n"
    for version in ("v2", "v1"):
        assert index_builder.main(["rollback"]) == 0 and store.current_version() == version
    capsys.readouterr()
    assert index_builder.main(["rollback"]) == 1
    out, err = capsys.readouterr()
    assert "没有可以回滚到的上一个版本" in err and "只保留最近 5 个版本" in err
    assert out.splitlines()[0].split()[0] == "版本" and "* v1" in out  # list's versions, to pick one
    assert store.current_version() == "v1"
    with pytest.raises(SystemExit):
        index_builder.main(["rollback", "-h"])
    help_text = "".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "再运行一次就再往前一个" in help_text and "只保留最近5个版本" in help_text


def test_list_marks_only_versions_rolled_back_from_to_an_older_one(store: IndexStore, capsys: pytest.CaptureFixture[str]) -> None:
    store.rollback()  # v4 → v3
    store.rollback("v4")  # and forward again: v3 was left for a newer version, not found wanting
    assert index_builder.main(["list"]) == 0
    _header, *rows, _total = capsys.readouterr().out.splitlines()
    assert not any("从此版本回滚离开" in row for row in rows), rows
    assert "不带版本的 rollback 回到此版本" in rows[2] and rows[3].startswith("* v4")


def test_list_and_rollback_skip_damaged_history_lines_and_say_so_once(store: IndexStore, capsys: pytest.CaptureFixture[str]) -> None:
    path = store.root / "history.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b'{"time": "2026-12-05T10:0\n' + lines[1] + b"\xff\xfe[1]\n" + b"".join(lines[2:]) + b"[1, 2]\n")
    assert index_builder.main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.count("有 3 行已损坏、无法读取，已跳过") == 1 and "不带版本的 rollback 回到此版本" in out
    assert index_builder.main(["list", "--history"]) == 0
    history = capsys.readouterr().out
    assert "共 4 条" in history and history.count("有 3 行已损坏") == 1 and "发布 v4" in history
    assert index_builder.main(["rollback"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("已回滚，当前版本：v3") and err.count("有 3 行已损坏") == 1 and store.current_version() == "v3"


def test_status_shows_the_gate_of_the_serving_version_in_plain_chinese(store: IndexStore, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _manifest("v5", [f"g{n}" for n in range(36)], embedding={"spec": "m", "id": "m-1", "dimension": 4},
                         calibration={"method": "两个逻辑回归（top, gap, anchor）。指南分 5 折交叉验证", "examples": {"positive": 4, "negative": 3},
                                      "answer_at": 0.3, "scope_at": 0.65, "confirm_at": 0.2, "spread": 0.2113, "cv": {"top1": 0.8}},
                         gate=_findings(worse=2))
    (store.versions / "v5").mkdir()
    (store.versions / "v5" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    store.publish("v5")
    assert index_builder.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "发布门槛：通过。和当时正在服务的版本比，共同的评测问题 280 个：Top-1 0.9571 → 0.9536" in out
    assert "2 个问题变差了" in out and "现在排第一的是 帮办代办服务（proxy-service）" in out and "怎么办：" in out
    assert "top, gap" not in out and "分数单位" not in out and "按本知识库校准" in out
    assert "示例评测集：Top-1 0.9583（范围内问题 288 个" in out


def test_an_empty_store_says_nothing_is_published_never_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Before the first build: `rollback` said "当前版本 None 之前发布的版本都已删除"."""
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(tmp_path / "index"))
    for args, code, says in ((["rollback"], index_builder.EXIT_NO_INDEX, "还没有发布过任何版本，无法回滚"),
                             (["status"], index_builder.EXIT_NO_INDEX, "还没有发布任何索引"),
                             (["list"], index_builder.EXIT_NO_INDEX, "还没有任何索引版本"),
                             (["list", "--history"], index_builder.EXIT_OK, "还没有发布记录")):
        assert index_builder.main(args) == code, args
        out, err = capsys.readouterr()
        assert says in out + err and "None" not in out + err, (args, out, err)
    assert index_builder.main(["rollback"]) == index_builder.EXIT_NO_INDEX  # 3, as status and list: no index yet
    assert "请先运行 python3 index_builder.py build" in capsys.readouterr().err  # and what to do instead


def test_an_empty_list_says_to_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`list` before the first build said "还没有任何索引版本" and not what to do next."""
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(tmp_path / "index"))
    assert index_builder.main(["list"]) == index_builder.EXIT_NO_INDEX
    assert capsys.readouterr().out == "还没有任何索引版本：请运行 python3 index_builder.py build 构建并发布第一个版本\n"


BROKEN_CURRENT = {"folder deleted": "它的文件夹", "manifest deleted": "它的文件夹里没有 manifest.json",
                  "manifest not JSON": "它的 manifest.json 无法读取或不是有效的 JSON"}


@pytest.mark.parametrize("damage", list(BROKEN_CURRENT))
def test_a_current_naming_a_missing_or_broken_version_is_explained(store: IndexStore, capsys: pytest.CaptureFixture[str],
                                                                   damage: str) -> None:
    """CURRENT names v4, whose folder was deleted by hand (or whose manifest.json is missing or cut short, as in a
    half-copied index folder): `status` and `list` crashed with a traceback, `query` and `eval` said nothing was ever
    published. Each says which version CURRENT names, what is wrong, the versions kept and what to do; exit code 3."""
    folder = store.versions / "v4"
    if damage == "folder deleted":
        shutil.rmtree(folder)
    elif damage == "manifest deleted":
        (folder / "manifest.json").unlink()
    else:
        (folder / "manifest.json").write_text('{"version": "v4", "counts": ', encoding="utf-8")
    for args in (["status"], ["status", "--json"], ["list"], ["query", "开公司要带什么材料"], ["eval"]):
        assert index_builder.main(args) == index_builder.EXIT_NO_INDEX, args
        out, err = capsys.readouterr()
        assert f"{store.root / 'CURRENT'} 指向索引版本 v4，但{BROKEN_CURRENT[damage]}" in err, (args, err)
        assert "保留的版本：v1、v2、v3（不带版本的 rollback 会回到此版本）\n" in err, (args, err)
        assert "怎么办：运行 python3 index_builder.py rollback <版本> 回到保留的版本（例如 rollback v3），" in err
        assert "或运行 python3 index_builder.py build 重新构建并发布" in err and "正在加载模型" not in err
        if args[0] == "list":  # the versions kept, to pick one
            *rows, total = out.splitlines()
            assert [row.split()[0] for row in rows[1:4]] == ["v1", "v2", "v3"] and "（v4，不可用）" in total
            unreadable = [] if damage == "folder deleted" else ["* v4                      manifest.json 缺失或损坏，不能回滚到此版本"]
            assert rows[4:] == unreadable, rows
        else:
            assert out == ""  # `status --json` prints no half of a manifest
    assert index_builder.main(["rollback", "v4"]) == index_builder.EXIT_FAILED  # never back to the broken one
    assert ("v4 不存在" if damage == "folder deleted" else "不能回滚到索引版本 v4") in capsys.readouterr().err
    assert index_builder.main(["rollback"]) == index_builder.EXIT_OK and store.current_version() == "v3"
    assert capsys.readouterr().out.startswith("已回滚，当前版本：v3")
    assert index_builder.main(["status", "--json"]) == index_builder.EXIT_OK


def test_a_current_naming_a_deleted_version_with_none_kept_says_to_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Every version folder deleted by hand, CURRENT left behind: nothing to roll back to, build."""
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(tmp_path / "index"))
    store = IndexStore(tmp_path / "index")
    (store.versions / "v1").mkdir(parents=True)
    (store.versions / "v1" / "manifest.json").write_text(json.dumps(_manifest("v1", ["g1"])), encoding="utf-8")
    store.publish("v1")
    shutil.rmtree(store.versions / "v1")
    for args in (["status"], ["list"], ["rollback"]):
        assert index_builder.main(args) == index_builder.EXIT_NO_INDEX, args
        out, err = capsys.readouterr()
        assert "指向索引版本 v1，但它的文件夹" in err and "不存在" in err, (args, err)
        assert err.endswith("没有保留其他可用的版本\n怎么办：运行 python3 index_builder.py build 重新构建并发布\n"), (args, err)
        assert "还没有任何索引版本" not in out + err and "还没有发布过任何版本" not in err
