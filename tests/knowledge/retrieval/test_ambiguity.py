"""When a question is "ambiguous" (ask which one): guides within ambiguity_margin score units of the best,
one of them holding the question's item words about as well (ambiguity_coverage_share of the best guide's
BM25 coverage); and the decision feature `lead` that uses the same test. Tables over synthetic candidates:
no index needed."""

from __future__ import annotations

import pytest

from knowledge.index.chunks import SECTION, Chunk
from knowledge.retrieval.retriever import GuideCandidate, Hit, RetrievalParams, Retriever, Scored

SPREAD = 0.2  # one score unit; ambiguity_margin 0.1 -> runner-ups within 0.02 are close


def _candidate(guide_id: str, score: float, coverage: float) -> GuideCandidate:
    chunk = Chunk(id=f"{guide_id}#申请材料", kind=SECTION, text="", title=guide_id, guide_id=guide_id)
    return GuideCandidate(guide_id, guide_id, score, Hit(chunk, score, score, coverage))


def _close(candidates: list[GuideCandidate], share: float = 0.8) -> list[str]:
    retriever = Retriever.__new__(Retriever)  # _close reads nothing but the parameters
    retriever.params = RetrievalParams(ambiguity_margin=0.1, ambiguity_coverage_share=share, max_candidates=3)
    return [c.guide_id for c in retriever._close(candidates, SPREAD)]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # both 注销 guides hold the question's words: ask which one
        ([("a", 0.80, 0.42), ("b", 0.80, 0.44), ("c", 0.70, 0.40)], ["a", "b"]),
        # the runner-up is close only in the embedding; the best guide holds the words ("公维金"): alone
        ([("a", 0.80, 0.20), ("b", 0.79, 0.00)], ["a"]),
        # 0.8 of the best's coverage is still an alternative; once asking, every close guide is offered
        ([("a", 0.80, 0.50), ("b", 0.79, 0.40), ("c", 0.785, 0.39)], ["a", "b", "c"]),
        # just under 0.8 is not: no alternative, the best alone
        ([("a", 0.80, 0.50), ("b", 0.79, 0.39), ("c", 0.785, 0.10)], ["a"]),
        # no coverage anywhere (colloquial words in no guide): no evidence either way, a close one stays
        ([("a", 0.80, 0.00), ("b", 0.79, 0.00)], ["a", "b"]),
        # far runner-ups are never alternatives, however well they cover
        ([("a", 0.80, 0.10), ("b", 0.70, 0.90)], ["a"]),
        # at most max_candidates guides are offered
        ([("a", 0.80, 0.3), ("b", 0.80, 0.3), ("c", 0.80, 0.3), ("d", 0.80, 0.3)], ["a", "b", "c"]),
    ],
)
def test_close_runner_ups(rows: list[tuple[str, float, float]], expected: list[str]) -> None:
    assert _close([_candidate(*row) for row in rows]) == expected


def test_share_zero_is_the_margin_alone() -> None:
    rows = [("a", 0.80, 0.20), ("b", 0.79, 0.00)]
    assert _close([_candidate(*row) for row in rows], share=0.0) == ["a", "b"]


def test_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="ambiguity_coverage_share"):
        RetrievalParams(ambiguity_coverage_share=1.5)


@pytest.mark.parametrize(
    ("rows", "lead"),
    [
        # the runner-up covers the words as well: lead = the plain gap
        ([(0.80, 0.40), (0.79, 0.40), (0.70, 0.10)], 0.01),
        # close only in the embedding (no coverage): lead runs to the first that holds the words
        ([(0.80, 0.40), (0.79, 0.00), (0.70, 0.35)], 0.10),
        # nobody holds them: the last hit within max_hits (3) bounds the lead
        ([(0.80, 0.40), (0.79, 0.00), (0.75, 0.10), (0.60, 0.40)], 0.05),
        # one hit: the lead is its score, as the plain gap is
        ([(0.80, 0.40)], 0.80),
    ],
)
def test_lead_over_the_first_real_alternative(rows: list[tuple[float, float]], lead: float) -> None:
    retriever = Retriever.__new__(Retriever)
    retriever.params = RetrievalParams(ambiguity_coverage_share=0.8, max_hits=3)
    hits = [_candidate(f"g{i}", score, coverage).best for i, (score, coverage) in enumerate(rows)]
    features = retriever._features(Scored(hits, -0.1))
    assert features[0] == 0.80 and features[2] == -0.1
    assert features[3] == pytest.approx(lead)
