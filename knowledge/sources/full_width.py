"""Full-width Latin letters and digits ("ＣＡ锁", "２０２６年") in the text of a guide's body (its sections and
FAQ) or a policy document: a warning on the line, asking for the half-width form.

A question typed in full-width mode is read as half-width (knowledge/text.py `half_width`, in
knowledge/simplified.py `as_read`), and so are guide titles and aliases; a body or a document is indexed
as written. So "ＣＡ锁" in a guide's body is a word no question has: BM25 finds no "CA锁" there and the
embedding model cuts the full-width forms into other pieces. Not folded at index time: what citizens read
is what the admin wrote, and the fix is one edit in the source. Only a warning: the text is right, the
build publishes it as written.

Usage::

    problems += full_width_problems("knowledge/guides/x.md", [(24, "2. ＣＡ数字证书")])
    # [Problem("knowledge/guides/x.md", 24, "“ＣＡ”是全角字母或数字…请改写成半角“CA”…", "warning")]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge.sources.model import Problem
from knowledge.text import half_width

# A word of letters and digits in either width ("Ｂ2", "２０２６"): shown whole, so the admin finds it as typed.
_WORD = re.compile(r"[0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")


def full_width_words(text: str) -> list[str]:
    """The words of letters and digits in `text` that hold a full-width one, each once, in order."""
    # half_width decides what is full-width: the same table the questions are read with.
    return list(dict.fromkeys(word for word in _WORD.findall(text) if half_width(word) != word))


def full_width_problems(path: str, lines: Iterable[tuple[int, str]]) -> list[Problem]:
    """A warning for each of `lines` ((file line, text)) that holds full-width letters or digits."""
    problems: list[Problem] = []
    for number, text in lines:
        words = full_width_words(text)
        if not words:
            continue
        typed = "".join(f"“{word}”" for word in words)
        fixed = "".join(f"“{half_width(word)}”" for word in words)
        problems.append(Problem(path, number, f"{typed}是全角字母或数字：问题和标题、别名里的全角字母数字都读成半角，正文却照原样建索引，"
                                              f"群众问{fixed}时检索对不上这里。请改写成半角{fixed}（不改也照原样发布）", "warning"))
    return problems
