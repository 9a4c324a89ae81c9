"""bot/launcher/nlu_drift.py on a tiny question file: every question is read, and each change of first intent is
counted once, by the boundary it crosses."""

from __future__ import annotations

import pytest

from bot.launcher.nlu_drift import boundary, drift, question_texts

pytestmark = pytest.mark.unit

QUESTIONS = {
    "in_scope": [{"q": "养犬登记要多久", "guide": "dog", "aspect": "time_limit"}, {"q": "养犬登记收费吗", "guide": "dog", "aspect": "fee"}],
    "off_topic": ["今天天气怎么样", {"q": "推荐个股票"}],
    "conversations": [{"guide": "dog", "turns": [{"q": "我家狗还没办证", "aspect": "general"}, {"q": "周末上班不", "aspect": "contact"}]}],
}


def test_every_question_is_read_with_its_kind() -> None:
    assert question_texts(QUESTIONS) == [("in_scope", "养犬登记要多久"), ("in_scope", "养犬登记收费吗"), ("off_topic", "今天天气怎么样"),
                                         ("off_topic", "推荐个股票"), ("first", "我家狗还没办证"), ("follow_up", "周末上班不")]


def test_a_change_is_named_by_the_decision_it_crosses() -> None:
    assert boundary("ask_time_limit", "nlu_fallback") == "nlu_fallback"
    assert boundary("out_of_scope", "nlu_fallback") == "nlu_fallback"  # unsure is the first boundary met
    assert boundary("ask_fee", "out_of_scope") == "out_of_scope"
    assert boundary("ask_contact", "chitchat") == "conversation"
    assert boundary("ask_fee", "ask_conditions") == "aspects"


def test_only_changed_first_intents_are_counted() -> None:
    texts = question_texts(QUESTIONS)
    before = [("ask_time_limit", 0.9), ("ask_fee", 0.8), ("out_of_scope", 0.97), ("out_of_scope", 0.6), ("nlu_fallback", 0.4),
              ("chitchat", 0.47)]
    after = [("ask_time_limit", 0.5), ("ask_conditions", 0.6), ("out_of_scope", 0.9), ("ask_fee", 0.55), ("ask_procedure", 0.7),
             ("ask_contact", 0.98)]
    report = drift(texts, before, after)
    assert report["messages"] == 6 and report["changed"] == 4 and report["share"] == round(4 / 6, 4)
    assert report["by_kind"] == {"in_scope": {"changed": 1, "total": 2}, "off_topic": {"changed": 1, "total": 2},
                                 "first": {"changed": 1, "total": 1}, "follow_up": {"changed": 1, "total": 1}}
    assert report["by_boundary"] == {"aspects": 1, "out_of_scope": 1, "nlu_fallback": 1, "conversation": 1}
    assert [row["q"] for row in report["changes"]] == ["养犬登记收费吗", "推荐个股票", "我家狗还没办证", "周末上班不"]
