"""Retrieval evaluation (knowledge/index/evaluation.py) on hand-made results from a stand-in
retriever: loading the question set, every metric (top-1/top-3/MRR, answered right, within the
confirm band, off-topic rejected or answered, ambiguity detected, aspects, policy passages), the
failures an admin reads, and the printed report."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from knowledge.index.chunks import PASSAGE, SECTION, Chunk
from knowledge.index.evaluation import LABELS, evaluate, format_report, load_question_set
from knowledge.retrieval.retriever import AMBIGUOUS, ANSWER, CONFIRM, NONE, GuideCandidate, Hit, RetrievalResult
from tests.support import ROOT

pytestmark = pytest.mark.unit

GUIDES = ("company-setup", "water-connection", "gas-connection", "company-change", "seal-engraving")
EMPTY: dict[str, list[Any]] = {"in_scope": [], "off_topic": [], "ambiguous": [], "documents": []}


class StandInRetriever:
    """Answers each question with the result prepared for it, in one batch, as Retriever.run_batch."""

    def __init__(self, results: dict[str, RetrievalResult], guides: tuple[str, ...] = GUIDES, version: str = "v-test") -> None:
        self.results = results
        self.data = SimpleNamespace(guides={guide_id: {"id": guide_id} for guide_id in guides})
        self.version = version
        self.asked: list[list[str]] = []

    def run_batch(self, texts: list[str]) -> list[RetrievalResult]:
        self.asked.append(list(texts))
        return [self.results[text] for text in texts]


def result(question: str, decision: str, ranking: tuple[str, ...] = (), *, guide: str | None = None, aspect: str = "general",
           confidence: float = 0.5, choices: tuple[str, ...] = (), hits: tuple[Hit, ...] = ()) -> RetrievalResult:
    """A retrieval result: `ranking` the candidate guides best first, `guide` the one answered or asked about."""
    return RetrievalResult(
        question=question, decision=decision, aspect=aspect, confidence=confidence,
        guide={"id": guide} if guide else None,
        candidates=[GuideCandidate(g, g, 0.9 - n / 10) for n, g in enumerate(ranking)],
        choices=[GuideCandidate(g, g, 0.8) for g in choices],
        hits=list(hits),
    )


def passage(title: str, content: str, units: tuple[str, ...] = ()) -> Hit:
    return Hit(Chunk(id=title, kind=PASSAGE, text=content, title=title, content=content, units=list(units)), 0.7, 0.6, 0.4)


def guide_hit(guide_id: str, content: str) -> Hit:
    return Hit(Chunk(id=guide_id, kind=SECTION, text=content, title=guide_id, guide_id=guide_id, content=content), 0.7, 0.6, 0.4)


def questions(**parts: list[Any]) -> dict[str, list[Any]]:
    return {**EMPTY, **parts}


# --- the question set -------------------------------------------------------------------------

def test_the_question_set_is_read_with_every_part(tmp_path: Path) -> None:
    path = tmp_path / "questions.yml"
    path.write_text(
        "in_scope:\n  - {q: 开公司要带啥, guide: company-setup, aspect: materials}\n"
        "off_topic:\n  - 今天天气怎么样\n"
        "documents:\n  - {q: 免申即享谁牵头, units: [区财政局]}\n"
        "notes: ignored\n",
        encoding="utf-8",
    )
    assert load_question_set(path) == {
        "in_scope": [{"q": "开公司要带啥", "guide": "company-setup", "aspect": "materials"}],
        "off_topic": ["今天天气怎么样"],
        "ambiguous": [],
        "documents": [{"q": "免申即享谁牵头", "units": ["区财政局"]}],
    }


@pytest.mark.parametrize("text", ["", "# only a comment\n", "in_scope:\noff_topic:\n"])
def test_an_empty_question_set_has_four_empty_parts(tmp_path: Path, text: str) -> None:
    path = tmp_path / "questions.yml"
    path.write_text(text, encoding="utf-8")
    assert load_question_set(path) == EMPTY


def test_the_bundled_question_set_is_well_formed() -> None:
    bundled = load_question_set(ROOT / "tests" / "data" / "questions.yml")
    assert all(bundled[part] for part in EMPTY)
    assert all(item["q"] and item["guide"] for item in bundled["in_scope"])
    assert all(isinstance(question, str) and question for question in bundled["off_topic"])
    assert all(len(item["candidates"]) >= 2 for item in bundled["ambiguous"])
    assert all(item.get("units") or item.get("contains") for item in bundled["documents"])


# --- in-scope questions -----------------------------------------------------------------------

def test_ranks_give_top1_top3_and_mrr() -> None:
    items = [{"q": f"q{n}", "guide": "company-setup"} for n in range(4)]
    retriever = StandInRetriever({
        "q0": result("q0", ANSWER, ("company-setup", "company-change"), guide="company-setup"),
        "q1": result("q1", ANSWER, ("company-change", "company-setup"), guide="company-change"),
        "q2": result("q2", ANSWER, ("water-connection", "gas-connection", "seal-engraving", "company-setup"), guide="water-connection"),
        "q3": result("q3", NONE, ("water-connection",)),
    })
    metrics = evaluate(retriever, questions(in_scope=items))["metrics"]
    assert metrics["top1"] == 0.25
    assert metrics["top3"] == 0.5
    assert metrics["mrr"] == round((1 + 1 / 2 + 1 / 4 + 0) / 4, 4)


def test_answered_right_and_within_band_tell_answers_from_confirmations() -> None:
    items = [{"q": f"q{n}", "guide": "water-connection"} for n in range(5)]
    retriever = StandInRetriever({
        "q0": result("q0", ANSWER, ("water-connection",), guide="water-connection"),  # answered right
        "q1": result("q1", CONFIRM, ("water-connection",), guide="water-connection"),  # 您问的是…吗？ the right one
        "q2": result("q2", ANSWER, ("gas-connection", "water-connection"), guide="gas-connection"),  # answered wrong
        "q3": result("q3", AMBIGUOUS, ("water-connection", "gas-connection"), choices=("water-connection", "gas-connection")),
        "q4": result("q4", NONE, ("water-connection",)),  # right guide first, but rejected
    })
    metrics = evaluate(retriever, questions(in_scope=items))["metrics"]
    assert metrics["answered_right"] == 0.2
    assert metrics["within_band"] == 0.4
    assert metrics["inscope_ambiguous"] == 0.2
    assert metrics["inscope_rejected"] == 0.2
    assert metrics["top1"] == 0.8  # the ranking alone would look much better than what users get


def test_every_in_scope_question_not_answered_right_first_is_a_failure() -> None:
    items = [{"q": "对的", "guide": "company-setup"}, {"q": "只确认", "guide": "company-setup"},
             {"q": "排第二", "guide": "company-setup"}]
    retriever = StandInRetriever({
        "对的": result("对的", ANSWER, ("company-setup",), guide="company-setup"),
        "只确认": result("只确认", CONFIRM, ("company-setup",), guide="company-setup", confidence=0.61234),
        "排第二": result("排第二", ANSWER, ("company-change", "company-setup", "seal-engraving", "gas-connection"),
                      guide="company-change", confidence=0.7),
    })
    failures = evaluate(retriever, questions(in_scope=items))["failures"]
    assert failures == [
        {"kind": "in_scope", "q": "只确认", "expected": "company-setup", "decision": CONFIRM, "got": ["company-setup"], "score": 0.612},
        {"kind": "in_scope", "q": "排第二", "expected": "company-setup", "decision": ANSWER,
         "got": ["company-change", "company-setup", "seal-engraving"], "score": 0.7},
    ]


def test_aspect_accuracy_counts_only_labelled_aspects_as_checks() -> None:
    items = [{"q": "a", "guide": "gas-connection", "aspect": "fee"}, {"q": "b", "guide": "gas-connection", "aspect": "materials"},
             {"q": "c", "guide": "gas-connection"}]  # no label: whatever was detected is fine
    retriever = StandInRetriever({q: result(q, ANSWER, ("gas-connection",), guide="gas-connection", aspect="fee") for q in "abc"})
    assert evaluate(retriever, questions(in_scope=items))["metrics"]["aspect_accuracy"] == round(2 / 3, 4)


def test_questions_about_guides_not_in_the_index_are_left_out() -> None:
    items = [{"q": "known", "guide": "company-setup"}, {"q": "gone", "guide": "retired-guide"}]
    ambiguous = [{"q": "amb-known", "candidates": ["company-setup", "company-change"]},
                 {"q": "amb-gone", "candidates": ["company-setup", "retired-guide"]}]
    retriever = StandInRetriever({
        "known": result("known", ANSWER, ("company-setup",), guide="company-setup"),
        "amb-known": result("amb-known", AMBIGUOUS, ("company-setup", "company-change"), choices=("company-setup", "company-change")),
    })
    report = evaluate(retriever, questions(in_scope=items, ambiguous=ambiguous))
    assert report["counts"] == {"in_scope": 1, "off_topic": 0, "ambiguous": 1, "documents": 0}
    assert retriever.asked == [["known", "amb-known"]]  # one batch, and never the left-out questions
    assert report["metrics"]["top1"] == 1.0 and report["metrics"]["ambiguity_detected"] == 1.0


# --- off-topic questions ----------------------------------------------------------------------

def test_off_topic_rejected_and_answered() -> None:
    off = ["天气", "股票开户", "讲个笑话", "签证"]
    retriever = StandInRetriever({
        "天气": result("天气", NONE),
        "股票开户": result("股票开户", ANSWER, ("bank-account",), guide="bank-account", confidence=0.83),
        "讲个笑话": result("讲个笑话", CONFIRM, ("seal-engraving",), guide="seal-engraving"),
        "签证": result("签证", NONE),
    })
    report = evaluate(retriever, questions(off_topic=off))
    assert report["metrics"]["offtopic_rejected"] == 0.5
    assert report["metrics"]["offtopic_answered"] == 0.25  # confirming is not answering
    assert report["failures"] == [
        {"kind": "off_topic", "q": "股票开户", "decision": ANSWER, "got": ["bank-account"], "score": 0.83},
        {"kind": "off_topic", "q": "讲个笑话", "decision": CONFIRM, "got": ["seal-engraving"], "score": 0.5},
    ]


def test_without_off_topic_questions_nothing_was_answered_wrongly() -> None:
    metrics = evaluate(StandInRetriever({}), EMPTY)["metrics"]
    assert metrics["offtopic_rejected"] == 1.0 and metrics["offtopic_answered"] == 0.0


# --- ambiguous questions ----------------------------------------------------------------------

def test_ambiguity_is_detected_only_when_two_expected_guides_are_offered() -> None:
    expected = ["company-change", "company-setup", "seal-engraving"]
    cases = {
        "asks, right choices": result("x", AMBIGUOUS, choices=("company-setup", "seal-engraving")),
        "asks, one right choice": result("x", AMBIGUOUS, choices=("company-setup", "water-connection")),
        "answers one": result("x", ANSWER, ("company-setup",), guide="company-setup", choices=("company-setup", "seal-engraving")),
        "rejects": result("x", NONE),
    }
    retriever = StandInRetriever(cases)
    report = evaluate(retriever, questions(ambiguous=[{"q": q, "candidates": expected} for q in cases]))
    assert report["metrics"]["ambiguity_detected"] == 0.25
    assert [f["q"] for f in report["failures"]] == ["asks, one right choice", "answers one", "rejects"]
    assert all(f["kind"] == "ambiguous" and f["expected"] == expected for f in report["failures"])


# --- policy-document questions ----------------------------------------------------------------

def test_a_document_question_needs_a_passage_naming_the_units_in_the_top_three() -> None:
    lead = passage("行动方案", "推行免申即享。牵头单位:区财政局、区发改经信局", ("区财政局", "区发改经信局", "区行政审批局"))
    partial = passage("行动方案", "推行免申即享。牵头单位:区财政局", ("区财政局",))
    items = [{"q": name, "units": ["区财政局", "区发改经信局"]} for name in ("first", "third", "fourth", "partial", "guide")]
    retriever = StandInRetriever({
        "first": result("first", ANSWER, hits=(lead,)),
        "third": result("third", ANSWER, hits=(guide_hit("company-setup", "…"), partial, lead)),
        "fourth": result("fourth", ANSWER, hits=(partial, partial, partial, lead)),  # too far down
        "partial": result("partial", ANSWER, hits=(partial,)),  # names only one of the units
        # a guide section quoting the same text is not the policy passage asked for
        "guide": result("guide", ANSWER, hits=(guide_hit("business-support-policy", lead.chunk.content),)),
    })
    report = evaluate(retriever, questions(documents=items))
    assert report["metrics"]["documents_found"] == 0.4
    assert [f["q"] for f in report["failures"]] == ["fourth", "partial", "guide"]
    assert report["failures"][0] == {"kind": "documents", "q": "fourth", "decision": ANSWER, "got": ["行动方案"] * 3}


@pytest.mark.parametrize(("contains", "found"), [
    ("0.5个工作日办结", True),
    (["申请材料从11份", "压缩至2份"], True),
    (["申请材料从11份", "压缩至3份"], False),
    ("1个工作日办结", False),
])
def test_a_document_question_can_check_phrases_instead_of_units(contains: str | list[str], found: bool) -> None:
    hit = passage("工作报告", "企业开办压缩至0.5个工作日办结；简易注销申请材料从11份压缩至2份。")
    retriever = StandInRetriever({"q": result("q", ANSWER, hits=(hit,))})
    metrics = evaluate(retriever, questions(documents=[{"q": "q", "contains": contains}]))["metrics"]
    assert metrics["documents_found"] == (1.0 if found else 0.0)


# --- the report -------------------------------------------------------------------------------

def test_an_empty_question_set_scores_full_marks_and_names_the_version() -> None:
    report = evaluate(StandInRetriever({}, version="20261130-101500-abcdef"), EMPTY)
    assert report["index_version"] == "20261130-101500-abcdef"
    assert report["counts"] == {"in_scope": 0, "off_topic": 0, "ambiguous": 0, "documents": 0}
    assert report["failures"] == []
    assert set(report["metrics"]) == set(LABELS)
    assert all(value == 1.0 for key, value in report["metrics"].items() if key != "offtopic_answered")


def test_the_printed_report_shows_every_metric_and_failure() -> None:
    retriever = StandInRetriever({
        "开公司要带啥": result("开公司要带啥", ANSWER, ("company-setup",), guide="company-setup"),
        "股票开户": result("股票开户", ANSWER, ("bank-account",), guide="bank-account", confidence=0.9),
    }, version="v-print")
    report = evaluate(retriever, questions(in_scope=[{"q": "开公司要带啥", "guide": "company-setup"}], off_topic=["股票开户"]))
    text = format_report(report)
    assert text.splitlines()[0] == "索引版本：v-print"
    assert "题目数：范围内问题 1，无关问题 1，有歧义的问题 0，政策文件问题 0" in text
    for key, label in LABELS.items():
        assert any(label in line and line.endswith(f"{report['metrics'][key]:.4f}") for line in text.splitlines()), label
    assert "未通过的题目（1）：" in text
    assert "· [无关问题] 股票开户：决策 回答，排在前面的 bank-account，把握 0.9" in text  # readable Chinese, no JSON


def test_a_report_without_failures_has_no_failure_section() -> None:
    retriever = StandInRetriever({"q": result("q", ANSWER, ("company-setup",), guide="company-setup")})
    text = format_report(evaluate(retriever, questions(in_scope=[{"q": "q", "guide": "company-setup"}])))
    assert "未通过的题目" not in text and "1.0000" in text
