"""A numpy forward pass of a plain BERT sentence-transformers model (mean pooling), for builds that
embed only a handful of new chunks.

Why: a rebuild after editing one guide embeds one or two chunks, and importing torch plus
sentence-transformers and loading the model costs 3.5-5 s on the 2-core machine: more than the
rest of the rebuild. This module reads the same weights (pytorch_model.bin through a restricted
unpickler that only accepts tensors, or model.safetensors), tokenizes with the model's own
tokenizer.json (the `tokenizers` package) and runs the encoder in float32 numpy in ~0.3 s.

Its vectors match sentence-transformers' to ~1e-6 (tests/knowledge/index/test_numpy_bert.py),
the same order as torch's own difference between embedding a text alone and inside a padded
batch, which the embedding cache already mixes. Only the configuration it reproduces exactly is
accepted (`supported()`): model_type bert, absolute positions, erf GELU, mean pooling with
optional normalisation; any other model folder (e.g. a CLS-pooling bge) falls back to torch.

Usage::

    engine = NumpyBert.load(model_folder)      # None when the folder is not such a model
    vectors = engine.encode(["开公司要什么材料"])   # (1, 512) float32, unit length
"""

from __future__ import annotations

import json
import math
import mmap
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "IntStorage": np.int32, "HalfStorage": np.float16,
           "DoubleStorage": np.float64}


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_rest: Any) -> np.ndarray:
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size), strides=tuple(s * item for s in stride))
    if not storage.flags.writeable and view.flags.c_contiguous:
        return view  # a read-only view of the memory-mapped file: the same bytes, nothing copied
    return np.array(view)  # own the memory: the zip member bytes are released


class _TensorUnpickler(pickle.Unpickler):
    """Unpickles a torch state dict into numpy arrays; refuses every other global (no code runs)."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str, data: bytes, mapped: mmap.mmap | None = None) -> None:
        import io

        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._prefix = prefix
        self._mapped = mapped

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(f"unexpected global in model weights: {module}.{name}")

    def persistent_load(self, pid: Any) -> np.ndarray:
        _kind, storage_type, key, _location, _numel = pid
        name = f"{self._prefix}/data/{key}"
        info = self._archive.getinfo(name)
        if self._mapped is not None and info.compress_type == zipfile.ZIP_STORED:
            # torch stores tensors uncompressed: read them in place from the mapped file (only the
            # pages a forward pass touches are read; ~100 MB less to allocate and copy per build)
            header = self._mapped[info.header_offset : info.header_offset + 30]
            if header[:4] == b"PK\x03\x04":
                start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
                dtype = np.dtype(_DTYPES[storage_type])
                return np.frombuffer(self._mapped, dtype=dtype, count=info.file_size // dtype.itemsize, offset=start)
        return np.frombuffer(self._archive.read(name), dtype=_DTYPES[storage_type])


def _read_weights(folder: Path) -> dict[str, np.ndarray] | None:
    if (folder / "model.safetensors").is_file():
        from safetensors.numpy import load_file

        return {name: np.asarray(value, dtype=np.float32) for name, value in load_file(str(folder / "model.safetensors")).items()}
    path = folder / "pytorch_model.bin"
    if not path.is_file() or not zipfile.is_zipfile(path):
        return None  # legacy (pre-zip) torch files: torch reads them
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)  # lives as long as the arrays on it
        pickled = next(name for name in archive.namelist() if name.endswith("/data.pkl"))
        prefix = pickled.rsplit("/", 1)[0]
        state = _TensorUnpickler(archive, prefix, archive.read(pickled), mapped).load()
    return {name.removeprefix("bert."): value for name, value in state.items()}


def supported(folder: Path) -> bool:
    """Whether the folder holds a model this module reproduces exactly (see the module docstring)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        return False
    if config.get("position_embedding_type", "absolute") != "absolute" or not (folder / "tokenizer.json").is_file():
        return False
    modules = folder / "modules.json"
    if modules.is_file():  # a sentence-transformers pipeline: only Transformer → mean Pooling (→ Normalize)
        try:
            kinds = [m["type"].rsplit(".", 1)[-1] for m in json.loads(modules.read_text(encoding="utf-8"))]
            if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
                return False
            pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, IndexError):
            return False
        modes = {key for key, value in pooling.items() if key.startswith("pooling_mode") and value}
        if modes != {"pooling_mode_mean_tokens"}:
            return False
    return True


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(np.float32)



def truncation_length(folder: Path) -> int:
    """Where sentence-transformers truncates a text of this model: min(max positions, the tokenizer's
    model_max_length), unless sentence_bert_config.json sets max_seq_length."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    max_length = int(config.get("max_position_embeddings", 512))
    try:
        tok_config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        max_length = min(max_length, int(tok_config.get("model_max_length", max_length)))
    except (OSError, ValueError, TypeError):
        pass
    bert_config = folder / "sentence_bert_config.json"
    if bert_config.is_file():
        max_length = int(json.loads(bert_config.read_text(encoding="utf-8")).get("max_seq_length") or max_length)
    return max_length

class NumpyBert:
    """The encoder and tokenizer of one model folder, in numpy."""

    def __init__(self, folder: Path, config: dict[str, Any], weights: dict[str, np.ndarray], tokenizer: Any, max_length: int) -> None:
        self.folder = folder
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.w = weights
        self.tokenizer = tokenizer
        self.max_length = max_length

    @classmethod
    def load(cls, folder: Path) -> NumpyBert | None:
        """The engine for a model folder, or None when it is not a supported model."""
        if not supported(folder):
            return None
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        weights = _read_weights(folder)
        if weights is None or "embeddings.word_embeddings.weight" not in weights:
            return None
        max_length = truncation_length(folder)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length)
        return cls(folder, config, weights, tokenizer, max_length)

    def _encode_one(self, ids: np.ndarray) -> np.ndarray:
        w = self.w
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        size = x.shape[1]
        head = size // self.heads
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def linear(value: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return value @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q = linear(x, "attention.self.query").reshape(n, self.heads, head).transpose(1, 0, 2)
            k = linear(x, "attention.self.key").reshape(n, self.heads, head).transpose(1, 0, 2)
            v = linear(x, "attention.self.value").reshape(n, self.heads, head).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / np.float32(math.sqrt(head))
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, size)
            x = _layer_norm(linear(context, "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
            inner = _gelu(linear(x, "intermediate.dense"))
            x = _layer_norm(linear(inner, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        pooled = x.mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (texts one at a time: no padding)."""
        from threadpoolctl import threadpool_limits

        # One BLAS thread: the matrices of one text are small, and OpenBLAS's spinning threads made
        # one chunk take 1.5 s instead of 0.06 s on the shared 2-core machine.
        with threadpool_limits(limits=1):
            rows = [self._encode_one(np.asarray(self.tokenizer.encode(text).ids, dtype=np.int64)) for text in texts]
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
