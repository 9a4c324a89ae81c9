"""Property-based tests (hypothesis): whatever an admin writes into a guide file, the parser
reports problems with file and line instead of crashing; whatever a user types, the retriever
returns a decision instead of crashing."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.retrieval.retriever import AMBIGUOUS, ANSWER, CONFIRM, NONE, Retriever
from knowledge.sources.guides import parse_guide
from tests.support import guide_text

FILE_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _parse(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.md"
    path.write_bytes(content)
    guide, problems = parse_guide(path)
    if guide is None:
        assert any(problem.is_error for problem in problems), "a rejected guide must say why"
    for problem in problems:
        assert problem.path.endswith("fuzz.md") and problem.line >= 1 and problem.message
        assert str(problem).startswith(problem.path + ":")


@FILE_SETTINGS
@given(content=st.binary(max_size=2000))
def test_any_bytes_are_reported_not_crashed_on(tmp_path: Path, content: bytes) -> None:
    _parse(tmp_path, content)


@FILE_SETTINGS
@given(content=st.text(max_size=2000))
def test_any_text_is_reported_not_crashed_on(tmp_path: Path, content: str) -> None:
    _parse(tmp_path, content.encode("utf-8", errors="surrogatepass"))


@FILE_SETTINGS
@given(data=st.data())
def test_a_damaged_valid_guide_is_reported_not_crashed_on(tmp_path: Path, data: st.DataObject) -> None:
    lines = guide_text().splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "replace", "truncate"]))
        if action == "delete" and len(lines) > 1:
            del lines[position]
        elif action == "duplicate":
            lines.insert(position, lines[position])
        elif action == "replace":
            lines[position] = data.draw(st.text(max_size=40)) + "\n"
        else:
            lines[position] = lines[position][: data.draw(st.integers(0, len(lines[position])))]
    _parse(tmp_path, "".join(lines).encode("utf-8", errors="surrogatepass"))


@settings(max_examples=80, deadline=None)
@given(question=st.text(max_size=600))
def test_any_question_gets_a_decision(retriever: Retriever, question: str) -> None:
    result = retriever.run(question)
    assert result.decision in (ANSWER, CONFIRM, AMBIGUOUS, NONE)
    if result.decision == ANSWER:
        assert result.guide is not None or result.passage is not None
    if result.decision == CONFIRM:
        assert result.guide is not None and [c.guide_id for c in result.choices] == [result.guide_id]
    assert 0.0 <= result.confidence <= 1.0  # a calibrated probability


@settings(max_examples=30, deadline=None)
@given(noise=st.text(alphabet=st.sampled_from(" \t\u200b\ufeff!?。，、…😀"), max_size=20))
def test_noise_around_a_clear_question_does_not_change_the_guide(retriever: Retriever, noise: str) -> None:
    assert retriever.run(noise + "开办企业需要什么材料" + noise).guide_id == "company-setup"
