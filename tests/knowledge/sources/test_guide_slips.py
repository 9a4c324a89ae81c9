"""parse_guide on the slips an admin trial found: phones YAML turns into other numbers or that are
not phone numbers, YAML errors, headings without their space, misspelt fields, an empty file. Each
is reported in Chinese on the line of the slip."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.sources.guides import Problem
from tests.support import GUIDE_FIRST_BODY_LINE, GUIDE_PHONE_LINE, GUIDE_QUESTIONS_LINE, guide_text, only_error, parse_with_problems, write_guide

PHONE_LINE = GUIDE_PHONE_LINE
QUESTIONS_LINE = GUIDE_QUESTIONS_LINE
FIRST_BODY_LINE = GUIDE_FIRST_BODY_LINE
parse = parse_with_problems


def errors(problems: list[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.is_error]


def only_warning(problems: list[Problem]) -> Problem:
    assert len(problems) == 1 and not problems[0].is_error, [str(problem) for problem in problems]
    return problems[0]


# --- phones: what citizens will dial ---------------------------------------------------------------


@pytest.mark.parametrize(("written", "read_as"), [("02154321", "579793"), ("012", "10")])
def test_unquoted_phone_that_yaml_turns_into_another_number_is_an_error(tmp_path: Path, written: str, read_as: str) -> None:
    text = guide_text().replace('phone: "0000-7654321"', f"phone: {written}")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == PHONE_LINE  # the phone's own line, not the contacts: line
    assert f"电话 {written} 没有加引号，YAML 把它读成了 {read_as}" in problem.message
    assert f'写成 phone: "{written}"' in problem.message


@pytest.mark.parametrize("written", ["12345", "13812345678", "87654321"])
def test_unquoted_phone_that_reads_the_same_is_only_a_warning(tmp_path: Path, written: str) -> None:
    # Nothing was misread: citizens see what the admin typed, so the guide is published.
    text = guide_text().replace('phone: "0000-7654321"', f"phone: {written}")
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert [str(problem) for problem in problems] == [
        f"test-item.md:{PHONE_LINE}: 警告：contacts 第 1 项的电话 {written} 没有加引号，YAML 会把它当成数字，"
        f'这次读到的号码没有变：建议加上引号，写成 phone: "{written}"，以免改号码时被读错',
    ]
    assert guide is not None and guide.contacts[0].phone == written


def test_unquoted_number_that_is_not_phone_shaped_says_both_in_one_warning(tmp_path: Path) -> None:
    text = guide_text().replace('phone: "0000-7654321"', "phone: 1")
    problem = only_warning(parse(write_guide(tmp_path, text=text))[1])
    assert 'phone: "1"' in problem.message and "另外“1”不像电话号码。能识别的写法：座机" in problem.message


@pytest.mark.parametrize("written", ["[0000, 123]", "{a: 1}", "\n      - 0000-1234567\n      - 0000-1234568"])
def test_phone_that_is_a_list_or_mapping_is_an_error(tmp_path: Path, written: str) -> None:
    text = guide_text().replace('phone: "0000-7654321"', f"phone: {written}")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line in (PHONE_LINE, PHONE_LINE + 1)  # a block list starts on the line after phone:
    assert '应是一个加引号的号码，如 phone: "0000-1234567"' in problem.message


@pytest.mark.parametrize("written", ['"1"', '"0000-12"', '"12345678901234"', "0000-12 转", '"请拨打 12345"'])
def test_phone_that_is_not_phone_shaped_is_a_warning_naming_its_line_and_the_shapes(tmp_path: Path, written: str) -> None:
    # A format the check does not know must not block every publish: warn, publish as typed.
    text = guide_text().replace('phone: "0000-7654321"', f"phone: {written}")
    guide, problems = parse(write_guide(tmp_path, text=text))
    problem = only_warning(problems)
    assert (problem.path, problem.line) == ("test-item.md", PHONE_LINE)
    assert "不像电话号码，请核对（仍照原样发布）。能识别的写法：座机 0000-1234567" in problem.message
    assert "手机 11 位" in problem.message
    assert guide is not None and guide.contacts[0].phone == written.strip('"')


@pytest.mark.parametrize("written", [
    "0731-12345678、87654321", "0731-12345678/12345679", "0731-88886666 或 88887777", "(0731) 12345678",
    "（0731）-12345678", "0731 - 12345678", "0731–12345678", "0731-12345678转801、802", "12345转3", "12345-1",
    "０７３１－１２３４５６７８", "+86-731-12345678", "87654321", "95105888", "0731-12345678 0731-87654321",
])
def test_the_phone_formats_districts_write_pass_without_a_word(tmp_path: Path, written: str) -> None:
    text = guide_text().replace('phone: "0000-7654321"', f'phone: "{written}"')
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert [str(problem) for problem in problems] == []
    assert guide is not None and guide.contacts[0].phone == written  # published as typed, not normalised


def test_phone_problems_point_at_the_second_contacts_phone(tmp_path: Path) -> None:
    second = '  - unit: 示例区测试局办公室\n    phone: "0000-12"\nupdated:'
    text = guide_text().replace("updated:", second)
    problem = only_warning(parse(write_guide(tmp_path, text=text))[1])
    assert str(problem).startswith("test-item.md:13: 警告：contacts 第 2 项的电话“0000-12”不像电话号码")


def test_unquoted_complaint_phone_is_an_error_on_its_line(tmp_path: Path) -> None:
    text = guide_text().replace("updated:", "complaint_phone: 0123\nupdated:")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == 12 and 'complaint_phone: "0123"' in problem.message


# --- the wording and lines of other problems -----------------------------------------------------


def test_yaml_error_in_a_flow_list_is_explained_on_the_lists_line(tmp_path: Path) -> None:
    text = guide_text().replace("aliases: [测一测]", "aliases: [测一测, 测两测")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert str(problem) == (
        "test-item.md:4: YAML 语法错误：方括号列表 [ … ] 没有闭合，或者列表项之间少了英文逗号"
        "（did not find expected ',' or ']'）"
    )


def test_yaml_error_after_a_quote_inside_a_title_is_not_blamed_on_the_title(tmp_path: Path) -> None:
    text = guide_text(title='直径3"的管道').replace("aliases: [测一测]", "aliases: [测一测, 测两测")
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == 4 and "方括号列表" in problem.message


def test_yaml_error_of_an_unclosed_quote_is_on_the_quotes_line(tmp_path: Path) -> None:
    text = guide_text().replace("department: 示例区测试局", 'department: "示例区测试局')
    problem = only_error(parse(write_guide(tmp_path, text=text))[1])
    assert problem.line == 6 and "引号没有闭合" in problem.message


@pytest.mark.parametrize("heading", ["##申请材料", "##\u3000申请材料"])
def test_heading_without_a_space_is_read_and_warned_about_on_its_line(tmp_path: Path, heading: str) -> None:
    text = guide_text().replace("## 申请材料", heading)
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert errors(problems) == []  # not "缺少必填章节": the section is read as meant
    assert [(problem.severity, problem.line) for problem in problems] == [("warning", FIRST_BODY_LINE)]
    assert f"标题“{heading}”的 ## 后面缺少空格" in problems[0].message
    assert len(guide.section("申请材料").items) == 4


def test_faq_question_without_a_space_is_read_and_warned_about(tmp_path: Path) -> None:
    text = guide_text().replace("### 要本人到场吗？", "###要本人到场吗？")
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert [(problem.severity, problem.line) for problem in problems] == [("warning", 37)]
    assert [faq.question for faq in guide.faqs] == ["可以网上办吗？", "要本人到场吗？"]


def test_misspelt_key_is_named_with_the_key_it_was_meant_for(tmp_path: Path) -> None:
    text = guide_text().replace("aliases:", "alias:")
    guide, problems = parse(write_guide(tmp_path, text=text))
    assert [str(problem) for problem in problems] == ["test-item.md:4: 警告：未知字段 alias，是不是 aliases？这一项现在不起作用"]
    assert guide.aliases == []


def test_misspelt_required_key_is_reported_missing_on_the_misspelt_line(tmp_path: Path) -> None:
    text = guide_text().replace("questions:", "question:")
    _guide, problems = parse(write_guide(tmp_path, text=text))
    assert [str(problem) for problem in problems] == [
        f"test-item.md:{QUESTIONS_LINE}: 缺少必填字段 questions",
        f"test-item.md:{QUESTIONS_LINE}: 警告：未知字段 question，是不是 questions？这一项现在不起作用",
    ]


def test_misspelt_contact_field_is_warned_about_on_its_own_line(tmp_path: Path) -> None:
    text = guide_text().replace("    address:", "    adress:")
    _guide, problems = parse(write_guide(tmp_path, text=text))
    assert [str(problem) for problem in problems] == [
        "test-item.md:10: 警告：contacts 第 1 项有未知字段 adress，是不是 address？这一项现在不起作用",
    ]


@pytest.mark.parametrize("content", ["", "\n  \n", "\ufeff"])
def test_empty_file_says_it_is_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "test-item.md"
    path.write_text(content, encoding="utf-8")
    guide, problems = parse(path)
    assert guide is None
    assert only_error(problems).message.startswith("文件是空的")
