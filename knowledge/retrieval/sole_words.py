"""Words of a question that only one guide holds: enough to answer it directly.

The decision model (knowledge/index/calibration.py) learns from the knowledge base's own sample questions, which
share their guide's wording; citizens describe their case instead ("俺们两口子就生了俩闺女…计生给老人的那份钱咋个
申请法"), and on a knowledge base with added guides their questions score only a little above sample guides asked
the same way, so the model is unsure and asks "您问的是…吗？". Yet a word of the question that no other guide or
policy passage says ("奖扶", "护照", "兽药") names the matter: when such words carry a good share of the question
(settings.yml `sole_words_answer_share`) and the question is likely enough the knowledge base's business
(`sole_words_in_scope`), the best guide holding them is answered directly (Retriever._decide).

Everyday words do not count, however few guides say them: on a knowledge base of ten guides "钱" or "老人" may be
one guide's alone, and a question about a procedure the base lacks would be answered on it. Which words are everyday
is not the knowledge base's to say: jieba's general-corpus idf table rates them (below `sole_words_everyday_idf`);
the build keeps those of the knowledge base's vocabulary (``everyday_words``) with its decision model. An index built
before (decision format 5) has no such list and answers as it did.

Tried as a fifth feature of the calibrated model instead: the model gave it little weight (the knowledge base's sample
questions, asked with their guide left out, find the words of their own guide with some other guide about as often as
not) and citizens' questions were answered directly no more often (development sets, docs/generalisation-history.md).

Usage::

    share = sole_share(data.bm25, ["奖扶", "钱"], unit_of_best_guide, data.everyday_words)   # 0.7
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import jieba

from knowledge.index.bm25 import BM25Index

_IDF_TABLE = Path(jieba.__file__).parent / "analyse" / "idf.txt"  # jieba's general-corpus idf, shipped with the package
_HAN = re.compile(r"[\u4e00-\u9fff]")


def sole_share(index: BM25Index, tokens: Sequence[str], unit: int, everyday: Collection[str]) -> float:
    """The share of the tokens' lexical weight (idf; the bound BM25 coverage divides by: a token repeated, or cut in
    overlapping pieces by jieba's search mode, counts each time) in non-everyday Chinese words that BM25 unit `unit`
    alone holds (numbers and Latin words, which the idf table does not rate, never: a year or an amount one guide
    happens to mention names no matter). 0 for a hit without a unit (-1)."""
    if unit < 0:
        return 0.0
    weights = index.weights  # units x terms, CSC: a column's rows are the units holding the term
    bound = held = 0.0
    for token in tokens:
        column = index.vocabulary.get(token)
        if column is None:
            bound += index.max_idf
            continue
        idf = float(index.idf[column])
        bound += idf
        start, end = weights.indptr[column], weights.indptr[column + 1]
        if end - start == 1 and weights.indices[start] == unit and token not in everyday and _HAN.search(token):
            held += idf
    return held / bound if bound > 0 else 0.0


def everyday_words(terms: Iterable[str], below: float) -> list[str]:
    """The terms (a knowledge base's BM25 vocabulary) that jieba's general-corpus idf table rates below `below`
    ("钱" 5.3, "公司" 3.5, "老人" 6.4; "护照" 9.7, "兽药" 10.6); terms it lacks are rare. The table (270,000 lines)
    is streamed, keeping only the vocabulary's words: `import jieba.analyse` would build its own copy (~130 MB)."""
    wanted = set(terms)
    found = set()
    with open(_IDF_TABLE, encoding="utf-8") as table:
        for line in table:
            word, _, value = line.rstrip("\n").partition(" ")
            if word in wanted and value and float(value) < below:
                found.add(word)
    return sorted(found)
