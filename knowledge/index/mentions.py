"""The retriever's title/alias mention scan, over only the names that occur in the question, for
the thousands of questions a build asks (calibration, evaluation, the gate).

Why: `Retriever._mentioned` tries every title and alias of the knowledge base with str.find:
15,000 names at 5,000 guides, 2-9 ms per question, and a build asks ~9,000 questions. Its
result depends only on the names that occur in the question, in the order it tries them
(longest first: a longer name hides the names inside it). `MentionScan` finds those names by
looking up the question's substrings in a dict, keeps the retriever's order and runs the
retriever's own function on them: the same set of guides, from ~300 dict lookups.

Usage::

    retriever._mentioned = MentionScan(retriever.data)   # an instance attribute: this retriever only
"""

from __future__ import annotations

from typing import Any

from knowledge.retrieval.retriever import Retriever


class _Names:
    """What `Retriever._mentioned` reads from an IndexData: its (name, guide id) list."""

    def __init__(self, names: list[tuple[str, str]]) -> None:
        self.names = names


class MentionScan:
    """Drop-in for `Retriever._mentioned(data, question)` on one loaded index."""

    def __init__(self, data: Any) -> None:
        self.source = data.names
        self.position: dict[str, list[int]] = {}
        for index, (name, _guide_id) in enumerate(data.names):
            self.position.setdefault(name, []).append(index)
        self.lengths = sorted({len(name) for name in self.position})

    def names_in(self, text: str) -> list[tuple[str, str]]:
        """The (name, guide id) pairs whose name occurs in the (lower-cased) text, in list order."""
        found: set[int] = set()
        for length in self.lengths:
            if length > len(text):
                break
            for start in range(len(text) - length + 1):
                hit = self.position.get(text[start : start + length])
                if hit:
                    found.update(hit)
        return [self.source[index] for index in sorted(found)]

    def __call__(self, data: Any, question: str) -> set[str]:
        if data.names is not self.source:  # another version than the one indexed: the plain scan
            return Retriever._mentioned(data, question)
        return Retriever._mentioned(_Names(self.names_in(question.lower())), question)
