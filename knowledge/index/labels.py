"""What the admin reads for the evaluation's, the calibration's and the gate's English keys: one
mapping, used by the CLI (status, build, list, eval, query) and the build's log. Standard library only,
so the CLI can import it without loading the model.

Usage::

    labelled({"top1": 0.95, "answered_right": 0.86})  # -> "Top-1 0.95，直接答对 0.86"
"""

from __future__ import annotations

# The one mapping from the English keys of the evaluation, the calibration's cross-validation, the
# gate's findings and the question-set counts to what the CLI prints (status, build, list, eval).
METRIC_LABELS = {
    "top1": "Top-1", "top3": "Top-3", "mrr": "MRR", "answered_right": "直接答对", "within_band": "答对或确认对",
    "inscope_not_found": "范围内误拒", "inscope_rejected": "范围内误拒", "inscope_ambiguous": "范围内反问",
    "offtopic_refused": "无关问题拒答", "offtopic_rejected": "无关问题拒答", "offtopic_answered": "无关问题被直接回答",
    "ambiguity_detected": "歧义识别", "aspect_accuracy": "方面识别", "documents_found": "政策段落命中",
    "unknown_answered": "知识库里没有的事项被直接回答", "common_questions": "两个版本共同的评测问题", "questions": "评测问题",
    "in_scope": "范围内问题", "off_topic": "无关问题", "ambiguous": "有歧义的问题", "documents": "政策文件问题",
}
DECISION_NAMES = {"answer": "回答", "confirm": "先确认（“您问的是…吗？”）", "ambiguous": "需要反问（有歧义）",
                  "none": "无法回答（转 12345 / 人工）"}


def label(key: str) -> str:
    return METRIC_LABELS.get(key, key)


def labelled(values: dict) -> str:
    """"Top-1 0.95，直接答对 0.86"."""
    return "，".join(f"{label(key)} {value}" for key, value in values.items())
