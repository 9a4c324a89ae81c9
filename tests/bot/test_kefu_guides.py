"""The hall API's guide catalog: read from the published index, searched by words, never a path."""

from __future__ import annotations

from pathlib import Path

import pytest
from kefu_support import bundled_guides, publish_guides
from support import parsed_guide

from bot.kefu_guides import GuideCatalog, match_score, normalize


@pytest.fixture
def catalog(tmp_path: Path) -> GuideCatalog:
    publish_guides(tmp_path / "index", bundled_guides())
    return GuideCatalog(tmp_path / "index")


def test_lists_every_published_guide_with_its_summary(catalog: GuideCatalog) -> None:
    listed = catalog.all()
    assert {g["id"] for g in listed} == set(bundled_guides())
    entry = next(g for g in listed if g["id"] == "company-setup")
    guide = parsed_guide("company-setup")
    assert entry == {"id": guide.id, "title": guide.title, "category": guide.category, "department": guide.department,
                     "updated": guide.updated}


@pytest.mark.parametrize(("query", "expected"), [
    ("开公司", "company-setup"),            # an alias
    ("企业开办（公司设立登记）", "company-setup"),  # the title, punctuation and all
    ("我想开公司", "company-setup"),         # the query names an alias
    ("用水报装", "water-connection"),
    ("劳动仲裁", "labor-arbitration"),
])
def test_search_finds_by_title_alias_and_wording(catalog: GuideCatalog, query: str, expected: str) -> None:
    found = catalog.search(query)
    assert found and found[0]["id"] == expected, [g["id"] for g in found]


def test_search_by_category_lists_its_guides(catalog: GuideCatalog) -> None:
    category = parsed_guide("company-setup").category
    in_category = {gid for gid, g in bundled_guides().items() if g["category"] == category}
    assert in_category <= {g["id"] for g in catalog.search(category)}


def test_search_for_nothing_known_is_empty_and_empty_query_lists_all(catalog: GuideCatalog) -> None:
    assert catalog.search("量子计算机维修") == []
    assert len(catalog.search("")) == len(catalog.search(None)) == len(bundled_guides())
    assert len(catalog.search("", limit=3)) == 3


@pytest.mark.parametrize("guide_id", ["../etc/passwd", "..", "company-setup/../water-connection", "", "COMPANY-SETUP", "guides.json"])
def test_unknown_or_path_like_ids_are_not_found(catalog: GuideCatalog, guide_id: str) -> None:
    assert catalog.get(guide_id) is None


def test_a_newly_published_index_is_picked_up(tmp_path: Path) -> None:
    guides = bundled_guides()
    publish_guides(tmp_path / "index", {"company-setup": guides["company-setup"]}, version="v1")
    catalog = GuideCatalog(tmp_path / "index")
    assert [g["id"] for g in catalog.all()] == ["company-setup"] and catalog.version == "v1"
    publish_guides(tmp_path / "index", guides, version="v2")
    assert len(catalog.all()) == len(guides) and catalog.version == "v2"


def test_no_index_yet_means_no_guides(tmp_path: Path) -> None:
    catalog = GuideCatalog(tmp_path / "missing")
    assert catalog.all() == [] and catalog.get("company-setup") is None and catalog.version is None


def test_normalize_and_score() -> None:
    assert normalize(" 开 公司？") == "开公司"
    guide = {"title": "企业开办", "aliases": ["开公司"], "category": "企业开办", "questions": []}
    assert match_score("开公司", guide) > match_score("企业", {"title": "x", "aliases": [], "category": "企业", "questions": []})
    assert match_score("", guide) == 0
