"""The common question words learnt from a knowledge base, and how a question's item words are taken
from it (knowledge/retrieval/item_words.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from knowledge.index.bm25 import Tokenizer
from knowledge.index.chunks import FAQ, OVERVIEW, QUESTION, Chunk
from knowledge.retrieval.item_words import blend, common_question_words, item_text, lexical_tokens

TITLES = {"water": "用水报装", "gas": "燃气开户", "dog": "养犬登记", "boat": "渔船登记", "tax": "发票申领"}
ASKED = {  # every guide is asked the same ways, about its own item
    "water": ["装自来水需要什么材料", "接水表要多久", "装水表在哪里办"],
    "gas": ["开通燃气需要什么材料", "燃气开户要多久", "燃气在哪里办"],
    "dog": ["养狗需要什么材料", "狗证要多久", "养犬登记在哪里办"],
    "boat": ["渔船需要什么材料", "渔船证要多久", "渔船登记在哪里办"],
    "tax": ["领发票需要什么材料", "发票要多久", "发票在哪里办"],
}


def _data(asked: dict[str, list[str]] = ASKED) -> Any:
    chunks = [Chunk(f"{g}#overview", OVERVIEW, title, title, g) for g, title in TITLES.items()]
    for guide_id, questions in asked.items():
        chunks += [Chunk(f"{guide_id}#q{i}", QUESTION, q, TITLES[guide_id], guide_id) for i, q in enumerate(questions)]
    chunks.append(Chunk("dog#faq1", FAQ, "狗证丢了怎么补？", "养犬登记", "dog", "常见问题", "狗证丢了怎么补？\n到原窗口补办。"))
    guides = {g: {"title": t, "aliases": []} for g, t in TITLES.items()}
    return SimpleNamespace(chunks=chunks, guides=guides, tokenizer=Tokenizer(TITLES.values()))


def test_words_every_guide_asks_with_are_common_and_item_words_are_not() -> None:
    words = common_question_words(_data(), share=0.5, min_guides=3)
    assert {"需要", "什么", "材料", "多久", "在", "哪里"} <= set(words)
    assert not {"燃气", "狗证", "渔船", "发票", "自来水"} & set(words)
    assert words == sorted(words)  # published: builds must agree on it


def test_a_word_of_a_guide_title_is_never_common() -> None:
    # "登记" is a word of three guides' questions, but a part of the titles 养犬登记 and 渔船登记.
    asked = {**ASKED, "water": ["用水登记需要什么材料"], "gas": ["燃气登记要多久"], "tax": ["发票登记在哪里办"]}
    assert "登记" not in common_question_words(_data(asked), share=0.5, min_guides=3)
    renamed = _data(asked)
    renamed.guides = {g: {"title": "事项", "aliases": []} for g in TITLES}
    assert "登记" in common_question_words(renamed, share=0.5, min_guides=3)  # what the titles prevent


def test_a_question_copied_into_several_guides_counts_once() -> None:
    copied = {g: [*qs, "网上卖书需要办出版物许可证吗"] for g, qs in ASKED.items()}
    words = common_question_words(_data(copied), share=0.5, min_guides=3)
    assert "出版物" not in words and "卖书" not in words


def test_the_minimum_number_of_guides_holds_on_a_small_knowledge_base() -> None:
    two = {g: ASKED[g] for g in ("water", "gas")}
    assert common_question_words(_data(two), share=0.1, min_guides=3) == []


def test_item_text_drops_the_common_words_and_keeps_the_item() -> None:
    tokenizer = Tokenizer(TITLES.values())
    words = {"需要", "什么", "材料", "要", "多久", "哪里", "在"}
    assert item_text(tokenizer, words, "养犬登记需要什么材料") == "养犬登记"
    assert item_text(tokenizer, words, "养犬登记") is None  # nothing to drop: the whole question is the item
    assert item_text(tokenizer, words, "要多久？") is None  # nothing left: the whole question it is
    assert item_text(tokenizer, set(), "养犬登记需要什么材料") is None


def test_lexical_tokens_keep_the_item_or_everything() -> None:
    tokenizer = Tokenizer(TITLES.values())
    words = {"需要", "什么", "材料", "多久"}
    assert "材料" not in lexical_tokens(tokenizer, words, "养犬登记需要什么材料")
    assert "养犬登记" in lexical_tokens(tokenizer, words, "养犬登记需要什么材料")
    assert lexical_tokens(tokenizer, words, "多久") == tokenizer.tokenize("多久")


def test_a_blended_vector_scores_every_chunk_with_the_same_mix_of_its_two_cosines() -> None:
    rng = np.random.default_rng(3)
    full, item, chunk = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 8)).astype(np.float32))
    mixed = blend(full, item, 0.3)
    assert mixed.dtype == np.float32
    assert np.isclose(mixed @ chunk, 0.7 * (full @ chunk) + 0.3 * (item @ chunk), atol=1e-6)
    assert blend(full, None, 0.3) is full and blend(full, item, 0.0) is full
