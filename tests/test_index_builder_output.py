"""What index_builder.py prints is Chinese: metric names, evaluation failures, argparse's help and errors."""

from __future__ import annotations

import pytest

import index_builder
from knowledge.index.evaluation import LABELS, format_report
from knowledge.index.labels import METRIC_LABELS, label, labelled

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
