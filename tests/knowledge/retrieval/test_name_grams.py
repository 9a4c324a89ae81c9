"""Character pairs of guide names: a question that names its guide by a shortening or in other words still
leans to the guide whose title holds its characters, and pairs every guide's name holds weigh nothing."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from knowledge.index.bm25 import BM25Index, Tokenizer
from knowledge.index.chunks import OVERVIEW, Chunk, lexical_unit
from knowledge.retrieval.index_data import IndexData
from knowledge.retrieval.name_grams import NameGrams, character_pairs
from knowledge.retrieval.retriever import RetrievalParams, Retriever

# (lower-cased name, guide id), as IndexData.names keeps them
NAMES = [
    ("乡村医生执业证书", "village-doctor"),
    ("医师执业注册", "physician"),
    ("结婚登记", "marriage"),
    ("离婚登记", "divorce"),
    ("农村计划生育家庭奖励扶助金申领", "family-planning-reward"),
    ("计生奖扶", "family-planning-reward"),
    ("生育津贴申领", "maternity-allowance"),
]


def test_pairs_of_each_run_of_characters() -> None:
    assert character_pairs("乡村医生") == {"乡村", "村医", "医生"}
    assert character_pairs("企业开办（公司设立登记）") == {"企业", "业开", "开办", "公司", "司设", "设立", "立登", "登记"}
    assert character_pairs("B2本") == {"b2", "2本"}
    assert character_pairs("好") == set()


def test_a_shortening_leans_to_the_guide_whose_name_holds_its_characters() -> None:
    shares = NameGrams(NAMES).shares("村医要办什么证")
    assert shares["village-doctor"] == pytest.approx(1.0)
    assert "physician" not in shares


def test_neighbours_are_told_apart_by_the_pair_only_one_holds() -> None:
    grams = NameGrams(NAMES)
    divorce = grams.shares("去民政局办离婚要带什么")
    assert divorce["divorce"] > divorce.get("marriage", 0.0)
    allowance = grams.shares("计生给老人的那份钱咋申请")
    assert allowance["family-planning-reward"] > allowance.get("maternity-allowance", 0.0)


def test_a_pair_every_guide_holds_weighs_less_than_one_only_a_few_hold() -> None:
    grams = NameGrams([("甲类登记", "a"), ("乙类登记", "b"), ("丙类登记", "c"), ("丁类许可", "d")])
    shares = grams.shares("甲类要登记吗")  # 甲类 only a holds; 登记 three guides hold
    assert shares["a"] == pytest.approx(1.0)
    assert shares["b"] < 0.5 and shares["b"] == shares["c"]
    assert "d" not in shares


def test_a_question_sharing_no_pair_with_any_name_leans_nowhere() -> None:
    assert NameGrams(NAMES).shares("今天天气怎么样") == {}
    assert NameGrams([]).shares("结婚登记") == {}


def test_the_table_is_built_once_per_loaded_index() -> None:
    class Data:
        names = NAMES

    data = Data()
    assert NameGrams.of(data) is NameGrams.of(data)


class _NoModel:
    model_id = "test-model"


def _twins(tmp_path: Path, bonus: float) -> Retriever:
    """Two guides whose chunks are the same vector and the same words: only their names differ."""
    guides = {"physician": "医师执业注册", "village-doctor": "乡村医生执业证书"}
    chunks = [Chunk(f"{gid}#0", OVERVIEW, "办理执业的证要准备材料", title, gid, None, "办理执业的证要准备材料")
              for gid, title in guides.items()]
    vectors = np.ones((len(chunks), 4), dtype=np.float32) / 2.0
    dense = faiss.IndexFlatIP(4)
    dense.add(vectors)
    tokenizer = Tokenizer([])
    units = list(dict.fromkeys(lexical_unit(c) for c in chunks))
    bm25 = BM25Index.build([tokenizer.tokenize(c.text) for c in chunks])
    data = IndexData.from_parts(tmp_path / "v", {"embedding": {"spec": "test", "id": _NoModel.model_id}}, chunks,
                                {gid: {"id": gid, "title": title, "aliases": []} for gid, title in guides.items()},
                                dense, bm25, tokenizer, [u for u in units if u])
    return Retriever(data, RetrievalParams(dense_candidates=4, name_pairs_bonus=bonus), _NoModel())  # type: ignore[arg-type]


@pytest.mark.parametrize("question, expected", [("村医要办什么证", "village-doctor"), ("医师的证要准备啥", "physician")])
def test_between_guides_alike_in_every_channel_the_one_whose_name_holds_the_pairs_ranks_first(
        tmp_path: Path, question: str, expected: str) -> None:
    vector = np.ones(4, dtype=np.float32) / 2.0
    scored = _twins(tmp_path, 0.02).features(question, vector)
    assert scored[1] == expected
    without = _twins(tmp_path / "off", 0.0)  # the names' pairs switched off: a tie, whichever comes first
    features, _ = without.features(question, vector)
    assert features[1] == 0.0  # no gap between the twins
    assert scored[0][1] > 0.0  # with the pairs, the named one leads
