"""The publish gate: refuse a build only for a real regression, and say what got worse.

A deployment replaces the sample guides with its own and admins keep adding guides, so the gate
never asks a fixed question file to be answered as such. It compares the new build with the
published version on what both can answer:

- the evaluation questions (settings.eval_questions) whose guides exist in both versions: top-1
  and "answered or confirmed right" may not drop by more than ``gate_max_drop``, off-topic
  questions answered directly may not rise by more than it beyond the first build's cap
  ``gate_offtopic_answered_max``; a change of a single question is never a regression;
- the sample ``questions:`` of guides the build adds, each scored with its own chunk left out:
  at least ``gate_new_guides_top1`` of them must find their guide first (a new guide that its own
  questions cannot find is badly written or duplicates another).

With no published version to compare with (a first build), the evaluation questions that apply
must meet the absolute floors ``gate_top1`` and ``gate_offtopic_answered_max``. An admin who
knows why a drop is fine publishes with ``build --accept "理由"``: the reason and the findings are
kept in the manifest and the history, and ``status`` shows them.

Usage::

    change = GuideChange.between(before, after)   # removals.py: the builder works it out once
    findings = check(new_retriever, published_retriever_or_none, settings, change=change)
    findings.failures        # ["Top-1 …"] (empty: publish)
    findings.compared        # False: no serving version to compare with, the first build's floors were checked
    refusal(findings, store.current_version())   # the message of a build the gate refused, true to which case it was
    findings.worse           # the questions that got worse, with the guide now first and what to do
    findings.change          # `change`, carried for the CLI: a refused build has no BuildReport to say it
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.index.chunks import QUESTION
from knowledge.index.evaluation import evaluate, load_question_set
from knowledge.index.removals import GuideChange
from knowledge.retrieval.retriever import ANSWER, CONFIRM, Retriever
from knowledge.settings import Settings

MIN_QUESTIONS = 20  # fewer applicable evaluation questions than this say nothing reliable
ADVICE = ("该问题现在答错或答不上：可以给对应指南加别名（aliases）或典型问法（questions:），检查指南内容是否与其他指南重复；"
          "确认无误后可用 build --accept \"理由\" 发布")


@dataclass
class Findings:
    failures: list[str] = field(default_factory=list)
    worse: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    # Not in the manifest (its "removed_guides" keeps the removals): a refused build has no BuildReport,
    # and the admin must still see which guides the refused build would have added or removed. The builder's
    # own GuideChange (removals.py), handed to `check`: one reckoning for the published and the refused build.
    change: GuideChange = field(default_factory=GuideChange)
    # Whether there was a serving version to compare with: without one (a first build, or the serving version
    # cannot be loaded) the failures are the first build's fixed floors, not a regression.
    compared: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"failures": self.failures, "worse": self.worse, "metrics": self.metrics}


def _right(result: Any, guide: str) -> bool:
    return result.decision in (ANSWER, CONFIRM) and result.guide_id == guide


def _in_scope_outcomes(retriever: Retriever, items: list[dict[str, Any]]) -> list[tuple[bool, bool, str | None]]:
    """(ranked first, answered or confirmed right, the guide ranked first) for each question."""
    results = retriever.run_batch([item["q"] for item in items], [item.get("aspect") for item in items])
    firsts = [r.candidates[0].guide_id if r.candidates else None for r in results]
    return [(first == item["guide"], _right(r, item["guide"]), first) for r, item, first in zip(results, items, firsts, strict=True)]


def _title(retriever: Retriever, guide: str | None) -> str | None:
    entry = retriever.data.guides.get(guide) if guide else None
    return str(entry["title"]) if entry is not None else None


def _worse(new: Retriever, question: str, guide: str, got: str | None) -> dict[str, Any]:
    """A question that got worse as the CLI and the manifest keep it: which guide it should find, which one
    the new build ranks first (the admin's first clue: a duplicate, a too-broad alias), and what to do."""
    return {"q": question, "guide": guide, "title": _title(new, guide), "got": got, "got_title": _title(new, got), "advice": ADVICE}


def _offtopic_answered(retriever: Retriever, questions: list[str]) -> float:
    if not questions:
        return 0.0
    return sum(r.decision == ANSWER for r in retriever.run_batch(questions)) / len(questions)


def _new_guides_top1(new: Retriever, added: set[str]) -> tuple[float, list[dict[str, Any]], int]:
    """Top-1 of the added guides' own sample questions, each scored without its own chunk."""
    data = new.data
    rows = [(i, c) for i, c in enumerate(data.chunks) if c.kind == QUESTION and c.guide_id in added]
    if not rows:
        return 1.0, [], 0
    vectors = new.query_vectors([c.text for _, c in rows])  # searched as real questions are
    missed = []
    for (index, chunk), vector in zip(rows, vectors, strict=True):
        _, best = new.features(chunk.text, vector, exclude={index})
        if best != chunk.guide_id:
            missed.append(_worse(new, chunk.text, chunk.guide_id, best))
    return 1 - len(missed) / len(rows), missed, len(rows)


# One question crossing a line is noise on any knowledge base (the better the published version, the
# smaller the share one question is), not a regression: at least this many must get worse.
MIN_WORSE_QUESTIONS = 2


def is_regression(was: float, now: float, total: int, allowed: float) -> bool:
    """Whether a share of `total` questions (higher is better) fell from `was` to `now` by more than
    `allowed` and by at least MIN_WORSE_QUESTIONS questions."""
    drop = was - now
    return drop > allowed + 1e-9 and round(drop * total) >= MIN_WORSE_QUESTIONS  # 1e-9: 1 - 0.98 > 0.02 in floats


def offtopic_regression(was: float, now: float, total: int, allowed: float, cap: float) -> bool:
    """Off-topic questions answered directly rose from `was` to `now` (shares of `total`) by more than
    `allowed` and at least MIN_WORSE_QUESTIONS questions, and past the first build's own cap: a comparison
    never demands more than a first build would."""
    return is_regression(1 - was, 1 - now, total, allowed) and now > cap


def check(new: Retriever, published: Retriever | None, settings: Settings,
          evaluation: dict[str, Any] | None = None, *, change: GuideChange) -> Findings:
    """What stops `new` from replacing `published` (see the module docstring). `evaluation` is
    `new`'s report on settings.eval_questions when the caller has already made it; `change`, the guides
    this build adds and removes since the serving version (the builder's GuideChange): the added ones'
    sample questions are checked, and the findings carry it for the CLI."""
    findings = Findings(change=change, compared=published is not None)
    questions = load_question_set(settings.eval_questions) if settings.eval_questions.is_file() else None
    new_guides = set(new.data.guides)
    old_guides = set(published.data.guides) if published else set()
    added = {guide_id for guide_id, _ in change.added} if published else set()
    if questions is not None and published is not None:
        common = [item for item in questions["in_scope"] if item["guide"] in new_guides & old_guides]
        findings.metrics["common_questions"] = len(common)
        if common:
            before, after = _in_scope_outcomes(published, common), _in_scope_outcomes(new, common)
            for label, index in (("Top-1", 0), ("答对或确认对", 1)):
                was = sum(b[index] for b in before) / len(common)
                now = sum(a[index] for a in after) / len(common)
                findings.metrics[f"{label} 发布中 → 新"] = f"{was:.4f} → {now:.4f}"
                if is_regression(was, now, len(common), settings.gate_max_drop):
                    findings.failures.append(f"{label} 从 {was:.4f} 降到 {now:.4f}"
                                             f"（共同的 {len(common)} 个评测问题，允许下降 {settings.gate_max_drop}）")
            findings.worse = [_worse(new, item["q"], item["guide"], a[2])
                              for item, b, a in zip(common, before, after, strict=True) if b[1] and not a[1]]
        was, now = _offtopic_answered(published, questions["off_topic"]), _offtopic_answered(new, questions["off_topic"])
        findings.metrics["无关问题被直接回答 发布中 → 新"] = f"{was:.4f} → {now:.4f}"
        if offtopic_regression(was, now, len(questions["off_topic"]), settings.gate_max_drop, settings.gate_offtopic_answered_max):
            findings.failures.append(f"无关问题被直接回答从 {was:.4f} 升到 {now:.4f}"
                                     f"（允许上升 {settings.gate_max_drop}，且不超过 {settings.gate_offtopic_answered_max}）")
    elif questions is not None:
        report = evaluation or evaluate(new, questions)
        n, metrics = report["counts"]["in_scope"], report["metrics"]
        findings.metrics.update({"questions": n, "top1": metrics["top1"]})
        if n >= MIN_QUESTIONS and metrics["top1"] < settings.gate_top1:
            findings.failures.append(f"Top-1 {metrics['top1']:.4f} < {settings.gate_top1}（{n} 个评测问题）")
        answered = metrics["offtopic_answered"]
        findings.metrics["offtopic_answered"] = round(answered, 4)
        if answered > settings.gate_offtopic_answered_max:
            findings.failures.append(f"无关问题被直接回答 {answered:.4f} > {settings.gate_offtopic_answered_max}")
    if added:
        top1, missed, count = _new_guides_top1(new, added)
        findings.metrics["新增指南的典型问法 Top-1"] = f"{top1:.4f}（{count} 个）"
        if count >= 5 and top1 < settings.gate_new_guides_top1:
            findings.failures.append(f"新增指南的典型问法只有 {top1:.4f} 排第一（{count} 个，门槛 {settings.gate_new_guides_top1}）")
            findings.worse.extend(missed)
    return findings


def refusal(findings: Findings, serving: str | None) -> str:
    """Why the build was not published, as the CLI says it: a regression against the serving version, or the first
    build's floors not met (`serving`: the version CURRENT names, which the gate could not load, or None)."""
    failures = "；".join(findings.failures)
    if findings.compared:
        return "与正在服务的版本相比有退步，未发布新索引：" + failures
    if serving is None:
        return "未达到首次构建的发布门槛，未发布新索引：" + failures
    return (f"无法和正在服务的版本 {serving} 比较（它的文件缺失或损坏，或是用别的嵌入模型建的），按首次构建的标准检查："
            "未达到首次构建的发布门槛，未发布新索引：" + failures)
