"""The lexical channel: jieba tokens and BM25, with a score normalised to [0, 1).

Guide titles and aliases go into jieba's dictionary so "简易注销" or "施工许可证" stay one token.
The normalised score ("coverage") divides a chunk's BM25 by the most any chunk could score for
this question: words the knowledge base has never seen (天气, 股票) count at the highest idf, so an
off-topic question gets a low coverage everywhere.

Usage::

    tokenizer = Tokenizer(["简易注销", "用水报装"])
    index = BM25Index.build([tokenizer.tokenize(text) for text in texts])
    coverage = index.coverage(tokenizer.tokenize("简易注销要多久"))   # one value per chunk
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import jieba
import numpy as np
from scipy import sparse

from knowledge.index.jieba_words import JiebaWords, UserWords

if TYPE_CHECKING:
    from knowledge.index.fold_bm25 import FoldBase, FoldBM25

K1 = 1.5
B = 0.75

# Function words that carry no meaning for finding the right guide.
STOPWORDS = frozenset(
    "的 了 吗 呢 啊 吧 呀 嘛 哦 么 我 我们 你 你们 您 他 她 它 咱 咱们 请问 请 一下 是 在 和 与 及 或 "
    "就 都 也 还 这 那 这个 那个 个 一个 有 要 想 得 地 着 过 把 被 给 让 从 对 于 呗 啦 嗯 哈".split()
)
_KEEP = re.compile(r"[\w]", re.UNICODE)
_SEPARATOR = "\x1f"  # between a chunk's tokens in the token cache
# A build keeps at most this many new texts' tokens for the next one: its questions (~2,500 at 5,000
# guides), not the ~94,000 chunks a changed dictionary re-tokenizes (TokenCache keeps those).
MAX_KEPT_TOKENS = 20000
# ... and of new texts' precise-mode pieces (item_words.py): every sample question, FAQ heading and
# alias when the dictionary changed (~35,000 at 5,000 guides), so the next build finds them.
MAX_KEPT_SEGMENTS = 50000
SEGMENTS = "segments:"  # the token cache's dictionary column for pieces (tokens use the bare fingerprint)

jieba.setLogLevel(60)  # jieba prints its dictionary loading to stderr otherwise


class Tokenizer:
    """A jieba tokenizer of its own (not jieba's global one) with the knowledge base's names.

    With `words` (a build), jieba's dictionary is not loaded: each text is cut with the dictionary
    entries of its substrings (jieba_words.py, the same tokens), and tokens already computed under
    the same dictionary come from the token cache's table in that file; after `partial_texts` texts
    cut that way (a changed title or alias: every text is new) the whole dictionary is loaded."""

    def __init__(self, user_words: Iterable[str] = (), *, words: JiebaWords | None = None, partial_texts: int = 200) -> None:
        self.user_words = sorted({word.strip() for word in user_words if word and word.strip()})
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        # Tokens depend on the dictionary: cached tokens are keyed by this too.
        self.fingerprint = hashlib.sha256("\n".join(self.user_words).encode("utf-8")).hexdigest()[:16]
        self._words = words  # None: the whole dictionary is loaded
        self._store = words  # where new tokens are kept (also after loading the whole dictionary)
        self._partial: UserWords | None = None
        self._partial_left = partial_texts
        self._fresh: list[tuple[str, str, str]] = []  # (dictionary, digest, tokens) for the token cache
        self._fresh_pieces: list[tuple[str, str, str]] = []  # the same for segment()'s pieces
        # A build's memo of texts cut once already (titles, sample questions, aliases: item_words.py
        # cuts ~25,000 of them), filled from the serving version's guide table (`preload`).
        self._tokens: dict[str, list[str] | str] = {}  # a str: pieces joined by _SEPARATOR, split on use
        self._segments: dict[str, list[str] | str] = {}
        self.segment_key = self.fingerprint + "/" + (words.dictionary if words is not None else "")
        if words is None:
            self._load_all()

    def _load_all(self) -> None:
        self._jieba = jieba.Tokenizer()
        for word in self.user_words:
            self._jieba.add_word(word.lower(), freq=50000)
        self._words = None

    def tokenize(self, text: str) -> list[str]:
        """Search-mode tokens (words and their parts), lower case, without punctuation and stopwords."""
        with self._lock:  # jieba's lazy initialisation is not thread-safe
            known = self._tokens.get(text)
            if known is not None:
                return _pieces(known)
            if self._words is not None:
                tokens = self._tokenize_partial(text)
            else:
                tokens = self._filter(self._jieba.lcut_for_search(text.lower()))
                if self._store is not None and len(self._fresh) < MAX_KEPT_TOKENS:
                    self._fresh.append((self.fingerprint, _digest(text), _SEPARATOR.join(tokens)))
            if self._store is not None:
                self._tokens[text] = tokens
            return list(tokens)

    def _tokenize_partial(self, text: str) -> list[str]:
        words = self._words
        assert words is not None
        digest = _digest(text)  # the token cache's key (a chunk's digest)
        known = words.cached_tokens(self.fingerprint, digest)
        if known is not None:
            return known
        tokens = self._filter(self._cut(text).lcut_for_search(text.lower()))
        if len(self._fresh) < MAX_KEPT_TOKENS:
            self._fresh.append((self.fingerprint, digest, _SEPARATOR.join(tokens)))
        return tokens

    def _cut(self, text: str) -> jieba.Tokenizer:
        """The jieba tokenizer to cut a new text with: holding its substrings' dictionary entries, or
        (after `partial_texts` texts) the whole dictionary."""
        words = self._words
        if self._partial_left <= 0 or words is None:
            if words is not None:
                self._load_all()
            return self._jieba
        self._partial_left -= 1
        if self._partial is None:
            self._partial = UserWords(words, self.user_words)
        self._jieba.FREQ, self._jieba.total = self._partial.frequencies(text.lower()), self._partial.total
        self._jieba.initialized = True
        return self._jieba

    @staticmethod
    def _filter(tokens: Iterable[str]) -> list[str]:
        return [token for token in (t.strip() for t in tokens) if token and _KEEP.search(token) and token not in STOPWORDS]

    def reopen(self) -> None:
        """In a forked child: the dictionary and token tables through a connection of its own, and a lock
        no thread of the parent can be holding (forked.py)."""
        self._lock = threading.Lock()
        if self._store is not None:
            self._store.reopen()

    def save(self) -> None:
        """Keep the tokens computed here in the token cache (a build calls it once, at the end)."""
        if self._store is not None:
            self._store.remember_tokens(self._fresh + self._fresh_pieces)
        self._fresh, self._fresh_pieces = [], []

    def segment(self, text: str) -> list[str]:
        """Precise-mode pieces of the lower-cased text, in order, nothing dropped: joined they give it back.

        In a build: from the memo (the serving version's guide table holds every sample question's,
        title's and alias's), else from the token cache's table, else cut like `tokenize`."""
        with self._lock:
            known = self._segments.get(text)
            if known is not None:
                return _pieces(known)
            if self._words is None:
                pieces = self._jieba.lcut(text.lower())
            else:
                stored = self._words.cached_tokens(SEGMENTS + self.segment_key, _digest(text))
                pieces = stored if stored is not None else self._cut(text).lcut(text.lower())
                if stored is not None:
                    self._segments[text] = pieces
                    return list(pieces)
            if self._store is not None:
                self._segments[text] = pieces
                # Pieces are joined like tokens; a text holding the separator itself is not kept.
                if len(self._fresh_pieces) < MAX_KEPT_SEGMENTS and not any(_SEPARATOR in p for p in pieces):
                    self._fresh_pieces.append((SEGMENTS + self.segment_key, _digest(text), _SEPARATOR.join(pieces)))
            return list(pieces)

    def preload(self, tokens: dict[str, str], segments: dict[str, str]) -> None:
        """Texts already cut under this very dictionary (`segment_key`), their pieces joined by U+001F:
        a build's memo."""
        self._tokens.update(tokens)
        self._segments.update(segments)


def _pieces(known: list[str] | str) -> list[str]:
    """A memo entry as a new list (a joined one is split: most preloaded texts are never asked for)."""
    if isinstance(known, str):
        return known.split(_SEPARATOR) if known else []
    return list(known)


def _digest(text: str) -> str:
    """The token cache's key of a text (a chunk's digest)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TokenCache:
    """Tokens already computed, by (dictionary fingerprint, text hash), in a SQLite file.

    Rebuilding after one edit among thousands of guides then tokenizes only the edited chunks
    (unless a title or alias changed: that changes the dictionary and every text is re-read).
    A chunk's tokens are stored as one string joined by U+001F (jieba never puts a control
    character inside a token), which reads back ~5x faster than the JSON list stored before
    (table ``tokens``, left unused).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS token_lists (dictionary TEXT, digest TEXT, tokens TEXT, PRIMARY KEY (dictionary, digest))"
        )

    def close(self) -> None:
        self._db.close()

    def tokenize_all(self, tokenizer: Tokenizer, texts: Sequence[str], digests: Sequence[str]) -> list[list[str]]:
        found: dict[str, list[str]] = {}
        unique = list(dict.fromkeys(digests))
        for start in range(0, len(unique), 900):
            batch = unique[start : start + 900]
            rows = self._db.execute(
                f"SELECT digest, tokens FROM token_lists WHERE dictionary = ? AND digest IN ({','.join('?' * len(batch))})",
                [tokenizer.fingerprint, *batch],
            )
            found.update((digest, tokens.split(_SEPARATOR) if tokens else []) for digest, tokens in rows)
        fresh = {digest: tokenizer.tokenize(text) for digest, text in zip(digests, texts, strict=True) if digest not in found}
        if fresh:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO token_lists VALUES (?, ?, ?)",
                    [(tokenizer.fingerprint, digest, _SEPARATOR.join(tokens)) for digest, tokens in fresh.items()],
                )
            found.update(fresh)
        return [found[digest] for digest in digests]


