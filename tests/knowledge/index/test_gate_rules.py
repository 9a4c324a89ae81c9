"""The gate's regression rule on its own: a drop counts when it is larger than allowed and at least two
questions got worse (one question crossing a line is noise, whatever the knowledge base); and what the gate
records of a comparison, on stand-in retrievers (no model)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from knowledge.index.cli_gate import REMOVED_HINT, change_lines
from knowledge.index.gate import MIN_WORSE_QUESTIONS, check, is_regression, offtopic_regression, refusal
from knowledge.index.removals import GuideChange
from knowledge.retrieval.retriever import ANSWER, NONE
from knowledge.settings import load_settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("was", "now", "total", "expected"), [
    (1.0, 1.0, 64, False),
    (1.0, 63 / 64, 64, False),        # one question of 64: 0.0156 < 0.02 anyway
    (1.0, 62 / 64, 64, True),         # two questions: 0.031 > 0.02
    (0.9, 0.95, 64, False),           # better is never a regression
    (1.0, 4 / 5, 5, False),           # one question of five is a 0.2 drop, still one question
    (1.0, 3 / 5, 5, True),
    (1.0, 980 / 1000, 1000, False),   # 20 questions but exactly the allowed share
    (1.0, 979 / 1000, 1000, True),
])
def test_a_regression_is_larger_than_allowed_and_more_than_one_question(was: float, now: float, total: int,
                                                                          expected: bool) -> None:
    assert MIN_WORSE_QUESTIONS == 2
    assert is_regression(was, now, total, 0.02) is expected


@pytest.mark.parametrize(("was", "now", "expected"), [
    (0.0, 3 / 64, False),   # three more answered, but still under the first build's cap (0.05)
    (0.0, 4 / 64, True),    # past the cap, four more
    (0.06, 0.08, False),    # already past the cap: one more question (1/64) is not a regression
    (0.06, 0.1, True),
    (0.1, 0.0, False),
])
def test_off_topic_answers_regress_only_past_the_first_builds_cap(was: float, now: float, expected: bool) -> None:
    assert offtopic_regression(was, now, 64, 0.02, 0.05) is expected


class _Retriever:
    """A retriever as the gate uses it: its guides, and for each question the guide it ranks first and
    whether it answers (no model)."""

    def __init__(self, guides: dict[str, str], first: dict[str, str | None], unsure: frozenset[str] = frozenset()) -> None:
        self.data = SimpleNamespace(guides={g: {"id": g, "title": t} for g, t in guides.items()}, chunks=[])
        self.first, self.unsure = first, unsure

    def run_batch(self, questions: list[str], aspects: list[str | None] | None = None) -> list[SimpleNamespace]:
        results = []
        for question in questions:
            guide = self.first.get(question)
            decision = NONE if guide is None or question in self.unsure else ANSWER
            results.append(SimpleNamespace(decision=decision, guide_id=guide if decision == ANSWER else None,
                                           candidates=[SimpleNamespace(guide_id=guide)] if guide else []))
        return results


def test_the_gate_names_the_guide_now_first_and_the_guides_added_and_removed(tmp_path: Path) -> None:
    questions = {f"办公司{n}": "company-setup" for n in range(20)} | {f"装水{n}": "water-connection" for n in range(20)}
    questions["用气"] = "gas-connection"  # its guide is removed: not compared
    (tmp_path / "questions.yml").write_text(yaml.safe_dump({"in_scope": [{"q": q, "guide": g} for q, g in questions.items()],
                                                            "off_topic": ["今天天气怎么样"]}, allow_unicode=True), encoding="utf-8")
    settings = dataclasses.replace(load_settings(), eval_questions=tmp_path / "questions.yml")
    old = _Retriever({"company-setup": "企业开办", "water-connection": "用水报装", "gas-connection": "用气报装"}, questions)
    now = dict(questions, 办公司0="proxy-service", 装水0=None)
    new = _Retriever({"company-setup": "企业开办", "water-connection": "用水报装", "proxy-service": "帮办代办服务"}, now,
                     unsure=frozenset({"装水1"}))
    change = GuideChange.between({g: (str(entry["title"]), []) for g, entry in old.data.guides.items()},
                                 {g: str(entry["title"]) for g, entry in new.data.guides.items()})  # as the builder does
    findings = check(new, old, settings, change=change)  # type: ignore[arg-type]
    assert findings.metrics["common_questions"] == 40
    by_question = {item["q"]: item for item in findings.worse}
    assert set(by_question) == {"办公司0", "装水0", "装水1"}
    assert by_question["办公司0"] | {"advice": ""} == {"q": "办公司0", "guide": "company-setup", "title": "企业开办", "got": "proxy-service",
                                                     "got_title": "帮办代办服务", "advice": ""}
    assert by_question["装水0"]["got"] is None and by_question["装水1"]["got"] == "water-connection"
    assert findings.change.added == [("proxy-service", "帮办代办服务")] and findings.change.removed == [("gas-connection", "用气报装")]
    assert "change" not in findings.as_dict()  # the manifest keeps the removals under "removed_guides"
    assert "新增指南的典型问法 Top-1" in findings.metrics  # the added guide's own questions were asked


def test_a_refused_build_lists_the_builders_change_even_with_nothing_to_compare_with(tmp_path: Path) -> None:
    """The serving version cannot be compared with (damaged, or built with another model): the gate checks the
    first build's floors, and when it refuses, the admin still reads the guides the build adds and removes, the
    same list a published build prints (the builder's GuideChange; the gate no longer works out its own, which it
    could not do here)."""
    (tmp_path / "questions.yml").write_text(yaml.safe_dump({"in_scope": [{"q": f"办公司{n}", "guide": "company-setup"} for n in range(20)],
                                                            "off_topic": []}, allow_unicode=True), encoding="utf-8")
    settings = dataclasses.replace(load_settings(), eval_questions=tmp_path / "questions.yml", gate_top1=0.9)
    new = _Retriever({"company-setup": "企业开办", "dog-registration": "养犬登记"}, {})
    change = GuideChange(added=[("dog-registration", "养犬登记")], removed=[("gas-connection", "用气报装")])
    evaluation = {"counts": {"in_scope": 20}, "metrics": {"top1": 0.5, "offtopic_answered": 0.0}}
    findings = check(new, None, settings, evaluation, change=change)  # type: ignore[arg-type]
    assert findings.failures == ["Top-1 0.5000 < 0.9（20 个评测问题）"]
    assert change_lines(findings.change) == ["新增指南 1 个：养犬登记（dog-registration）", "删除指南 1 个：用气报装（gas-connection）",
                                             REMOVED_HINT]


def test_a_refusal_says_a_regression_only_when_it_compared_with_a_serving_version(tmp_path: Path) -> None:
    """Without a serving version to compare with, the gate checks the first build's fixed floors: its refusal said
    "与正在服务的版本相比有退步" all the same."""
    questions = {f"办公司{n}": "company-setup" for n in range(20)}
    (tmp_path / "questions.yml").write_text(yaml.safe_dump({"in_scope": [{"q": q, "guide": g} for q, g in questions.items()],
                                                            "off_topic": []}, allow_unicode=True), encoding="utf-8")
    settings = dataclasses.replace(load_settings(), eval_questions=tmp_path / "questions.yml", gate_top1=0.9)
    new = _Retriever({"company-setup": "企业开办", "proxy-service": "帮办代办服务"}, dict.fromkeys(questions, "proxy-service"))
    evaluation = {"counts": {"in_scope": 20}, "metrics": {"top1": 0.0, "offtopic_answered": 0.0}}
    first = check(new, None, settings, evaluation, change=GuideChange())  # type: ignore[arg-type]
    assert not first.compared and first.failures == ["Top-1 0.0000 < 0.9（20 个评测问题）"]
    assert refusal(first, None) == "未达到首次构建的发布门槛，未发布新索引：Top-1 0.0000 < 0.9（20 个评测问题）"
    unloadable = refusal(first, "v1")  # CURRENT names a version the gate could not load
    assert unloadable.startswith("无法和正在服务的版本 v1 比较（它的文件缺失或损坏，或是用别的嵌入模型建的），按首次构建的标准检查：")
    assert unloadable.endswith("未达到首次构建的发布门槛，未发布新索引：Top-1 0.0000 < 0.9（20 个评测问题）") and "退步" not in unloadable
    old = _Retriever({"company-setup": "企业开办"}, questions)
    compared = check(new, old, settings, change=GuideChange(added=[("proxy-service", "帮办代办服务")]))  # type: ignore[arg-type]
    assert compared.compared and refusal(compared, "v1").startswith("与正在服务的版本相比有退步，未发布新索引：Top-1 从 1.0000 降到 0.0000")
