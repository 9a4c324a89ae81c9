"""Before and after a change, on the reports of benchmarks/eval_unseen.py: which numbers moved in which
cell (one set in one scenario, added or replaced), and how many held-out cells meet each target of issue 10.

    var/venv-app/bin/python benchmarks/eval_unseen.py --set dev12 --work-dir var/tmp/before    # per set, per checkout
    var/venv-app/bin/python benchmarks/compare_unseen.py var/tmp/before var/tmp/after [--sets dev12 unseen14]

Each folder holds the bench-<set>.json reports (`eval_unseen.py --work-dir FOLDER` writes them there; without it,
var/reports/). Without --sets, every set with a report in both folders is compared. The targets are counted on the
held-out sets (unseen*) only: the development sets are where designs are chosen, never what is reported.
A cell counts as better when at least one number improved and none got worse.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCENARIOS = ("added", "replaced")


@dataclass(frozen=True)
class Metric:
    """One number of a report: where it is, what it is called, which way is better, and its issue-10 target."""

    part: str  # "retrieval" (knowledge/ only) or "rest" (the whole stack through Rasa's REST channel)
    key: str
    label: str
    lower_is_better: bool = False
    target: float | None = None

    def value(self, scenario: dict[str, Any]) -> float | None:
        found = (scenario.get(self.part) or {}).get(self.key)
        return float(found) if isinstance(found, int | float) else None

    def meets(self, value: float) -> bool:
        assert self.target is not None
        return value <= self.target if self.lower_is_better else value >= self.target


# The targets, each on the number the README reports for it (off-topic: refused by the whole stack).
METRICS = (
    Metric("retrieval", "top1", "找对指南", target=0.95),
    Metric("retrieval", "answered_right", "直接答对", target=0.90),
    Metric("retrieval", "within_band", "答对或确认对", target=0.97),
    Metric("retrieval", "inscope_not_found", "误拒", lower_is_better=True, target=0.03),
    Metric("retrieval", "offtopic_refused", "无关问题拒答（检索层）"),
    Metric("rest", "first_reply_right", "第一条回复即答对"),
    Metric("rest", "answer_with_section_and_phone", "一问之内", target=0.92),
    Metric("rest", "follow_ups_right", "追问", target=0.95),
    Metric("rest", "switches_right", "换事项"),
    Metric("rest", "offtopic_refused", "无关问题被拒（整条链路）", target=0.97),
)


@dataclass(frozen=True)
class Change:
    scenario: str
    metric: Metric
    before: float
    after: float

    @property
    def better(self) -> bool:
        return self.after < self.before if self.metric.lower_is_better else self.after > self.before


def read_reports(folder: Path) -> dict[str, dict[str, Any]]:
    """Every bench-<set>.json of a folder, by set name."""
    return {path.stem.removeprefix("bench-"): json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("bench-*.json"))}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The numbers that differ between two reports of one set, scenario by scenario."""
    found = []
    for scenario in SCENARIOS:
        old, new = before["scenarios"].get(scenario), after["scenarios"].get(scenario)
        if old is None or new is None:
            continue
        for metric in METRICS:
            a, b = metric.value(old), metric.value(new)
            if a is not None and b is not None and a != b:
                found.append(Change(scenario, metric, a, b))
    return found


def targets_met(reports: dict[str, dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """For each target, (cells meeting it, cells) over the held-out sets' reports."""
    counts = {metric.label: (0, 0) for metric in METRICS if metric.target is not None}
    for name, report in reports.items():
        if not name.startswith("unseen"):
            continue
        for scenario in report["scenarios"].values():
            for metric in METRICS:
                value = metric.value(scenario) if metric.target is not None else None
                if value is not None:
                    met, cells = counts[metric.label]
                    counts[metric.label] = (met + metric.meets(value), cells + 1)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="改动前的报告目录（bench-<集>.json）")
    parser.add_argument("after", type=Path, help="改动后的报告目录")
    parser.add_argument("--sets", nargs="+", help="只比这些集（默认：两边都有报告的集）")
    args = parser.parse_args(argv)
    before, after = read_reports(args.before), read_reports(args.after)
    names = args.sets or [name for name in after if name in before]
    missing = [name for name in names if name not in before or name not in after]
    if missing or not names:
        print(f"两边都要有这些集的报告：{'、'.join(missing) or '（没有共同的集）'}", file=sys.stderr)
        return 2
    better = worse = 0
    for name in names:
        moved = changes(before[name], after[name])
        for scenario in SCENARIOS:
            cell = [change for change in moved if change.scenario == scenario]
            better += bool(cell) and all(change.better for change in cell)
            worse += any(not change.better for change in cell)
            said = "；".join(f"{c.metric.label} {c.before:.4g} → {c.after:.4g}" for c in cell) or "不变"
            print(f"{name} · {scenario}：{said}")
    print(f"{len(names) * len(SCENARIOS)} 格：{better} 格变好，{worse} 格有变差的数字")
    for label, folder in (("改动前", before), ("改动后", after)):
        met = targets_met({name: folder[name] for name in names})
        if any(cells for _, cells in met.values()):
            print(f"{label}达到目标的留出格：" + "，".join(f"{metric} {got}/{cells}" for metric, (got, cells) in met.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