def term_counts(documents: Sequence[Sequence[str]], vocabulary: dict[str, int] | None = None) -> tuple[sparse.csr_matrix, list[str]]:
    """(documents x terms) token counts and the terms, numbered in order of first appearance.

    With `vocabulary`, new terms are appended to it (so counts of other documents can be added or
    subtracted in the same columns)."""
    vocabulary = {} if vocabulary is None else vocabulary
    lengths = np.fromiter((len(tokens) for tokens in documents), dtype=np.int64, count=len(documents))
    ids = np.fromiter((vocabulary.setdefault(token, len(vocabulary)) for tokens in documents for token in tokens),
                      dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
    counts = sparse.csr_matrix((np.ones(len(ids), dtype=np.int32), (rows, ids)), shape=(len(documents), len(vocabulary)))
    counts.sum_duplicates()
    return counts, list(vocabulary)


class BM25Index:
    """Per-chunk BM25 term weights in a sparse matrix, so scoring a question is a column sum."""

    def __init__(self, vocabulary: dict[str, int], weights: sparse.csc_matrix, idf: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.weights = weights.tocsc()  # (chunks x terms) BM25 weight of each term in each chunk
        self.idf = idf
        self.max_idf = float(idf.max()) if idf.size else 1.0

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> BM25Index:
        return cls.from_counts(*term_counts(documents))

    @classmethod
    def from_counts(cls, counts: sparse.csr_matrix, terms: Sequence[str]) -> BM25Index:
        """BM25 from a (documents x terms) count matrix; terms no document contains are left out.

        Vectorised (a 5,000-guide knowledge base has ~3 million tokens, and calibration builds
        one index per fold); the arithmetic is the classic per-document loop's, in the same
        float32 steps, so the weights are bit for bit those of that loop (tests compare them)."""
        counts = counts.tocsr()
        counts.eliminate_zeros()
        counts.sort_indices()
        n_rows = counts.shape[0]
        frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        present = np.flatnonzero(frequency)
        if len(present) < counts.shape[1]:  # e.g. calibration removed the only chunks that had them
            counts = counts[:, present]
            terms = [terms[i] for i in present]
            frequency = frequency[present]
        vocabulary = {term: index for index, term in enumerate(terms)}
        n_docs = max(n_rows, 1)
        from knowledge.index.fold_bm25 import row_sums  # it imports this module's constants

        lengths = row_sums(counts).astype(np.float32)
        average = float(lengths.mean()) if n_rows else 1.0
        df = frequency.astype(np.float32)
        idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf = counts.data.astype(np.float32)
        # Each entry's norm is its row's (the same float32 steps per row, then repeated): no index array
        # as long as the ~1.5 million entries (fresh memory's page faults are slow on this machine).
        norm = np.repeat(K1 * (1 - B + B * lengths / max(average, 1e-6)), np.diff(counts.indptr)) if len(tf) else tf
        values = idf[counts.indices] * tf * (K1 + 1) / (tf + norm) if len(tf) else tf
        # The values are already in the sorted CSR order of `counts`: CSR to CSC is one counting pass
        # (the same matrix, arrays and dtypes as going through COO, which sorted all ~3 million entries).
        weights = sparse.csr_matrix((np.asarray(values, dtype=np.float32), counts.indices, counts.indptr),
                                    shape=(n_rows, len(terms))).tocsc()
        return cls(vocabulary, weights, idf)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """Raw BM25 score of every chunk for these query tokens."""
        columns = [self.vocabulary[token] for token in tokens if token in self.vocabulary]
        if not columns:
            return np.zeros(self.weights.shape[0], dtype=np.float32)
        # Column by column, in the question's order, adding in float32: the arithmetic of the sparse
        # slice-and-sum this replaces (bit for bit, tests compare), without building a sparse matrix
        # per question (~0.3 ms of a 5,000-guide build's ~4,000 calibration questions each).
        weights = self.weights
        total = np.zeros(weights.shape[0], dtype=np.float32)
        for column in columns:
            start, end = weights.indptr[column], weights.indptr[column + 1]
            total[weights.indices[start:end]] += weights.data[start:end]
        return total

    def coverage(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 divided by the question's upper bound: in [0, 1), comparable across questions."""
        if not tokens:
            return np.zeros(self.weights.shape[0], dtype=np.float32)
        bound = sum(
            (float(self.idf[self.vocabulary[token]]) if token in self.vocabulary else self.max_idf) * (K1 + 1)
            for token in tokens
        )
        return self.scores(tokens) / max(bound, 1e-6)

    def save(self, folder: Path) -> None:
        # Uncompressed: zlib cost ~0.4 s per build at 5,000 guides; load_npz reads both kinds.
        sparse.save_npz(folder / "bm25_weights.npz", self.weights.tocsr(), compressed=False)
        np.save(folder / "bm25_idf.npy", self.idf)
        (folder / "bm25_vocabulary.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        weights = sparse.load_npz(folder / "bm25_weights.npz").tocsc()
        idf = np.load(folder / "bm25_idf.npy")
        vocabulary = json.loads((folder / "bm25_vocabulary.json").read_text(encoding="utf-8"))
        return cls(vocabulary, weights, idf)




class ChunkTerms:
    """Token counts of every chunk and which lexical unit each belongs to, so BM25 over the units
    (and over the units with some chunks left out, as calibration's folds need) is sparse
    arithmetic instead of re-counting ~3 million tokens per index.

    Usage::

        terms = ChunkTerms(chunk_tokens, [lexical_unit(c) for c in chunks])
        index = terms.index()                      # BM25 over the units, in first-appearance order
        fold = terms.index(left_out={3, 17})       # the same with chunks 3 and 17 removed
        terms.fold({3, 17}).coverage(tokens)       # its coverage, computed only for the asked terms
    """

    def __init__(self, chunk_tokens: Sequence[Sequence[str]], chunk_units: Sequence[str | None]) -> None:
        self.counts, self.terms = term_counts(chunk_tokens)
        self._group(chunk_units)

    @classmethod
    def from_counts(cls, counts: sparse.csr_matrix, terms: list[str], chunk_units: Sequence[str | None]) -> ChunkTerms:
        """From a (chunks x terms) count matrix as term_counts makes it (terms.TermRows keeps them between builds)."""
        made = cls.__new__(cls)
        made.counts, made.terms = counts, terms
        made._group(chunk_units)
        return made

    def _group(self, chunk_units: Sequence[str | None]) -> None:
        self.units = list(dict.fromkeys(unit for unit in chunk_units if unit is not None))
        row = {unit: index for index, unit in enumerate(self.units)}
        # One C-level pass (map, fromiter) instead of Python tuples for each of ~94,000 chunks.
        of_chunk = np.fromiter(map(row.get, chunk_units), dtype=np.float64, count=len(chunk_units))  # NaN: no unit
        cols = np.flatnonzero(~np.isnan(of_chunk))
        rows = of_chunk[cols].astype(np.int64)
        self.members = sparse.csr_matrix((np.ones(len(cols), dtype=np.int32), (rows, cols)),
                                         shape=(len(self.units), len(chunk_units)))
        self.unit_counts = (self.members @ self.counts).tocsr()

    def index(self, left_out: Iterable[int] = ()) -> BM25Index:
        removed = sorted(set(left_out))
        if not removed:
            return BM25Index.from_counts(self.unit_counts, self.terms)
        counts = self.unit_counts - (self.members[:, removed] @ self.counts[removed]).tocsr()
        return BM25Index.from_counts(counts, self.terms)

    def fold(self, left_out: Iterable[int]) -> FoldBM25:
        """`index(left_out)`'s coverage, computed per asked term (fold_bm25.py): calibration's folds."""
        from knowledge.index.fold_bm25 import FoldBM25  # it imports this module's constants

        return FoldBM25(self, left_out)

    def fold_base(self) -> FoldBase:
        """What every fold shares (computed once)."""
        from knowledge.index.fold_bm25 import FoldBase

        base = getattr(self, "_fold_base", None)
        if base is None:
            base = self._fold_base = FoldBase(self)
        return base
