"""The lexical channel: the jieba tokenizer with the knowledge base's names, and BM25 coverage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from knowledge.index.bm25 import STOPWORDS, BM25Index, Tokenizer
from knowledge.index.fold_bm25 import row_sums

USER_WORDS = ["简易注销", "施工许可证", "免申即享", "用水报装"]

TEXTS = [
    "简易注销：未开业或无债权债务的企业，可以申请简易注销登记，公示期20天。",
    "施工许可证核发：建设单位在开工前申请施工许可证，承诺5个工作日办结。",
    "用水报装：新建房屋申请装自来水、接水表，受理后3个工作日装表通水。",
    "惠企政策免申即享：符合条件的企业无需申请，政策资金直接兑付。",
    "企业开办：设立登记、印章刻制、社保登记一次办结，不收费。",
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer([*USER_WORDS, " ", ""])


@pytest.fixture(scope="module")
def index(tokenizer: Tokenizer) -> BM25Index:
    return BM25Index.build([tokenizer.tokenize(text) for text in TEXTS])


def test_user_words_stay_whole(tokenizer: Tokenizer) -> None:
    plain = Tokenizer()
    assert "免申即享" in tokenizer.tokenize("惠企政策免申即享")
    assert "免申即享" not in plain.tokenize("惠企政策免申即享")  # jieba alone would cut it
    tokens = tokenizer.tokenize("施工许可证怎么办理")
    assert "施工许可证" in tokens and "施工" in tokens  # search mode also keeps the parts
    assert tokenizer.user_words == sorted(USER_WORDS)  # blanks are ignored


def test_punctuation_and_stopwords_are_dropped(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("请问，我想办理简易注销吗？要多久！")
    assert "简易注销" in tokens and "办理" in tokens and "多久" in tokens
    for dropped in ("请问", "我", "想", "吗", "要", "，", "？", "！"):
        assert dropped not in tokens
    assert not any(token in STOPWORDS for token in tokens)
    assert all(token.strip() for token in tokens)


def test_tokens_are_lower_case(tokenizer: Tokenizer) -> None:
    assert "ukey" in tokenizer.tokenize("领取税务UKey")


@pytest.mark.parametrize(("question", "expected"), [
    ("简易注销要多久", 0),
    ("办施工许可证要几天", 1),
    ("新房子怎么装自来水", 2),
    ("免申即享的政策怎么拿", 3),
    ("开办企业收费吗", 4),
])
def test_right_document_ranks_first(tokenizer: Tokenizer, index: BM25Index, question: str, expected: int) -> None:
    scores = index.scores(tokenizer.tokenize(question))
    assert int(np.argmax(scores)) == expected
    assert scores[expected] > 0


def test_coverage_is_in_unit_interval_and_ranks_like_bm25(tokenizer: Tokenizer, index: BM25Index) -> None:
    tokens = tokenizer.tokenize("简易注销要多久")
    coverage = index.coverage(tokens)
    assert coverage.shape == (len(TEXTS),)
    assert np.all(coverage >= 0) and np.all(coverage < 1)
    assert int(np.argmax(coverage)) == int(np.argmax(index.scores(tokens))) == 0
    assert coverage[0] > 0.3  # most of the question is found in the right document


def test_off_topic_question_has_zero_coverage(tokenizer: Tokenizer, index: BM25Index) -> None:
    for question in ("明天会下雨吗", "哪只股票会涨", ""):
        assert np.all(index.coverage(tokenizer.tokenize(question)) == 0)


def test_unknown_words_lower_the_coverage(tokenizer: Tokenizer, index: BM25Index) -> None:
    on_topic = index.coverage(tokenizer.tokenize("简易注销"))[0]
    diluted = index.coverage(tokenizer.tokenize("简易注销和明天天气和股票行情"))[0]
    assert 0 < diluted < on_topic


def test_save_load_roundtrip_gives_identical_scores(tokenizer: Tokenizer, index: BM25Index, tmp_path: Path) -> None:
    index.save(tmp_path)
    assert {path.name for path in tmp_path.iterdir()} == {"bm25_weights.npz", "bm25_idf.npy", "bm25_vocabulary.json"}
    loaded = BM25Index.load(tmp_path)
    assert loaded.vocabulary == index.vocabulary
    for question in ("简易注销要多久", "办施工许可证要几天", "明天会下雨吗"):
        tokens = tokenizer.tokenize(question)
        np.testing.assert_array_equal(loaded.scores(tokens), index.scores(tokens))
        np.testing.assert_array_equal(loaded.coverage(tokens), index.coverage(tokens))


def test_empty_index() -> None:
    empty = BM25Index.build([])
    assert empty.scores(["简易注销"]).shape == (0,)
    assert empty.coverage(["简易注销"]).shape == (0,)


def test_token_cache_reuses_tokens_until_the_dictionary_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.index.bm25 import TokenCache

    texts, digests = ["简易注销要多久", "用水报装去哪办"], ["d1", "d2"]
    tokenizer = Tokenizer(["简易注销"])
    cache = TokenCache(tmp_path / "cache.sqlite3")
    first = cache.tokenize_all(tokenizer, texts, digests)

    def fail(text: str) -> list[str]:
        raise AssertionError("cached text was tokenized again")

    monkeypatch.setattr(tokenizer, "tokenize", fail)
    assert cache.tokenize_all(tokenizer, texts, digests) == first
    other = Tokenizer(["简易注销", "用水报装"])  # a new alias: a different dictionary
    assert "用水报装" in cache.tokenize_all(other, texts, digests)[1]
    cache.close()


def test_weights_are_the_canonical_sparse_matrix_of_the_per_entry_formula() -> None:
    from scipy import sparse

    from knowledge.index.bm25 import K1, B

    rng = np.random.default_rng(5)
    dense_counts = rng.integers(0, 4, size=(40, 30)) * (rng.random((40, 30)) < 0.3)
    dense_counts[7] = 0  # an empty document
    dense_counts[:, 11] = 0  # a term no document has: left out
    counts = sparse.csr_matrix(dense_counts.astype(np.int32))
    index = BM25Index.from_counts(counts, [f"t{i}" for i in range(30)])
    kept = dense_counts[:, [c for c in range(30) if c != 11]].astype(np.float32)
    lengths = kept.sum(axis=1).astype(np.float32)
    df = (kept > 0).sum(axis=0).astype(np.float32)
    idf = np.log(1.0 + (40 - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm = K1 * (1 - B + B * lengths[:, None] / float(lengths.mean()))
    expected = np.where(kept > 0, idf[None, :] * kept * (K1 + 1) / (kept + norm), 0).astype(np.float32)
    weights = index.weights
    assert weights.format == "csc" and weights.has_canonical_format and weights.dtype == np.float32
    assert weights.indices.dtype == np.int32 and weights.nnz == int((kept > 0).sum())
    np.testing.assert_array_equal(weights.toarray(), expected)
    assert "t11" not in index.vocabulary


def test_row_sums_are_exact_with_empty_rows_anywhere() -> None:
    dense = np.array([[0, 0, 0], [1, 0, 2], [0, 0, 0], [0, 7, 0], [3, 3, 3], [0, 0, 0]], dtype=np.int32)
    counts = sparse.csr_matrix(dense)
    assert row_sums(counts).tolist() == dense.sum(axis=1).tolist() == [0, 3, 0, 7, 9, 0]
    assert row_sums(sparse.csr_matrix((0, 3), dtype=np.int32)).tolist() == []
    assert row_sums(sparse.csr_matrix((4, 3), dtype=np.int32)).tolist() == [0, 0, 0, 0]
