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
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import jieba
import numpy as np
from scipy import sparse

K1 = 1.5
B = 0.75

# Function words that carry no meaning for finding the right guide.
STOPWORDS = frozenset(
    "的 了 吗 呢 啊 吧 呀 嘛 哦 么 我 我们 你 你们 您 他 她 它 咱 咱们 请问 请 一下 是 在 和 与 及 或 "
    "就 都 也 还 这 那 这个 那个 个 一个 有 要 想 得 地 着 过 把 被 给 让 从 对 于 呗 啦 嗯 哈".split()
)
_KEEP = re.compile(r"[\w]", re.UNICODE)

jieba.setLogLevel(60)  # jieba prints its dictionary loading to stderr otherwise


class Tokenizer:
    """A jieba tokenizer of its own (not jieba's global one) with the knowledge base's names."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self.user_words = sorted({word.strip() for word in user_words if word and word.strip()})
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        for word in self.user_words:
            self._jieba.add_word(word.lower(), freq=50000)
        # Tokens depend on the dictionary: cached tokens are keyed by this too.
        self.fingerprint = hashlib.sha256("\n".join(self.user_words).encode("utf-8")).hexdigest()[:16]

    def tokenize(self, text: str) -> list[str]:
        """Search-mode tokens (words and their parts), lower case, without punctuation and stopwords."""
        with self._lock:  # jieba's lazy initialisation is not thread-safe
            tokens = self._jieba.lcut_for_search(text.lower())
        return [token for token in (t.strip() for t in tokens) if token and _KEEP.search(token) and token not in STOPWORDS]


class TokenCache:
    """Tokens already computed, by (dictionary fingerprint, text hash), in a SQLite file.

    Rebuilding after one edit among thousands of guides then tokenizes only the edited chunks
    (unless a title or alias changed: that changes the dictionary and every text is re-read).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS tokens (dictionary TEXT, digest TEXT, tokens TEXT, PRIMARY KEY (dictionary, digest))"
        )

    def close(self) -> None:
        self._db.close()

    def tokenize_all(self, tokenizer: Tokenizer, texts: Sequence[str], digests: Sequence[str]) -> list[list[str]]:
        found: dict[str, list[str]] = {}
        unique = list(dict.fromkeys(digests))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            rows = self._db.execute(
                f"SELECT digest, tokens FROM tokens WHERE dictionary = ? AND digest IN ({','.join('?' * len(batch))})",
                [tokenizer.fingerprint, *batch],
            )
            found.update((digest, json.loads(tokens)) for digest, tokens in rows)
        fresh = {digest: tokenizer.tokenize(text) for digest, text in zip(digests, texts, strict=True) if digest not in found}
        if fresh:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
                    [(tokenizer.fingerprint, digest, json.dumps(tokens, ensure_ascii=False)) for digest, tokens in fresh.items()],
                )
            found.update(fresh)
        return [found[digest] for digest in digests]


class BM25Index:
    """Per-chunk BM25 term weights in a sparse matrix, so scoring a question is a column sum."""

    def __init__(self, vocabulary: dict[str, int], weights: sparse.csc_matrix, idf: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.weights = weights  # (chunks x terms) BM25 weight of each term in each chunk
        self.idf = idf
        self.max_idf = float(idf.max()) if idf.size else 1.0

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> BM25Index:
        vocabulary: dict[str, int] = {}
        counts = [Counter(tokens) for tokens in documents]
        for counter in counts:
            for token in counter:
                vocabulary.setdefault(token, len(vocabulary))
        n_docs = max(len(documents), 1)
        lengths = np.array([len(tokens) for tokens in documents], dtype=np.float32)
        average = float(lengths.mean()) if len(documents) else 1.0
        frequency = np.zeros(len(vocabulary), dtype=np.float32)
        rows, cols, tfs = [], [], []
        for row, counter in enumerate(counts):
            for token, tf in counter.items():
                col = vocabulary[token]
                frequency[col] += 1
                rows.append(row)
                cols.append(col)
                tfs.append(tf)
        idf = np.log(1.0 + (n_docs - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
        tf = np.array(tfs, dtype=np.float32)
        row_index = np.array(rows, dtype=np.int64)
        col_index = np.array(cols, dtype=np.int64)
        norm = K1 * (1 - B + B * lengths[row_index] / max(average, 1e-6)) if len(tfs) else tf
        values = idf[col_index] * tf * (K1 + 1) / (tf + norm) if len(tfs) else tf
        weights = sparse.csc_matrix((values, (row_index, col_index)), shape=(len(documents), len(vocabulary)), dtype=np.float32)
        return cls(vocabulary, weights, idf)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """Raw BM25 score of every chunk for these query tokens."""
        columns = [self.vocabulary[token] for token in tokens if token in self.vocabulary]
        if not columns:
            return np.zeros(self.weights.shape[0], dtype=np.float32)
        return np.asarray(self.weights[:, columns].sum(axis=1), dtype=np.float32).ravel()

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
        sparse.save_npz(folder / "bm25_weights.npz", self.weights.tocsr())
        np.save(folder / "bm25_idf.npy", self.idf)
        (folder / "bm25_vocabulary.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        weights = sparse.load_npz(folder / "bm25_weights.npz").tocsc()
        idf = np.load(folder / "bm25_idf.npy")
        vocabulary = json.loads((folder / "bm25_vocabulary.json").read_text(encoding="utf-8"))
        return cls(vocabulary, weights, idf)


