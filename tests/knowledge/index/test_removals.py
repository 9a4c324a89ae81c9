"""What a build says it added and removed, and the removed guides a version remembers (tiny fixtures)."""

from __future__ import annotations

from knowledge.index.removals import MAX_REMEMBERED, GuideChange, remembered

BEFORE = {"gas-connection": ("用气报装", ["天然气开户"]), "water-connection": ("用水报装", []),
          "company-setup": ("企业开办", ["开公司"])}


def test_change_lists_added_and_removed_guides_by_id() -> None:
    change = GuideChange.between(BEFORE, {"water-connection": "用水报装", "company-setup": "企业开办", "dog": "养犬登记"})
    assert change.added == [("dog", "养犬登记")]
    assert change.removed == [("gas-connection", "用气报装")]


def test_a_first_build_reports_no_change() -> None:
    assert GuideChange.between({}, {"water-connection": "用水报装"}) == GuideChange()


def test_removed_guides_are_remembered_with_their_names_until_they_come_back() -> None:
    change = GuideChange.between(BEFORE, {"water-connection": "用水报装"})
    kept = remembered(BEFORE, None, change, {"water-connection"}, "v2")
    assert [(e["id"], e["title"], e["aliases"], e["removed_in"]) for e in kept] == [
        ("company-setup", "企业开办", ["开公司"], "v2"), ("gas-connection", "用气报装", ["天然气开户"], "v2")]
    # the next build removes nothing more: the earlier removals are carried over
    later = remembered({"water-connection": ("用水报装", [])}, {"removed_guides": kept}, GuideChange(), {"water-connection"}, "v3")
    assert [e["id"] for e in later] == ["company-setup", "gas-connection"]
    # a guide added back under its id is no longer removed
    back = remembered({"water-connection": ("用水报装", [])}, {"removed_guides": kept},
                      GuideChange(added=[("gas-connection", "用气报装")]), {"water-connection", "gas-connection"}, "v4")
    assert [e["id"] for e in back] == ["company-setup"]


def test_at_most_so_many_removals_are_kept_the_latest_first() -> None:
    old = [{"id": f"g{i}", "title": f"事项{i}", "aliases": [], "removed_in": "v1"} for i in range(MAX_REMEMBERED)]
    kept = remembered(BEFORE, {"removed_guides": old}, GuideChange(removed=[("gas-connection", "用气报装")]), set(), "v2")
    assert len(kept) == MAX_REMEMBERED and kept[0]["id"] == "gas-connection" and kept[-1]["id"] == f"g{MAX_REMEMBERED - 2}"
