"""A knowledge base that keeps growing: the 36 sample guides plus the guides of every development and
held-out set in one knowledge base (about 300 guides), published as an admin would (the sample first,
then a plain ``build``; when the gate refuses, measured anyway with the refusal recorded).

The per-set scenarios of eval_unseen.py add 10 guides to 36. Real districts publish hundreds of guides,
and admins keep adding: this measures how the retrieval holds when every neighbour of every set is in
the same index. Nothing is calibrated or chosen on it; the held-out sets' questions are reported, the
development sets' questions are the ones a design may look at.

    var/venv-app/bin/python benchmarks/eval_grown.py [--work-dir W]

Retrieval only (knowledge/), one run (retrieval is deterministic). Writes var/reports/bench-grown.json
and prints a Markdown table for the README. Caveat: the sets are different fictional districts, so a few
procedures appear twice under different district names; the misses list says which guide came first.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import _common
import eval_unseen as unseen
import yaml

from knowledge.index.embedding import Embedder
from knowledge.settings import load_settings

GROUPS = {"held_out": _common.HELD_OUT_SETS, "dev": _common.DEV_SETS}
NUMBERS = ("top1", "answered_right", "within_band", "within_band_or_clarified", "inscope_not_found")


def _pooled(per_set: dict[str, dict[str, Any]], sets: tuple[str, ...]) -> dict[str, Any]:
    """The group's numbers over all its questions, and the range over its sets."""
    total = sum(per_set[s]["questions"] for s in sets)
    pooled: dict[str, Any] = {"questions": total, "sets": len(sets)}
    for key in NUMBERS:
        values = [per_set[s][key] for s in sets]
        pooled[key] = round(sum(per_set[s][key] * per_set[s]["questions"] for s in sets) / total, 4)
        pooled[key + "_range"] = [min(values), max(values)]
    return pooled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, default=None, help="build here instead of var/bench/ (report there too)")
    args = parser.parse_args(argv)
    base = load_settings()
    embedder = Embedder(base.embedding_model, lowercase=base.embedding_lowercase, threads=1)
    sets = [*GROUPS["dev"], *GROUPS["held_out"]]
    questions = {s: unseen._questions(unseen.DATA / s) for s in sets}
    settings = unseen._scenario_settings("grown", base, args.work_dir)
    _common.say(f"先发布示例知识库，再加入 {len(sets)} 个评测集的指南，按普通 build 发布 …")
    started = time.perf_counter()
    published = unseen._publish(settings, "added", embedder, [f for s in sets for f in questions[s]["guide_files"]])
    report: dict[str, Any] = {"machine": _common.machine(), "code": _common.code_version(),
                              "guides": len(list(settings.guides_dir.glob("*.md"))),
                              "build_seconds": round(time.perf_counter() - started, 1), **published, "sets": {}}
    for name in sets:
        report["sets"][name] = unseen.retrieval(settings, embedder, questions[name])
    sample = yaml.safe_load(unseen.SAMPLE_QUESTIONS.read_text(encoding="utf-8"))
    report["sample"] = unseen.retrieval(settings, embedder, sample)
    report["groups"] = {group: _pooled(report["sets"], members) for group, members in GROUPS.items()}
    path = (args.work_dir / "bench-grown.json") if args.work_dir else _common.write_report("grown", report)
    if args.work_dir:
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    rows = []
    for group, label in (("held_out", "留出集问题"), ("dev", "开发集问题")):
        g = report["groups"][group]
        rows.append([f"{label}（{g['sets']} 个集，{g['questions']} 题）",
                     *(f"{g[k]:.2f}（{g[k + '_range'][0]:.2f}–{g[k + '_range'][1]:.2f}）" for k in NUMBERS)])
    s = report["sample"]
    rows.append([f"示例评测题（{s['questions']} 题）", *(f"{s[k]:.2f}" for k in NUMBERS)])
    gate = "发布了" if published["plain_build_published"] else "被门槛拦下：" + "；".join(published["failures"])
    print(f"知识库 {report['guides']} 个指南；普通 build {gate}")
    print(_common.markdown_table(["问题", "Top-1", "直接答对", "答对或确认对", "含反问选对", "误拒"], rows))
    print(f"报告：{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
