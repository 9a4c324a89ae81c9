"""Words only one guide holds answer a question directly (knowledge/retrieval/sole_words.py)."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from knowledge.index import builder
from knowledge.index.bm25 import BM25Index
from knowledge.index.builder import build_index
from knowledge.index.calibration import DecisionModel
from knowledge.index.embedding import Embedder
from knowledge.retrieval.item_words import lexical_tokens
from knowledge.retrieval.retriever import ANSWER, CONFIRM, Retriever
from knowledge.retrieval.sole_words import everyday_words, sole_share
from knowledge.settings import Settings
from tests.support import DATA

UNITS = [["奖扶", "钱", "申请"], ["钱", "申请", "材料"], ["材料", "窗口", "老人"]]


@pytest.fixture()
def index() -> BM25Index:
    return BM25Index.build(UNITS)


def _idf(index: BM25Index, token: str) -> float:
    return float(index.idf[index.vocabulary[token]])


def test_a_word_one_guide_holds_is_its_own(index: BM25Index) -> None:
    share = sole_share(index, ["奖扶", "钱"], 0, everyday=())
    assert share == pytest.approx(_idf(index, "奖扶") / (_idf(index, "奖扶") + _idf(index, "钱")))
    assert sole_share(index, ["奖扶", "钱"], 1, everyday=()) == 0.0  # 钱 is two guides' words: nobody's own
    assert sole_share(index, ["奖扶"], -1, everyday=()) == 0.0  # a hit without a BM25 unit


def test_a_word_no_guide_holds_weighs_as_the_rarest(index: BM25Index) -> None:
    assert sole_share(index, ["奖扶", "没见过"], 0, everyday=()) == pytest.approx(
        _idf(index, "奖扶") / (_idf(index, "奖扶") + index.max_idf))
    assert sole_share(index, ["没见过"], 0, everyday=()) == 0.0
    assert sole_share(index, [], 0, everyday=()) == 0.0


def test_numbers_and_latin_words_are_no_guides_own(index: BM25Index) -> None:
    """The idf table rates no year, amount or Latin word: one a guide happens to mention names no matter."""
    numbered = BM25Index.build([["奖扶", "2024"], ["钱", "app"]])
    assert sole_share(numbered, ["2024", "app"], 0, everyday=()) == 0.0 == sole_share(numbered, ["2024", "app"], 1, everyday=())
    assert sole_share(numbered, ["奖扶", "2024"], 0, everyday=()) == pytest.approx(0.5)


def test_an_everyday_word_is_no_guides_own_however_few_say_it(index: BM25Index) -> None:
    assert sole_share(index, ["老人"], 2, everyday=()) == pytest.approx(1.0)
    assert sole_share(index, ["老人"], 2, everyday=everyday_words(["老人"], 7.0)) == 0.0


def test_everyday_words_are_what_general_chinese_uses_a_lot() -> None:
    words = everyday_words(["钱", "公司", "老人", "检查", "护照", "兽药", "奖扶", "没见过的词"], 7.0)
    assert words == sorted(["钱", "公司", "老人", "检查"])  # 护照 9.7, 兽药 10.6; words the table lacks are rare


def test_the_build_keeps_the_knowledge_bases_everyday_words(small: Retriever) -> None:
    everyday = small.data.everyday_words
    assert {"公司", "材料"} <= everyday and "公积金" not in everyday
    assert set(everyday) <= set(small.data.bm25.vocabulary)


@pytest.fixture()
def staged_everyday(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What the build's staged version (the one its example check, evaluation and gate search) knows of everyday words."""
    seen: list[object] = []
    check = builder.check_examples

    def spy(retriever: Retriever, *args: object, **kwargs: object) -> object:
        seen.append(retriever.data.everyday_words)
        return check(retriever, *args, **kwargs)

    monkeypatch.setattr(builder, "check_examples", spy)
    return seen


def test_the_staged_version_decides_with_the_everyday_words(staged_everyday: list[object], small: Retriever) -> None:
    """The examples offered (checked here; the eval numbers and the gate search the same staged retriever) come from the
    version as staged in memory: it must decide as the published one will (an unset list would turn the sole-words
    rule off there and nowhere else)."""
    assert staged_everyday == [small.data.everyday_words] and staged_everyday[0]


def test_a_question_holding_only_its_guides_words_is_answered_not_confirmed(small: Retriever) -> None:
    """"电梯年检去哪" on ten guides: 电梯 is the special-equipment guide's alone, and the model, unsure, would confirm.
    The rule's wiring, with its lines set around this question (the shipped ones are tested on added guides below)."""
    question = "电梯年检去哪"
    tokens = lexical_tokens(small.data.tokenizer, small.data.common_words, question)
    everyday = small.data.everyday_words
    assert everyday is not None
    share = sole_share(small.data.bm25, tokens, small.run(question).candidates[0].best.unit, everyday)
    assert share > 0
    lenient = dataclasses.replace(small.params, sole_words_answer_share=share, sole_words_in_scope=0.0)
    small.params = dataclasses.replace(small.params, sole_words_answer_share=0.0)
    assert small.run(question).decision == CONFIRM
    small.params = lenient
    answered = small.run(question)
    assert answered.decision == ANSWER and answered.guide_id == "special-equipment-registration"
    assert answered.sole_share == pytest.approx(share) and answered.as_json()["sole_share"] == round(share, 4)
    small.params = dataclasses.replace(lenient, sole_words_in_scope=0.99)  # not likely enough the knowledge base's business
    assert small.run(question).decision == CONFIRM


def test_an_index_calibrated_before_the_everyday_words_answers_as_it_did(small: Retriever) -> None:
    """A version built before (decision format 5) has no everyday list: no sole-word answers until it is rebuilt."""
    stored = json.loads((small.data.folder / "calibration.json").read_text(encoding="utf-8"))
    del stored["everyday_words"]
    small.data.adopt(DecisionModel.from_dict(stored))
    assert small.data.everyday_words is None
    small.params = dataclasses.replace(small.params, sole_words_answer_share=0.01, sole_words_in_scope=0.0)
    assert small.run("电梯年检去哪").decision == CONFIRM


def test_added_guides_words_answer_citizens_questions_with_the_shipped_rule(kb_copy: Settings, embedder: Embedder) -> None:
    """The sample guides and ten added ones (tests/data/dev10, a development set): "开少儿书法班的申请能在网上递吗" names
    书法, which only the training-institution guide says; the model alone would confirm it, the shipped rule answers.
    The names' pairs are left out (they answer it on their own: 少儿, 培训 are its names')."""
    kb_copy = dataclasses.replace(kb_copy, name_pairs_bonus=0.0)
    for guide in (DATA / "dev10" / "guides").glob("*.md"):
        shutil.copy(guide, kb_copy.guides_dir)
    build_index(kb_copy, embedder=embedder, gate=False)
    retriever = Retriever.from_published_index(kb_copy, embedder)
    question = "开少儿书法班的申请能在网上递吗"
    answered = retriever.run(question)
    assert answered.decision == ANSWER and answered.guide_id == "nonacademic-training-institution-approval"
    assert answered.sole_share >= kb_copy.sole_words_answer_share
    retriever.params = dataclasses.replace(retriever.params, sole_words_answer_share=0.0)
    assert retriever.run(question).decision == CONFIRM
