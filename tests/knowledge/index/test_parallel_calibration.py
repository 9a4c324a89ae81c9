"""Calibration scores half of its examples in a forked child (calibration_folds.py): the published
decision model is that of one process scoring everything, and a child that fails publishes nothing."""

from __future__ import annotations

import dataclasses
import os

import pytest

from knowledge.index import forked
from knowledge.index.builder import BuildError, build_index
from knowledge.index.embedding import Embedder
from knowledge.index.store import IndexStore
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs os.fork and two cores")


def _build(settings: Settings, embedder: Embedder, index: str, monkeypatch: pytest.MonkeyPatch, min_items: int) -> tuple[str, list[str]]:
    """(calibration.json, the build's log lines) of a build from scratch into its own index folder."""
    monkeypatch.setattr(forked, "MIN_ITEMS", min_items)
    settings = dataclasses.replace(settings, index_dir=settings.index_dir.parent / index)
    lines: list[str] = []
    report = build_index(settings, embedder=embedder, gate=False, log=lines.append)
    folder = IndexStore(settings.index_dir).versions / report.version
    return (folder / "calibration.json").read_text(encoding="utf-8"), lines


def test_two_processes_publish_the_model_of_one(kb_copy: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    one, one_log = _build(kb_copy, embedder, "one-process", monkeypatch, min_items=10**9)
    forks: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(forked.os, "fork", fork)
    two, two_log = _build(kb_copy, embedder, "two-processes", monkeypatch, min_items=1)
    assert len(forks) == 1, "calibration did not score in two processes"
    assert two == one  # every number of the model and its cross-validation report
    # The build's account of its searches is that of one process too (the child's are not lost or doubled).
    assert [line for line in two_log if "检索" in line] == [line for line in one_log if "检索" in line]


def test_a_failing_child_publishes_nothing_and_the_served_version_stays(kb_copy: Settings, embedder: Embedder,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    served = build_index(kb_copy, embedder=embedder, gate=False).version
    monkeypatch.setattr(forked, "MIN_ITEMS", 1)
    parent = os.getpid()
    real = Retriever.features_many

    def broken_in_child(self: Retriever, *args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            raise MemoryError("子进程内存不足（测试）")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Retriever, "features_many", broken_in_child)
    with pytest.raises(BuildError, match="校准失败，未发布新索引：并行计算的子进程出错：MemoryError: 子进程内存不足（测试）"):
        build_index(kb_copy, embedder=embedder, gate=False)
    store = IndexStore(kb_copy.index_dir)
    assert store.current_version() == served and store.verify() == served
    assert not list(store.versions.glob(".staging-*")), "a half-written version was left behind"
    monkeypatch.setattr(Retriever, "features_many", real)
    assert Retriever.from_published_index(kb_copy, embedder).run("开办企业需要什么材料").guide_id
