"""The rules behind guide problems that are not tied to one file: what a phone number looks like,
which known field an unknown one is a slip for, and YAML errors explained in Chinese."""

from __future__ import annotations

import time

import pytest
import yaml

from knowledge.sources.guides import TextDateLoader
from knowledge.sources.model import closest_key, describe_yaml_error, unknown_key_message
from knowledge.sources.phones import is_phone_shaped
from tests.support import DATA, GUIDES

GUIDE_FOLDERS = [GUIDES, *sorted(DATA.glob("*/guides"))]


@pytest.mark.parametrize("phone", [
    "0000-1234567", "0000-65121031", "021-54321234", "(021)54321234", "（0000）1234567", "0000 1234 5678",
    "0000-1234567转801", "0000-1234567-801", "0000-1234567 分机 8001",
    "13800138000", "138-0013-8000", "+86 13800138000",
    "12345", "12333", "95598", "96123", "110",
    "400-820-8820", "4008208820", "800-810-8888",
    "0000-1234567、0000-1234568", "12345 / 0000-1234567", "0000-1234567；13800138000", "0000-1234567或12345",
    "12345（24小时）", "0000-1234567 (工作日)",
])
def test_chinese_phone_numbers_are_phone_shaped(phone: str) -> None:
    assert is_phone_shaped(phone)


# Shapes districts really write (a reviewer's list): none of them may be reported.
@pytest.mark.parametrize("phone", [
    "0731-12345678、87654321", "0731-12345678/12345679", "0731-88886666 或 88887777", "0731-12345678 87654321",
    "(0731) 12345678", "（0731）-12345678", "0731 - 12345678", "0731–12345678", "0731——12345678",
    "0731\u221212345678", "0731-12345678转801、802", "12345转3", "12345-1",
    "０７３１－１２３４５６７８", "０７３１－１２３４５６７８转８０１", "+86-731-12345678", "+86 (731) 12345678",
    "87654321", "8765432", "8765-4321", "95105888", "12345 0731-12345678", "13800138000 87654321",
])
def test_the_shapes_districts_write_are_phone_shaped(phone: str) -> None:
    assert is_phone_shaped(phone)


def test_a_long_list_of_numbers_is_checked_quickly() -> None:
    # Each 87654321 reads as a local number or as the first one's shorthand: one regex for the
    # whole list took seconds to give up on a 200-character field ending in a slip.
    started = time.perf_counter()
    assert is_phone_shaped("87654321、" * 20 + "95105888")
    assert not is_phone_shaped("87654321、" * 20 + "x")
    assert not is_phone_shaped("95105888 " * 22 + "x")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("phone", [
    "1", "0000-12", "02154321", "579793", "[0, 123]", "{'a': 1}", "1234567", "123456",
    "0000-1234567、", "0000-1234567转", "1380013800", "请拨打 12345 咨询", "0000-1234567  x",
    # Kept out as the shapes grew: numbers starting with 1 are not local, a shorthand is 7–8 digits.
    "1234-5678", "12345678", "0731-12345678、123", "(0731 12345678", "12345转",
])
def test_other_text_is_not_phone_shaped(phone: str) -> None:
    assert not is_phone_shaped(phone)


def test_every_phone_in_the_bundled_and_test_guides_is_phone_shaped() -> None:
    # The shapes were defined against these files: none of them may start failing validation.
    phones = []
    for folder in GUIDE_FOLDERS:
        for path in sorted(folder.glob("*.md")):
            meta = yaml.load(path.read_text(encoding="utf-8").split("---")[1], Loader=TextDateLoader)
            phones += [(path, contact["phone"]) for contact in meta["contacts"]]
            phones += [(path, meta["complaint_phone"])] if "complaint_phone" in meta else []
    assert len(GUIDE_FOLDERS) > 20 and len(phones) > 500
    assert [(str(path), phone) for path, phone in phones if not (isinstance(phone, str) and is_phone_shaped(phone))] == []


@pytest.mark.parametrize(("key", "known", "guess"), [
    ("alias", "aliases", "aliases"), ("question", "questions", "questions"), ("contact", "contacts", "contacts"),
    ("update", "updated", "updated"), ("titel", "title", "title"), ("ID", "id", "id"), ("adress", "address", "address"),
    ("owner", "source", None), ("email", "phone", None),
])
def test_a_likely_slip_is_matched_to_the_field_it_was_meant_for(key: str, known: str, guess: str | None) -> None:
    fields = (known, "title", "region", "unit", "phone")
    assert closest_key(key, fields) == guess


def test_unknown_key_message_says_a_slip_does_not_work() -> None:
    assert unknown_key_message("alias", ("aliases", "title")) == "未知字段 alias，是不是 aliases？这一项现在不起作用"
    assert unknown_key_message("owner", ("aliases", "title")) == "未知字段 owner（不影响使用）"


@pytest.mark.parametrize(("text", "line", "explained"), [
    ("id: a\naliases: [x, y\ncategory: c\n", 2, "方括号列表"),  # PyYAML notices it on line 3
    ('id: a\ntitle: "abc\ncategory: c\nphone: "1"\n', 2, "引号没有闭合"),  # noticed at the next quote, line 4
    ("id: a\ntitle：b\ncategory: c\n", 2, "中文冒号"),
    ("id: a\ntitle b\ncategory: c\n", 2, "缺少冒号"),
    ("id: a\ncontacts:\n\t- unit: x\n", 3, "Tab"),
    ("id: a\ndepartment: 区: 局\n", 2, "多了一个冒号"),
    ("id: a\ntitle: @abc\n", 2, "值不能以“@”开头"),
    ("id: a\ntitle: *abc\n", 2, "加引号"),
    # A quote that is not an unclosed one must not be blamed for a later mistake (here the unclosed
    # [ on line 4): an escaped quote, a quote inside a value, a quote in a comment.
    ('id: a\ntitle: "5寸\\"照片"\ncategory: c\naliases: [x, y\nquestions: [q]\n', 4, "方括号列表"),
    ('id: a\ntitle: 直径3"的管道\ncategory: c\naliases: [x, y\nquestions: [q]\n', 4, "方括号列表"),
    ('id: a\ntitle: 直径3"的管道\ncategory: c\ndepartment: 区: 局\n', 4, "多了一个冒号"),
    ('id: a\ntitle: t  # 旧名"x\ncategory: c\nphone: "1"2\n', 4, "引号后面还有文字"),
    # The guess stands where it is right: the quote swallowed the lines up to a later one.
    ('id: a\naliases:\n  - "abc\ncategory: c\nphone: "1"\n', 3, "这一行的引号没有闭合"),
    ('id: a\ntitle: "abc\n', 2, "引号没有闭合"),  # never closed: YAML's own mark
])
def test_yaml_errors_are_explained_in_chinese_on_the_line_of_the_mistake(text: str, line: int, explained: str) -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.load(text, Loader=TextDateLoader)
    found_line, message = describe_yaml_error(caught.value, text, 1)
    assert found_line == line
    assert message.startswith("YAML 语法错误：") and explained in message
    assert f"（{caught.value.problem}）" in message  # the original text is kept for whoever searches it


def test_yaml_error_without_a_mark_is_still_reported() -> None:
    line, message = describe_yaml_error(yaml.YAMLError("bad"), "id: a\n", 2)
    assert line == 2 and message.startswith("YAML 语法错误：")
