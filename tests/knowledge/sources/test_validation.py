"""validate_knowledge_base: the bundled knowledge base, and the checks across files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.settings import Settings, load_settings
from knowledge.sources.validation import ValidationResult, validate_knowledge_base
from tests.support import GUIDES, guide_text, write_guide

BUNDLED_IDS = sorted("""
company-setup individual-business-registration company-change company-deregistration simplified-deregistration
seal-engraving invoice-application new-taxpayer bank-account social-insurance-registration housing-fund-registration
water-connection electricity-connection gas-connection property-transfer-registration mortgage-registration
planning-permit construction-permit joint-completion-acceptance food-business-license public-place-hygiene-license
pharmacy-license publication-license environmental-impact-approval road-transport-license business-support-policy
bidding-online gov-procurement-supplier business-complaint proxy-service tolerance-acceptance labor-arbitration
foreign-invested-enterprise license-reissue special-equipment-registration fire-safety-inspection
""".split())


@pytest.fixture(scope="module")
def bundled_result() -> ValidationResult:
    return validate_knowledge_base(load_settings())


def tmp_settings(tmp_path: Path) -> Settings:
    """Empty guide and document folders and no out-of-scope file, all under tmp_path."""
    (tmp_path / "documents").mkdir(exist_ok=True)
    return load_settings(
        guides_dir=tmp_path / "guides",
        documents_dir=tmp_path / "documents",
        out_of_scope_file=tmp_path / "out_of_scope.yml",
    )


# --- the bundled knowledge base ----------------------------------------------------------------


def test_bundled_knowledge_base_is_valid(bundled_result: ValidationResult) -> None:
    assert [str(problem) for problem in bundled_result.problems] == []
    assert bundled_result.ok
    assert len(BUNDLED_IDS) == 36
    assert sorted(guide.id for guide in bundled_result.guides) == BUNDLED_IDS
    assert len(bundled_result.documents) == 2
    assert sorted(Path(document.path).name for document in bundled_result.documents) == [
        "county-approval-bureau-business-environment-report.txt",
        "huarong-2022-business-environment-action-plan.txt",
    ]
    assert {document.title for document in bundled_result.documents} == {
        "***县行政审批服务局优化营商环境工作情况报告",
        "华容区2022年营商环境创优行动方案",
    }


def test_every_guide_file_is_loaded_and_paths_are_shown_relative(bundled_result: ValidationResult) -> None:
    on_disk = sorted(path.stem for path in GUIDES.glob("*.md") if path.name.lower() != "readme.md")
    assert on_disk == BUNDLED_IDS
    for guide in bundled_result.guides:
        assert guide.path == f"knowledge/guides/{guide.id}.md"


@pytest.mark.parametrize("guide_id", BUNDLED_IDS)
def test_bundled_guide_is_complete_enough_to_answer(bundled_result: ValidationResult, guide_id: str) -> None:
    guide = next(guide for guide in bundled_result.guides if guide.id == guide_id)
    assert guide.title and guide.department and guide.category
    assert len(guide.section("申请材料").items) >= 4
    assert len(guide.section("办理流程").items) >= 3
    assert len(guide.faqs) >= 2
    assert all(faq.answer for faq in guide.faqs)
    assert any(contact.phone and any(ch.isdigit() for ch in contact.phone) for contact in guide.contacts)
    assert len(guide.questions) >= 3
    assert len(guide.updated) == 10


def test_bundled_aliases_and_titles_are_unique(bundled_result: ValidationResult) -> None:
    names = [name for guide in bundled_result.guides for name in {guide.title, *guide.aliases}]
    assert len(names) == len(set(names))


def test_bundled_out_of_scope_anchors_are_loaded(bundled_result: ValidationResult) -> None:
    assert "天气与出行" in bundled_result.out_of_scope
    assert "明天会下雨吗" in bundled_result.out_of_scope["天气与出行"]
    assert sum(len(examples) for examples in bundled_result.out_of_scope.values()) >= 20


# --- checks across files -----------------------------------------------------------------------


def test_a_valid_tmp_knowledge_base_is_ok(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    write_guide(settings.guides_dir, "test-item")
    result = validate_knowledge_base(settings)
    assert result.ok and result.problems == []
    assert [guide.id for guide in result.guides] == ["test-item"]
    assert result.documents == [] and result.out_of_scope == {}


def test_duplicate_id_across_two_files(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    first = write_guide(settings.guides_dir, "test-item")
    # A copy saved under another name that still carries the old id (a typical copy-paste slip).
    second = write_guide(settings.guides_dir, "zz-copy", text=guide_text("test-item", title="另一个测试事项", alias="另一个别名"))
    result = validate_knowledge_base(settings)
    assert not result.ok
    duplicate = [problem for problem in result.errors if "重复" in problem.message]
    assert len(duplicate) == 1
    assert str(duplicate[0]) == f"{second}:2: id“test-item”重复，已被 {first} 使用"


def test_alias_claimed_by_two_guides_is_reported_on_the_second_files_alias_line(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    first = write_guide(settings.guides_dir, "a-item", title="甲事项", alias="办个证")
    text = guide_text("b-item", title="乙事项").replace("aliases: [测一测]", "aliases:\n  - 乙的叫法\n  - 办个证")
    second = write_guide(settings.guides_dir, "b-item", text=text)
    result = validate_knowledge_base(settings)
    assert [str(problem) for problem in result.errors] == [
        f"{second}:6: 别名“办个证”已被 {first}（a-item）使用，同一别名不能指向两个事项",
    ]


def test_alias_equal_to_another_guides_title_is_reported(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    write_guide(settings.guides_dir, "a-item", title="甲事项", alias="甲")
    second = write_guide(settings.guides_dir, "b-item", title="乙事项", alias="甲事项")
    problem = validate_knowledge_base(settings).errors[0]
    assert problem.path == str(second) and problem.line == 4 and "别名“甲事项”已被" in problem.message


def test_alias_taken_from_a_bundled_guide_is_reported(kb_copy: Settings) -> None:
    path = write_guide(kb_copy.guides_dir, "zz-new-item", title="新办事项", alias="开公司")
    result = validate_knowledge_base(kb_copy)
    assert [(problem.path, problem.line) for problem in result.errors] == [(str(path), 4)]
    assert "别名“开公司”已被" in result.errors[0].message and "（company-setup）" in result.errors[0].message


def test_a_broken_guide_in_a_copy_of_the_bundled_kb_is_the_only_error(kb_copy: Settings) -> None:
    path = kb_copy.guides_dir / "water-connection.md"
    path.write_text(path.read_text(encoding="utf-8").replace("id: water-connection", "id: Water_Connection"), encoding="utf-8")
    result = validate_knowledge_base(kb_copy)
    assert not result.ok
    assert len(result.errors) == 2  # illegal characters, and not the file name
    assert all(problem.path == str(path) and problem.line == 2 for problem in result.errors)
    assert len(result.guides) == 36 and len(result.documents) == 2  # every other file is still checked


def test_warnings_do_not_make_the_knowledge_base_invalid(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    write_guide(settings.guides_dir, text=guide_text().replace("source:", "owner: 张三\nsource:"))
    result = validate_knowledge_base(settings)
    assert result.ok
    assert len(result.warnings) == 1 and result.errors == []


def test_no_guides_at_all_is_an_error(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    settings.guides_dir.mkdir()
    result = validate_knowledge_base(settings)
    assert not result.ok
    assert "没有找到任何办事指南" in result.errors[0].message


def test_readme_in_guides_folder_is_not_a_guide(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    write_guide(settings.guides_dir, "test-item")
    (settings.guides_dir / "README.md").write_text("# 说明\n这里放办事指南。\n", encoding="utf-8")
    result = validate_knowledge_base(settings)
    assert result.ok and [guide.id for guide in result.guides] == ["test-item"]


def test_document_problems_are_collected(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    write_guide(settings.guides_dir, "test-item")
    (settings.documents_dir / "empty.txt").write_text("\n\n", encoding="utf-8")
    (settings.documents_dir / "notes.pdf").write_bytes(b"%PDF-1.4")  # not a supported type: skipped
    result = validate_knowledge_base(settings)
    assert [(Path(problem.path).name, problem.line) for problem in result.errors] == [("empty.txt", 1)]
    assert result.documents == []


def test_out_of_scope_file_with_wrong_shape_is_reported(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    write_guide(settings.guides_dir, "test-item")
    settings.out_of_scope_file.write_text("topics:\n  天气: 明天下雨吗\n", encoding="utf-8")
    result = validate_knowledge_base(settings)
    assert not result.ok and "topics" in result.errors[0].message
    settings.out_of_scope_file.write_text("topics:\n  天气: [明天下雨吗, 气温多少]\n", encoding="utf-8")
    assert validate_knowledge_base(settings).out_of_scope == {"天气": ["明天下雨吗", "气温多少"]}


def test_bundled_anchors_are_not_evaluation_questions(bundled_result: ValidationResult) -> None:
    # The anchors are calibration negatives: one that repeats a question the sample or a development
    # set asks would make that set's off-topic numbers say nothing. (The held-out sets unseen*/ are
    # read by no step of development, this one included.)
    anchors = {text for texts in bundled_result.out_of_scope.values() for text in texts}
    data = Path(__file__).resolve().parents[2] / "data"
    files = [data / "questions.yml", *sorted(data.glob("dev*/questions.yml"))]
    asked = {str(q) for path in files for q in yaml.safe_load(path.read_text(encoding="utf-8")).get("off_topic") or []}
    assert len(files) >= 2 and asked
    assert not anchors & asked


def test_bundled_anchors_do_not_lean_on_contact_words(bundled_result: ValidationResult) -> None:
    # Citizens asking a guide's phone or office use few topic words ("民政局管社会组织的股室电话多少"):
    # an anchor built on 电话 / 号码 / 营业厅 pulled such questions off-topic on the development sets.
    anchors = [text for texts in bundled_result.out_of_scope.values() for text in texts]
    assert not [text for text in anchors if any(word in text for word in ("电话", "号码", "营业厅", "窗口"))]


# --- which file is blamed for a clash --------------------------------------------------------------


def test_duplicate_id_blames_the_copy_not_the_untouched_original(tmp_path: Path) -> None:
    # dog-registration-2.md sorts before dog-registration.md: the copy is read first.
    settings = tmp_settings(tmp_path)
    original = write_guide(settings.guides_dir, "dog-registration", title="养犬登记", alias="办狗证")
    copy = write_guide(settings.guides_dir, "dog-registration-2", text=original.read_text(encoding="utf-8"))
    result = validate_knowledge_base(settings)
    assert {problem.path for problem in result.errors} == {str(copy)}
    duplicate = [str(problem) for problem in result.errors if "重复" in problem.message]
    assert duplicate == [f"{copy}:2: id“dog-registration”重复，已被 {original} 使用"]


def test_duplicate_title_is_reported_as_a_title_on_the_copys_title_line(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    original = write_guide(settings.guides_dir, "dog-registration", title="养犬登记", alias="办狗证")
    copy = write_guide(settings.guides_dir, "dog-registration-2", title="养犬登记", alias="狗证补办")
    result = validate_knowledge_base(settings)
    assert [str(problem) for problem in result.errors] == [
        f"{copy}:3: 标题“养犬登记”已被 {original}（dog-registration）用作标题，同一名称不能指向两个事项：请改用能区分的标题",
    ]


def test_title_equal_to_an_earlier_guides_alias_says_title(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    first = write_guide(settings.guides_dir, "a-item", title="甲事项", alias="乙事项")
    second = write_guide(settings.guides_dir, "b-item", title="乙事项", alias="乙")
    problem = validate_knowledge_base(settings).errors[0]
    assert (problem.path, problem.line) == (str(second), 3)
    assert problem.message.startswith(f"标题“乙事项”已被 {first}（a-item）用作别名")


# --- files validation does not read, and a missing folder ------------------------------------------


def test_files_that_are_not_read_are_named_in_warnings(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    write_guide(settings.guides_dir, "test-item")
    write_guide(settings.guides_dir / "old", "old-item")
    (settings.guides_dir / "X.MD").write_text(guide_text("X"), encoding="utf-8")
    (settings.guides_dir / "x.txt").write_text("说明", encoding="utf-8")
    (settings.guides_dir / ".gitkeep").write_text("", encoding="utf-8")  # an editor's or git's: not the admin's
    for name in ("notice.pdf", "old.doc", "sheet.xlsx"):
        (settings.documents_dir / name).write_bytes(b"\0")
    result = validate_knowledge_base(settings)
    assert result.ok and [guide.id for guide in result.guides] == ["test-item"]  # warnings do not break a build
    found = {Path(problem.path).relative_to(tmp_path).as_posix(): problem.message for problem in result.warnings}
    assert sorted(found) == ["documents/notice.pdf", "documents/old.doc", "documents/sheet.xlsx",
                             "guides/X.MD", "guides/old/old-item.md", "guides/x.txt"]
    assert "子文件夹里的文件不会读取，也不会发布" in found["guides/old/old-item.md"]
    assert "请改名为 X.md" in found["guides/X.MD"]
    assert found["guides/x.txt"].startswith("只读取 guides/ 下的 .md 文件，这个文件没有发布")
    assert "不支持 PDF" in found["documents/notice.pdf"] and "另存为” .docx" in found["documents/old.doc"]
    assert "不支持 .xlsx 文件" in found["documents/sheet.xlsx"]
    assert all(problem.line == 1 for problem in result.warnings)


def test_missing_guides_folder_is_named_as_missing(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)  # guides/ is never created
    result = validate_knowledge_base(settings)
    assert [str(problem) for problem in result.errors] == [
        f"{settings.guides_dir}:1: 办事指南文件夹不存在：请检查 settings.yml 的 guides_dir 或环境变量 GOVQA_GUIDES_DIR",
    ]


def test_out_of_scope_yaml_error_is_explained_on_its_line(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path)
    write_guide(settings.guides_dir, "test-item")
    settings.out_of_scope_file.write_text("topics:\n  天气: [明天下雨吗, 气温多少\n  出行: [坐车]\n", encoding="utf-8")
    problem = validate_knowledge_base(settings).errors[0]
    assert problem.line == 2 and "方括号列表" in problem.message
