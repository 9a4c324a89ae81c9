"""How much two trained models disagree on the same questions: the retrain noise of the intent classifier.

    python -m bot.launcher.nlu_drift var/models/A.tar.gz var/models/B.tar.gz tests/data/dev*/questions.yml

Parses every question of the files (in_scope, off_topic and each conversation turn) with both models, as the Rasa server
would, and counts the messages whose first intent differs, by the boundary crossed: `nlu_fallback` (a sure aspect ↔ unsure,
where the answer reads the aspect from the wording), `out_of_scope` (answered ↔ refused), `conversation` (small talk, yes/no,
handoff, feedback) or two aspects. Session 36 found that two models whose training data differ by 12 examples disagree on
5.3% of the development lines, and that these lines are most of the whole-stack outcomes that changed between them: one
retrain moves a cell by ±1–2 items, so designs are compared on one model. Use it before reading a before/after that retrained.
Report: var/reports/nlu/drift-<A>-<B>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bot.launcher.nlu_eval import FALLBACK, intent_of_aspect, predict
from knowledge.settings import load_settings
from knowledge.sources.aspects import ASPECTS

OUT_OF_SCOPE = "out_of_scope"
# The intents that ask about a procedure; any other intent is conversation (small talk, yes/no, handoff, feedback).
QUESTION_INTENTS = frozenset({intent_of_aspect(aspect) for aspect in ASPECTS} | {"ask_policy", "choose"})


def question_texts(questions: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, text) of every question of a questions.yml: in_scope, off_topic, first (a conversation's first turn), follow_up."""
    texts = [("in_scope", item["q"]) for item in questions.get("in_scope") or []]
    texts += [("off_topic", item if isinstance(item, str) else item["q"]) for item in questions.get("off_topic") or []]
    for conversation in questions.get("conversations") or []:
        texts += [("follow_up" if number else "first", turn["q"]) for number, turn in enumerate(conversation.get("turns") or [])]
    return texts


def boundary(before: str, after: str) -> str:
    """Which decision a change of first intent crosses (the first that applies)."""
    if FALLBACK in (before, after):
        return FALLBACK
    if OUT_OF_SCOPE in (before, after):
        return OUT_OF_SCOPE
    if before not in QUESTION_INTENTS or after not in QUESTION_INTENTS:
        return "conversation"
    return "aspects"


def drift(texts: list[tuple[str, str]], before: list[tuple[str, float]], after: list[tuple[str, float]]) -> dict[str, Any]:
    """The report: how many messages of each kind changed their first intent, across which boundary, and which."""
    changed = [{"kind": kind, "q": text, "before": list(a), "after": list(b), "boundary": boundary(a[0], b[0])}
               for (kind, text), a, b in zip(texts, before, after, strict=True) if a[0] != b[0]]
    kinds = Counter(kind for kind, _ in texts)
    return {
        "messages": len(texts),
        "changed": len(changed),
        "share": round(len(changed) / max(len(texts), 1), 4),
        "by_kind": {kind: {"changed": sum(row["kind"] == kind for row in changed), "total": total} for kind, total in kinds.items()},
        "by_boundary": dict(Counter(row["boundary"] for row in changed).most_common()),
        "pairs": [[f"{a} → {b}", n] for (a, b), n in Counter((row["before"][0], row["after"][0]) for row in changed).most_common()],
        "changes": changed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="两个 NLU 模型在同一批问题上的意图差异（重新训练带来的噪声）")
    parser.add_argument("before", type=Path, help="模型文件（.tar.gz）")
    parser.add_argument("after", type=Path, help="模型文件（.tar.gz）")
    parser.add_argument("questions", type=Path, nargs="+", help="questions.yml（in_scope / off_topic / conversations）")
    args = parser.parse_args(argv)
    for model in (args.before, args.after):
        if not model.is_file():
            parser.error(f"没有这个模型文件：{model}")
    texts = [pair for file in args.questions for pair in question_texts(yaml.safe_load(file.read_text(encoding="utf-8")) or {})]
    words = [text for _, text in texts]
    report = {"before": args.before.name, "after": args.after.name, "files": [str(file) for file in args.questions],
              **drift(texts, predict(args.before.resolve(), words), predict(args.after.resolve(), words))}
    out = load_settings().reports_dir / "nlu" / f"drift-{args.before.name.removesuffix('.tar.gz')}-{args.after.name.removesuffix('.tar.gz')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"{report['messages']} 句里第一意图不同的 {report['changed']} 句（{report['share']:.1%}）")
    print("按类别：" + "，".join(f"{kind} {row['changed']}/{row['total']}" for kind, row in report["by_kind"].items()))
    print("跨过的边界：" + "，".join(f"{name} {count}" for name, count in report["by_boundary"].items()))
    print("最多的变化：" + "，".join(f"{pair} ×{count}" for pair, count in report["pairs"][:8]))
    print(f"报告：{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
