"""The examples a build publishes are questions its own index answers (knowledge/examples.py).

Run in the build once the new version's retriever and decision model exist: each derived question
goes through the retriever, and one that is not answered (ANSWER) from the guide it came from is
replaced by that guide's next `questions:` entry, then by the next guide of the ranking
(ExampleChoice.reject). settings.yml's example_questions are not replaced (the administrator chose
them) but each one no guide answers becomes a warning of the build, shown by `status`.

The cost stays small at 5,000 guides: one batch call per round, of at most three derived questions
(plus the override ones in the first), and a few rounds at most.

Usage::

    examples, warnings = check_examples(retriever, guides.values(), settings.example_questions)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from knowledge.examples import COUNT, ExampleChoice, Examples, override_questions
from knowledge.retrieval.results import AMBIGUOUS, ANSWER, CONFIRM, NONE, RetrievalResult

MAX_ROUNDS = 4  # batch calls for the derived questions: a knowledge base that answers none of these is reported


class BatchRetriever(Protocol):
    def run_batch(self, questions: list[str], aspects: list[str | None] | None = None) -> list[RetrievalResult]: ...


_DECISIONS = {CONFIRM: "会先反问确认", AMBIGUOUS: "会让用户在几个事项中选", NONE: "会说没有找到", ANSWER: "回答的不是这个指南"}


def _from_guide(result: RetrievalResult, guide_id: str) -> bool:
    return result.decision == ANSWER and result.guide_id == guide_id


def check_examples(retriever: BatchRetriever, guides: Iterable[Mapping[str, Any]], override: Sequence[str] = (),
                   count: int = COUNT) -> tuple[Examples, list[str]]:
    """The examples to publish, each derived question answered from its guide where one can be, and
    the warnings (Chinese) for what cannot."""
    choice = ExampleChoice(guides, count)
    first = list(choice.slots)
    chosen = override_questions(override)
    warnings: list[str] = []
    pending = [n for n, slot in enumerate(choice.slots) if slot.question is not None]
    for round_number in range(MAX_ROUNDS):
        if not pending and (round_number or not chosen):
            break
        asked = [str(choice.slots[n].question) for n in pending]
        extra = chosen if round_number == 0 else []
        results = retriever.run_batch(asked + extra) if asked or extra else []
        for question, result in zip(extra, results[len(asked):], strict=True):
            if not (result.decision == ANSWER and result.guide is not None):
                warnings.append(f"settings.yml 的示例问题“{question}”没有指南能直接回答（{_DECISIONS.get(result.decision, result.decision)}），"
                                "用户点了得不到答案：请换成知识库能回答的问法，或补充指南的 questions:")
        failed = [n for n, result in zip(pending, results[: len(asked)], strict=True)
                  if not _from_guide(result, str(choice.slots[n].guide["id"]))]
        pending = []
        for n in failed:
            if choice.reject(n):
                pending.append(n)
            else:
                _give_up(choice, first, n, warnings)
    for n in pending:  # still not answered after the last round
        _give_up(choice, first, n, warnings)
    return choice.examples(override), warnings


def _give_up(choice: ExampleChoice, first: list[Any], n: int, warnings: list[str]) -> None:
    """No question tried is answered: the first choice stays (the best-known item), with a warning."""
    choice.slots[n] = first[n]
    first[n].at = 0
    warnings.append(f"示例问题“{first[n].question}”（指南 {first[n].guide['id']}）及其后备问法都不能直接回答，"
                    "请检查该指南的 questions:，或在 settings.yml 的 example_questions 中指定示例问题")
