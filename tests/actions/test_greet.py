"""The greeting, the out-of-scope reply and "请问您想了解哪个事项？" offer the examples of the index
version the turn is served from (knowledge/examples.py): a knowledge base that replaced the sample
guides gets its own, the sample gets sample ones, and with no index loaded no item is named."""

from __future__ import annotations

import copy

from actions.actions import ActionAnswer, ActionGreet
from actions.knowledge_service import KnowledgeService
from actions.services import Services
from knowledge.examples import Examples
from knowledge.retrieval.retriever import Retriever
from tests.support import run_action, texts, tracker_for

OWN = Examples(("养蜂转场要备案吗？", "取水许可多久能批？"), ("渔船登记", "取水许可"))
SAMPLE = ("企业开办", "用水报装", "施工许可", "开办企业", "开公司", "食品经营")


def replaced(services: Services, retriever: Retriever) -> Services:
    """The same services over an index version whose guides replaced the sample ones (as far as the
    examples go: its manifest names its own)."""
    pinned = retriever.pinned()
    data = copy.copy(pinned.data)
    data.manifest = {**data.manifest, "examples": OWN.as_manifest()}
    pinned._data = data
    return Services(services.settings, KnowledgeService.serving(pinned, services.settings), services.records)


def test_the_sample_greeting_offers_sample_questions(services: Services, retriever: Retriever) -> None:
    said = texts(run_action(ActionGreet(services), tracker_for("你好", "greet"))[0])
    published = Examples.of(retriever.data.manifest)
    assert said.startswith("您好！") and published.questions and all(f"· {q}" in said for q in published.questions)
    assert "· 开公司要带什么材料？" in said


def test_a_replaced_knowledge_base_is_offered_in_every_example(services: Services, retriever: Retriever) -> None:
    own = replaced(services, retriever)
    greeting = texts(run_action(ActionGreet(own), tracker_for("你好", "greet"))[0])
    introduced = texts(run_action(ActionGreet(own), tracker_for("你是机器人吗", "bot_challenge"))[0])
    refused = texts(run_action(ActionAnswer(own), tracker_for("今天天气怎么样", "out_of_scope"))[0])
    asked = texts(run_action(ActionAnswer(own), tracker_for("那要多久？", "ask_time_limit"))[0])
    for said in (greeting, introduced, refused):
        assert all(f"· {q}" in said for q in OWN.questions), said
    assert "不在我的服务范围内" in refused and "机器人" in introduced
    assert asked.startswith("请问您想了解哪个事项") and "例如“渔船登记”“取水许可”" in asked, asked
    for said in (greeting, introduced, refused, asked):
        assert not any(name in said for name in SAMPLE), said


def test_without_an_index_the_greeting_names_no_item(services: Services) -> None:
    empty = Services(services.settings, KnowledgeService(services.settings), services.records)  # never started
    said = texts(run_action(ActionGreet(empty), tracker_for("你好", "greet"))[0])
    assert said.startswith("您好！") and "· " not in said and not any(name in said for name in SAMPLE)
