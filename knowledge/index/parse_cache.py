"""Parsed guides kept between builds: a rebuild after editing one guide among thousands parses
only that file.

Parsing and checking 5,000 guide files (YAML front matter, Markdown sections, contacts) took
~2 s of every rebuild. The result of `parse_guide` for one file depends only on the file's bytes,
its displayed path (problems name it) and the parser's code, so it is stored under the hash of
all three and read back instead of parsed again. The checks across files (two guides claiming a
title or alias) still run on every build, on all guides.

The cache is a table in the embedding cache's SQLite file; values are pickles this program wrote
itself (var/ is private to the service user). Editing the parser (any file of knowledge/sources/)
changes the code hash and so every key.

Usage::

    with ParseCache(settings.embedding_cache) as cache:
        result = validate_knowledge_base(settings, parse=cache.parse)
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from pathlib import Path
from typing import Any

from knowledge.index.guide_parts import parts_fingerprint
from knowledge.sources import guides as guide_parser
from knowledge.sources.guides import Guide, Problem, parse_guide

SOURCES = Path(guide_parser.__file__).resolve().parent


def parser_fingerprint() -> str:
    """Hash of the parser's code: every .py file of knowledge/sources/."""
    digest = hashlib.sha256()
    for path in sorted(SOURCES.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


class ParseCache:
    """`parse` has parse_guide's signature and results; hits come from the SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute("CREATE TABLE IF NOT EXISTS parsed (code TEXT, key TEXT, value BLOB, PRIMARY KEY (code, key))")
        # What the builder derives from a parsed guide (guide_parts.py), under the same key.
        self._db.execute("CREATE TABLE IF NOT EXISTS parts (code TEXT, key TEXT, value BLOB, PRIMARY KEY (code, key))")
        self.code = parser_fingerprint()
        self.parts_code = self.code + parts_fingerprint()
        self._fresh: list[tuple[str, str, bytes]] = []
        self._fresh_parts: list[tuple[str, str, bytes]] = []
        self._key_of: dict[int, str] = {}  # id(guide) -> its key, for the parts of the guides returned
        self._parts: dict[int, bytes] = {}
        self.hits = 0
        self.file_sums: dict[Path, str] = {}

    def parse(self, path: Path, display_path: str) -> tuple[Guide | None, list[Problem]]:
        data = path.read_bytes()
        self.file_sums[path] = hashlib.sha256(data).hexdigest()  # the manifest's source checksums, without reading again
        key = hashlib.sha256(display_path.encode("utf-8") + b"\0" + data).hexdigest()
        row = self._db.execute(
            "SELECT p.value, b.value FROM parsed p LEFT JOIN parts b ON b.code = ? AND b.key = p.key WHERE p.code = ? AND p.key = ?",
            (self.parts_code, self.code, key),
        ).fetchone()
        if row is not None:
            try:
                guide, problems = pickle.loads(row[0])
                self.hits += 1
                if guide is not None:
                    self._key_of[id(guide)] = key
                    if row[1] is not None:
                        self._parts[id(guide)] = row[1]
                return guide, problems
            except Exception:  # an unreadable entry (another Python, a damaged row) is parsed again, never trusted
                pass
        result = parse_guide(path, display_path)
        self._fresh.append((self.code, key, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)))
        if result[0] is not None:
            self._key_of[id(result[0])] = key
        return result

    def key_of(self, guide: Guide) -> bytes | None:
        """The key (sha256 of displayed path and bytes, as read) of a guide this cache returned."""
        key = self._key_of.get(id(guide))
        return bytes.fromhex(key) if key is not None else None

    def stored_parts(self, guide: Guide) -> bytes | None:
        """The stored parts (guide_parts.GuideParts, pickled) of a guide this cache returned, if any."""
        return self._parts.get(id(guide))

    def store_parts(self, guide: Guide, value: bytes) -> None:
        """Keep a guide's parts for the next build (written on close)."""
        key = self._key_of.get(id(guide))
        if key is not None:
            self._fresh_parts.append((self.parts_code, key, value))

    def close(self) -> None:
        if self._fresh or self._fresh_parts:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO parsed VALUES (?, ?, ?)", self._fresh)
                self._db.executemany("INSERT OR REPLACE INTO parts VALUES (?, ?, ?)", self._fresh_parts)
            self._fresh, self._fresh_parts = [], []
        self._db.close()

    def __enter__(self) -> ParseCache:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
