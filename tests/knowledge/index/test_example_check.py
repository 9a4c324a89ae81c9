"""The examples a build publishes are questions its own index answers (knowledge/index/example_check.py):
a derived question the index does not answer from its guide gives way to the guide's next question,
then to the next guide; settings.yml's questions no guide answers become warnings of the build."""

from __future__ import annotations

from typing import Any

import pytest

from knowledge.examples import derive_examples
from knowledge.index.example_check import check_examples
from knowledge.retrieval.results import ANSWER, CONFIRM, NONE, RetrievalResult
from tests.knowledge.test_examples import OWN, guide


class FakeRetriever:
    """Answers the questions in `answers` from the guide named; every other question: NONE."""

    def __init__(self, answers: dict[str, str], decision: str = ANSWER) -> None:
        self.answers = answers
        self.decision = decision
        self.batches: list[list[str]] = []

    def run_batch(self, questions: list[str], aspects: Any = None) -> list[RetrievalResult]:
        self.batches.append(list(questions))
        results = []
        for question in questions:
            guide_id = self.answers.get(question.rstrip("？"))
            result = RetrievalResult(question, NONE, "general", 0.0)
            if guide_id:
                result.decision, result.guide = self.decision, {"id": guide_id}
            results.append(result)
        return results


ALL_ANSWERED = {q: g["id"] for g in OWN for q in g["questions"]}


@pytest.mark.unit
def test_answered_examples_are_kept_as_derived_in_one_batch() -> None:
    fake = FakeRetriever(ALL_ANSWERED)
    examples, warnings = check_examples(fake, OWN)
    assert examples == derive_examples(OWN) and warnings == []
    assert len(fake.batches) == 1 and len(fake.batches[0]) == 3


@pytest.mark.unit
def test_an_unanswered_question_gives_way_to_the_guides_next_question() -> None:
    answers = dict(ALL_ANSWERED)
    del answers["取水许可多久能批"]
    examples, warnings = check_examples(FakeRetriever(answers), OWN)
    # 取水许可's next `questions:` entry after the one not answered (the file's order).
    assert examples.questions == ("渔船登记要什么材料？", "打井取水要审批吗？", "养蜂转场要备案吗？")
    assert examples.items == derive_examples(OWN).items and warnings == []


@pytest.mark.unit
def test_a_guide_none_of_whose_questions_is_answered_gives_way_to_the_next_guide() -> None:
    answers = {q: g for q, g in ALL_ANSWERED.items() if g != "well-permit"}
    examples, warnings = check_examples(FakeRetriever(answers), OWN)
    assert "取水许可" not in examples.items and warnings == []
    assert examples.items == ("渔船登记", "种子证", "蜂农转场备案")
    assert examples.questions[1] == "办种子许可证要什么材料？"


@pytest.mark.unit
def test_answered_from_another_guide_or_only_confirmed_is_not_answered() -> None:
    wrong = {q: "fishing-boat" for q in ALL_ANSWERED}
    examples, warnings = check_examples(FakeRetriever(wrong), OWN)
    assert examples.questions[0] == "渔船登记要什么材料？"  # its own guide's: kept
    # Nothing else answered from its own guide: the first choices stay, each with a warning.
    assert examples == derive_examples(OWN)
    assert len(warnings) == 2 and any("“取水许可多久能批？”" in warning for warning in warnings)
    examples, warnings = check_examples(FakeRetriever(ALL_ANSWERED, decision=CONFIRM), OWN)
    assert len(warnings) == 3


@pytest.mark.unit
def test_override_questions_no_guide_answers_are_warned_about_by_name() -> None:
    fake = FakeRetriever({**ALL_ANSWERED, "我们县的蜂农怎么备案": "beekeeping"})
    examples, warnings = check_examples(fake, OWN, ["我们县的蜂农怎么备案", "养猪补贴怎么领"])
    assert examples.questions == ("我们县的蜂农怎么备案", "养猪补贴怎么领")  # the administrator's, not replaced
    assert len(warnings) == 1 and "“养猪补贴怎么领”" in warnings[0] and "settings.yml" in warnings[0]
    assert len(fake.batches) == 1  # the override questions go with the derived ones


@pytest.mark.unit
def test_few_calls_and_few_guides_read_at_5000_guides() -> None:
    """A rebuild of 5,000 guides: a few batch calls of a few questions, and a few guides read whole."""
    read: set[str] = set()

    class Lazy(dict):  # type: ignore[type-arg]
        def get(self, key: Any, default: Any = None) -> Any:
            if key not in ("id", "title", "aliases"):
                read.add(self["id"])
            return dict.get(self, key, default)

    many = [Lazy(guide(f"g{n:04}", f"第{n:04}号事项登记", f"类别{n % 7}", ["要什么材料", "多久办好"])) for n in range(5000)]
    fake = FakeRetriever({})  # answers nothing: the worst case
    examples, warnings = check_examples(fake, many)
    assert len(fake.batches) <= 4 and all(len(batch) <= 3 for batch in fake.batches)
    assert len(read) < 30 and len(examples.items) == 3 and len(warnings) == 3
