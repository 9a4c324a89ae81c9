"""The ONNX Runtime query engine: torch's vectors, one export shared safely by concurrent processes,
a damaged export rebuilt (or torch used), unsupported models on torch, identical retrieval, and an
action server that never imports torch."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge.index.builder import BuildReport
from knowledge.index.embedding import Embedder
from knowledge.index.evaluation import load_question_set
from knowledge.index.onnx_bert import OnnxBert, OnnxExportError
from knowledge.index.store import file_sha256
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import ROOT, Settings

pytestmark = pytest.mark.integration  # every test here needs the real model

TEXTS = [
    "开公司要带什么材料",
    "ETC办理需要什么",  # upper-case Latin: the embedder lower-cases first
    "Hello，我想问一下 Shebao 卡 PIN 码忘了怎么办？",
    "今天天气怎么样？",
    "用水报装：办理时限。" + "受理后3个工作日内装表通水。" * 60,  # longer than 512 tokens: truncated like torch
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A cache folder with one export made in this test session (the tests below damage copies of it)."""
    cache = tmp_path_factory.mktemp("onnx")
    OnnxBert.ensure_export(embedder.path, OnnxBert.export_dir(cache, embedder.model_id))
    return cache


def _copy(exported: Path, tmp_path: Path) -> Path:
    cache = tmp_path / "onnx"
    shutil.copytree(exported, cache)
    return cache


def test_onnx_vectors_equal_sentence_transformers(embedder: Embedder, exported: Path) -> None:
    onnx = Embedder(embedder.spec, lowercase=embedder.lowercase, threads=1, query_cache_size=0, query_engine="onnx",
                    onnx_cache_dir=exported)
    model = embedder._load()  # the SentenceTransformer itself: torch
    prepared = [text.lower() for text in TEXTS]
    expected = np.asarray(model.encode(prepared, normalize_embeddings=True), dtype=np.float32)
    single = np.concatenate([onnx.encode([text]) for text in TEXTS])
    assert onnx.query_engine_in_use == "onnx" and not onnx.loaded  # torch was never loaded by this embedder
    assert single.shape == expected.shape and single.dtype == np.float32
    assert np.abs(single - expected).max() < 1e-5
    batch = onnx._onnx.encode(prepared)  # padded together: the attention mask keeps each text's own vector
    assert np.abs(batch - expected).max() < 1e-5


def test_export_is_reused(embedder: Embedder, exported: Path, tmp_path: Path) -> None:
    cache = _copy(exported, tmp_path)
    model = OnnxBert.export_dir(cache, embedder.model_id) / "model.onnx"
    before = model.stat().st_mtime_ns
    engine = OnnxBert.load(embedder.path, cache_dir=cache, model_id=embedder.model_id)
    assert engine is not None and engine.path == model and model.stat().st_mtime_ns == before


def test_concurrent_processes_export_once(embedder: Embedder, tmp_path: Path) -> None:
    """Three processes starting at once: one exports under the lock, the others wait and read it."""
    script = (
        "import logging, sys; from pathlib import Path; logging.basicConfig(level=logging.INFO, stream=sys.stdout)\n"
        "from knowledge.index.onnx_bert import OnnxBert\n"
        f"engine = OnnxBert.load(Path({str(embedder.path)!r}), cache_dir=Path({str(tmp_path)!r}), "
        f"model_id={embedder.model_id!r})\n"
        "print('vector', round(float(engine.encode(['开公司要带什么材料'])[0, 0]), 6))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outputs = [child.communicate(timeout=300)[0] for child in children]
    assert all(child.returncode == 0 for child in children), outputs
    assert sum(output.count("已导出 ONNX 查询模型") for output in outputs) == 1, outputs
    assert len({line for output in outputs for line in output.splitlines() if line.startswith("vector")}) == 1
    folder = OnnxBert.export_dir(tmp_path, embedder.model_id)
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "meta.json", "model.onnx"]  # no temporary left


