"""The numpy engine a rebuild uses for a few new chunks gives sentence-transformers' vectors, and
only for models it reproduces exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from knowledge.index.embedding import Embedder
from knowledge.index.numpy_bert import NumpyBert, supported

TEXTS = [
    "企业开办（公司设立登记）：申请材料。1. 《公司登记（备案）申请书》原件1份 2. 公司章程原件1份",
    "开公司要带什么材料",
    "ETC办理需要什么",  # upper-case Latin: the embedder lower-cases first
    "今天天气怎么样？",
    "用水报装：办理时限。" + "受理后3个工作日内装表通水。" * 60,  # longer than 512 tokens: truncated like torch
]


def test_numpy_vectors_equal_sentence_transformers(embedder: Embedder) -> None:
    light = Embedder(embedder.spec, lowercase=embedder.lowercase, light_max_texts=len(TEXTS))
    got = light.encode(TEXTS)
    assert not light.loaded  # torch and the model were never loaded
    expected = np.stack([embedder.encode([text])[0] for text in TEXTS])
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_more_texts_than_the_setting_go_to_torch(embedder: Embedder) -> None:
    light = Embedder(embedder.spec, lowercase=embedder.lowercase, light_max_texts=2)
    light.encode(TEXTS[:3])
    assert light.loaded


def test_other_pooling_is_not_taken_for_a_mean_pooling_bert(embedder: Embedder, tmp_path: Path) -> None:
    folder = tmp_path / "cls-model"
    shutil.copytree(embedder.path, folder, ignore=shutil.ignore_patterns("*.bin", "*.safetensors"))
    assert supported(folder)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]), encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}), encoding="utf-8")
    assert not supported(folder)
    assert NumpyBert.load(folder) is None
