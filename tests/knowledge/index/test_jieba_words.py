"""A build's tokenizer cuts each text with only its substrings' dictionary entries (jieba_words.py):
the tokens must be those of the whole jieba dictionary with the same titles and aliases, for every
chunk and question of the sample knowledge base and for awkward text."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.index.bm25 import Tokenizer
from knowledge.index.chunks import anchor_chunks, document_chunks, guide_chunks
from knowledge.index.evaluation import load_question_set
from knowledge.index.jieba_words import JiebaWords, UserWords
from knowledge.settings import load_settings
from knowledge.sources.validation import validate_knowledge_base

AWKWARD = ["", "   ", "ETC办理", "ＡＢＣ全角", "12345热线", "营业执照营业执照营业执照" * 20, "a" * 300, "简易注销", "简易注销要多久？",
           "个体工商户设立登记（个体户营业执照）需要什么材料", "🙂 表情", "http://example.com/x?y=1", "不动产登记\n第二行\t制表"]


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory) -> JiebaWords:
    return JiebaWords(Path(tmp_path_factory.mktemp("jieba")) / "cache.sqlite3")


def test_every_sample_text_is_cut_as_with_the_whole_dictionary(words: JiebaWords) -> None:
    settings = load_settings()
    result = validate_knowledge_base(settings)
    chunks = [c for g in result.guides for c in guide_chunks(g)] + [c for d in result.documents for c in document_chunks(d)]
    chunks += anchor_chunks(result.out_of_scope)
    questions = load_question_set(settings.eval_questions)
    texts = [c.text for c in chunks] + [item["q"] for item in questions["in_scope"]] + list(questions["off_topic"]) + AWKWARD
    user_words = sorted({name for g in result.guides for name in [g.title, *g.aliases]})
    whole = Tokenizer(user_words)
    partial = Tokenizer(user_words, words=words, partial_texts=10**9)
    assert len(texts) > 1000
    for text in texts:
        assert partial.tokenize(text) == whole.tokenize(text), text
    assert partial._words is not None  # never fell back to loading the whole dictionary


def test_tokens_are_kept_and_the_whole_dictionary_is_loaded_after_many_texts(words: JiebaWords) -> None:
    tokenizer = Tokenizer(["用水报装"], words=words, partial_texts=2)
    texts = ["用水报装要多久", "装自来水多少钱", "燃气开户在哪里办", "开公司要带什么材料"]
    first = [tokenizer.tokenize(text) for text in texts]
    assert tokenizer._words is None  # the third new text loaded the dictionary
    assert first == [Tokenizer(["用水报装"]).tokenize(text) for text in texts]
    tokenizer.save()
    again = Tokenizer(["用水报装"], words=words, partial_texts=0)  # would load everything if a text were new
    assert [again.tokenize(text) for text in texts] == first and again._words is not None  # all from the cache
    other = Tokenizer(["用水报装", "接水表"], words=words, partial_texts=0)  # another dictionary: nothing cached
    other.tokenize(texts[0])
    assert other._words is None


def test_segments_are_the_whole_dictionary_pieces_cut_cached_or_preloaded(words: JiebaWords) -> None:
    settings = load_settings()
    result = validate_knowledge_base(settings)
    chunks = [c for g in result.guides for c in guide_chunks(g)]
    texts = [c.text for c in chunks if c.kind == "question"] + [a for g in result.guides for a in g.aliases] + AWKWARD
    user_words = sorted({name for g in result.guides for name in [g.title, *g.aliases]})
    whole = Tokenizer(user_words)
    expected = [whole.segment(text) for text in texts]
    partial = Tokenizer(user_words, words=words, partial_texts=10**9)
    assert [partial.segment(text) for text in texts] == expected
    assert partial._words is not None  # cut per text, never the whole dictionary
    partial.save()
    cached = Tokenizer(user_words, words=words, partial_texts=0)  # a text not cached would load the whole dictionary
    assert [cached.segment(text) for text in texts] == expected and cached._words is not None
    preloaded = Tokenizer(user_words, words=words, partial_texts=0)
    preloaded._words = None  # a preloaded text must not even look at the token cache
    preloaded._jieba = None  # type: ignore[assignment]  # and never cut
    preloaded.preload({}, {text: "\x1f".join(pieces) for text, pieces in zip(texts, expected, strict=True) if text})
    assert [preloaded.segment(text) for text in texts if text] == [p for t, p in zip(texts, expected, strict=True) if t]


def test_user_words_and_their_prefixes_weigh_what_add_word_gives_them(words: JiebaWords) -> None:
    import jieba

    names = ["公司", "公司注销", "公司注销登记", "注销", "ZZ新词语", "ZZ新词语甲", "一"]  # nested, and prefixes unknown to jieba
    whole = jieba.Tokenizer()
    whole.initialize()
    for name in names:
        whole.add_word(name.lower(), freq=50000)
    text = "zz新词语甲公司注销登记一下注"
    substrings = {text[a:b] for a in range(len(text)) for b in range(a + 1, len(text) + 1)}
    expected = {s: whole.FREQ[s] for s in substrings if s in whole.FREQ}
    table = UserWords(words, names).frequencies(text)
    assert table == expected
