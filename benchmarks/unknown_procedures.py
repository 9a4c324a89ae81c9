"""Unknown procedures: questions about procedures the knowledge base does not have, asked against
the scenarios benchmarks/eval_unseen.py built for a development set.

A citizen often asks about something the deployment has no guide for. The honest reply is "not
found" (or at most "您问的是…吗？"); answering directly with another guide is wrong by construction.
This asks the OTHER development sets' in-scope questions (and, when the sample guides were
replaced, the sample's in-scope questions too) against the built knowledge base and counts the
decisions. A change to the decision layer should not answer more of them.

Only the development sets (tests/data/dev*/) and the sample are used: the held-out sets
(tests/data/unseen*/) are never read here.

    var/venv-app/bin/python benchmarks/eval_unseen.py --set dev --no-rest --scenario both --work-dir W
    var/venv-app/bin/python benchmarks/unknown_procedures.py --set dev --work-dir W [--scenario both]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import _common  # also puts the project root on sys.path
import yaml

from knowledge.index.embedding import Embedder
from knowledge.retrieval.retriever import AMBIGUOUS, ANSWER, CONFIRM, NONE, Retriever
from knowledge.settings import ROOT, load_settings

DATA = ROOT / "tests" / "data"
DEV_SETS = _common.DEV_SETS
SAMPLE_QUESTIONS = DATA / "questions.yml"


def _in_scope(path: Path) -> list[str]:
    return [item["q"] for item in yaml.safe_load(path.read_text(encoding="utf-8"))["in_scope"]]


def unknown_questions(dev_set: str, scenario: str) -> list[str]:
    """Questions whose guides the scenario's knowledge base lacks."""
    questions = [q for other in DEV_SETS if other != dev_set for q in _in_scope(DATA / other / "questions.yml")]
    if scenario == "replaced":  # the sample guides were deleted: their questions are unknown too
        questions += _in_scope(SAMPLE_QUESTIONS)
    return questions


def measure(retriever: Retriever, questions: list[str]) -> dict[str, Any]:
    decisions = [result.decision for result in retriever.run_batch(questions)]

    def share(decision: str) -> float:
        return round(sum(d == decision for d in decisions) / len(decisions), 4)

    return {"questions": len(questions), "answered": share(ANSWER), "confirmed": share(CONFIRM),
            "ambiguous": share(AMBIGUOUS), "not_found": share(NONE)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=DEV_SETS, default="dev")
    parser.add_argument("--scenario", choices=("added", "replaced", "both"), default="both")
    parser.add_argument("--work-dir", type=Path, required=True, help="the --work-dir eval_unseen.py built the scenarios in")
    args = parser.parse_args(argv)
    base = load_settings()
    embedder = Embedder(base.embedding_model, lowercase=base.embedding_lowercase)
    report: dict[str, Any] = {}
    for scenario in (("added", "replaced") if args.scenario == "both" else (args.scenario,)):
        root = args.work_dir / f"unseen-{scenario}"
        if not (root / "index").is_dir():
            print(f"{root} 下没有索引：请先运行 benchmarks/eval_unseen.py --set {args.set} --work-dir {args.work_dir}", file=sys.stderr)
            return 2
        settings = load_settings(guides_dir=root / "guides", documents_dir=root / "documents", index_dir=root / "index")
        retriever = Retriever.from_published_index(settings, embedder)
        report[scenario] = measure(retriever, unknown_questions(args.set, scenario))
    print("| 场景 | 问题数 | 直接答（答错） | 反问确认 | 反问选哪个 | 未找到 |")
    print("|---|---|---|---|---|---|")
    for scenario, row in report.items():
        print(f"| {scenario} | {row['questions']} | {row['answered']:.3f} | {row['confirmed']:.3f} | "
              f"{row['ambiguous']:.3f} | {row['not_found']:.3f} |")
    (args.work_dir / f"unknown-{args.set}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
