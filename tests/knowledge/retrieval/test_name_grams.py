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
from knowledge.retrieval.name_grams import NAME_PAIRS_FORMAT, NameGrams, character_pairs
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
    assert shares["village-doctor"] == pytest.approx(1.0)  # 村医: one pair only one guide holds, full strength
    assert "physician" not in shares


def test_neighbours_are_told_apart_by_the_pair_only_one_holds() -> None:
    grams = NameGrams(NAMES)
    divorce = grams.shares("去民政局办离婚要带什么")
    assert divorce["divorce"] > divorce.get("marriage", 0.0)
    allowance = grams.shares("计生给老人的那份钱咋申请")
    assert allowance["family-planning-reward"] > allowance.get("maternity-allowance", 0.0)


def test_a_pair_many_guides_hold_moves_little_and_weighs_less_than_one_only_a_few_hold() -> None:
    grams = NameGrams([("甲类登记", "a"), ("乙类登记", "b"), ("丙类登记", "c"), ("丁类许可", "d")])
    shares = grams.shares("甲类要登记吗")  # 甲类 only a holds; 登记 three guides hold
    assert shares["a"] == pytest.approx(1.0)
    assert shares["b"] < 0.5 and shares["b"] == shares["c"]
    assert "d" not in shares
    lone = grams.shares("登记要多久")  # only the pair three of the four names hold: little naming evidence
    assert set(lone) == {"a", "b", "c"} and all(0 < value < 0.5 for value in lone.values())


def test_common_question_words_are_no_part_of_a_name() -> None:
    names = [("公司给员工交社保怎么开户", "social-insurance"), ("开药房要什么证", "pharmacy"), ("用水报装", "water")]
    assert NameGrams(names).shares("今天去银行开户")  # without the knowledge base's question words, 开户 names a guide
    grams = NameGrams(names, common=["开户", "什么", "多久"])
    assert grams.shares("今天去银行开户") == {}
    assert grams.shares("药房开户要啥")["pharmacy"] > 0  # the rest of the alias still names it


def test_function_characters_are_no_part_of_a_name() -> None:
    """"开个体店" held the pair 开个, so "我们几个人想合伙开个公司" named the individual business; 个体店 still names it."""
    grams = NameGrams([("开个体店", "individual"), ("注册公司", "company")])
    assert "individual" not in grams.shares("我们几个人想合伙开个公司")
    assert grams.shares("我想开家体店")["individual"] > 0
    assert NameGrams([("怎么样", "x")]).shares("今天天气怎么样") == {}  # 么 breaks 怎么 too
    # characters that begin names are kept: 过户, 他项权利
    transfer = NameGrams([("不动产转移登记", "transfer"), ("房屋过户", "transfer"), ("抵押登记", "mortgage")])
    assert max(transfer.shares("房子过户要什么材料").items(), key=lambda item: item[1])[0] == "transfer"


def test_a_left_out_guide_is_as_if_it_were_not_published() -> None:
    grams = NameGrams(NAMES)
    assert grams.shares("村医要办什么证", leave_out="village-doctor") == {}
    assert "village-doctor" not in grams.shares("村医要办执业证", leave_out="village-doctor")
    without = NameGrams([name for name in NAMES if name[1] != "village-doctor"]).shares("乡村医生执业注册")
    assert grams.shares("乡村医生执业注册", leave_out="village-doctor") == pytest.approx(without)


def test_a_question_sharing_no_pair_with_any_name_leans_nowhere() -> None:
    assert NameGrams(NAMES).shares("今天天气怎么样") == {}
    assert NameGrams([]).shares("结婚登记") == {}


def test_the_table_is_built_once_per_loaded_index_and_its_common_words() -> None:
    class Data:
        def __init__(self) -> None:
            self.guides = {"village-doctor": {"title": "乡村医生执业证书", "aliases": ["村医证怎么办"]}}
            self.common_words: frozenset[str] = frozenset()

    data = Data()
    assert NameGrams.of(data) is NameGrams.of(data)
    assert NameGrams.of(data).shares("村医证在哪怎么办")["village-doctor"] > 0
    before = NameGrams.of(data)
    data.common_words = frozenset({"怎么"})  # calibration learnt the staged version's question words
    assert NameGrams.of(data) is not before and "么办" not in {p for p in NameGrams.of(data)._holders}


class _NoModel:
    model_id = "test-model"


