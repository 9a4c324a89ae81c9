"""The hall API's guide catalog: read from the published index (checksums verified first), searched
by words, never a path; a corrupt version never replaces good guides."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.channels.kefu.guides import CatalogUnavailableError, GuideCatalog, match_score, normalize
from knowledge.index.store import IndexStore
from tests.support import parsed_guide
from tests.support.kefu import bundled_guides, corrupt_guides, publish_guides


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
    ("開公司", "company-setup"),            # typed in traditional characters: read as the assistant reads it
    ("營業執照遺失補領", "license-reissue"),
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


def test_a_corrupt_new_version_keeps_the_last_good_guides_and_is_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    guides = bundled_guides()
    index = tmp_path / "index"
    publish_guides(index, guides, version="v1")
    catalog = GuideCatalog(index)
    assert catalog.get("company-setup") is not None
    corrupt_guides(publish_guides(index, {"company-setup": guides["company-setup"]}, version="v2"))
    checks: list[str] = []
    verify = IndexStore.verify
    monkeypatch.setattr(IndexStore, "verify", lambda store, version=None: checks.append(version) or verify(store, version))
    with caplog.at_level(logging.ERROR, logger="bot.channels.kefu.guides"):
        for _ in range(3):
            assert len(catalog.all()) == len(guides) and catalog.get("water-connection") is not None
            assert catalog.version == "v1"  # what the guides come from, not what CURRENT names
    assert checks == ["v2"]  # the bad version is checked once, not on every request
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "v2" in errors[0].getMessage() and "v1" in errors[0].getMessage()
    assert "校验和不符" in errors[0].getMessage()
    publish_guides(index, {"company-setup": guides["company-setup"]}, version="v3")  # a good build: taken at once
    assert [g["id"] for g in catalog.all()] == ["company-setup"] and catalog.version == "v3"


def test_a_corrupt_index_without_a_good_one_is_unavailable_with_the_repair(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    corrupt_guides(publish_guides(tmp_path / "index", bundled_guides(), version="v1"))
    catalog = GuideCatalog(tmp_path / "index")
    with caplog.at_level(logging.ERROR, logger="bot.channels.kefu.guides"):
        for call in (catalog.all, lambda: catalog.get("company-setup"), lambda: catalog.search("开公司"), lambda: catalog.version):
            with pytest.raises(CatalogUnavailableError) as raised:
                call()
            message = str(raised.value)
            assert "v1" in message and "guides.json" in message and "build" in message and "rollback" in message
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    publish_guides(tmp_path / "index", bundled_guides(), version="v2")  # rebuilt: served again
    assert catalog.get("company-setup") is not None and catalog.version == "v2"


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda folder: (folder / "guides.json").write_text("{not json", encoding="utf-8"), "无法读取"),
    (lambda folder: (folder / "guides.json").write_bytes(b"\xff\xfe{}"), "无法读取"),
    (lambda folder: (folder / "guides.json").write_text("[1, 2]", encoding="utf-8"), "格式不对"),
    (lambda folder: (folder / "guides.json").unlink(), "缺少 guides.json"),
])
def test_an_older_manifest_without_checksums_is_still_checked_when_loading(tmp_path: Path, damage: Callable[[Path], object], problem: str) -> None:
    folder = publish_guides(tmp_path / "index", bundled_guides(), version="v1")
    (folder / "manifest.json").write_text(json.dumps({"version": "v1"}), encoding="utf-8")  # before checksums existed
    assert GuideCatalog(tmp_path / "index").get("company-setup") is not None  # intact: loads
    damage(folder)
    with pytest.raises(CatalogUnavailableError, match=problem):
        GuideCatalog(tmp_path / "index").all()


def test_current_naming_a_missing_version_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "CURRENT").write_text("gone", encoding="utf-8")
    with pytest.raises(CatalogUnavailableError, match="gone"):
        GuideCatalog(tmp_path / "index").all()
