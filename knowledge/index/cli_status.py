"""What `status` and `list` say about a version's calibration and its numbers on the evaluation questions,
in words an admin understands; and whether a version is up to date with the sources, settings.yml's example
questions and the decision model's format (`status`, `build --if-changed`). Standard library only at import
(index_builder.py imports it before it re-runs itself in the app environment); PyYAML when the question file
is read. `list` loads no model.

The evaluation questions (settings.eval_questions, the sample knowledge base's regression set) are asked
only about the guides a version has (evaluation.py): as guides come and go, its Top-1 is over other
questions (0.9596 over 36 guides, 0.9479 over 38), so it is shown with how many questions it is over;
and a deployment that replaced the sample guides has few or none of them, where the numbers mean nothing.

Usage::

    for line in calibration_lines(manifest["calibration"], settings.ambiguity_margin): print(line)
    scope = eval_scope(manifest, eval_guides(settings.eval_questions))   # None: no evaluation recorded
    scope.applies, scope.cell(), eval_line(manifest, scope)
    changed_sources(settings, manifest), examples_stale(settings, manifest), current_format(manifest)
    rebuild_reason(settings, manifest, version)   # what `build --if-changed` says before rebuilding, None: up to date
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.index.labels import labelled

# As gate.MIN_QUESTIONS (not imported: that loads the retriever): fewer questions say nothing reliable.
EVAL_MIN_QUESTIONS = 20
# The evaluation questions describe this knowledge base only when they ask about at least this share of its
# guides; below it they describe the sample guides a deployment kept (or none at all).
EVAL_MIN_SHARE = 0.5


def calibration_lines(calibration: dict[str, Any], ambiguity_margin: float) -> list[str]:
    """The decision model of a version: what it was learnt from, its thresholds and its cross-validation,
    without the model's feature names (manifest["calibration"]["method"] keeps those for developers)."""
    folds = re.search(r"分 (\d+) 折", str(calibration.get("method", "")))
    examples, spread = calibration["examples"], calibration["spread"]
    return [
        f"决策校准：按本知识库校准——用指南自己的典型问法、常见问题标题和别名（正例 {examples['positive']} 个）"
        f"和无关话题（负例 {examples['negative']} 个）学出两个概率：“问题属于本知识库”和“排第一的指南找对了”；"
        f"指南分 {folds.group(1) if folds else 5} 折交叉验证，数字说的是对没见过的指南的效果",
        f"  直接回答：找对指南的概率 ≥ {calibration['answer_at']} 且属于本知识库的概率 ≥ {calibration.get('scope_at', '-')}；"
        f"属于本知识库的概率 < {calibration['confirm_at']} 时说没找到；介于两者之间先确认（“您问的是…吗？”）",
        f"  分数尺度 {spread}：答对的问题比无关问题的检索分数通常高出这么多；"
        f"第二个指南的分数与第一相差不到 {round(spread * ambiguity_margin, 4)} 时先反问“您想了解哪个事项？”",
        "  交叉验证（留出的指南）：" + labelled(calibration["cv"]),
    ]


def eval_guides(path: Path) -> set[str] | None:
    """The guides the evaluation questions ask about; None without the file (or when it cannot be read)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except (OSError, yaml.YAMLError):
        return None
    return {str(item["guide"]) for item in data.get("in_scope") or () if isinstance(item, dict) and "guide" in item}


@dataclass(frozen=True)
class EvalScope:
    questions: int  # in-scope questions the version was evaluated on (those about its guides)
    covered: int | None  # its guides the evaluation questions ask about (None: the question file is gone)
    guides: int  # its guides

    @property
    def applies(self) -> bool:
        return self.questions >= EVAL_MIN_QUESTIONS and not self.too_few_guides

    @property
    def too_few_guides(self) -> bool:
        """The questions ask about too few of its guides (False when the question file cannot be read: unknown)."""
        return self.covered is not None and self.covered < EVAL_MIN_SHARE * self.guides

    def reason(self) -> str:
        """Why the numbers say nothing here, in a few words; "" when they apply. Too few guides asked about
        first: then the questions are the sample knowledge base's, however many there are."""
        if self.too_few_guides:
            return f"只覆盖 {self.covered} 个指南"
        return f"只有 {self.questions} 题，少于 {EVAL_MIN_QUESTIONS} 题" if self.questions < EVAL_MIN_QUESTIONS else ""

    def cell(self, top1: Any) -> str:
        """`list`'s Top-1 cell: the number and how many questions it is over, or why there is none."""
        return f"{top1}（{self.questions} 题）" if self.applies else f"不适用（{self.reason()}）"


