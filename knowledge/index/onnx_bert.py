"""The query embedding in ONNX Runtime: the same plain BERT mean-pooling model that numpy_bert.py
reads, written once as an ONNX graph (built from the weights with the `onnx` helper API: no torch
to export) and run by onnxruntime with one thread.

Why: the action server embeds every question, and torch (sentence-transformers) spent ~9.5 ms on
one question plus ~260 MB of resident memory; ONNX Runtime with its graph fusions takes ~4 ms
(benchmarks/bench_query.py) and the action server no longer imports torch at all.

The graph is exported lazily by the first process that needs it, into
``var/cache/onnx/<model fingerprint>-<EXPORT_VERSION>/``: ``model.onnx`` plus ``meta.json`` (file
size, sha256, and the numpy engine's vectors of a few probe texts). The export is checked against
numpy_bert.py (same weights, independent code) before it is published with an atomic rename under
a file lock, so two action servers starting at once export it once and never read half a file. On
load the size, checksum and probe vectors are checked again; a damaged file is deleted and
exported again, once (the caller falls back to torch if that fails too, never crashing the server).

Only the models numpy_bert.supported() accepts (model_type bert, absolute positions, erf GELU,
mean pooling): anything else returns None from `OnnxBert.load` and the caller keeps torch.

Usage::

    engine = OnnxBert.load(model_folder, cache_dir=Path("var/cache/onnx"), model_id="m3e-small-…")
    vectors = engine.encode(["开公司要什么材料"])   # (1, 512) float32, unit length (None: unsupported)
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.index import numpy_bert
from knowledge.index.store import file_sha256

log = logging.getLogger(__name__)

# Bump when the graph written by `_graph` changes: old cached exports are then ignored.
EXPORT_VERSION = "v1"
OPSET = 17  # LayerNormalization; onnxruntime 1.31 runs it and fuses attention / GELU patterns
PROBES = ("开公司要什么材料", "ETC办理需要什么证件？", "护照过期了怎么办", "hello 社保卡 abc")
PROBE_TOLERANCE = 1e-4  # max |difference| to the numpy engine (measured ~1e-6; a damaged file is far off)


class OnnxExportError(RuntimeError):
    """The cached ONNX file is missing, damaged or does not reproduce the model."""


def _graph(folder: Path, config: dict[str, Any], weights: dict[str, np.ndarray]) -> Any:
    """The encoder + mean pooling + L2 normalisation as an ONNX model (batch × tokens, padded with
    attention_mask)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    heads = int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    w = {key: np.asarray(value, dtype=np.float32) for key, value in weights.items()}
    size = w["embeddings.word_embeddings.weight"].shape[1]
    head = size // heads

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return node("LayerNormalization", [x, const(prefix + ".weight", w[prefix + ".weight"]),
                                           const(prefix + ".bias", w[prefix + ".bias"])], out, axis=-1, epsilon=eps)

    def linear(x: str, prefix: str, out: str) -> str:
        product = node("MatMul", [x, const(prefix + ".weight_t", w[prefix + ".weight"].T)], out + "_mm")
        return node("Add", [product, const(prefix + ".bias", w[prefix + ".bias"])], out)

    # embeddings: word + position (0..n-1) + token type 0, then LayerNorm
    words = node("Gather", [const("embeddings.word_embeddings.weight", w["embeddings.word_embeddings.weight"]),
                            "input_ids"], "emb_words")
    # positions 0..n-1 of every row: a running count of ones (no scalar Shape/Gather/Range, which
    # onnxruntime's optimiser rewrote into an invalid Slice)
    nodes.append(helper.make_node("ConstantOfShape", [node("Shape", ["input_ids"], "ids_shape")], ["ids_ones"],
                                  name="ids_ones", value=helper.make_tensor("v", TensorProto.INT64, [1], [1])))
    one = const("one", np.array(1, dtype=np.int64))
    positions = node("Sub", [node("CumSum", ["ids_ones", one], "ids_count"), one], "positions")
    pos = node("Gather", [const("embeddings.position_embeddings.weight", w["embeddings.position_embeddings.weight"]),
                          positions], "emb_pos")
    summed = node("Add", [node("Add", [words, pos], "emb_wp"),
                          const("token_type0", w["embeddings.token_type_embeddings.weight"][0])], "emb_sum")
    x = layer_norm(summed, "embeddings.LayerNorm", "emb_out")

    # padding mask, added to attention scores: 0 for tokens, a large negative for padding
    mask = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inverted = node("Sub", [const("one_f", np.array(1.0, dtype=np.float32)), mask], "mask_inv")
    bias = node("Mul", [inverted, const("neg_big", np.array(-1e9, dtype=np.float32))], "mask_bias")
    bias = node("Unsqueeze", [bias, const("axes_1_2", np.array([1, 2], dtype=np.int64))], "mask_bias4")
    split_shape = const("split_shape", np.array([0, 0, heads, head], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, size], dtype=np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(head), dtype=np.float32))
    half, root2 = const("half", np.array(0.5, dtype=np.float32)), const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))

    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}."
        q, k, v = (node("Reshape", [linear(x, p + f"attention.self.{n}", f"l{layer}_{n}"), split_shape], f"l{layer}_{n}_4d")
                   for n in ("query", "key", "value"))
        q = node("Transpose", [q], f"l{layer}_qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [k], f"l{layer}_kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [v], f"l{layer}_vt", perm=[0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"l{layer}_qk"), scale], f"l{layer}_scaled")
        probs = node("Softmax", [node("Add", [scores, bias], f"l{layer}_masked")], f"l{layer}_probs", axis=-1)
        context = node("Transpose", [node("MatMul", [probs, v], f"l{layer}_ctx")], f"l{layer}_ctx_t", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, merge_shape], f"l{layer}_ctx_2d")
        attended = node("Add", [linear(context, p + "attention.output.dense", f"l{layer}_ao"), x], f"l{layer}_res1")
        x = layer_norm(attended, p + "attention.output.LayerNorm", f"l{layer}_ln1")
        inner = linear(x, p + "intermediate.dense", f"l{layer}_inter")
        erf = node("Erf", [node("Div", [inner, root2], f"l{layer}_div")], f"l{layer}_erf")
        gelu = node("Mul", [node("Mul", [inner, half], f"l{layer}_half"),
                            node("Add", [erf, "one_f"], f"l{layer}_erf1")], f"l{layer}_gelu")
        out = node("Add", [linear(gelu, p + "output.dense", f"l{layer}_out"), x], f"l{layer}_res2")
        x = layer_norm(out, p + "output.LayerNorm", f"l{layer}_ln2")

    # mean over real tokens, then unit length (sentence-transformers: F.normalize, eps 1e-12)
    weights3 = node("Unsqueeze", [mask, const("axis_2", np.array([2], dtype=np.int64))], "mask3")
    axis_1 = const("axis_1", np.array([1], dtype=np.int64))
    total = node("ReduceSum", [node("Mul", [x, weights3], "masked_x"), axis_1], "pool_sum", keepdims=0)
    count = node("Max", [node("ReduceSum", [weights3, axis_1], "pool_n", keepdims=0),
                         const("tiny", np.array(1e-9, dtype=np.float32))], "pool_n_min")
    pooled = node("Div", [total, count], "pooled")
    last = const("axis_last", np.array([-1], dtype=np.int64))
    norm = node("Sqrt", [node("ReduceSum", [node("Mul", [pooled, pooled], "squares"), last], "sum_sq", keepdims=1)], "norm")
    norm = node("Max", [norm, const("eps12", np.array(1e-12, dtype=np.float32))], "norm_min")
    node("Div", [pooled, norm], "sentence_embedding")

    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"]) for n in ("input_ids", "attention_mask")]
    output = helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", size])
    graph = helper.make_graph(nodes, folder.name, ints, [output], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="govqa-onnx-bert")
    model.ir_version = 8  # readable by every onnxruntime since 1.10
    onnx.checker.check_model(model)
    return model