def _twins(tmp_path: Path, bonus: float, tie_to: str, calibrated_format: int | None = None,
           calibrated_bonus: float | None = None) -> Retriever:
    """Two guides whose chunks are the same vector and the same words: only their names differ. `tie_to`: the guide
    a tie goes to (added last: the flat FAISS index lists the later of two equal scores first)."""
    guides = {"physician": "医师执业注册", "village-doctor": "乡村医生执业证书"}
    guides = {**{gid: title for gid, title in guides.items() if gid != tie_to}, tie_to: guides[tie_to]}
    chunks = [Chunk(f"{gid}#0", OVERVIEW, "办理执业的证要准备材料", title, gid, None, "办理执业的证要准备材料")
              for gid, title in guides.items()]
    vectors = np.ones((len(chunks), 4), dtype=np.float32) / 2.0
    dense = faiss.IndexFlatIP(4)
    dense.add(vectors)
    tokenizer = Tokenizer([])
    units = list(dict.fromkeys(lexical_unit(c) for c in chunks))
    bm25 = BM25Index.build([tokenizer.tokenize(c.text) for c in chunks])
    manifest: dict[str, object] = {"embedding": {"spec": "test", "id": _NoModel.model_id}}
    if calibrated_format is not None:  # a published version: the weight it was calibrated with, if it recorded one
        manifest["calibration"] = {"format": calibrated_format,
                                   **({} if calibrated_bonus is None else {"name_pairs_bonus": calibrated_bonus})}
    data = IndexData.from_parts(tmp_path / "v", manifest, chunks,
                                {gid: {"id": gid, "title": title, "aliases": []} for gid, title in guides.items()},
                                dense, bm25, tokenizer, [u for u in units if u])
    return Retriever(data, RetrievalParams(dense_candidates=4, name_pairs_bonus=bonus), _NoModel())  # type: ignore[arg-type]


@pytest.mark.parametrize("question, expected, other", [("村医要办什么证", "village-doctor", "physician"),
                                                        ("医师的证要准备啥", "physician", "village-doctor")])
def test_between_guides_alike_in_every_channel_the_one_whose_name_holds_the_pairs_ranks_first(
        tmp_path: Path, question: str, expected: str, other: str) -> None:
    vector = np.ones(4, dtype=np.float32) / 2.0
    tie, best = _twins(tmp_path / "off", 0.0, tie_to=other).features(question, vector)
    assert best == other and tie[1] == 0.0  # without the pairs: a tie, and it goes to the other one
    features, best = _twins(tmp_path, 0.02, tie_to=other).features(question, vector)
    assert best == expected and features[1] > 0.0  # with them, the named one leads


def test_a_version_calibrated_before_the_pairs_is_scored_as_it_was_calibrated(tmp_path: Path) -> None:
    """Until `build --if-changed` rebuilds it (a rollback, a refused build), an older version's decision model
    reads scores without the pairs: it gets them without the pairs."""
    vector = np.ones(4, dtype=np.float32) / 2.0
    old = _twins(tmp_path / "old", 0.02, tie_to="physician", calibrated_format=NAME_PAIRS_FORMAT - 1, calibrated_bonus=0.02)
    assert old.data.name_pairs_weight(0.02) == 0.0
    assert old.features("村医要办什么证", vector) == (old.features("村医要办什么证", vector)[0], "physician")
    assert old.features("村医要办什么证", vector)[0][1] == 0.0
    new = _twins(tmp_path / "new", 0.02, tie_to="physician", calibrated_format=NAME_PAIRS_FORMAT, calibrated_bonus=0.02)
    assert new.data.name_pairs_weight(0.02) == 0.02 and new.features("村医要办什么证", vector)[1] == "village-doctor"


def test_a_version_calibrated_before_decision_formats_were_recorded_is_scored_without_the_pairs(tmp_path: Path) -> None:
    """A manifest calibration without a format (versions built before formats were recorded, kept for rollback)."""
    vector = np.ones(4, dtype=np.float32) / 2.0
    old = _twins(tmp_path, 0.02, tie_to="physician")
    old.data.manifest["calibration"] = {"answer_at": 0.3}
    assert old.data.name_pairs_weight(0.02) == 0.0 and old.features("村医要办什么证", vector)[1] == "physician"


@pytest.mark.parametrize(("recorded", "configured", "named_first"), [
    (None, 0.02, False),  # built before the weight was recorded: the pairs were off then
    (0.0, 0.02, False),   # calibrated with them off, settings.yml turned them on: off until rebuilt
    (0.02, 0.0, True),    # calibrated with them on, settings.yml turned them off: on until rebuilt
])
def test_a_published_version_scores_with_the_weight_it_was_calibrated_with(
        tmp_path: Path, recorded: float | None, configured: float, named_first: bool) -> None:
    vector = np.ones(4, dtype=np.float32) / 2.0
    version = _twins(tmp_path, configured, tie_to="physician", calibrated_format=NAME_PAIRS_FORMAT, calibrated_bonus=recorded)
    assert (version.features("村医要办什么证", vector)[1] == "village-doctor") is named_first


def test_a_question_asked_inside_a_conversation_is_scored_without_the_pairs(tmp_path: Path) -> None:
    """`run(…, names=False)` (the answer action, when a matter is at hand): the pairs do not re-rank, so "个体户怎么注销"
    after 个体工商户设立 is not held by the matter whose name says 个体户."""
    vector = np.ones(4, dtype=np.float32) / 2.0
    twins = _twins(tmp_path, 0.02, tie_to="physician")
    named = twins._score(twins.data, "村医要办什么证", vector).hits
    unnamed = twins._score(twins.data, "村医要办什么证", vector, names=False).hits
    assert named[0].chunk.guide_id == "village-doctor" and named[0].score > named[1].score
    assert unnamed[0].chunk.guide_id == "physician" and unnamed[0].score == unnamed[1].score
