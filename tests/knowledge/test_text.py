"""The one message normaliser (knowledge/text.py): what every channel and the retriever see."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.text import half_width, visible_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("raw", "seen"), [
    ("开办\u200b企业\n要啥材料 ", "开办企业 要啥材料"),
    ("\u200b\u200d\ufeff ", ""),
    ("用水\u00ad报装", "用水报装"),  # a soft hyphen is invisible
    ("公司\ud800注销", "公司注销"),  # a lone surrogate cannot even be encoded for Rasa
    ("办理\ufdd0时限\uffff", "办理时限"),  # non-characters are no text
    ("第一行\u2028第二行\t第三行", "第一行 第二行 第三行"),
    (None, ""),
])
def test_visible_text(raw: str | None, seen: str) -> None:
    assert visible_text(raw) == seen


@given(st.text(max_size=100))
def test_the_result_is_always_encodable_and_single_line(raw: str) -> None:
    seen = visible_text(raw)
    seen.encode("utf-8")  # never raises: no lone surrogates survive
    assert "\n" not in seen and seen == seen.strip() and "  " not in seen


@pytest.mark.parametrize(("typed", "read"), [
    ("开ＫＴＶ要办什么证", "开KTV要办什么证"),
    ("Ｃ１驾照到期了", "C1驾照到期了"),
    ("２０２６年的补贴ｄｒ机", "2026年的补贴dr机"),
    ("要多久？，。！", "要多久？，。！"),  # Chinese punctuation is text, not a form to fold
    ("１２３４５热线", "12345热线"),
    ("", ""),
])
def test_full_width_letters_and_digits_are_read_in_ascii(typed: str, read: str) -> None:
    assert half_width(typed) == read


@given(st.text(max_size=100))
def test_half_width_changes_only_full_width_letters_and_digits(raw: str) -> None:
    read = half_width(raw)
    assert len(read) == len(raw)
    for before, after in zip(raw, read, strict=True):
        assert before == after or (after.isascii() and after.isalnum() and ord(before) - ord(after) == 0xFEE0)