@pytest.mark.parametrize("damage", ["garbage", "truncated", "unreadable_by_onnxruntime", "meta"])
def test_damaged_export_is_rebuilt(embedder: Embedder, exported: Path, tmp_path: Path, damage: str,
                                   caplog: pytest.LogCaptureFixture) -> None:
    cache = _copy(exported, tmp_path)
    folder = OnnxBert.export_dir(cache, embedder.model_id)
    model, meta = folder / "model.onnx", folder / "meta.json"
    size = model.stat().st_size
    if damage == "garbage":
        with open(model, "r+b") as handle:
            handle.seek(size // 2)
            handle.write(os.urandom(4096))
    elif damage == "truncated":
        with open(model, "r+b") as handle:
            handle.truncate(size // 3)
    elif damage == "unreadable_by_onnxruntime":  # a checksum that matches the garbage: onnxruntime itself refuses it
        model.write_bytes(b"not an onnx model" * 100)
        info = json.loads(meta.read_text(encoding="utf-8"))
        info.update(size=model.stat().st_size, sha256=file_sha256(model))
        meta.write_text(json.dumps(info), encoding="utf-8")
    else:
        meta.write_text("{", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="knowledge.index.onnx_bert"):
        engine = OnnxBert.load(embedder.path, cache_dir=cache, model_id=embedder.model_id)
    assert engine is not None
    assert "损坏或不可用" in caplog.text and "正在重新生成" in caplog.text
    assert model.stat().st_size == size
    reference = OnnxBert.load(embedder.path, cache_dir=exported, model_id=embedder.model_id)
    assert np.abs(engine.encode(TEXTS[:2]) - reference.encode(TEXTS[:2])).max() < 1e-6


def test_an_export_that_cannot_be_made_falls_back_to_torch(embedder: Embedder, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise OnnxExportError("磁盘已满")

    monkeypatch.setattr(OnnxBert, "ensure_export", broken)
    fallback = Embedder(embedder.spec, threads=1, query_cache_size=0, query_engine="onnx", onnx_cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="knowledge.index.embedding"):
        vector = fallback.encode(["开公司要带什么材料"])  # answered all the same, by torch
    assert fallback.query_engine_in_use == "torch" and fallback.loaded
    assert "查询向量化无法使用 ONNX Runtime（磁盘已满），改用 torch" in caplog.text
    assert np.abs(vector - embedder._load().encode(["开公司要带什么材料"], normalize_embeddings=True)).max() < 1e-5


def test_a_failing_run_is_answered_by_torch(embedder: Embedder, exported: Path, caplog: pytest.LogCaptureFixture) -> None:
    onnx = Embedder(embedder.spec, threads=1, query_cache_size=0, query_engine="onnx", onnx_cache_dir=exported)
    assert onnx.query_engine_in_use == "onnx"

    def failing(_feeds: object) -> None:
        raise RuntimeError("模拟 onnxruntime 运行错误")

    onnx._onnx.session = type("Broken", (), {"run": lambda self, _names, feeds: failing(feeds)})()
    with caplog.at_level(logging.WARNING, logger="knowledge.index.embedding"):
        vector = onnx.encode(["开公司要带什么材料"])
    assert "ONNX Runtime 向量化失败" in caplog.text and onnx.query_engine_in_use == "torch" and onnx.loaded
    assert np.abs(vector - embedder._load().encode(["开公司要带什么材料"], normalize_embeddings=True)).max() < 1e-5


def test_a_model_the_engine_does_not_support_stays_on_torch(embedder: Embedder, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "cls-model"  # the same weights behind CLS pooling: not what onnx_bert reproduces
    shutil.copytree(embedder.path, folder, copy_function=os.symlink)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]), encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 512,
                                                                  "pooling_mode_cls_token": True}), encoding="utf-8")
    other = Embedder(str(folder), threads=1, query_cache_size=0, query_engine="onnx", onnx_cache_dir=tmp_path / "onnx")
    with caplog.at_level(logging.WARNING, logger="knowledge.index.embedding"):
        vector = other.encode(["开公司要带什么材料"])
    assert other.query_engine_in_use == "torch" and other.loaded and vector.shape == (1, 512)
    assert "不是 ONNX 引擎支持的 BERT 均值池化模型，查询向量化改用 torch" in caplog.text
    assert not (tmp_path / "onnx").exists()  # nothing exported


def test_unknown_engine_setting_is_refused(embedder: Embedder) -> None:
    with pytest.raises(ValueError, match="query_engine"):
        Embedder(embedder.spec, query_cache_size=0, query_engine="tensorrt")


def _sample_questions() -> list[str]:
    sets = load_question_set(ROOT / "tests" / "data" / "questions.yml")
    return [item if isinstance(item, str) else item["q"] for items in sets.values() for item in items]


def test_retriever_answers_the_same_with_onnx_and_torch(bundled: tuple[Settings, BuildReport], embedder: Embedder,
                                                        exported: Path) -> None:
    settings, _report = bundled
    questions = _sample_questions()
    assert len(questions) > 300
    torch_side = Retriever.from_published_index(settings, Embedder(embedder.spec, threads=1, query_cache_size=0,
                                                                  query_engine="torch"))
    onnx_side = Retriever.from_published_index(settings, Embedder(embedder.spec, threads=1, query_cache_size=0,
                                                                 query_engine="onnx", onnx_cache_dir=exported))
    for question in questions:
        a, b = torch_side.run(question), onnx_side.run(question)
        assert (a.decision, a.guide_id) == (b.decision, b.guide_id), question
        assert abs(a.confidence - b.confidence) < 1e-4 and abs(a.in_scope - b.in_scope) < 1e-4, question
        assert [h.chunk.id for h in a.hits] == [h.chunk.id for h in b.hits], question
        assert np.allclose([h.score for h in a.hits], [h.score for h in b.hits], atol=1e-5), question
    assert onnx_side.embedder.query_engine_in_use == "onnx" and not onnx_side.embedder.loaded


def test_the_action_server_never_imports_torch(bundled: tuple[Settings, BuildReport], tmp_path: Path) -> None:
    """The action server as started (its app and knowledge service), answering a question."""
    settings, _report = bundled
    script = (
        "import sys\n"
        "from actions.server import build_app\n"
        "from actions.knowledge_service import KnowledgeService\n"
        "from knowledge.settings import load_settings\n"
        "settings = load_settings()\n"
        "build_app(settings)\n"
        "retriever = KnowledgeService(settings).start(watch=False)\n"
        "result = retriever.run('开公司要带什么材料')\n"
        "print('engine', retriever.embedder.query_engine_in_use, 'decision', result.decision)\n"
        "print('heavy', sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GOVQA_INDEX_DIR": str(settings.index_dir),
           "GOVQA_REPORTS_DIR": str(settings.reports_dir), "GOVQA_QUERY_ENGINE": "onnx",
           "GOVQA_RECORDS_DB": str(tmp_path / "records.sqlite3"), "GOVQA_TRACKER_DB": str(tmp_path / "tracker.sqlite3")}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "engine onnx" in done.stdout and "heavy []" in done.stdout, done.stdout + done.stderr[-3000:]
