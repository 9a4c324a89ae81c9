"""Questions typed with a full-width input method: every in-scope question of the sample and of the evaluation sets
that holds a Latin letter or a digit ("CA锁", "KTV", "B2", "2026年"), written with the full-width forms a Chinese
input method in full-width mode types ("ＣＡ锁", "Ｂ２"), searched in the knowledge base it belongs to (the sample
alone; the sample plus the set's guides, as eval_unseen.py's ``added``):

- as written (ASCII): the reference;
- full-width, read as the product reads it (knowledge/text.py ``half_width`` inside ``as_read``);
- full-width, read as typed (the baseline in the same run: the folding switched off, traditional-to-simplified kept).

Retrieval only (the NLU reads the same ``as_read`` text: bot/rasa/simplified_text.py). Nothing is chosen on it.

    var/venv-app/bin/python benchmarks/eval_full_width.py [--work-dir W]     # → var/reports/bench-full-width.json
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import _common
import eval_unseen as unseen
import yaml

from knowledge.index.builder import build_index
from knowledge.index.embedding import Embedder
from knowledge.retrieval import results
from knowledge.retrieval.retriever import ANSWER, Retriever
from knowledge.settings import load_settings
from knowledge.simplified import to_simplified

GROUPS = {"sample": ("sample",), "dev": _common.DEV_SETS, "held_out": _common.HELD_OUT_SETS}
WAYS = ("ascii", "full_width_read", "full_width_as_typed")
HAS_ASCII = re.compile(r"[A-Za-z0-9]")


def full_width(text: str) -> str:
    """`text` as an input method in full-width mode types it: ASCII letters and digits in their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def measure(retriever: Retriever, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Right guide first and answered right directly, per way of reading (counts), and the questions whose outcome
    (first guide, decision) read as typed differs from the product's reading."""
    counted: dict[str, Any] = {}
    outcomes: dict[str, list[tuple[str | None, str]]] = {}
    for way in WAYS:
        texts = [item["q"] if way == "ascii" else full_width(item["q"]) for item in items]
        read = results.as_read
        if way == "full_width_as_typed":
            results.as_read = to_simplified  # the baseline: full-width forms read as typed
        try:
            found = retriever.run_batch(texts)
        finally:
            results.as_read = read
        outcomes[way] = [(r.candidates[0].guide_id if r.candidates else None, r.decision) for r in found]
        counted[way] = {
            "top1": sum(bool(r.candidates) and r.candidates[0].guide_id == i["guide"] for r, i in zip(found, items, strict=True)),
            "answered_right": sum(r.decision == ANSWER and r.guide_id == i["guide"] for r, i in zip(found, items, strict=True)),
        }
    counted["differs"] = [{"q": full_width(item["q"]), "expected": item["guide"], "read": list(read), "as_typed": list(typed)}
                          for item, read, typed in zip(items, outcomes["full_width_read"], outcomes["full_width_as_typed"], strict=True)
                          if read != typed]
    return counted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, default=None, help="build here instead of var/bench/ (report there too)")
    args = parser.parse_args(argv)
    base = load_settings()
    embedder = Embedder(base.embedding_model, lowercase=base.embedding_lowercase, threads=1)
    per_set: dict[str, Any] = {}
    for name in ("sample", *_common.DEV_SETS, *_common.HELD_OUT_SETS):
        if name == "sample":
            items = yaml.safe_load(unseen.SAMPLE_QUESTIONS.read_text(encoding="utf-8"))["in_scope"]
            settings = unseen._scenario_settings("full-width-sample", base, args.work_dir)
            for path in unseen.base_guides().glob("*.md"):
                shutil.copy(path, settings.guides_dir / path.name)
            build_index(settings, embedder=embedder)
        else:
            questions = unseen._questions(unseen.DATA / name)
            items = questions["in_scope"]
            settings = unseen._scenario_settings("full-width", base, args.work_dir)
            unseen._publish(settings, "added", embedder, questions["guide_files"])
        items = [item for item in items if HAS_ASCII.search(item["q"])]
        if items:
            per_set[name] = {"questions": len(items), **measure(Retriever.from_published_index(settings, embedder), items)}
            _common.say(f"{name}: {per_set[name]}")
    groups = {group: {"questions": sum(per_set[s]["questions"] for s in sets if s in per_set),
                      **{way: {key: sum(per_set[s][way][key] for s in sets if s in per_set) for key in ("top1", "answered_right")}
                         for way in WAYS}}
              for group, sets in GROUPS.items()}
    report = {"machine": _common.machine(), "code": _common.code_version(), "sets": per_set, "groups": groups}
    path = (args.work_dir / "bench-full-width.json") if args.work_dir else _common.write_report("full-width", report)
    if args.work_dir:
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    rows = []
    for group, label in (("sample", "示例评测题"), ("dev", "开发集"), ("held_out", "留出集")):
        g = groups[group]
        n = g["questions"]
        rows.append([f"{label}（{n} 题）", *(f"{g[way]['top1'] / n:.3f} / {g[way]['answered_right'] / n:.3f}" for way in WAYS)])
    print(_common.markdown_table(["含字母或数字的问题", "半角原题", "全角输入（现在）", "全角输入，按原样读（对照）"], rows))
    print(f"（每格：Top-1 / 直接答对）报告：{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
