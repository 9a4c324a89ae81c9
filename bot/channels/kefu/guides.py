"""The service guides as the hall API serves them: read from the published index, searched by words.

The guides come from `guides.json` of the index version named in CURRENT (knowledge/index/store.py),
the same file the action server answers from, so the API never shows a guide the assistant does not
know. A newly published index is picked up on the next request: CURRENT is one small file to read.

A version is checked against its manifest's checksums (IndexStore.verify) before its guides are
loaded. A corrupt or unreadable version is logged once and never retried until CURRENT names
another one; meanwhile the last good guides stay in service, and when there are none (the
process started on a corrupt index) every call raises CatalogUnavailableError, which the API
answers with 503 and what to do (rebuild or roll back).

Search is lexical on purpose (titles, aliases, category, sample questions): this process stays light
and never loads the embedding model; questions in free words go to `/api/v1/chat` instead.

Usage::

    catalog = GuideCatalog(settings.index_dir)
    catalog.search("开公司")        # [{"id": "company-setup", "title": …, "category": …, …}, …]
    catalog.get("company-setup")    # the structured guide (knowledge.sources.guides.Guide.as_dict()) or None
    catalog.get("../etc/passwd")    # None: only ids of the published index are ever looked up
    # CatalogUnavailableError: the published index is corrupt and no good one was loaded before
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from knowledge.index.store import IndexStore, IndexStoreError
from knowledge.simplified import as_read

log = logging.getLogger(__name__)

# Punctuation and spaces carry no meaning for matching "开 公司？" against "开公司".
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# Where a match counts most: a title beats an alias beats the category beats a sample question.
_FIELD_WEIGHTS = (("title", 4.0), ("aliases", 3.0), ("category", 2.0), ("questions", 1.0))
MIN_BIGRAM_COVERAGE = 0.6  # share of the query's character pairs a field must contain to match loosely
# What an operator does about a bad index (the same advice as knowledge/index/store.py gives).
REPAIR_HINT = "请运行 python3 index_builder.py build 重建，或 python3 index_builder.py rollback 回到上一个版本"


def normalize(text: str) -> str:
    """Read as the assistant reads a message (knowledge/simplified.py `as_read`: traditional characters in simplified,
    full-width letters in ASCII), lower case, without spaces and punctuation: ``normalize("開 公司？") == "开公司"``."""
    return _NOISE.sub("", as_read(text).lower())


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def summary(guide: dict[str, Any]) -> dict[str, Any]:
    """The list entry of a guide: id, title, category, department, updated."""
    return {key: guide.get(key, "") for key in ("id", "title", "category", "department", "updated")}


def match_score(query: str, guide: dict[str, Any]) -> float:
    """How well a normalized query matches a guide (0 = not at all).

    A field containing the query, or named whole in the query ("我想开公司" names the alias
    "开公司"), scores its full weight; a field holding most of the query's character pairs
    ("公司开办" for "开办公司") scores in proportion.
    """
    if not query:
        return 0.0
    wanted = _bigrams(query)
    best = 0.0
    for field, weight in _FIELD_WEIGHTS:
        value = guide.get(field) or []
        for text in [value] if isinstance(value, str) else value:
            name = normalize(str(text))
            if not name:
                continue
            if query in name or (len(name) >= 2 and name in query):
                score = weight
            else:
                coverage = len(wanted & _bigrams(name)) / len(wanted)
                score = weight * coverage * 0.5 if coverage >= MIN_BIGRAM_COVERAGE else 0.0
            best = max(best, score)
    return best


class CatalogUnavailableError(RuntimeError):
    """The published index cannot be read and no earlier good one is loaded; the message (Chinese)
    names the version, the problem and the repair (rebuild or roll back)."""


class GuideCatalog:
    """The guides of the published index, reloaded when a new version is published."""

    def __init__(self, index_dir: Path) -> None:
        self.store = IndexStore(index_dir)
        self._lock = threading.Lock()
        self._version: str | None = None  # the last good version: the guides below come from it
        self._guides: dict[str, dict[str, Any]] = {}
        self._bad_version: str | None = None  # the last version that failed to load, and why
        self._bad_reason = ""

    def _current(self) -> tuple[str | None, dict[str, dict[str, Any]]]:
        """The version in service and its guides (see the module docstring for a bad version)."""
        published = self.store.current_version()
        if published is None:
            return None, {}  # nothing published yet: no guides, not an error (the first build is pending)
        if published == self._version:
            return self._version, self._guides
        with self._lock:
            if published not in (self._version, self._bad_version):
                self._load(published)
            if self._version is None:
                raise CatalogUnavailableError(f"办事指南暂时无法提供：{self._bad_reason}")
            return self._version, self._guides

    def _load(self, version: str) -> None:
        """Switch to `version`, or remember it as bad (logged once) and keep the last good one."""
        try:
            guides = self.store.guides(version)  # checksums first, then the one reader of guides.json
        except IndexStoreError as error:
            self._bad_version, self._bad_reason = version, str(error)
            if self._version is not None:
                log.error("索引版本 %s 不可用，继续使用上一个正常版本 %s：%s", version, self._version, error)
            else:
                log.error("索引版本 %s 不可用，且没有可用的旧版本，办事指南接口将返回 503：%s", version, error)
            return
        self._version, self._guides, self._bad_version, self._bad_reason = version, guides, None, ""

    @property
    def version(self) -> str | None:
        """The index version the guides come from: the published one, or the last good one while
        the published one is corrupt (None before the first build)."""
        return self._current()[0]

    def all(self) -> list[dict[str, Any]]:
        """Every guide's summary, by category then title."""
        return sorted((summary(g) for g in self._current()[1].values()), key=lambda g: (g["category"], g["title"]))

    def search(self, query: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Summaries of the guides matching `query`, best first; all guides when it is empty."""
        wanted = normalize(query or "")
        if not wanted:
            found = self.all()
        else:
            scored = [(match_score(wanted, guide), guide) for guide in self._current()[1].values()]
            found = [summary(guide) for score, guide in sorted(scored, key=lambda item: (-item[0], item[1]["title"])) if score > 0]
        return found[:limit] if limit else found

    def get(self, guide_id: str) -> dict[str, Any] | None:
        """The structured guide, or None. Only a dictionary lookup: an id never becomes a path."""
        return self._current()[1].get(guide_id)
