"""jieba's word frequencies looked up per text instead of loaded whole, for builds that tokenize a
handful of new texts.

Why: loading jieba's dictionary (~350,000 words, plus the knowledge base's ~15,000 titles and
aliases) took ~0.5 s of every rebuild, which then tokenized one edited chunk (every other text's
tokens come from the token cache). jieba reads its dictionary only through ``FREQ`` lookups of
substrings of the text it cuts (up to the longest word, and runs of single characters, which are
words only if no longer than that) and through ``total``. So a text is cut exactly as with the whole
dictionary by a jieba.Tokenizer whose ``FREQ`` holds just the entries for the text's substrings:
the base dictionary's (from a SQLite table written once per jieba dictionary), with the user words
applied as ``Tokenizer.add_word(word, 50000)`` applies them (the word 50000, its missing prefixes 0,
``total`` + 50000 per word). tests/knowledge/index/test_jieba_words.py compares the tokens of
every chunk and question of the sample knowledge base with the whole dictionary's.

Usage::

    words = JiebaWords(settings.embedding_cache)             # the base dictionary, stored on first use
    tokenizer = Tokenizer(user_words, words=words)           # bm25.Tokenizer, dictionary loaded on demand
"""

from __future__ import annotations

import bisect
import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import jieba

USER_WORD_FREQ = 50000  # what bm25.Tokenizer gives add_word for a title or alias
TOKEN_SEPARATOR = "\x1f"  # bm25.TokenCache's, between a text's tokens


def _dictionary_id() -> str:
    """Which base dictionary: jieba's version and its dictionary file's bytes."""
    default = jieba.Tokenizer()
    digest = hashlib.sha256(str(getattr(jieba, "__version__", "")).encode())
    with default.get_dict_file() as handle:
        digest.update(handle.read())
    return digest.hexdigest()[:16]


class JiebaWords:
    """jieba's base dictionary in a SQLite table: frequencies of given strings, ``total``, the
    longest word's length."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path))
        self._db.execute("CREATE TABLE IF NOT EXISTS jieba_words (dictionary TEXT, word TEXT, freq INTEGER, "
                         "PRIMARY KEY (dictionary, word)) WITHOUT ROWID")
        self._db.execute(  # bm25.TokenCache's table, read here for the questions a build asks again
            "CREATE TABLE IF NOT EXISTS token_lists (dictionary TEXT, digest TEXT, tokens TEXT, PRIMARY KEY (dictionary, digest))"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS jieba_dictionaries (dictionary TEXT PRIMARY KEY, total INTEGER, longest INTEGER)")
        self.dictionary = _dictionary_id()
        row = self._db.execute("SELECT total, longest FROM jieba_dictionaries WHERE dictionary = ?", (self.dictionary,)).fetchone()
        if row is None:
            row = self._store()
        self.total, self.longest = int(row[0]), int(row[1])

    def _store(self) -> tuple[int, int]:
        """Write the base dictionary once (~1 s), as jieba itself loads it."""
        full = jieba.Tokenizer()
        full.initialize()
        longest = max(len(word) for word in full.FREQ)
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO jieba_words VALUES (?, ?, ?)",
                                 ((self.dictionary, word, freq) for word, freq in full.FREQ.items()))
            self._db.execute("INSERT OR REPLACE INTO jieba_dictionaries VALUES (?, ?, ?)", (self.dictionary, full.total, longest))
        return full.total, longest

    def lookup(self, strings: Iterable[str]) -> dict[str, int]:
        """The base dictionary's entries among `strings`."""
        unique = list(dict.fromkeys(strings))
        found: dict[str, int] = {}
        for start in range(0, len(unique), 900):
            batch = unique[start : start + 900]
            found.update(self._db.execute(
                f"SELECT word, freq FROM jieba_words WHERE dictionary = ? AND word IN ({','.join('?' * len(batch))})",
                [self.dictionary, *batch],
            ).fetchall())
        return found

    def cached_tokens(self, dictionary: str, digest: str) -> list[str] | None:
        """Tokens of a text already in the token cache (bm25.TokenCache's table), or None."""
        row = self._db.execute("SELECT tokens FROM token_lists WHERE dictionary = ? AND digest = ?", (dictionary, digest)).fetchone()
        if row is None:
            return None
        return row[0].split(TOKEN_SEPARATOR) if row[0] else []

    def remember_tokens(self, rows: list[tuple[str, str, str]]) -> None:
        if rows:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO token_lists VALUES (?, ?, ?)", rows)

    def reopen(self) -> None:
        """A connection of its own, in a forked child (forked.py): SQLite connections must not cross a fork.
        The inherited one is left alone (closing it could touch the parent's state); the child never returns."""
        self._db = sqlite3.connect(str(self.path))

    def close(self) -> None:
        self._db.close()


class UserWords:
    """The knowledge base's titles and aliases as add_word leaves them in ``FREQ``, for one dictionary."""

    def __init__(self, base: JiebaWords, user_words: list[str]) -> None:
        self.base = base
        self.words = {word.lower() for word in user_words}
        # Sorted, to tell a word's prefixes (`_is_prefix`) without a set of all of them: ~200,000 strings
        # for the 30,000 names of 5,000 guides took ~0.1 s of every rebuild that cuts a new text.
        self.sorted_words = sorted(self.words)
        self.total = base.total + USER_WORD_FREQ * len(user_words)  # add_word adds to total on every call
        self.longest = max(base.longest, max(map(len, self.words), default=0))

    def _is_prefix(self, string: str) -> bool:
        """Whether `string` begins a longer user word (add_word gives such prefixes frequency 0)."""
        words = self.sorted_words
        at = bisect.bisect_left(words, string)
        if at < len(words) and words[at] == string:
            at += 1  # the word itself is no longer than `string`: the next ones may start with it
        return at < len(words) and words[at].startswith(string)

    def frequencies(self, text: str) -> dict[str, int]:
        """``FREQ`` restricted to the substrings of `text` (lower case, as it is cut)."""
        candidates = {text[start : start + length] for start in range(len(text))
                      for length in range(1, min(self.longest, len(text) - start) + 1)}
        base = self.base.lookup(candidates)
        table: dict[str, int] = {}
        for string in candidates:
            if string in self.words:
                table[string] = USER_WORD_FREQ
            elif string in base:
                table[string] = base[string]
            elif self._is_prefix(string):
                table[string] = 0  # add_word marks a new word's prefixes
        return table
