"""Questions typed in traditional characters: the sample knowledge base's evaluation questions (tests/data/questions.yml)
written the ways OpenCC writes simplified text in traditional — generic (s2t), Taiwan (s2tw), Hong Kong (s2hk), and
Taiwan with its own phrasing (s2twp: 資訊 for 信息, 軟體 for 软件, which no character conversion undoes) — searched in
the published index as a question is (knowledge/simplified.py reads them in simplified characters) and, as the
baseline in the same run, read as typed (the conversion switched off).

The retrieval only (no Rasa): the NLU reads the same simplified text (bot/rasa/simplified_text.py; the end-to-end test
tests/e2e/test_conversations.py talks in traditional characters through the whole stack).

    var/venv-app/bin/python benchmarks/eval_traditional.py     # → var/reports/bench-traditional.json
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import _common  # also puts the project root on sys.path
import opencc
import yaml

from knowledge.index.embedding import Embedder
from knowledge.retrieval import results
from knowledge.retrieval.retriever import ANSWER, Retriever
from knowledge.settings import ROOT, load_settings
from knowledge.text import half_width

QUESTIONS = ROOT / "tests" / "data" / "questions.yml"
WRITINGS = ("s2t", "s2tw", "s2hk", "s2twp")


def measure(retriever: Retriever, questions: list[dict[str, Any]], off_topic: list[str],
            write: Callable[[str], str]) -> dict[str, Any]:
    """Right guide first, answered right directly, off-topic answered directly."""
    found = retriever.run_batch([write(item["q"]) for item in questions])
    top1 = sum(bool(r.candidates) and r.candidates[0].guide_id == item["guide"] for r, item in zip(found, questions, strict=True))
    right = sum(r.decision == ANSWER and r.guide_id == item["guide"] for r, item in zip(found, questions, strict=True))
    off = sum(r.decision == ANSWER for r in retriever.run_batch([write(text) for text in off_topic]))
    return {"top1": round(top1 / len(questions), 4), "answered_right": round(right / len(questions), 4),
            "offtopic_answered": round(off / len(off_topic), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    settings = load_settings()
    retriever = Retriever.from_published_index(settings, Embedder(settings.embedding_model, lowercase=settings.embedding_lowercase))
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    questions, off_topic = data["in_scope"], [str(text) for text in data["off_topic"]]
    report: dict[str, Any] = {"machine": _common.machine(), "questions": len(questions), "off_topic": len(off_topic),
                              "index_version": retriever.version, "simplified": measure(retriever, questions, off_topic, str)}
    converted = results.as_read
    for writing in WRITINGS:
        to_traditional = opencc.OpenCC(writing).convert
        report[writing] = {"read_simplified": measure(retriever, questions, off_topic, to_traditional)}
        results.as_read = half_width  # the baseline: the characters read as typed
        try:
            report[writing]["read_as_typed"] = measure(retriever, questions, off_topic, to_traditional)
        finally:
            results.as_read = converted
    simplified = report["simplified"]
    rows = [["简体（原题）", f"{simplified['top1']:.3f}", f"{simplified['answered_right']:.3f}", "-", "-",
             f"{simplified['offtopic_answered']:.3f}"]]
    for writing in WRITINGS:
        now, before = report[writing]["read_simplified"], report[writing]["read_as_typed"]
        rows.append([f"繁体 {writing}", *(f"{value:.3f}" for value in (now["top1"], now["answered_right"], before["top1"],
                                                                        before["answered_right"], now["offtopic_answered"]))])
    print(_common.markdown_table(["问法", "Top-1", "直接答对", "不转换时 Top-1", "不转换时直接答对", "无关被直接答"], rows))
    print(f"报告：{_common.write_report('traditional', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
