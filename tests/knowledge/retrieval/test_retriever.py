"""Retrieval on the bundled knowledge base: the right guide and section, honest refusals,
clarifying questions, policy passages with their units, and the evaluation targets."""

from __future__ import annotations

import pytest

from knowledge.index.evaluation import evaluate, load_question_set
from knowledge.retrieval.retriever import AMBIGUOUS, ANSWER, NONE, Retriever
from knowledge.settings import load_settings


@pytest.mark.parametrize(
    ("question", "guide_id", "section", "expected_text"),
    [
        ("开公司要带什么材料", "company-setup", "申请材料", "公司章程"),
        ("我们饭店想卖凉菜要办啥证", "food-business-license", None, None),
        ("贷款还清了房本上的抵押怎么去掉", "mortgage-registration", None, None),
        ("新厂房接自来水要多长时间", "water-connection", "办理时限", None),
        ("营业执照弄丢了要补办", "license-reissue", None, None),
        ("建筑工程施工许可证办下来要交钱吗", "construction-permit", "收费标准", None),
    ],
)
def test_answers_with_the_right_guide_and_section(
    retriever: Retriever, question: str, guide_id: str, section: str | None, expected_text: str | None
) -> None:
    result = retriever.run(question)
    assert result.decision == ANSWER, result.as_json()
    assert result.guide_id == guide_id
    headings = [heading for heading, _text in result.sections]
    if section:
        assert headings[0] == section
    if expected_text:
        assert any(expected_text in text for _heading, text in result.sections)
    # Every answer can tell the user who to contact.
    assert result.contacts and all(contact["phone"] for contact in result.contacts)
    assert result.guide["department"]


@pytest.mark.parametrize(("typed", "simplified"), [
    ("開公司要帶什麼材料", "开公司要带什么材料"),
    ("新廠房接自來水要多長時間", "新厂房接自来水要多长时间"),
    ("營業執照弄丟了要補辦", "营业执照弄丢了要补办"),
])
def test_a_question_in_traditional_characters_is_the_simplified_question(retriever: Retriever, typed: str, simplified: str) -> None:
    typed_result, simplified_result = retriever.run(typed), retriever.run(simplified)
    assert typed_result.decision == simplified_result.decision == ANSWER
    assert typed_result.guide_id == simplified_result.guide_id
    assert typed_result.confidence == pytest.approx(simplified_result.confidence)


@pytest.mark.parametrize(("typed", "ascii_form"), [
    ("参加工程投标办ＣＡ数字证书要钱吗", "参加工程投标办CA数字证书要钱吗"),
    ("工程项目网上投标要准备啥，ＣＡ锁要办吗", "工程项目网上投标要准备啥，CA锁要办吗"),
    ("在网上国网ＡＰＰ上能申请装电表吗", "在网上国网APP上能申请装电表吗"),
])
def test_full_width_letters_are_the_ascii_question(retriever: Retriever, typed: str, ascii_form: str) -> None:
    # A Chinese input method in full-width mode types "ＣＡ": the same question (knowledge/text.py half_width).
    typed_result, ascii_result = retriever.run(typed), retriever.run(ascii_form)
    assert typed_result.decision == ascii_result.decision
    assert typed_result.guide_id == ascii_result.guide_id and typed_result.candidates[0].guide_id == ascii_result.candidates[0].guide_id
    assert typed_result.confidence == pytest.approx(ascii_result.confidence)


def test_a_clarifying_question_puts_the_likeliest_guide_first(retriever: Retriever) -> None:
    # Known limit: close guides make the retriever ask back more often than a clerk would; when it
    # does, the right guide must be the first choice offered.
    result = retriever.run("个体户执照丢了怎么补")
    ranked = result.choices if result.decision == AMBIGUOUS else [c for c in result.candidates[:1]]
    assert ranked[0].guide_id == "license-reissue"


def test_materials_answer_is_the_complete_list(retriever: Retriever) -> None:
    result = retriever.run("注册公司需要准备哪些资料")
    guide = retriever.guide("company-setup")
    assert result.guide_id == "company-setup"
    materials = dict(result.sections)["申请材料"]
    for item in guide["sections"]["申请材料"]["items"]:
        assert item in materials  # never cut silently


