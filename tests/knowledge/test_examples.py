"""The example questions and item names the assistant offers come from the guides published
(knowledge/examples.py): a deployment that replaced the sample guides gets examples naming only its
own; the sample gets sample ones; settings.yml's example_questions replaces the derived questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knowledge.examples import Examples, PublishedExamples, derive_examples, item_name
from knowledge.index.builder import BuildReport
from knowledge.retrieval.retriever import ANSWER, Retriever
from knowledge.settings import SETTINGS_FILE, Settings, load_settings
from tests.support.kefu import bundled_guides


def guide(guide_id: str, title: str, category: str, questions: list[str], aliases: list[str] | None = None) -> dict[str, Any]:
    return {"id": guide_id, "title": title, "category": category, "questions": questions, "aliases": aliases or []}


# A county's own knowledge base, none of the sample guides in it.
OWN = [
    guide("beekeeping", "蜂农转场备案（外地蜂农）", "农业农村", ["养蜂转场要备案吗", "蜂农备案多久办好"], ["养蜂备案"]),
    guide("fishing-boat", "渔船登记", "农业农村", ["渔船登记要什么材料", "渔船登记收费吗"]),
    guide("seed-license", "农作物种子生产经营许可证核发", "农业农村", ["办种子许可证要什么材料"], ["种子许可证", "种子证"]),
    guide("well-permit", "取水许可", "水利", ["打井取水要审批吗", "取水许可多久能批", "取水许可收费吗"]),
]


@pytest.mark.unit
def test_a_replaced_knowledge_base_offers_only_its_own_guides() -> None:
    examples = derive_examples(OWN)
    # The shortest titles of two categories, then (only two categories) the next shortest.
    assert examples.items == ("渔船登记", "取水许可", "蜂农转场备案")
    # Each asks about another aspect (材料, 时限), then one that names none.
    assert examples.questions == ("渔船登记要什么材料？", "取水许可多久能批？", "养蜂转场要备案吗？")
    own_questions = {q for g in OWN for q in g["questions"]}
    assert all(question.rstrip("？") in own_questions for question in examples.questions)


@pytest.mark.unit
def test_the_choice_is_deterministic_whatever_the_order() -> None:
    assert derive_examples(OWN) == derive_examples(list(reversed(OWN)))


@pytest.mark.unit
def test_the_sample_knowledge_base_offers_sample_guides_from_different_categories() -> None:
    guides = bundled_guides()
    examples = derive_examples(guides.values())
    assert examples.items == ("企业开办", "用电报装", "惠企政策兑现")
    assert examples.questions == ("开公司要带什么材料？", "新开的店铺怎么申请装电表？", "惠企政策的钱多久能到账？")
    asked = {q: g["category"] for g in guides.values() for q in g["questions"]}
    assert len({asked[q.rstrip("？")] for q in examples.questions}) == 3


@pytest.mark.unit
@pytest.mark.parametrize(("title", "aliases", "name"), [
    ("企业开办（公司设立登记）", ["开公司"], "企业开办"),  # the title without its bracketed part
    ("建筑工程施工许可证核发", ["领施工证", "施工许可证", "施工许可"], "施工许可证"),  # the longest alias inside the title
    ("公众聚集场所投入使用、营业前消防安全检查", ["开业消防检查", "开店消防审批"], "开业消防检查"),  # else the shortest alias
    ("农作物种子生产经营许可证核发", [], "农作物种子生产经营许可证核发"),  # no alias: the title
])
def test_item_names(title: str, aliases: list[str], name: str) -> None:
    assert item_name({"title": title, "aliases": aliases}) == name


@pytest.mark.unit
def test_only_the_guides_reached_are_read_whole() -> None:
    """A rebuild's unchanged guides are entries loaded on first use (chunk_rows.GuideEntry): at 5,000
    guides, reading every one's category would cost a second and the memory of all of them."""
    read: list[str] = []

    class Lazy(dict):  # type: ignore[type-arg]
        def get(self, key: Any, default: Any = None) -> Any:
            if key not in ("id", "title", "aliases"):
                read.append(self["id"])
            return dict.get(self, key, default)

    many = [Lazy(guide(f"g{n:04}", f"第{n:04}号事项登记", f"类别{n % 7}", ["要什么材料"])) for n in range(1000)]
    assert len(derive_examples(many).items) == 3 and len(set(read)) == 3


