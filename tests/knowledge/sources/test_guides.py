"""parse_guide: the bundled example guide, and every problem an admin can make, reported as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.sources.aspects import REQUIRED_SECTIONS
from knowledge.sources.guides import DEFAULT_COMPLAINT_PHONE, Problem, parse_guide
from tests.support import (
    GUIDE_CONTACTS_LINE,
    GUIDE_FIRST_BODY_LINE,
    GUIDE_ID_LINE,
    GUIDE_PHONE_LINE,
    GUIDE_QUESTIONS_LINE,
    GUIDE_UPDATED_LINE,
    GUIDES,
    guide_text,
    only_error,
    parse_with_problems,
    write_guide,
)

ID_LINE = GUIDE_ID_LINE
CONTACTS_LINE = GUIDE_CONTACTS_LINE
PHONE_LINE = GUIDE_PHONE_LINE
UPDATED_LINE = GUIDE_UPDATED_LINE
QUESTIONS_LINE = GUIDE_QUESTIONS_LINE
FIRST_BODY_LINE = GUIDE_FIRST_BODY_LINE
parse = parse_with_problems


def errors(problems: list[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.is_error]


def without_key(text: str, key: str) -> str:
    """The guide text without the top-level `key` and its indented continuation lines."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if line.startswith(f"{key}:"):
            skipping = True
            continue
        if skipping and line.startswith((" ", "\t")):
            continue
        skipping = False
        kept.append(line)
    return "".join(kept)


