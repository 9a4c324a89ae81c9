"""Traditional characters read as simplified (knowledge/simplified.py): what the NLU, the retriever and the rules see."""

from __future__ import annotations

import pytest

from knowledge.simplified import to_simplified
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
