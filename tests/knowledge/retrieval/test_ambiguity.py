"""When a question is "ambiguous" (ask which one): guides within ambiguity_margin score units of the best,
one of them holding the question's item words about as well (ambiguity_coverage_share of the best guide's
BM25 coverage) and the best guide's key word (item_words.KeyWord); and the decision feature `lead` that uses
the coverage test. Tables over synthetic candidates and a four-guide BM25: no embedding index needed."""

from __future__ import annotations

import pytest

from knowledge.index.bm25 import BM25Index
from knowledge.index.chunks import SECTION, Chunk
from knowledge.retrieval.item_words import KeyWord
from knowledge.retrieval.retriever import GuideCandidate, Hit, RetrievalParams, Retriever, Scored

SPREAD = 0.2  # one score unit; ambiguity_margin 0.1 -> runner-ups within 0.02 are close


def _candidate(guide_id: str, score: float, coverage: float, unit: int = -1) -> GuideCandidate:
    chunk = Chunk(id=f"{guide_id}#申请材料", kind=SECTION, text="", title=guide_id, guide_id=guide_id)
    return GuideCandidate(guide_id, guide_id, score, Hit(chunk, score, score, coverage, unit))


def _close(candidates: list[GuideCandidate], share: float = 0.8, key: KeyWord | None = None) -> list[str]:
    retriever = Retriever.__new__(Retriever)  # _close reads nothing but the parameters
    retriever.params = RetrievalParams(ambiguity_margin=0.1, ambiguity_coverage_share=share, max_candidates=3)
    return [c.guide_id for c in retriever._close(candidates, SPREAD, key)]


# Four guides' words as BM25 sees them (rows 0-3): two that share 居住证/户口, two that share 公司/注销.
GUIDES = {
    "teacher": ["教师", "资格", "认定", "小学", "户口", "居住证", "申请", "材料"],
    "residence": ["居住证", "户口", "桐山", "居住", "申请", "材料", "办理", "窗口"],
    "deregistration": ["公司", "注销", "债权人", "公告", "清算", "材料", "办理", "窗口"],
    "simplified": ["公司", "注销", "简易", "承诺", "公示", "材料", "办理", "窗口"],
}
ROW = {guide_id: row for row, guide_id in enumerate(GUIDES)}
BM25 = BM25Index.build(list(GUIDES.values()))


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


def test_a_runner_up_without_the_best_guides_key_word_is_no_alternative() -> None:
    # "户口在外省，有居住证，能申请小学老师的资格证吗": the 居住证 guide holds 户口 and 居住证 as well, not 小学/资格
    key = KeyWord(BM25, ["户口", "居住证", "小学", "资格"])
    assert not key.held(ROW["residence"], ROW["teacher"], 0.8)
    rows = [("teacher", 0.80, 0.40, ROW["teacher"]), ("residence", 0.79, 0.40, ROW["residence"])]
    assert _close([_candidate(*row) for row in rows], key=key) == ["teacher"]
    assert _close([_candidate(*row) for row in rows]) == ["teacher", "residence"]  # coverage alone would ask


def test_guides_that_share_the_key_word_are_still_asked_about() -> None:
    # "公司注销怎么弄": both 注销 guides hold 注销 and 公司 as heavily
    key = KeyWord(BM25, ["公司", "注销"])
    assert key.held(ROW["simplified"], ROW["deregistration"], 0.8)
    rows = [("deregistration", 0.80, 0.40, ROW["deregistration"]), ("simplified", 0.80, 0.40, ROW["simplified"])]
    assert _close([_candidate(*row) for row in rows], key=key) == ["deregistration", "simplified"]


def test_the_key_word_is_the_best_guides_heaviest_question_word() -> None:
    # 债权人 is the deregistration guide's alone: "有债权人的公司注销要公告多久" is not the simplified procedure's
    key = KeyWord(BM25, ["公司", "注销", "债权人"])
    assert not key.held(ROW["simplified"], ROW["deregistration"], 0.8)
    # and the other way round the key word is 简易, which the deregistration guide lacks
    assert not KeyWord(BM25, ["公司", "注销", "简易"]).held(ROW["deregistration"], ROW["simplified"], 0.8)


@pytest.mark.parametrize(
    ("tokens", "unit", "best"),
    [
        (["天气", "怎么样"], 1, 0),  # no question word in the index: no evidence
        (["户口", "小学"], -1, 0),  # a candidate rebuilt from a slot (no BM25 row)
        (["户口", "小学"], 1, -1),
        ([], 1, 0),
        (["桐山"], 0, 2),  # the best guide holds none of the question's words
    ],
)
def test_without_evidence_the_key_word_test_holds(tokens: list[str], unit: int, best: int) -> None:
    assert KeyWord(BM25, tokens).held(unit, best, 0.8)
