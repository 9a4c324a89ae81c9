"""How calibration's example scoring runs: half of it in a forked child on the second core
(forked.py), with the same rows in the same order as one process scoring everything.

Why: scoring ~2,000 examples (each searched twice, against its fold's BM25) is ~1 s of a
5,000-guide rebuild on one core, while the other core has little to do after the writer thread.

What makes the halves independent and the result identical: before the fork, this process asks
every search the scoring will ask, in the same order (`prepare`): the repaired neighbour lists
(neighbours.py) and the question tokens then sit in memory, and the child only reads them. A
search's result does not depend on which process runs it, the neighbour lists this process keeps
(and saves for the next build) are exactly those of a one-process run, and so are the counts of
reused and new searches the build reports. Each half computes the fold BM25 of the folds it
scores (one fold straddles the split: both compute it, ~0.05 s).

Usage (calibration._score_examples)::

    rows = score_split(retriever, [(text, vector, excludes), ...], score_part)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from knowledge.index.batch_scoring import search_depth
from knowledge.index.forked import run_split, splits
from knowledge.retrieval.item_words import lexical_tokens

if TYPE_CHECKING:
    from knowledge.retrieval.retriever import Retriever

Row = TypeVar("Row")
Question = tuple[str, np.ndarray, list[set[int]]]  # text, search vector, the exclusions it is scored under


def prepare(retriever: Retriever, questions: Sequence[Question]) -> None:
    """Ask, in order, the searches and tokenisations scoring `questions` will ask (Retriever.features_many)."""
    from knowledge.retrieval.retriever import normalize_question  # it imports calibration.py, which imports this

    data = retriever.data
    retriever.batch_table(data)  # the per-chunk arrays, built once here and inherited by the child
    for text, vector, excludes in questions:
        lexical_tokens(data.tokenizer, data.common_words, normalize_question(text))
        for exclude in excludes:
            data.dense.search(vector.reshape(1, -1), search_depth(retriever.params, data, exclude))


def score_split(retriever: Retriever, questions: Sequence[Question], score: Callable[[Sequence[int]], list[Row]]) -> list[Row]:
    """`score(range(len(questions)))`, the second half (by searches) in a forked child when it pays."""
    searches = np.cumsum([len(excludes) for _, _, excludes in questions])
    split = int(np.searchsorted(searches, searches[-1] / 2)) + 1 if len(questions) else 0
    if not splits(len(questions), split):
        return score(range(len(questions)))
    dense = retriever.data.dense
    prepare(retriever, questions)
    # The build reports how many searches reused a stored list: as counted by `prepare`, which asked
    # each once, in the scoring's order (the scoring itself then finds every list in memory).
    counts = (getattr(dense, "reused", None), getattr(dense, "searched", None))
    try:
        return run_split(range(len(questions)), score, split=split, child_setup=lambda: _in_child(retriever))
    finally:
        if counts[0] is not None:
            dense.reused, dense.searched = counts  # type: ignore[union-attr]


def _in_child(retriever: Retriever) -> None:
    """What the child must not share with its parent: SQLite connections and locks (forked.py)."""
    data = retriever.data
    data.tokenizer.reopen()
    reopen = getattr(data.chunks, "reopen", None)  # ChunkRows in a build
    if reopen is not None:
        reopen()