def without_section(text: str, heading: str) -> str:
    """The guide text without `## heading` and its body."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            skipping = line.strip() == f"## {heading}"
        if not skipping:
            kept.append(line)
    return "".join(kept)


# --- the bundled example -------------------------------------------------------------------------


def test_bundled_company_setup_is_parsed_completely() -> None:
    guide, problems = parse_guide(GUIDES / "company-setup.md")
    assert problems == []
    assert guide is not None
    assert guide.id == "company-setup"
    assert guide.title == "企业开办（公司设立登记）"
    assert guide.category == "企业开办"
    assert guide.department == "示例区市场监督管理局"
    assert guide.updated == "2026-03-01"
    assert "开公司" in guide.aliases and "注册公司" in guide.aliases
    assert guide.complaint_phone == "12345"
    assert [(contact.unit, contact.phone) for contact in guide.contacts] == [
        ("示例区政务服务中心企业开办专区", "0000-1234567"),
        ("示例区市场监督管理局登记注册科", "0000-1234500"),
    ]
    assert guide.contacts[0].address == "示例区政务服务中心一楼A区3-8号窗口"
    assert guide.contacts[0].hours.startswith("工作日 9:00-12:00")
    assert guide.questions[0] == "开公司要带什么材料"
    assert len(guide.questions) == 4

    materials = guide.section("申请材料")
    assert materials is not None
    assert len(materials.items) == 6
    assert materials.items[0].startswith("《公司登记（备案）申请书》原件1份")
    assert not materials.items[0].startswith("1.")  # the number is not part of the item
    process = guide.section("办理流程")
    assert process is not None and len(process.items) == 4
    assert "0.5个工作日" in guide.section("办理时限").text
    assert guide.section("收费标准").text.startswith("不收费")

    assert [faq.question for faq in guide.faqs] == ["可以不去现场办理吗？", "住所可以用住宅吗？", "刻章要另外花钱吗？"]
    assert guide.faqs[0].answer.startswith("可以。全程网上申报")
    assert "### " not in guide.faqs[1].answer  # an answer stops at the next question
    assert guide.faqs[2].line == 75

    data = guide.as_dict()
    assert "常见问题" not in data["sections"]  # FAQs are listed separately
    assert len(data["faqs"]) == 3
    assert len(data["sections"]["申请材料"]["items"]) == 6


def test_valid_guide_has_no_problems_and_defaults(tmp_path: Path) -> None:
    text = without_key(guide_text(), "source")
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert problems == []
    assert guide is not None
    assert guide.complaint_phone == DEFAULT_COMPLAINT_PHONE
    assert guide.source == ""
    assert guide.alias_lines == {"测一测": 4}
    assert guide.id_line == ID_LINE


def test_full_width_letters_in_names_are_read_in_ascii(tmp_path: Path) -> None:
    # Questions are read with ASCII letters and digits (knowledge/text.py half_width): a name typed "ＣＭＡ认证" must
    # meet "CMA认证"; the alias keeps its line for the cross-file checks.
    guide, problems = parse(write_guide(tmp_path, title="检验检测机构资质认定（ＣＭＡ）", alias="ＣＭＡ认证"))
    assert problems == [] and guide is not None
    assert guide.title == "检验检测机构资质认定（CMA）" and guide.aliases == ["CMA认证"] and guide.alias_lines == {"CMA认证": 4}


def test_problem_prints_as_file_line_message() -> None:
    error = Problem("knowledge/guides/x.md", 12, "缺少必填字段 department")
    assert str(error) == "knowledge/guides/x.md:12: 缺少必填字段 department"
    assert error.is_error
    warning = Problem("knowledge/guides/x.md", 3, "未知字段 owner（不影响使用）", "warning")
    assert str(warning) == "knowledge/guides/x.md:3: 警告：未知字段 owner（不影响使用）"
    assert not warning.is_error


# --- every validation problem ------------------------------------------------------------------


def test_yaml_syntax_error_reports_the_line_of_the_error(tmp_path: Path) -> None:
    text = guide_text().replace("department: 示例区测试局", "department: 示例区: 测试局")
    path = write_guide(tmp_path, text=text)
    guide, problems = parse(path)
    assert guide is None
    problem = only_error(problems)
    assert (problem.path, problem.line) == ("test-item.md", 6)
    assert "YAML 语法错误" in problem.message
    assert str(problem) == f"test-item.md:6: {problem.message}"


def test_yaml_error_in_a_flow_list_reports_its_line(tmp_path: Path) -> None:
    text = guide_text().replace("aliases: [测一测]", "aliases: [测一测, 测两测")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line in (4, 5)  # the unclosed list is on line 4; PyYAML notices it on the next key
    assert "YAML 语法错误" in problem.message


def test_missing_front_matter_is_reported_on_line_1(tmp_path: Path) -> None:
    text = guide_text().split("---\n", 2)[2]  # the body only
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert guide is None
    problem = only_error(problems)
    assert problem.line == 1 and "缺少 YAML 头信息" in problem.message


def test_unterminated_front_matter_is_reported(tmp_path: Path) -> None:
    text = guide_text().replace("---\n## 申请材料", "## 申请材料")
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert guide is None
    assert "缺少第二个 ---" in only_error(problems).message


@pytest.mark.parametrize("key", ["id", "title", "category", "department", "contacts", "updated", "questions"])
def test_missing_required_key(tmp_path: Path, key: str) -> None:
    path = write_guide(tmp_path, text=without_key(guide_text(), key))
    _guide, problems = parse(path)
    problem = only_error(problems)
    assert problem.message == f"缺少必填字段 {key}"
    assert problem.line == 1  # absent keys have no line of their own: the file's start
    assert str(problem) == f"test-item.md:1: 缺少必填字段 {key}"


def test_empty_required_key_is_reported_on_its_own_line(tmp_path: Path) -> None:
    text = guide_text().replace("department: 示例区测试局", 'department: ""')
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert str(problem) == "test-item.md:6: 缺少必填字段 department"


@pytest.mark.parametrize("heading", REQUIRED_SECTIONS)
def test_missing_required_section(tmp_path: Path, heading: str) -> None:
    path = write_guide(tmp_path, text=without_section(guide_text(), heading))
    guide, problems = parse(path)
    assert guide is not None and heading not in guide.sections
    problem = only_error(problems)
    assert problem.line == FIRST_BODY_LINE
    assert problem.message == f"缺少必填章节“## {heading}”"


def test_empty_required_section(tmp_path: Path) -> None:
    text = guide_text().replace("## 收费标准\n不收费\n", "## 收费标准\n\n")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == 30 and "章节“收费标准”内容为空" in problem.message


def test_duplicate_section_heading(tmp_path: Path) -> None:
    text = guide_text().replace("## 常见问题", "## 收费标准\n另收工本费\n## 常见问题")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == 34
    assert "章节“收费标准”重复（第一次在第 30 行）" in problem.message


def test_id_not_equal_to_file_stem(tmp_path: Path) -> None:
    path = write_guide(tmp_path, "other-item", text=guide_text("test-item"))
    problem = only_error(parse(path)[1])
    assert str(problem) == "other-item.md:2: id“test-item”与文件名“other-item”不一致"


@pytest.mark.parametrize("bad_id", ["Company_Setup", "company setup", "公司设立", "company--setup"])
def test_id_with_illegal_characters(tmp_path: Path, bad_id: str) -> None:
    text = guide_text().replace("id: test-item", f"id: {bad_id}")
    path = write_guide(tmp_path, bad_id, text=text)  # file named after the id: only the characters are wrong
    problem = only_error(parse(path)[1])
    assert problem.line == ID_LINE
    assert problem.message == f"id“{bad_id}”只能包含小写字母、数字和 -"


def test_materials_without_numbered_items(tmp_path: Path) -> None:
    numbered = "1. 《测试申请表》原件1份\n2. 申请人身份证复印件1份\n3. 场地证明复印件1份\n4. 授权委托书原件1份\n"
    text = guide_text().replace(numbered, "请携带相关材料到窗口办理。\n")
    guide, problems = parse(write_guide(tmp_path, text=text))
    problem = only_error(problems)
    assert problem.line == FIRST_BODY_LINE
    assert "申请材料为空" in problem.message
    assert guide is not None and guide.section("申请材料").items == []


def test_materials_heading_with_nothing_under_it(tmp_path: Path) -> None:
    numbered = "1. 《测试申请表》原件1份\n2. 申请人身份证复印件1份\n3. 场地证明复印件1份\n4. 授权委托书原件1份\n"
    text = guide_text().replace(numbered, "")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert str(problem) == f"test-item.md:{FIRST_BODY_LINE}: 章节“申请材料”内容为空"


def test_process_must_be_a_numbered_list(tmp_path: Path) -> None:
    text = guide_text().replace("1. 提交申请\n2. 审核\n3. 发证\n", "先提交申请，再审核，最后发证。\n")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == 24 and "办理流程应为编号列表" in problem.message


def test_bulleted_and_continued_items_are_one_item_each(tmp_path: Path) -> None:
    numbered = "1. 《测试申请表》原件1份\n2. 申请人身份证复印件1份\n3. 场地证明复印件1份\n4. 授权委托书原件1份\n"
    text = guide_text().replace(numbered, "- 《测试申请表》原件1份\n  （须签字）\n- 身份证复印件1份\n")
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert errors(problems) == []
    assert guide.section("申请材料").items == ["《测试申请表》原件1份 （须签字）", "身份证复印件1份"]


def test_invalid_quoted_date(tmp_path: Path) -> None:
    text = guide_text().replace("updated: 2026-05-01", 'updated: "2026-13-45"')
    guide, problems = parse(write_guide(tmp_path, text=text))
    problem = only_error(problems)
    assert str(problem) == f"test-item.md:{UPDATED_LINE}: 日期“2026-13-45”无效，应为 YYYY-MM-DD"
    assert guide is not None and guide.updated == ""


@pytest.mark.parametrize("value", ["2026年5月1日", "next week", "2026/05/01"])
def test_date_in_another_format_is_invalid(tmp_path: Path, value: str) -> None:
    text = guide_text().replace("updated: 2026-05-01", f"updated: {value}")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == UPDATED_LINE and "无效，应为 YYYY-MM-DD" in problem.message


@pytest.mark.parametrize("value", ["2026-13-45", "2026-02-30"])
def test_invalid_unquoted_date_is_reported_not_raised(tmp_path: Path, value: str) -> None:
    # An admin writes dates unquoted, exactly as the README example does. (PyYAML itself raises a
    # bare ValueError on these; the parser must turn that into a file:line problem.)
    text = guide_text().replace("updated: 2026-05-01", f"updated: {value}")
    guide, problems = parse(write_guide(tmp_path, text=text))
    problem = only_error(problems)
    assert str(problem) == f"test-item.md:{UPDATED_LINE}: 日期“{value}”无效，应为 YYYY-MM-DD"
    assert guide is not None and guide.updated == ""


def test_phone_without_digits(tmp_path: Path) -> None:
    text = guide_text().replace('phone: "0000-7654321"', "phone: 请拨打窗口电话")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert str(problem) == f"test-item.md:{PHONE_LINE}: contacts 第 1 项的电话“请拨打窗口电话”不含数字"


def test_contact_without_phone(tmp_path: Path) -> None:
    text = guide_text().replace('    phone: "0000-7654321"\n', "")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == CONTACTS_LINE and "contacts 第 1 项缺少电话（phone）" in problem.message


def test_complaint_phone_without_digits(tmp_path: Path) -> None:
    text = guide_text().replace("updated:", "complaint_phone: 市长热线\nupdated:")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == 12 and "complaint_phone的电话“市长热线”不含数字" in problem.message


def test_file_not_utf8_reports_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "test-item.md"
    path.write_bytes(guide_text().encode("gbk"))  # line 3 (title) is the first line with Chinese
    guide, problems = parse(path)
    assert guide is None
    problem = only_error(problems)
    assert str(problem) == "test-item.md:3: 文件不是 UTF-8 编码，请另存为 UTF-8"


def test_utf8_with_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "test-item.md"
    path.write_bytes(guide_text().encode("utf-8-sig"))
    guide, problems = parse(path)
    assert problems == [] and guide is not None and guide.id == "test-item"


def test_fewer_than_three_questions(tmp_path: Path) -> None:
    text = guide_text().replace("  - 测试事项去哪办\n", "")
    guide, problems = parse(write_guide(tmp_path, text=text))
    problem = only_error(problems)
    assert str(problem) == f"test-item.md:{QUESTIONS_LINE}: questions 至少需要 3 个典型问法，现有 2 个"
    assert guide.questions == ["测试事项要带什么", "测试事项要多久"]


def test_questions_must_be_a_list(tmp_path: Path) -> None:
    text = guide_text().replace("questions:\n  - 测试事项要带什么\n  - 测试事项要多久\n  - 测试事项去哪办\n", "questions: 测试事项要带什么\n")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == QUESTIONS_LINE and "questions 应该是列表" in problem.message


def test_unknown_key_and_unknown_heading_are_only_warnings(tmp_path: Path) -> None:
    text = (
        guide_text()
        .replace("source:", "owner: 张三\nsource:")
        .replace("## 办理地点", "## 温馨提示\n请提前预约。\n## 办理地点")
    )
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert guide is not None
    assert errors(problems) == []
    assert [(problem.severity, problem.line) for problem in problems] == [("warning", 13), ("warning", 33)]
    key_warning, heading_warning = problems
    assert "未知字段 owner" in key_warning.message
    assert "未知章节标题“温馨提示”" in heading_warning.message
    assert str(key_warning) == f"test-item.md:13: 警告：{key_warning.message}"
    assert "温馨提示" in guide.sections  # kept, not dropped


def test_unknown_contact_field_is_a_warning(tmp_path: Path) -> None:
    text = guide_text().replace("    hours: 工作日 9:00-17:00\n", "    hours: 工作日 9:00-17:00\n    email: a@b.cn\n")
    _guide, problems = parse(write_guide(tmp_path, text=text))
    assert errors(problems) == []
    assert len(problems) == 1 and problems[0].severity == "warning" and "未知字段 email" in problems[0].message


def test_text_before_the_first_section_is_a_warning(tmp_path: Path) -> None:
    text = guide_text().replace("---\n## 申请材料", "---\n本指南适用于测试。\n## 申请材料")
    _guide, problems = parse(write_guide(tmp_path, text=text))
    assert [(problem.severity, problem.line) for problem in problems] == [("warning", FIRST_BODY_LINE)]


@pytest.mark.parametrize(("question", "answer", "line"), [("可以网上办吗？", "可以。", 35), ("要本人到场吗？", "不用。", 37)])
def test_faq_without_answer(tmp_path: Path, question: str, answer: str, line: int) -> None:
    text = guide_text().replace(f"### {question}\n{answer}\n", f"### {question}\n")
    guide, problems = parse(write_guide(tmp_path, text=text))
    problem = only_error(problems)
    assert str(problem) == f"test-item.md:{line}: 常见问题“{question}”没有答案"
    assert len(guide.faqs) == 2  # the other FAQ is still parsed


def test_faq_section_without_questions(tmp_path: Path) -> None:
    text = guide_text().replace("### 可以网上办吗？\n可以。\n### 要本人到场吗？\n不用。\n", "可以网上办，不用本人到场。\n")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == 34 and "### 问题" in problem.message


def test_several_problems_are_all_reported_in_one_pass(tmp_path: Path) -> None:
    text = (
        without_key(guide_text(), "department")
        .replace('phone: "0000-7654321"', "phone: 无")
        .replace("  - 测试事项去哪办\n", "")
    )
    _guide, problems = parse(write_guide(tmp_path, text=text))
    messages = [problem.message for problem in errors(problems)]
    assert len(messages) == 3
    assert any("缺少必填字段 department" in message for message in messages)
    assert any("不含数字" in message for message in messages)
    assert any("questions 至少需要 3 个" in message for message in messages)


def test_display_path_defaults_to_the_real_path(tmp_path: Path) -> None:
    path = write_guide(tmp_path, text=without_key(guide_text(), "title"))
    _guide, problems = parse_guide(path)
    assert str(problems[0]) == f"{path}:1: 缺少必填字段 title"