def test_an_intent_aspect_overrides_the_wording(retriever: Retriever) -> None:
    result = retriever.run("公章刻制备案", aspect="fee")
    assert result.guide_id == "seal-engraving"
    assert [heading for heading, _ in result.sections] == ["收费标准"]


@pytest.mark.parametrize("question", ["今天天气怎么样", "推荐个股票", "asdfgh", "给我讲个笑话", "感冒了吃什么药", "", "   ", "😀"])
def test_off_topic_is_refused_instead_of_the_least_bad_hit(retriever: Retriever, question: str) -> None:
    result = retriever.run(question)
    assert result.decision == NONE
    assert result.guide is None and result.sections == []


@pytest.mark.parametrize(("question", "guide_id"), [("反映吃拿卡要的问题需要提供啥证据材料", "business-complaint"),
                                                  ("开个小卖部要交钱不", "individual-business-registration")])
def test_an_in_scope_question_near_the_off_topic_anchors_is_offered_not_refused(retriever: Retriever, question: str,
                                                                                guide_id: str) -> None:
    """Its words sit near the off-topic anchors (证据, 交钱), so the retriever is unsure it is ours; but the
    "not found" line is the anchors' 10% quantile (calibration_confirm_offtopic): the citizen gets
    "您问的是…吗？" or a choice holding the right guide, one click away, instead of "没有找到"."""
    result = retriever.run(question)
    assert result.decision != NONE
    assert guide_id in {choice.guide_id for choice in result.choices} | {result.guide_id}


def test_ambiguous_question_offers_the_candidates(retriever: Retriever) -> None:
    result = retriever.run("公司注销")
    assert result.decision == AMBIGUOUS
    offered = [choice.guide_id for choice in result.choices]
    assert {"company-deregistration", "simplified-deregistration"} <= set(offered)
    assert len(offered) <= retriever.params.max_candidates
    assert result.guide is None


def test_policy_passage_names_its_lead_units(retriever: Retriever) -> None:
    result = retriever.run("惠企政策免申即享由哪些部门牵头")
    assert result.passage is not None
    assert result.passage.chunk.title == "华容区2022年营商环境创优行动方案"
    assert result.passage.chunk.units[:3] == ["区财政局", "区发改经信局", "区行政审批局"]
    assert "2022年6月底" in result.passage.chunk.deadline


def test_document_only_question_is_answered_from_the_document(retriever: Retriever) -> None:
    result = retriever.run("红顶中介整治由哪个部门牵头，什么时候完成")
    passages = [hit for hit in result.hits[:3] if hit.chunk.guide_id is None]
    assert passages and "区发改经信局" in passages[0].chunk.units


def test_json_shape_is_stable(retriever: Retriever) -> None:
    data = retriever.run("用电报装要多久").as_json()
    assert set(data) >= {"question", "decision", "hits"}
    assert data["decision"] in {"answer", "ambiguous", "none"}
    scores = [hit["score"] for hit in data["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert set(data["hits"][0]) >= {"guide_id", "title", "section", "score", "text"}


def test_batch_and_single_agree(retriever: Retriever) -> None:
    questions = ["办营业执照去哪里", "今天天气怎么样"]
    batch = retriever.run_batch(questions)
    single = [retriever.run(question) for question in questions]
    assert [r.decision for r in batch] == [r.decision for r in single]
    assert [r.guide_id for r in batch] == [r.guide_id for r in single]


def test_evaluation_meets_the_targets(retriever: Retriever) -> None:
    report = evaluate(retriever, load_question_set(load_settings().eval_questions))
    counts, metrics = report["counts"], report["metrics"]
    assert counts["in_scope"] >= 250 and counts["off_topic"] >= 50 and counts["ambiguous"] >= 20
    assert metrics["top1"] >= 0.95
    assert metrics["top3"] >= 0.99
    # The confirm band asks about a few off-topic questions the NLU did not refuse; none is answered.
    assert metrics["offtopic_rejected"] >= 0.85 and metrics["offtopic_answered"] <= 0.05
    # 0.021 with the "not found" line at the anchors' 3% quantile; 0.0035 at 10% (calibration_confirm_offtopic)
    assert metrics["inscope_rejected"] <= 0.01
    assert metrics["documents_found"] >= 0.9
