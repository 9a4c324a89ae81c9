"""An admin removes guides and rebuilds while citizens talk to the assistant: a citizen who names a removed
guide, picks it from a list offered before the rebuild, or follows up on it hears that it is no longer in the
knowledge base, never the nearest remaining guide's answer; the build says what it removed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from actions.actions import ActionAnswer, ActionReplyConfirmation
from actions.knowledge_service import KnowledgeService
from actions.services import RecordWriter, Services
from knowledge.index.builder import BuildReport, build_index
from knowledge.index.embedding import Embedder
from knowledge.index.store import IndexStore
from knowledge.records.store import Records
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import Settings
from tests.support import GUIDES, custom, run_action, texts, tracker_for

REMOVED = ("gas-connection", "company-deregistration")


@pytest.fixture(scope="module")
def reduced(tmp_path_factory: pytest.TempPathFactory, bundled: tuple[Settings, BuildReport],
            embedder: Embedder) -> tuple[Settings, BuildReport]:
    """The bundled index, then a rebuild (plain build, gate on) without two of its guides."""
    root = tmp_path_factory.mktemp("reduced")
    shutil.copytree(bundled[0].index_dir, root / "index")
    shutil.copytree(GUIDES, root / "guides")
    for guide_id in REMOVED:
        (root / "guides" / f"{guide_id}.md").unlink()
    settings = bundled[0].replace(guides_dir=root / "guides", index_dir=root / "index", reports_dir=root / "reports")
    return settings, build_index(settings, embedder=embedder)


@pytest.fixture
def after(tmp_path: Path, reduced: tuple[Settings, BuildReport], embedder: Embedder) -> Services:
    settings = reduced[0].replace(records_db=tmp_path / "records.sqlite3")
    retriever = Retriever.from_published_index(settings, embedder)
    return Services(settings, KnowledgeService.serving(retriever, settings), RecordWriter(Records(settings.records_db)))


def _says_removed(messages: list[dict], title: str) -> bool:
    text = texts(messages)
    return (f"【{title}】已不在" in text and "12345" in text and custom(messages, "answer") is None
            and custom(messages, "not_found") is not None)


def test_the_build_reports_and_remembers_the_removed_guides(reduced: tuple[Settings, BuildReport]) -> None:
    settings, report = reduced
    assert report.change.removed == [("company-deregistration", "企业注销登记（一般注销）"), ("gas-connection", "用气报装")]
    assert report.change.added == []
    store = IndexStore(settings.index_dir)
    kept = store.manifest(store.current_version() or "")["removed_guides"]
    assert {entry["id"] for entry in kept} == set(REMOVED)
    assert "天然气开户" in next(entry for entry in kept if entry["id"] == "gas-connection")["aliases"]


@pytest.mark.parametrize("text", ["用气报装要什么材料", "天然气开户需要带什么", "居民用气报装收费吗", "饭店天然气开户要多久",
                                  "用气报装取消了吗"])
def test_naming_a_removed_guide_is_told_it_is_gone(after: Services, text: str) -> None:
    messages, slots = run_action(ActionAnswer(after), tracker_for(text, "ask_materials"))
    assert _says_removed(messages, "用气报装")
    assert "用电报装" not in texts(messages) and slots["guide_id"] == "gas-connection"  # its follow-ups hear the same


def test_a_follow_up_on_a_removed_guide_is_told_it_is_gone(after: Services) -> None:
    messages, _slots = run_action(ActionAnswer(after), tracker_for("那要多久？", "ask_time_limit", {"guide_id": "gas-connection"}))
    assert _says_removed(messages, "用气报装")


@pytest.mark.parametrize(("reply", "entities"), [("1", None), ("第一个", None),
                                                  ('/choose{"pick": "company-deregistration"}',
                                                   [{"entity": "pick", "value": "company-deregistration"}])])
def test_picking_a_removed_guide_offered_before_the_rebuild_is_told_it_is_gone(after: Services, reply: str,
                                                                              entities: list[dict] | None) -> None:
    pending = {"candidates": ["company-deregistration", "simplified-deregistration"], "pending_aspect": "materials",
               "pending_question": "注销公司要什么材料"}
    messages, slots = run_action(ActionAnswer(after), tracker_for(reply, "choose", pending, entities=entities))
    assert _says_removed(messages, "企业注销登记（一般注销）")
    assert slots.get("guide_id") != "simplified-deregistration"  # "1" was never the second option


def test_the_second_option_and_a_longer_published_name_still_answer(after: Services) -> None:
    pending = {"candidates": ["company-deregistration", "simplified-deregistration"], "pending_aspect": "materials"}
    _messages, slots = run_action(ActionAnswer(after), tracker_for("2", "choose", pending))
    assert slots["guide_id"] == "simplified-deregistration"
    messages, slots = run_action(ActionAnswer(after), tracker_for("企业简易注销登记要什么材料", "ask_materials"))
    assert slots["guide_id"] == "simplified-deregistration" and custom(messages, "answer") is not None


def test_a_question_about_a_removed_guide_is_logged_as_not_found(after: Services) -> None:
    run_action(ActionAnswer(after), tracker_for("用气报装要什么材料", "ask_materials"))
    rows = after.records.store.rows("questions")
    assert rows and rows[-1]["outcome"] == "not_found"


def test_after_it_is_said_to_be_gone_a_follow_up_hears_the_same_not_the_matter_before(after: Services) -> None:
    messages, slots = run_action(ActionAnswer(after), tracker_for("那用气报装要什么材料", "ask_materials",
                                                                  {"guide_id": "electricity-connection"}))
    assert _says_removed(messages, "用气报装") and slots["guide_id"] == "gas-connection"
    messages, _slots = run_action(ActionAnswer(after), tracker_for("要多久？", "ask_time_limit", slots))
    assert _says_removed(messages, "用气报装") and "用电报装" not in texts(messages)


def test_yes_to_a_confirm_of_a_guide_removed_since_is_told_it_is_gone(after: Services) -> None:
    pending = {"candidates": ["gas-connection", "water-connection"], "pending_aspect": "fee", "pending_question": "通煤气多少钱",
               "offered": "confirm"}
    messages, slots = run_action(ActionReplyConfirmation(after), tracker_for("是", "affirm", pending))
    assert _says_removed(messages, "用气报装") and slots["candidates"] is None and slots["guide_id"] == "gas-connection"
    messages, _slots = run_action(ActionAnswer(after), tracker_for("那要多久？", "ask_time_limit", slots))
    assert _says_removed(messages, "用气报装")  # its follow-ups hear the same, not the matter before


@pytest.mark.parametrize(("text", "intent"), [("是的，收费吗", "ask_fee"), ("要多久", "ask_time_limit")])
def test_asking_on_while_a_confirm_of_a_removed_guide_is_open_is_told_it_is_gone(after: Services, text: str, intent: str) -> None:
    pending = {"guide_id": "electricity-connection", "candidates": ["gas-connection", "water-connection"], "pending_aspect": "fee",
               "pending_question": "通煤气多少钱", "offered": "confirm"}
    messages, _slots = run_action(ActionAnswer(after), tracker_for(text, intent, pending))
    assert _says_removed(messages, "用气报装") and "用电报装" not in texts(messages)


def test_a_typed_pick_of_a_removed_guide_is_logged_under_the_question_it_answers(after: Services) -> None:
    pending = {"candidates": ["company-deregistration", "simplified-deregistration"], "pending_aspect": "materials",
               "pending_question": "注销公司要什么材料"}
    _messages, slots = run_action(ActionAnswer(after), tracker_for("1", "choose", pending))
    assert slots["pending_question"] == "注销公司要什么材料"


@pytest.mark.parametrize("text", ["我想开个小吃店，用气报装要不要先办营业执照"])
def test_a_message_that_mentions_a_removed_guide_on_the_way_to_its_own_matter_is_answered(after: Services, text: str) -> None:
    # in a deployment that replaced the samples every sample guide is "removed": "…还是非得注册公司" must still be answered
    messages, _slots = run_action(ActionAnswer(after), tracker_for(text, "ask_conditions"))
    assert "已不在" not in texts(messages) and custom(messages, "not_found") is None
