"""The retriever behind the actions: loaded once at server start, swapped when an index is published.

The embedding model must never be loaded at import time (torch then breaks the action server's
process start: ../shared/NOTES.md), so the server calls `start()` in its before-start hook; it
loads the published index, warms the model up, and starts a watcher thread that polls the
index's CURRENT pointer. A new version is loaded completely before it replaces the old one, and
each action pins one version for its whole turn (`Retriever.pinned`): a reply comes from the old
index or the new one, never a mix.

Usage::

    knowledge = KnowledgeService(settings)
    knowledge.start()                      # server start: load, warm up, watch
    retriever = knowledge.retriever()      # in an action: one pinned version
    KnowledgeService.serving(retriever)    # tests: an already loaded retriever, no watcher
"""

from __future__ import annotations

import logging
import threading

from knowledge.records.logs import Public
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings

logger = logging.getLogger(__name__)

WARM_UP_QUESTION = "开办企业需要什么材料"  # the first encode is several times slower than the next


class KnowledgeUnavailableError(RuntimeError):
    """No index is loaded (none published, or the server was started without `start`)."""


class KnowledgeService:
    """One published index at a time, reloaded in the background when a new one is published."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._retriever: Retriever | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def serving(cls, retriever: Retriever, settings: Settings) -> KnowledgeService:
        """A service that serves this already loaded retriever (tests, tools)."""
        service = cls(settings)
        service._retriever = retriever
        return service

    def start(self, *, watch: bool = True) -> Retriever:
        """Load the published index and the model, warm up, and watch for new versions."""
        retriever = Retriever.from_published_index(self.settings)  # raises NoIndexError with a clear message
        retriever.run(WARM_UP_QUESTION)
        self._retriever = retriever
        logger.info("知识库索引 %s 已加载", Public(retriever.version))
        if watch and self._watcher is None:
            self._stop.clear()
            self._watcher = threading.Thread(target=self._watch, args=(self.settings.index_poll_seconds,),
                                             name="index-watcher", daemon=True)
            self._watcher.start()
        return retriever

    def stop(self) -> None:
        self._stop.set()
        self._watcher = None

    @property
    def version(self) -> str | None:
        """The index version being served (None before it is loaded): what /health reports."""
        return self._retriever.version if self._retriever is not None else None

    def retriever(self) -> Retriever:
        """The current index, pinned for one turn."""
        if self._retriever is None:
            raise KnowledgeUnavailableError("知识库索引尚未加载")
        return self._retriever.pinned()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            current = self._retriever
            if current is None:
                continue
            try:
                if current.reload():
                    logger.info("已切换到新发布的索引 %s", Public(current.version))
            except Exception as error:
                # A version that cannot be loaded is never served: keep answering from the old one.
                logger.error("新索引无法加载，继续使用 %s：%s", Public(current.version), error)