class OnnxBert:
    """An onnxruntime session over the exported model, with the model's own tokenizer."""

    def __init__(self, session: Any, tokenizer: Any, path: Path) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.path = path

    @staticmethod
    def export_dir(cache_dir: Path, model_id: str) -> Path:
        return cache_dir / f"{model_id}-{EXPORT_VERSION}"

    @classmethod
    def load(cls, folder: Path, *, cache_dir: Path, model_id: str, threads: int = 1) -> OnnxBert | None:
        """The engine for a model folder (exported on first use), or None when the model is not
        one this module reproduces. Raises OnnxExportError when the export cannot be made or read."""
        if not numpy_bert.supported(folder):
            return None
        target = cls.export_dir(cache_dir, model_id)
        try:
            return cls._open(folder, target, threads)
        except OnnxExportError as error:
            # A damaged or stale file (disk full, a copy cut short, an edited file): delete it and
            # export again, once. The caller turns a second failure into a fallback to torch.
            log.warning("ONNX 模型文件 %s 损坏或不可用（%s），正在重新生成", target / "model.onnx", error)
            cls._discard(target)
            return cls._open(folder, target, threads)

    @classmethod
    def _open(cls, folder: Path, target: Path, threads: int) -> OnnxBert | None:
        tokenizer = _tokenizer(folder)
        if tokenizer is None:
            return None
        meta = cls.ensure_export(folder, target)
        if meta is None:
            return None
        model = target / "model.onnx"
        if not model.is_file() or model.stat().st_size != meta["size"] or file_sha256(model) != meta["sha256"]:
            raise OnnxExportError("文件大小或校验和与导出时不符")
        engine = cls(_session(model, threads), tokenizer, model)
        engine.check(meta["probes"])
        return engine

    @classmethod
    def ensure_export(cls, folder: Path, target: Path) -> dict[str, Any] | None:
        """meta.json of the export in target, exporting it first if needed (one process at a time:
        an exclusive lock on target/.lock; the files appear by atomic rename, meta.json last)."""
        meta_path = target / "meta.json"
        if meta_path.is_file():
            return _read_meta(meta_path)
        target.mkdir(parents=True, exist_ok=True)
        with open(target / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
            if meta_path.is_file():  # another process exported it while we waited
                return _read_meta(meta_path)
            light = numpy_bert.NumpyBert.load(folder)
            if light is None:
                return None
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            model = _graph(folder, config, light.w)
            with tempfile.NamedTemporaryFile(dir=target, prefix=".model-", suffix=".onnx", delete=False) as handle:
                handle.write(model.SerializeToString())
                temporary = Path(handle.name)
            try:
                probes = light.encode(list(PROBES))
                cls(_session(temporary, 1), _tokenizer(folder), temporary).check(probes.tolist())
                meta = {"model": folder.name, "export": EXPORT_VERSION, "size": temporary.stat().st_size,
                        "sha256": file_sha256(temporary), "probes": probes.tolist()}
                os.replace(temporary, target / "model.onnx")
            finally:
                temporary.unlink(missing_ok=True)
            _write_atomic(meta_path, json.dumps(meta))
            log.info("已导出 ONNX 查询模型 %s", target / "model.onnx")
            return meta

    @staticmethod
    def _discard(target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        with open(target / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # meta first: a process that sees no meta.json exports again instead of trusting the file
            for name in ("meta.json", "model.onnx"):
                (target / name).unlink(missing_ok=True)

    def check(self, probes: list[list[float]]) -> None:
        """The probe texts' vectors must be the numpy engine's (a damaged file would not be)."""
        try:
            got = self.encode(list(PROBES))
        except Exception as error:  # onnxruntime raises its own exception types
            raise OnnxExportError(f"运行失败：{error}") from error
        difference = float(np.abs(got - np.asarray(probes, dtype=np.float32)).max())
        if not difference <= PROBE_TOLERANCE:  # also catches NaN
            raise OnnxExportError(f"探测文本的向量与原模型相差 {difference:.2e}")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (padded together in one run)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        (vectors,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)


def _tokenizer(folder: Path) -> Any:
    """The model's tokenizer with numpy_bert's truncation (the same max length as sentence-transformers)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(numpy_bert.truncation_length(folder))
    return tokenizer


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # One thread by default: the machine has 2 cores shared by Rasa, the action servers and FAISS;
    # a second thread bought little for one short question (README「检索怎么工作」) and spins.
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no per-session optimisation chatter in the server log
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's Fail / InvalidProtobuf / InvalidGraph
        raise OnnxExportError(f"onnxruntime 无法读取：{error}") from error


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        if {"size", "sha256", "probes"} <= set(meta):
            return meta
    except (OSError, ValueError):
        pass
    raise OnnxExportError(f"{path.name} 无法读取")


def _write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".meta-", delete=False, encoding="utf-8") as handle:
        handle.write(text)
        temporary = Path(handle.name)
    os.replace(temporary, path)
