"""A phone number in a guide's body that none of its contacts has: the old number an admin left in
办理地点 or 注意事项 after changing `contacts`. Validation warns on the line where it stands (never an
error: publishing is not blocked), and stays silent on the same number written another way and on
the numbers that are not phones (years, amounts, dates, document numbers, hotlines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.settings import load_settings
from knowledge.sources.guides import parse_guide
from knowledge.sources.validation import validate_knowledge_base
from tests.support import DATA, GUIDES, guide_text, write_guide

pytestmark = pytest.mark.unit

CONTACT_PHONE = "0000-7654321"  # the phone of VALID_GUIDE's one contact
PLACE = "示例区政务服务中心九楼9号窗口\n## 常见问题"  # the body of 办理地点, then the next section


def _guide(body_line: str, *, phone: str = CONTACT_PHONE, where: str = "办理地点") -> tuple[str, int]:
    """VALID_GUIDE with `body_line` added to section `where` (and the contact's phone set to `phone`),
    and the file line `body_line` stands on."""
    text = guide_text().replace(f'phone: "{CONTACT_PHONE}"', f'phone: "{phone}"')
    if where == "办理地点":
        text = text.replace(PLACE, f"示例区政务服务中心九楼9号窗口\n{body_line}\n## 常见问题")
    elif where == "注意事项":
        text = text.replace("## 常见问题", f"## 注意事项\n1. 材料不全的不予受理；\n2. {body_line}\n## 常见问题")
    else:  # the answer of the last FAQ
        text = text.rstrip("\n") + f"\n{body_line}\n"
    line = next(number for number, line in enumerate(text.splitlines(), start=1) if body_line in line and number > 18)
    return text, line


def _phone_warnings(path: Path) -> list[tuple[int, str]]:
    _guide_read, problems = parse_guide(path, path.name)
    assert not any(problem.is_error for problem in problems), [str(problem) for problem in problems]
    return [(problem.line, problem.message) for problem in problems if "正文里的电话" in problem.message]


# --- the number left behind -------------------------------------------------------------------


def test_the_old_number_left_in_the_body_after_the_contact_changed_is_a_warning_on_its_line(tmp_path: Path) -> None:
    # The admin moved the window to a new phone in contacts; 办理地点 still shows the old one.
    text, line = _guide("咨询电话：0000-7654321", phone="0000-7654399")
    settings = load_settings(guides_dir=tmp_path / "guides", documents_dir=tmp_path / "documents",
                             out_of_scope_file=tmp_path / "out_of_scope.yml")
    path = write_guide(settings.guides_dir, text=text)
    result = validate_knowledge_base(settings)
    assert result.ok  # a warning never stops a build
    assert [str(problem) for problem in result.problems] == [
        f"{path}:{line}: 警告：正文里的电话 0000-7654321 不在 contacts 的电话（0000-7654399）里：群众问电话时拿到的是 contacts 的号码，"
        "看正文却是这个号码。换了号码的，请把正文也改成新号码；确实是别的单位的电话的，可以不改（照原样发布）",
    ]
    assert result.warnings[0].severity == "warning"


@pytest.mark.parametrize("where", ["办理地点", "注意事项", "常见问题"])
def test_every_section_is_read_faq_answers_too(tmp_path: Path, where: str) -> None:
    text, line = _guide("也可以拨打 0000-7654300 预约。", where=where)
    warnings = _phone_warnings(write_guide(tmp_path, text=text))
    assert [(number, "0000-7654300" in message) for number, message in warnings] == [(line, True)]


@pytest.mark.parametrize(("body", "shown"), [
    ("联系电话：0731-12345678", "0731-12345678"),
    ("电话（0731）87654321", "(0731)87654321"),  # as typed, full-width brackets read as ASCII
    ("值班手机 13800138000", "13800138000"),
    ("服务热线 400-820-8820", "400-820-8820"),
    ("咨询电话 87654329", "87654329"),  # a local number after a phone word
    ("窗口电话 0000-7654321、7654322", "7654322"),  # the second of two: the first is the contact's own
    ("电话 0000-1257001", "0000-1257001"),  # the shape of the bundled guides' numbers
    ("电话 0000-7654300 人工服务 9:00-17:00", "0000-7654300"),  # a word after it is no unit (12345678人)
])
def test_each_phone_shape_not_in_contacts_is_warned(tmp_path: Path, body: str, shown: str) -> None:
    text, line = _guide(body)
    warnings = _phone_warnings(write_guide(tmp_path, text=text))
    assert len(warnings) == 1 and warnings[0][0] == line, warnings
    assert f"正文里的电话 {shown} 不在 contacts 的电话（{CONTACT_PHONE}）里" in warnings[0][1]


def test_one_warning_per_number_and_line(tmp_path: Path) -> None:
    text, line = _guide("电话 0000-7654300（上午）、0000-7654300（下午）、0000-7654301")
    warnings = _phone_warnings(write_guide(tmp_path, text=text))
    assert [(number, message.split(" 不在")[0]) for number, message in warnings] == [
        (line, "正文里的电话 0000-7654300"), (line, "正文里的电话 0000-7654301")]


# --- the same number, and what is no phone ------------------------------------------------------


@pytest.mark.parametrize(("contact", "body"), [
    ("0731-12345678", "电话 0731-12345678"),
    ("0731-12345678", "电话 (0731) 12345678"),
    ("0731-12345678", "电话（０７３１）１２３４５６７８"),  # full-width
    ("0731-12345678", "电话 0731 1234 5678"),
    ("0731-12345678", "电话 073112345678"),
    ("0731-12345678", "电话 +86-731-12345678"),
    ("0731-12345678", "电话 12345678"),  # without its area code
    ("87654321", "电话 0731-87654321"),  # the contact without its area code
    ("0731-12345678", "电话 0731-12345678转801"),  # an extension of the same line
    ("0731-12345678、87654321", "电话 0731-87654321"),  # the contact's second number
    ("138-0013-8000", "手机 13800138000"),
    ("+86 13800138000", "手机 138 0013 8000"),
    ("400-820-8820", "热线 4008208820"),
    ("0000-1257001", "办理地点电话 0000-1257001，工作日 9:00-17:00"),
])
def test_the_contacts_number_written_another_way_is_fine(tmp_path: Path, contact: str, body: str) -> None:
    text, _line = _guide(body, phone=contact)
    assert _phone_warnings(write_guide(tmp_path, text=text)) == []


def test_the_complaint_phone_in_the_body_is_fine(tmp_path: Path) -> None:
    text, _line = _guide("对办理结果有异议的，可拨打投诉电话 0000-7650000。")
    text = text.replace("source:", 'complaint_phone: "0000-7650000"\nsource:')
    assert _phone_warnings(write_guide(tmp_path, text=text)) == []


@pytest.mark.parametrize("body", [
    "不满意可拨打12345热线，或12315投诉；紧急情况拨打110。",  # service numbers are nobody's contact
    "通过“交管12123”App在线申请，或在“掌上12333”查询。",  # app names
    "依据《示例市人民政府办公室关于印发〈办法〉的通知》（示政办发〔2023〕12号）、〔2023〕12345678号。",
    "符合《特种设备安全技术规范》（GB 17761-2018）、（GB/T 26341-2010）、（GB 46034—2025）。",
    "2023年起执行，2020-2022年度的、《规划（2020—2022年）》的照旧。",
    "补贴最高20000000元，注册资本1,000,000元，共12345678个市场主体。",
    "2026-03-01起受理，有效期至20261231，工作日 9:00-17:00。",
    "申请人身份证号430102199001011234、统一社会信用代码91430100MA4L12345X，邮编410000。",
    "网上办理：https://www.example.gov.cn/0731-12345678/apply 或 www.example.gov.cn/87654321",
    "材料发至QQ:13800138000，或微信群号 13900139000。",
    "去年办理了87654321件，营业额25000000。",  # a count or amount without a phone word
    "单位误差不超过3.1415926。",
])
def test_numbers_that_are_no_phone_are_never_warned(tmp_path: Path, body: str) -> None:
    text, _line = _guide(body)
    assert _phone_warnings(write_guide(tmp_path, text=text)) == []


def test_text_before_the_first_section_is_not_read_for_phones(tmp_path: Path) -> None:
    text = guide_text().replace("---\n## 申请材料", "---\n旧电话 0000-7654300\n## 申请材料")
    _guide_read, problems = parse_guide(write_guide(tmp_path, text=text))
    assert [problem.message for problem in problems] == ["正文出现在第一个“## 章节”之前，已忽略"]


def test_reading_phone_numbers_in_text() -> None:
    from knowledge.sources.phones import PhoneNumber, phone_numbers

    assert phone_numbers("电话 0731-12345678、87654321，手机 +86 138-0013-8000，热线 400-820-8820") == [
        PhoneNumber("0731-12345678", "0731", "12345678"), PhoneNumber("87654321", "", "87654321"),
        PhoneNumber("+86 138-0013-8000", "", "13800138000"), PhoneNumber("400-820-8820", "", "4008208820"),
    ]
    assert phone_numbers("+86 (731) 12345678") == [PhoneNumber("+86 (731) 12345678", "0731", "12345678")]
    assert phone_numbers("87654321") == [] and phone_numbers("87654321", phone_field=True) == [PhoneNumber("87654321", "", "87654321")]
    assert PhoneNumber("0731-12345678", "0731", "12345678").same_as(PhoneNumber("12345678", "", "12345678"))
    assert not PhoneNumber("0731-12345678", "0731", "12345678").same_as(PhoneNumber("0732-12345678", "0732", "12345678"))


# --- the guides in the repository ---------------------------------------------------------------


def test_the_bundled_and_test_guides_warn_only_where_the_body_names_another_offices_phone() -> None:
    # 296 guides, 24 numbers in their bodies: 23 are their contacts' own. The one left is another office's,
    # written on purpose (流浪乞讨人员可联系区救助管理站（0000-6410120）): the warning is right to ask, the
    # admin may leave it.
    found = []
    for folder in [GUIDES, *sorted(DATA.glob("*/guides"))]:
        for path in sorted(folder.glob("*.md")):
            _guide_read, problems = parse_guide(path, str(path.relative_to(DATA.parent.parent)))
            found += [(problem.path, problem.line, problem.message.split(" 不在")[0]) for problem in problems
                      if "正文里的电话" in problem.message]
    assert found == [("tests/data/dev5/guides/temporary-assistance.md", 75, "正文里的电话 0000-6410120")]