def _version_guides(manifest: dict[str, Any]) -> set[str]:
    """The guide ids of a version from its manifest's source checksums (a guide's id is its file name),
    without reading its guides.json (tens of MB at 5,000 guides, for each version `list` shows)."""
    return {Path(name).stem for name in manifest.get("sources") or {} if name.endswith(".md")}


def eval_scope(manifest: dict[str, Any], asked: set[str] | None) -> EvalScope | None:
    """What the version's evaluation numbers are over; None when it has none (no question file at build time)."""
    evaluation = manifest.get("eval")
    if not evaluation:
        return None
    covered = len(asked & _version_guides(manifest)) if asked is not None else None
    return EvalScope(int(evaluation["questions"]["in_scope"]), covered, int(manifest["counts"]["guides"]))


def eval_line(manifest: dict[str, Any], scope: EvalScope) -> str:
    """`status`'s line on the evaluation questions."""
    if scope.too_few_guides:
        return (f"示例评测集不适用于本知识库（{scope.reason()}）：本版本共 {scope.guides} 个指南；"
                "它是示例知识库的回归测试，数字不说明本知识库的效果（新增指南由门槛用它们自己的典型问法检查）")
    if not scope.applies:  # enough of its guides asked about (or the question file unreadable), too few questions
        unknown = "；评测问题文件现在读不到，不知道它问到本版本哪些指南" if scope.covered is None else ""
        return f"示例评测集不适用于本版本（{scope.reason()}）：题目太少，数字说明不了效果{unknown}"
    covered = f"，覆盖本版本 {scope.guides} 个指南中的 {scope.covered} 个" if scope.covered is not None else ""
    return (f"示例评测集：{labelled(manifest['eval']['metrics'])}（范围内问题 {scope.questions} 个{covered}；"
            "只问本版本有的指南，指南有增删时题目随之变化，题数不同的版本不要直接比较）")


def current_format(manifest: dict[str, Any]) -> bool:
    """The version's decision model is of the format this code makes (calibration.DECISION_FORMAT)."""
    from knowledge.index.calibration import DECISION_FORMAT

    return manifest.get("calibration", {}).get("format") == DECISION_FORMAT


def examples_stale(settings: Any, manifest: dict[str, Any]) -> bool:
    """The version has no example questions (built before they existed) or other ones than settings.yml's
    example_questions ask for (knowledge/examples.py): rebuilt, so the assistant offers the right ones."""
    examples = manifest.get("examples")
    return examples is None or list(examples.get("override") or ()) != list(settings.example_questions)


def pairs_changed(settings: Any, manifest: dict[str, Any]) -> bool:
    """settings.yml's `name_pairs_bonus` is not the weight the version was calibrated with (name_grams.version_weight):
    the version keeps scoring with its own until it is rebuilt."""
    from knowledge.retrieval.name_grams import version_weight

    return version_weight(manifest.get("calibration"), settings.name_pairs_bonus) != settings.name_pairs_bonus


def stale_lines(settings: Any, manifest: dict[str, Any]) -> list[str]:
    """What of settings.yml the version does not follow until it is rebuilt (`status`)."""
    lines = []
    if pairs_changed(settings, manifest):
        lines.append("settings.yml 的 name_pairs_bonus 和本版本校准时的不同：本版本照校准时的回答，重建索引（build --if-changed）后按新的设置")
    if examples_stale(settings, manifest):
        lines.append("示例问题需要重建索引才会更新（本版本没有记录，或和 settings.yml 的 example_questions 不一致）")
    return lines


def rebuild_reason(settings: Any, manifest: dict[str, Any], version: str) -> str | None:
    """Why `build --if-changed` rebuilds the published version, or None when it is up to date; "" when its sources
    changed (the build itself says which)."""
    if changed_sources(settings, manifest):
        return ""
    if not current_format(manifest):
        return f"当前索引 {version} 的决策模型是旧版本的格式，按现在的代码重建"
    if pairs_changed(settings, manifest):
        return f"当前索引 {version} 校准时的名称字对权重和 settings.yml 的 name_pairs_bonus（{settings.name_pairs_bonus}）不同：按现在的设置重建"
    if examples_stale(settings, manifest):
        return f"当前索引 {version} 的示例问题没有记录，或和 settings.yml 的 example_questions 不一致：重建以更新示例问题"
    return None


def changed_sources(settings: Any, manifest: dict[str, Any]) -> list[str]:
    """The source files (guides, documents, the off-topic anchors) that differ from the version's."""
    from knowledge.index.builder import source_checksums

    now, then = source_checksums(settings), manifest.get("sources", {})
    return sorted(name for name in set(now) | set(then) if now.get(name) != then.get(name))
