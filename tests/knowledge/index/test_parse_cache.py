"""Guides parsed once are read back from the cache with the same guide and the same problems;
an edited file, another path or another parser is parsed again."""

from __future__ import annotations

from pathlib import Path

from knowledge.index.parse_cache import ParseCache
from knowledge.sources.guides import parse_guide
from tests.support import guide_text, write_guide


def test_cached_parse_equals_a_fresh_parse_and_edits_are_parsed_again(tmp_path: Path) -> None:
    good = write_guide(tmp_path / "guides", "test-item")
    broken = write_guide(tmp_path / "guides", "broken-item", text=guide_text("broken-item").replace("updated: ", "updated: 2026-02-30 #", 1))
    cache_file = tmp_path / "cache.sqlite3"
    with ParseCache(cache_file) as cache:
        first = [cache.parse(path, f"guides/{path.name}") for path in (good, broken)]
        assert cache.hits == 0
    with ParseCache(cache_file) as cache:
        again = [cache.parse(path, f"guides/{path.name}") for path in (good, broken)]
        assert cache.hits == 2
    for (_guide, problems), (cached_guide, cached_problems), path in zip(first, again, (good, broken), strict=True):
        fresh_guide, fresh_problems = parse_guide(path, f"guides/{path.name}")
        assert [str(p) for p in cached_problems] == [str(p) for p in fresh_problems] == [str(p) for p in problems]
        assert (cached_guide.as_dict() if cached_guide else None) == (fresh_guide.as_dict() if fresh_guide else None)
    assert any("日期" in str(problem) for problem in again[1][1])  # the broken guide stays broken

    good.write_text(good.read_text(encoding="utf-8").replace("测试事项登记", "测试事项变更登记"), encoding="utf-8")
    with ParseCache(cache_file) as cache:
        guide, _problems = cache.parse(good, f"guides/{good.name}")
        assert cache.hits == 0 and guide is not None and guide.title == "测试事项变更登记"
        cache.parse(broken, "elsewhere/broken-item.md")  # problems name the file: another path is another entry
        assert cache.hits == 0
    with ParseCache(cache_file) as cache:
        cache.code = "another-parser"
        cache.parse(good, f"guides/{good.name}")
        assert cache.hits == 0