@pytest.mark.unit
def test_few_guides_and_guides_without_questions() -> None:
    assert derive_examples([]) == Examples()
    one = derive_examples([guide("only", "取水许可", "水利", [])])
    assert one == Examples((), ("取水许可",))


@pytest.mark.unit
def test_the_admin_override_replaces_the_questions_only() -> None:
    examples = derive_examples(OWN, override=["  我们县的蜂农怎么备案  ", ""])
    assert examples.questions == ("我们县的蜂农怎么备案",)
    assert examples.items == derive_examples(OWN).items
    assert examples.as_manifest(["我们县的蜂农怎么备案"])["override"] == ["我们县的蜂农怎么备案"]


@pytest.mark.unit
def test_settings_read_the_override_from_yaml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().example_questions == ()  # the sample: derived from the guides
    text = SETTINGS_FILE.read_text(encoding="utf-8")
    custom = tmp_path / "settings.yml"
    custom.write_text(text.replace("example_questions: []", "example_questions: [养蜂怎么备案？, 渔船登记要多久？]"), encoding="utf-8")
    assert load_settings(custom).example_questions == ("养蜂怎么备案？", "渔船登记要多久？")
    monkeypatch.setenv("GOVQA_EXAMPLE_QUESTIONS", "取水许可多久能批？|打井要审批吗？")
    assert load_settings().example_questions == ("取水许可多久能批？", "打井要审批吗？")


def publish(index_dir: Path, version: str, manifest: dict[str, Any]) -> None:
    folder = index_dir / "versions" / version
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (index_dir / "CURRENT").write_text(version, encoding="utf-8")


@pytest.mark.unit
def test_published_examples_follow_the_published_version(tmp_path: Path) -> None:
    published = PublishedExamples(tmp_path)
    assert published.current() == Examples()  # nothing published: the generic wording
    publish(tmp_path, "v1", {"version": "v1"})
    assert published.current() == Examples()  # built before examples existed
    own = derive_examples(OWN)
    publish(tmp_path, "v2", {"version": "v2", "examples": own.as_manifest()})
    assert published.current() == own  # a rebuild is picked up without a restart
    (tmp_path / "CURRENT").write_text("missing", encoding="utf-8")
    assert published.current() == Examples()


def test_the_build_publishes_examples_the_assistant_answers(bundled: tuple[Settings, BuildReport], retriever: Retriever) -> None:
    """The promise behind the examples: a citizen who taps one gets an answer from the guide it came from."""
    examples = Examples.of(retriever.data.manifest)
    assert examples == derive_examples(bundled_guides().values())
    guide_of = {q: g["id"] for g in retriever.data.guides.values() for q in g["questions"]}
    for question in examples.questions:
        result = retriever.run(question)
        assert result.decision == ANSWER and result.guide is not None, question
        assert result.guide["id"] == guide_of[question.rstrip("？")], question
    for name in examples.items:
        result = retriever.run(name + "要什么材料")
        assert result.guide is not None and item_name(result.guide) == name, name


@pytest.mark.unit
@pytest.mark.parametrize("stored", [["开公司要带什么材料？"], "开公司要带什么材料？", 3])
def test_a_manifest_whose_examples_are_not_a_record_gives_the_generic_wording(stored: Any) -> None:
    assert Examples.of({"version": "v1", "examples": stored}) == Examples()
    assert Examples.of({"version": "v1", "examples": None}) == Examples()


@pytest.mark.unit
def test_an_unreadable_manifest_is_read_again_on_the_next_call(tmp_path: Path) -> None:
    """A manifest caught unreadable (mid-copy, a permission fixed a moment later) is not remembered as
    "no examples" until the next publish: the next call reads it again."""
    published = PublishedExamples(tmp_path)
    publish(tmp_path, "v1", {"version": "v1"})
    manifest = tmp_path / "versions" / "v1" / "manifest.json"
    manifest.write_text('{"version": "v1", "exam', encoding="utf-8")  # cut short
    assert published.current() == Examples()
    own = derive_examples(OWN)
    manifest.write_text(json.dumps({"version": "v1", "examples": own.as_manifest()}, ensure_ascii=False), encoding="utf-8")
    assert published.current() == own
    manifest.write_text("[1, 2]", encoding="utf-8")  # not a manifest at all: generic, never an error
    assert PublishedExamples(tmp_path).current() == Examples()
