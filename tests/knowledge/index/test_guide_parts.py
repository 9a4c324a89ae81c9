"""A guide's stored parts (chunks, chunks.jsonl lines, guides.json entry) are what chunking and
serialising it again gives, and the files assembled from them are byte for byte the files written
from the objects; an edited guide, other chunking code or a damaged row is made again."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from knowledge.index.chunks import anchor_chunks, guide_chunks
from knowledge.index.guide_parts import GuideParts, guide_parts, guides_json, write_chunks
from knowledge.index.parse_cache import ParseCache
from tests.support import GUIDES


def _parse_all(cache: ParseCache) -> list:
    guides = []
    for path in sorted(GUIDES.glob("*.md")):
        if path.name.lower() != "readme.md":
            guide, _problems = cache.parse(path, f"knowledge/guides/{path.name}")
            if guide is not None:
                guides.append(guide)
    return guides


def test_stored_parts_build_the_same_files_as_the_objects(tmp_path: Path) -> None:
    cache_file = tmp_path / "cache.sqlite3"
    with ParseCache(cache_file) as cache:
        guides = _parse_all(cache)
        made = [guide_parts(cache, guide) for guide in guides]
    with ParseCache(cache_file) as cache:
        again_guides = _parse_all(cache)
        assert all(cache.stored_parts(guide) is not None for guide in again_guides)  # one lookup brought both
        again = [guide_parts(cache, guide) for guide in again_guides]
    assert len(guides) > 10
    others = anchor_chunks({"天气": ["今天天气怎么样", "明天下雨吗"]})
    for parts in (made, again):
        write_chunks(tmp_path / "chunks.jsonl", [p.lines for p in parts], others)
        expected = "".join(json.dumps(c.as_dict(), ensure_ascii=False) + "\n"
                           for c in [*(c for g in guides for c in guide_chunks(g)), *others])
        assert (tmp_path / "chunks.jsonl").read_bytes() == expected.encode("utf-8")
        entries = guides_json([(g.id, p.entry) for g, p in zip(guides, parts, strict=True)])
        assert entries == json.dumps({g.id: g.as_dict() for g in guides}, ensure_ascii=False)
        for guide, part in zip(guides, parts, strict=True):
            fresh = guide_chunks(guide)
            assert [c.as_dict() for c in part.chunks] == [c.as_dict() for c in fresh]
            assert [c.digest for c in part.chunks] == [c.digest for c in fresh]
    assert guides_json([]) == json.dumps({})


def test_edited_guides_other_code_and_damaged_rows_are_made_again(tmp_path: Path) -> None:
    cache_file = tmp_path / "cache.sqlite3"
    with ParseCache(cache_file) as cache:
        for guide in _parse_all(cache):
            guide_parts(cache, guide)
    with ParseCache(cache_file) as cache:
        cache.parts_code = cache.code + "other-chunking-code"
        guides = _parse_all(cache)
        assert all(cache.stored_parts(guide) is None for guide in guides)
    with sqlite3.connect(cache_file) as db:
        db.execute("UPDATE parts SET value = ?", (b"not a pickle",))
    with ParseCache(cache_file) as cache:
        guides = _parse_all(cache)
        parts = guide_parts(cache, guides[0])  # unreadable: made again from the guide
    assert parts.lines == GuideParts.of(guides[0]).lines
