"""Chunks: what is embedded and searched for each guide, document passage and out-of-scope anchor."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.index.chunks import (
    ANCHOR,
    FAQ,
    MAX_SECTION_CHARS,
    OVERVIEW,
    PASSAGE,
    QUESTION,
    SECTION,
    Chunk,
    anchor_chunks,
    document_chunks,
    guide_chunks,
    lexical_unit,
)
from knowledge.sources.documents import Document, parse_document
from knowledge.sources.guides import Guide, parse_guide
from tests.support import DOCUMENTS, GUIDES, guide_text, write_guide


@pytest.fixture(scope="module")
def company_setup() -> Guide:
    guide, problems = parse_guide(GUIDES / "company-setup.md", "knowledge/guides/company-setup.md")
    assert guide is not None and problems == []
    return guide


@pytest.fixture(scope="module")
def action_plan() -> Document:
    document, problems = parse_document(DOCUMENTS / "huarong-2022-business-environment-action-plan.txt", "knowledge/documents/plan.txt")
    assert document is not None and problems == []
    return document


def test_guide_chunks_cover_overview_sections_faqs_and_questions(company_setup: Guide) -> None:
    chunks = guide_chunks(company_setup)
    kinds = [chunk.kind for chunk in chunks]
    non_faq_sections = [heading for heading in company_setup.sections if heading != "常见问题"]
    assert len(non_faq_sections) == 10
    assert kinds.count(OVERVIEW) == 1 and kinds[0] == OVERVIEW
    assert kinds.count(SECTION) == len(non_faq_sections)
    assert kinds.count(FAQ) == len(company_setup.faqs) == 3
    assert kinds.count(QUESTION) == len(company_setup.questions) == 4
    assert len(chunks) == 1 + 10 + 3 + 4
    assert len({chunk.id for chunk in chunks}) == len(chunks)
    assert all(chunk.guide_id == "company-setup" and chunk.title == company_setup.title for chunk in chunks)
    assert all(chunk.source == "《示例区企业开办办事指南》" for chunk in chunks)


def test_overview_names_title_aliases_category_and_department(company_setup: Guide) -> None:
    overview = guide_chunks(company_setup)[0]
    assert overview.id == "company-setup#overview"
    for words in ("企业开办（公司设立登记）", "开公司", "注册公司", "企业开办", "示例区市场监督管理局"):
        assert words in overview.text


def test_each_section_chunk_stands_alone(company_setup: Guide) -> None:
    sections = [chunk for chunk in guide_chunks(company_setup) if chunk.kind == SECTION]
    assert [chunk.section for chunk in sections] == [heading for heading in company_setup.sections if heading != "常见问题"]
    for chunk in sections:
        assert company_setup.title in chunk.text
        assert chunk.section in chunk.text
        assert chunk.id == f"company-setup#{chunk.section}"
        assert chunk.content == company_setup.section(chunk.section).text  # shown in full
        assert len(chunk.text) <= len(company_setup.title) + len(chunk.section) + 2 + MAX_SECTION_CHARS
    materials = next(chunk for chunk in sections if chunk.section == "申请材料")
    assert "公司章程原件1份" in materials.text
    assert "常见问题" not in [chunk.section for chunk in sections]


def test_faq_chunks_hold_question_and_answer(company_setup: Guide) -> None:
    faqs = [chunk for chunk in guide_chunks(company_setup) if chunk.kind == FAQ]
    assert [chunk.id for chunk in faqs] == ["company-setup#faq-1", "company-setup#faq-2", "company-setup#faq-3"]
    first = faqs[0]
    assert first.section == "常见问题"
    assert "可以不去现场办理吗？" in first.text and "零跑腿" in first.text and company_setup.title in first.text
    assert first.content.startswith("可以不去现场办理吗？\n可以。")


def test_question_chunks_are_the_sample_questions(company_setup: Guide) -> None:
    questions = [chunk for chunk in guide_chunks(company_setup) if chunk.kind == QUESTION]
    assert [chunk.text for chunk in questions] == company_setup.questions
    assert questions[0].id == "company-setup#q-1"
    assert all(chunk.section is None for chunk in questions)


def test_long_section_is_cut_for_embedding_but_shown_whole(tmp_path: Path) -> None:
    long_note = "办理前请仔细阅读办事指南并准备好全部材料。" * 60
    text = guide_text().replace("## 常见问题", f"## 注意事项\n{long_note}\n## 常见问题")
    guide, _problems = parse_guide(write_guide(tmp_path, text=text))
    chunk = next(chunk for chunk in guide_chunks(guide) if chunk.section == "注意事项")
    assert len(long_note) > MAX_SECTION_CHARS
    assert chunk.content == long_note
    assert len(chunk.text) < len(long_note)


def test_guide_without_aliases_or_source(tmp_path: Path) -> None:
    text = guide_text().replace("aliases: [测一测]\n", "").replace("source: 《示例区测试办事指南》\n", "")
    guide, _problems = parse_guide(write_guide(tmp_path, text=text))
    overview = guide_chunks(guide)[0]
    assert "又称" not in overview.text
    assert overview.source == "测试事项登记"  # falls back to the title


def test_document_chunks_carry_units_and_deadline(action_plan: Document) -> None:
    chunks = document_chunks(action_plan)
    assert len(chunks) == len(action_plan.passages)
    assert all(chunk.kind == PASSAGE and chunk.guide_id is None for chunk in chunks)
    assert chunks[0].id == "knowledge/documents/plan.txt#1"
    assert len({chunk.id for chunk in chunks}) == len(chunks)
    policy = next(chunk for chunk in chunks if "免申即享" in chunk.content)
    assert policy.units[:3] == ["区财政局", "区发改经信局", "区行政审批局"]  # lead units first
    assert "区人社局" in policy.units
    assert "2022年6月底" in policy.deadline
    assert policy.section == "二、目标任务"
    assert policy.text.startswith("华容区2022年营商环境创优行动方案 二、目标任务：(二)推行惠企政策免申即享")
    assert policy.title == policy.source == "华容区2022年营商环境创优行动方案"
    intro = chunks[0]
    assert intro.section is None and intro.units == [] and intro.deadline == ""
    assert intro.text.startswith("华容区2022年营商环境创优行动方案：")


def test_anchor_chunks() -> None:
    chunks = anchor_chunks({"天气": ["明天会下雨吗", "气温多少度"], "闲聊": ["讲个笑话"]})
    assert [(chunk.id, chunk.kind, chunk.text, chunk.title) for chunk in chunks] == [
        ("out-of-scope#天气-1", ANCHOR, "明天会下雨吗", "天气"),
        ("out-of-scope#天气-2", ANCHOR, "气温多少度", "天气"),
        ("out-of-scope#闲聊-1", ANCHOR, "讲个笑话", "闲聊"),
    ]
    assert all(chunk.guide_id is None for chunk in chunks)
    assert anchor_chunks({}) == []


def test_lexical_unit(company_setup: Guide, action_plan: Document) -> None:
    guide_units = {lexical_unit(chunk) for chunk in guide_chunks(company_setup)}
    assert guide_units == {"guide:company-setup"}  # the whole guide is one BM25 document
    passages = document_chunks(action_plan)
    assert [lexical_unit(chunk) for chunk in passages] == [chunk.id for chunk in passages]  # each passage alone
    assert lexical_unit(anchor_chunks({"天气": ["明天会下雨吗"]})[0]) is None


def test_chunk_roundtrip_and_digest(company_setup: Guide) -> None:
    for chunk in guide_chunks(company_setup)[:3]:
        copy = Chunk.from_dict(chunk.as_dict())
        assert copy == chunk and copy.digest == chunk.digest
        assert len(chunk.digest) == 64
    first, second = guide_chunks(company_setup)[:2]
    assert first.digest != second.digest
