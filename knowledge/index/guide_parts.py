"""What a build derives from one guide file, kept between builds: its chunks (with their text
hashes), its lines of chunks.jsonl and its entry of guides.json, already serialised.

Why: at 5,000 guides, cutting 94,000 chunks, hashing their texts and serialising them and the
guides to JSON took ~2-3 s of every rebuild, for files that did not change. All of it depends only
on the parsed guide (so on the file's bytes and path, as the parse cache's key) and on the code
that chunks and serialises it (chunks.py, this file and the parser: their hash is part of the key).
The parts of a guide are stored in the parse cache's SQLite file next to its parsed form and
fetched by the same lookup (ParseCache.parse); a guide without stored parts is chunked and
serialised here, and its parts stored for the next build.

The published files are byte for byte those written from the objects (``json.dumps(.., ensure_ascii=False)``
per chunk, per line; one ``json.dumps`` of {id: guide}): tests compare both ways.

Usage::

    with ParseCache(path) as parsed:
        validation = validate_knowledge_base(settings, parse=parsed.parse)
        parts = [guide_parts(parsed, guide) for guide in validation.guides]
    write_chunks(path, [p.lines for p in parts], other_chunks)
    write_guides(path, [(g.id, p.entry) for g, p in zip(guides, parts)])
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.index.chunks import Chunk, guide_chunks
from knowledge.sources.model import Guide

if TYPE_CHECKING:
    from knowledge.index.parse_cache import ParseCache


def parts_fingerprint() -> str:
    """Hash of the code the parts depend on besides the parser's (whose hash the parse cache adds)."""
    digest = hashlib.sha256()
    for path in sorted([Path(__file__), Path(__file__).with_name("chunks.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class GuideParts:
    """One guide's chunks (digests computed), its chunks.jsonl lines (UTF-8, each ending in a
    newline) and its guides.json value (JSON text)."""

    chunks: list[Chunk]
    lines: bytes
    entry: str

    @classmethod
    def of(cls, guide: Guide) -> GuideParts:
        chunks = guide_chunks(guide)
        for chunk in chunks:
            _ = chunk.digest  # computed now, so it is stored with the chunk
        lines = "".join(json.dumps(chunk.as_dict(), ensure_ascii=False) + "\n" for chunk in chunks)
        return cls(chunks, lines.encode("utf-8"), json.dumps(guide.as_dict(), ensure_ascii=False))

    def dumps(self) -> bytes:
        return pickle.dumps((self.chunks, self.lines, self.entry), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, value: bytes) -> GuideParts:
        chunks, lines, entry = pickle.loads(value)
        return cls(chunks, lines, entry)


def guide_parts(cache: ParseCache, guide: Guide) -> GuideParts:
    """The stored parts of a guide parsed through `cache`, or new ones (stored when the cache closes)."""
    stored = cache.stored_parts(guide)
    if stored is not None:
        try:
            return GuideParts.loads(stored)
        except Exception:  # unreadable (another Python, a damaged row): made again, never trusted
            pass
    parts = GuideParts.of(guide)
    cache.store_parts(guide, parts.dumps())
    return parts


def write_chunks(path: Path, guide_lines: list[bytes], other: list[Chunk]) -> None:
    """chunks.jsonl: the guides' stored lines, then the other chunks (documents, anchors) serialised now."""
    with open(path, "wb") as handle:
        for lines in guide_lines:
            handle.write(lines)
        handle.write("".join(json.dumps(chunk.as_dict(), ensure_ascii=False) + "\n" for chunk in other).encode("utf-8"))


def guides_json(entries: list[tuple[str, str]]) -> str:
    """``json.dumps({id: guide.as_dict()}, ensure_ascii=False)`` from each guide's stored JSON value."""
    return "{" + ", ".join(json.dumps(guide_id, ensure_ascii=False) + ": " + entry for guide_id, entry in entries) + "}"
