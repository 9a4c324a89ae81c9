"""The retriever behind the actions: loaded once at server start, swapped when an index is published.

The embedding model must never be loaded at import time (torch then breaks the action server's
process start: ../shared/NOTES.md), so the server calls `start()` in its before-start hook; it
loads the published index, warms the model up, and starts a watcher thread that polls the
index's CURRENT pointer. A new version is loaded completely before it replaces the old one, and
each action pins one version for its whole turn (`Retriever.pinned`): a reply comes from the old
index or the new one, never a mix.

Usage::

    from actions import knowledge_service

    knowledge_service.start()                  # server start: load, warm up, watch
    retriever = knowledge_service.retriever()  # in an action: one pinned version
    knowledge_service.use(retriever)           # tests: serve an already loaded retriever
"""

from __future__ import annotations

import logging
import threading

from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings, load_settings

logger = logging.getLogger(__name__)

_retriever: Retriever | None = None
_watcher: threading.Thread | None = None
_stop = threading.Event()


class KnowledgeUnavailableError(RuntimeError):
    """No index is loaded (none published, or the server was started without `start`)."""


def start(settings: Settings | None = None, *, watch: bool = True) -> Retriever:
    """Load the published index and the model, warm up, and watch for new versions."""
    global _retriever, _watcher
    settings = settings or load_settings()
    retriever = Retriever.from_published_index(settings)  # raises NoIndexError with a clear message
    retriever.run("开办企业需要什么材料")  # warm-up: the first encode is several times slower
    _retriever = retriever
    logger.info("知识库索引 %s 已加载", retriever.version)
    if watch and _watcher is None:
        _stop.clear()
        _watcher = threading.Thread(target=_watch, args=(settings.index_poll_seconds,), name="index-watcher", daemon=True)
        _watcher.start()
    return retriever


def use(retriever: Retriever) -> None:
    """Serve this retriever (tests, or a caller that loaded one already)."""
    global _retriever
    _retriever = retriever


def stop() -> None:
    global _watcher
    _stop.set()
    _watcher = None


def retriever() -> Retriever:
    """The current index, pinned for one turn."""
    if _retriever is None:
        raise KnowledgeUnavailableError("知识库索引尚未加载")
    return _retriever.pinned()


def _watch(interval: float) -> None:
    while not _stop.wait(interval):
        current = _retriever
        if current is None:
            continue
        try:
            if current.reload():
                logger.info("已切换到新发布的索引 %s", current.version)
        except Exception as error:
            # A version that cannot be loaded is never served: keep answering from the old one.
            logger.error("新索引无法加载，继续使用 %s：%s", current.version, error)
