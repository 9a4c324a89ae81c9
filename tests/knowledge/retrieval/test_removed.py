"""Finding a removed guide by id and by the name a message gives it (tiny fixtures)."""

from __future__ import annotations

from types import SimpleNamespace

from knowledge.retrieval.removed import RemovedGuides

ENTRIES = [{"id": "company-deregistration", "title": "企业注销登记（一般注销）", "aliases": ["一般注销", "注销登记"]},
           {"id": "gas-connection", "title": "用气报装", "aliases": ["天然气开户", "气"]}]
CURRENT_NAMES = [("企业简易注销登记", "simplified-deregistration"), ("简易注销", "simplified-deregistration"),
                 ("用水报装", "water-connection")]


def test_a_message_naming_a_removed_guide_finds_it() -> None:
    removed = RemovedGuides(ENTRIES)
    assert removed.named("用气报装要什么材料", CURRENT_NAMES)["id"] == "gas-connection"
    assert removed.named("天然气开户多少钱", CURRENT_NAMES)["id"] == "gas-connection"
    assert removed.named("一般注销要多久", CURRENT_NAMES)["id"] == "company-deregistration"


def test_a_longer_name_of_a_published_guide_wins() -> None:
    # "企业简易注销登记" holds the removed alias 注销登记: the citizen names the published guide
    assert RemovedGuides(ENTRIES).named("企业简易注销登记要什么材料", CURRENT_NAMES) is None


def test_one_character_names_and_unrelated_messages_find_nothing() -> None:
    removed = RemovedGuides(ENTRIES)
    assert removed.named("生气了怎么办", CURRENT_NAMES) is None  # the alias 气 is too short to count
    assert removed.named("用水报装要多久", CURRENT_NAMES) is None
    assert removed.get("gas-connection")["title"] == "用气报装" and removed.get(None) is None


def test_removed_guides_are_read_from_the_manifest_once_per_version() -> None:
    data = SimpleNamespace(manifest={"removed_guides": [*ENTRIES, {"id": "", "title": "坏的"}, "not a dict"]})
    first = RemovedGuides.of(data)
    assert len(first) == 2 and RemovedGuides.of(data) is first
    assert len(RemovedGuides.of(SimpleNamespace(manifest={}))) == 0  # a version built before removals were kept


def test_short_aliases_and_names_a_published_guide_holds_name_no_removed_guide() -> None:
    # 医保 and 社保卡 are everyday words of guides still published; 注销登记 is inside 企业简易注销登记
    entries = [{"id": "newborn-insurance", "title": "新生儿医保参保", "aliases": ["医保", "宝宝医保参保登记"]},
               {"id": "card-reissue", "title": "社会保障卡补领", "aliases": ["社保卡", "激活"]},
               {"id": "company-deregistration", "title": "企业注销登记（一般注销）", "aliases": ["注销登记"]}]
    removed = RemovedGuides(entries, [name for name, _ in CURRENT_NAMES])
    assert removed.named("医保报销比例是多少", CURRENT_NAMES) is None
    assert removed.named("社保卡怎么激活", CURRENT_NAMES) is None
    assert removed.named("注销登记要多久", CURRENT_NAMES) is None
    assert removed.named("宝宝医保参保登记要带什么", CURRENT_NAMES)["id"] == "newborn-insurance"
    assert removed.named("社会保障卡补领去哪办", CURRENT_NAMES)["id"] == "card-reissue"


def test_a_guide_published_again_under_another_id_is_not_removed() -> None:
    removed = RemovedGuides([{"id": "gas", "title": "用气报装", "aliases": ["天然气开户"]}], ["用气报装", "天然气开户"])
    assert removed.get("gas") is None and removed.named("用气报装要多久", [("用气报装", "gas-connection")]) is None
