"""benchmarks/compare_unseen.py: which numbers moved between two runs of eval_unseen.py, and the targets met."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.unit


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_unseen", ROOT / "benchmarks" / "compare_unseen.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the dataclasses look their module up
    spec.loader.exec_module(module)
    return module


compare = _load()


def report(top1: float, not_found: float, within: float, off: float = 1.0) -> dict:
    scenario = {"retrieval": {"top1": top1, "inscope_not_found": not_found, "answered_right": 0.9, "within_band": 0.97},
                "rest": {"answer_with_section_and_phone": within, "follow_ups_right": 0.95, "offtopic_refused": off}}
    return {"scenarios": {"added": scenario, "replaced": scenario}}


def test_fewer_refusals_is_better_and_every_moved_number_is_listed() -> None:
    moved = compare.changes(report(0.95, 0.05, 0.90), report(0.94, 0.02, 0.90))
    assert {(c.scenario, c.metric.key, c.better) for c in moved} == {
        ("added", "top1", False), ("added", "inscope_not_found", True),
        ("replaced", "top1", False), ("replaced", "inscope_not_found", True)}


def test_targets_are_counted_on_held_out_sets_only() -> None:
    met = compare.targets_met({"unseen14": report(0.95, 0.03, 0.91, off=0.96), "dev12": report(0.5, 0.5, 0.5)})
    assert met["找对指南"] == (2, 2) and met["误拒"] == (2, 2)  # the targets' own values count as met
    assert met["一问之内"] == (0, 2) and met["无关问题被拒（整条链路）"] == (0, 2)


def test_main_compares_the_sets_both_folders_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    before.mkdir()
    after.mkdir()
    (before / "bench-unseen14.json").write_text(json.dumps(report(0.95, 0.03, 0.90)), encoding="utf-8")
    (after / "bench-unseen14.json").write_text(json.dumps(report(0.95, 0.03, 0.93)), encoding="utf-8")
    (after / "bench-dev12.json").write_text(json.dumps(report(0.9, 0.0, 0.9)), encoding="utf-8")  # no before: not compared
    assert compare.main([str(before), str(after)]) == 0
    out = capsys.readouterr().out
    assert "unseen14 · added：一问之内 0.9 → 0.93" in out and "dev12" not in out
    assert "2 格：2 格变好，0 格有变差的数字" in out and "改动后达到目标的留出格：" in out and "一问之内 2/2" in out
    assert compare.main([str(before), str(after), "--sets", "dev12"]) == 2  # a set without a report on one side
