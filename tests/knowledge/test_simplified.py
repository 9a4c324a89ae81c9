"""Traditional characters read as simplified (knowledge/simplified.py): what the NLU, the retriever and the rules see."""

from __future__ import annotations

import pytest

from knowledge.simplified import as_read, to_simplified
from tests.support import parsed_guide

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("typed", "read"), [
    ("開辦企業需要什麼材料？", "开办企业需要什么材料？"),
    ("營業執照遺失了怎麼補辦", "营业执照遗失了怎么补办"),
    ("台灣居民來往大陸通行證到期了", "台湾居民来往大陆通行证到期了"),
    ("乾燥", "干燥"),  # phrases, not a character map: 乾隆 keeps its 乾
    ("乾隆", "乾隆"),
    ("ETC 辦理", "ETC 办理"),
])
def test_traditional_text_is_read_in_simplified_characters(typed: str, read: str) -> None:
    assert to_simplified(typed) == read


@pytest.mark.parametrize("text", ["", "ETC", "/affirm", "UKey 123", "开办企业需要什么材料", "那要多久？"])
def test_simplified_and_ascii_text_pass_unchanged(text: str) -> None:
    assert to_simplified(text) == text


def test_a_whole_guide_in_simplified_characters_is_unchanged() -> None:
    """What the guides say must read the same: a changed character would no longer match the guide's own words."""
    guide = parsed_guide("company-setup")
    for text in [guide.title, *guide.aliases, *(section.text for section in guide.sections.values())]:
        assert to_simplified(text) == text


@pytest.mark.parametrize(("typed", "read"), [
    ("開ＫＴＶ要辦什麼證", "开KTV要办什么证"),  # both at once: the traditional input method in full-width mode
    ("Ｃ１駕照到期了怎麼換", "C1驾照到期了怎么换"),
    ("开办企业需要什么材料？", "开办企业需要什么材料？"),
])
def test_a_message_is_read_in_simplified_characters_and_ascii_letters(typed: str, read: str) -> None:
    assert as_read(typed) == read
