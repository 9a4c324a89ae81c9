"""The clerk's guide search: the assistant's own retriever (knowledge/retrieval/retriever.py), loaded
in the hall API process on the first search, so a clerk finds "公司不想开了" the way the assistant
would (企业注销), not by substring.

Why here and not elsewhere (measured on this 2-core machine, README "工作人员：人工坐席"):
the action server has the retriever loaded, but reaching it would mean a new route and a new
credential on the server that runs Rasa's actions; BM25 alone misses paraphrases ("不想开了" shares
no word with "注销"). Loading it here costs the embedding model's memory in this process once a
clerk searches (nothing before: a hall without a desk pays nothing) and a few seconds on the first
search; after that a search is the assistant's ~15 ms. A newly published index is picked up on the
next search (Retriever.reload reads the CURRENT pointer); searches run one at a time off the event
loop (a clerk searches now and then; chat requests are never held up).

Usage::

    search = DeskSearch(settings)
    await search.run("公司不想开了")   # {"decision": "answer", "results": [{"guide_id": "company-deregistration", …}, …]}
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from knowledge.settings import Settings

log = logging.getLogger(__name__)

MAX_RESULTS = 8
SNIPPET_CHARS = 160
# What the assistant would do with the question, as the clerk reads it.
DECISIONS = {"answer": "助手会直接回答", "confirm": "助手会先确认", "ambiguous": "助手会反问选哪一个", "none": "助手会说没找到"}


class SearchUnavailableError(RuntimeError):
    """No published index, or the model cannot be loaded (the API answers 503 with the reason)."""


class DeskSearch:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._retriever: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._retriever is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                # Imported here: the hall API starts without torch, and only a desk that searches loads it.
                from knowledge.retrieval.retriever import NoIndexError, Retriever

                try:
                    self._retriever = Retriever.from_published_index(self.settings)
                except NoIndexError as error:
                    raise SearchUnavailableError(str(error)) from None
                log.info("坐席检索已加载索引 %s", self._retriever.version)
            else:
                try:
                    self._retriever.reload()
                except Exception as error:  # a version that cannot be loaded: keep searching the old one
                    log.error("新索引无法加载，坐席检索继续使用 %s：%s", self._retriever.version, error)
            return self._retriever

    def search(self, question: str) -> dict[str, Any]:
        """The retriever's result for `question`, as the desk shows it (blocking: call through `run`)."""
        retriever = self._loaded()
        with self._lock:
            result = retriever.run(question)
        seen: set[str] = set()
        results = []
        for hit in result.hits:
            key = hit.chunk.guide_id or hit.chunk.source
            if key in seen:
                continue
            seen.add(key)
            text = " ".join(hit.chunk.content.split())
            results.append({"guide_id": hit.chunk.guide_id, "title": hit.chunk.title, "section": hit.chunk.section,
                            "kind": hit.chunk.kind, "score": round(hit.score, 3), "source": hit.chunk.source,
                            "snippet": text[:SNIPPET_CHARS] + ("……" if len(text) > SNIPPET_CHARS else "")})
            if len(results) >= MAX_RESULTS:
                break
        return {"question": question, "decision": result.decision, "decision_label": DECISIONS.get(result.decision, result.decision),
                "confidence": round(result.confidence, 3), "guide_id": result.guide_id, "aspect": result.aspect,
                "index_version": result.index_version, "results": results}

    async def run(self, question: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.search, question)
