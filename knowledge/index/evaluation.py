"""Retrieval evaluation on a labelled question set (tests/data/questions.yml).

Metrics: top-1, top-3, MRR (rank of the labelled guide), off-topic rejected, in-scope wrongly
rejected, ambiguity detected, answered right (decision "answer" and the right guide), aspect
accuracy, and whether document questions find a passage naming the expected units.

Usage::

    report = evaluate(retriever, load_question_set(settings.eval_questions))
    print(format_report(report))
    report["metrics"]["top1"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from knowledge.index.labels import DECISION_NAMES, label, labelled
from knowledge.retrieval.retriever import AMBIGUOUS, ANSWER, CONFIRM, NONE, Retriever


def load_question_set(path: Path) -> dict[str, list[Any]]:
    with open(path, encoding="utf-8") as handle:
        # libyaml's parser when installed (same objects, ~5x faster: every build reads this file)
        data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return {key: list(data.get(key) or []) for key in ("in_scope", "off_topic", "ambiguous", "documents")}


def _ratio(good: int, total: int) -> float:
    return round(good / total, 4) if total else 1.0


def evaluate(retriever: Retriever, questions: dict[str, list[Any]]) -> dict[str, Any]:
    known = set(retriever.data.guides)
    in_scope = [item for item in questions["in_scope"] if item["guide"] in known]
    ambiguous = [item for item in questions["ambiguous"] if known.issuperset(item["candidates"])]
    off_topic = list(questions["off_topic"])
    documents = list(questions["documents"])

    texts = [i["q"] for i in in_scope] + off_topic + [i["q"] for i in ambiguous] + [i["q"] for i in documents]
    results = retriever.run_batch(texts)
    r_in = results[: len(in_scope)]
    r_off = results[len(in_scope) : len(in_scope) + len(off_topic)]
    r_amb = results[len(in_scope) + len(off_topic) : len(in_scope) + len(off_topic) + len(ambiguous)]
    r_doc = results[len(in_scope) + len(off_topic) + len(ambiguous) :]

    failures: list[dict[str, Any]] = []
    top1 = top3 = answered_right = within_band = rejected = falsely_ambiguous = aspect_right = 0
    reciprocal = 0.0
    for item, result in zip(in_scope, r_in, strict=True):
        ranking = [c.guide_id for c in result.candidates]
        rank = ranking.index(item["guide"]) + 1 if item["guide"] in ranking else None
        top1 += rank == 1
        top3 += rank is not None and rank <= 3
        reciprocal += 1 / rank if rank else 0.0
        rejected += result.decision == NONE
        falsely_ambiguous += result.decision == AMBIGUOUS
        answered_right += result.decision == ANSWER and result.guide_id == item["guide"]
        within_band += result.decision in (ANSWER, CONFIRM) and result.guide_id == item["guide"]
        aspect_right += result.aspect == item.get("aspect", result.aspect)
        if rank != 1 or result.decision != ANSWER:
            failures.append({"kind": "in_scope", "q": item["q"], "expected": item["guide"], "decision": result.decision,
                             "got": ranking[:3], "score": round(result.confidence, 3)})
    off_rejected = off_answered = 0
    for question, result in zip(off_topic, r_off, strict=True):
        off_rejected += result.decision == NONE
        off_answered += result.decision == ANSWER
        if result.decision != NONE:
            failures.append({"kind": "off_topic", "q": question, "decision": result.decision,
                             "got": [c.guide_id for c in result.candidates[:1]], "score": round(result.confidence, 3)})
    detected = 0
    for item, result in zip(ambiguous, r_amb, strict=True):
        offered = {c.guide_id for c in result.choices}
        ok = result.decision == AMBIGUOUS and len(offered & set(item["candidates"])) >= 2
        detected += ok
        if not ok:
            failures.append({"kind": "ambiguous", "q": item["q"], "expected": item["candidates"], "decision": result.decision,
                             "got": [c.guide_id for c in result.candidates[:3]], "score": round(result.confidence, 3)})
    documents_found = 0
    for item, result in zip(documents, r_doc, strict=True):
        passages = [hit for hit in result.hits[:3] if hit.chunk.guide_id is None]
        ok = any(
            set(item.get("units") or []) <= set(hit.chunk.units) and all(p in hit.chunk.content for p in _as_list(item.get("contains")))
            for hit in passages
        )
        documents_found += ok
        if not ok:
            failures.append({"kind": "documents", "q": item["q"], "decision": result.decision,
                             "got": [hit.chunk.title for hit in result.hits[:3]]})

    n = len(in_scope)
    metrics = {
        "top1": _ratio(top1, n),
        "top3": _ratio(top3, n),
        "mrr": round(reciprocal / n, 4) if n else 1.0,
        "answered_right": _ratio(answered_right, n),
        "within_band": _ratio(within_band, n),
        "inscope_rejected": _ratio(rejected, n),
        "inscope_ambiguous": _ratio(falsely_ambiguous, n),
        "offtopic_rejected": _ratio(off_rejected, len(off_topic)),
        "offtopic_answered": _ratio(off_answered, len(off_topic)) if off_topic else 0.0,
        "ambiguity_detected": _ratio(detected, len(ambiguous)),
        "aspect_accuracy": _ratio(aspect_right, n),
        "documents_found": _ratio(documents_found, len(documents)),
    }
    counts = {"in_scope": n, "off_topic": len(off_topic), "ambiguous": len(ambiguous), "documents": len(documents)}
    return {"index_version": retriever.version, "counts": counts, "metrics": metrics, "failures": failures}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


LABELS = {
    "top1": "Top-1 命中率",
    "top3": "Top-3 命中率",
    "mrr": "MRR",
    "answered_right": "直接答对（决策=回答且事项正确）",
    "within_band": "答对或确认对（回答 / “您问的是…吗？”且事项正确）",
    "inscope_rejected": "范围内问题被误拒",
    "inscope_ambiguous": "范围内问题被反问",
    "offtopic_rejected": "无关问题被拒答（检索这一层；NLU 的 out_of_scope 在它之前）",
    "offtopic_answered": "无关问题被直接回答",
    "ambiguity_detected": "歧义问题被识别（反问且候选正确）",
    "aspect_accuracy": "问题方面（材料/时限/费用…）识别",
    "documents_found": "政策文件问题找到正确段落（前3）",
}


def format_report(report: dict[str, Any]) -> str:
    """The evaluation as the admin reads it (terminal and retrieval-eval.txt): counts, metrics, failed questions."""
    lines = [f"索引版本：{report['index_version']}", "题目数：" + labelled(report["counts"]), ""]
    width = max(len(text) for text in LABELS.values())
    lines += [f"  {LABELS.get(key, label(key)):<{width}}  {value:.4f}" for key, value in report["metrics"].items()]
    if report["failures"]:
        lines += ["", f"未通过的题目（{len(report['failures'])}）："]
    for failure in report["failures"]:
        expected = failure.get("expected")
        expected = "、".join(expected) if isinstance(expected, list) else expected
        got = "、".join(str(item) for item in failure.get("got") or []) or "无"
        lines.append(f"  · [{label(failure['kind'])}] {failure['q']}：决策 {DECISION_NAMES.get(failure['decision'], failure['decision'])}"
                     + (f"，应为 {expected}" if expected else "") + f"，排在前面的 {got}"
                     + (f"，把握 {failure['score']}" if "score" in failure else ""))
    return "\n".join(lines)
