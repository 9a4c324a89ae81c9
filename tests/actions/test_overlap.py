"""What a guide's text holds of a message's own words (actions/overlap.py)."""

import pytest

from actions.overlap import guide_words, held_words, pair_weights, sections_holding, share_held

GUIDE_WORDS = "从业人员健康证明\n受理条件：本人到场体检，当天早上空腹。\n收费标准：交强险由机主自行购买。"


@pytest.mark.parametrize(("message", "held"), [
    ("要空腹不", 1.0), ("交强险也要买吗", 1.0),  # words the guide says
    ("今天天气怎么样", 0.0), ("开发票怎么弄", 0.0),  # words it does not
    ("那要多久？", None), ("具体咋弄", None),  # nothing of its own to compare
])
def test_the_share_of_a_messages_words_a_guide_holds(message: str, held: float | None) -> None:
    assert share_held(message, GUIDE_WORDS) == held


def test_the_sections_that_hold_a_follow_ups_words() -> None:
    guide = {"sections": {"受理条件": {"text": "当天早上空腹；交强险须投保"}, "申请材料": {"text": "交强险保单原件"},
                          "收费标准": {"text": "交强险保费自理"}, "办理地点": {"text": "体检门诊"}}}
    assert sections_holding("要空腹不", guide) == ["受理条件"]
    assert sections_holding("交强险也要买吗", guide) == []  # said in three sections: no sign of any one
    assert sections_holding("空腹门诊", guide) == ["受理条件", "办理地点"]  # each a third of the words
    assert sections_holding("空腹门诊", guide, least=0.5) == []  # too little of them in any section
    assert sections_holding("交强险也要买吗", guide, shown=["申请材料"]) == ["受理条件", "收费标准"]  # the rest: two
    assert sections_holding("今天天气怎么样", guide) == [] and sections_holding("那要多久", guide) == []


def test_a_guide_holds_a_message_in_more_than_one_word_weighed_by_rarity() -> None:
    guides = [GUIDE_WORDS, "房屋转移登记\n面积等于合同约定", *(f"第{n}个指南\n营业执照" for n in range(5))]
    weights = pair_weights("交强险也要买吗", guides)
    assert held_words("交强险也要买吗", GUIDE_WORDS, weights).enough  # 交强险: three characters in a row
    assert not held_words("1+1等于几", guides[1], pair_weights("1+1等于几", guides)).enough  # 等于, and it asks 1+1
    assert held_words("要空腹不", GUIDE_WORDS, pair_weights("要空腹不", guides)).enough  # 空腹 is all it names
    licence = pair_weights("营业执照空腹", guides)
    assert licence["营业"] < licence["空腹"]  # said by most guides: next to nothing
    # a place pointed at is no word of the matter: "空腹那边" names 空腹 alone, as "要空腹不" does
    assert held_words("空腹那边要带啥", GUIDE_WORDS, pair_weights("空腹那边要带啥", guides)).alone
    assert held_words("营业执照空腹", guides[2], licence).share < held_words("营业执照空腹", GUIDE_WORDS, licence).share


def test_pair_counts_are_remembered_for_the_same_guides() -> None:
    guides = [GUIDE_WORDS, *(f"第{n}个指南\n营业执照" for n in range(5))]
    said_by: dict[str, int] = {}
    first = pair_weights("营业执照空腹", guides, said_by)
    assert said_by["营业"] == 5 and said_by["空腹"] == 1 and pair_weights("营业执照空腹", guides) == first
    said_by["空腹"] = 5  # what is remembered is what counts: the guides are not read again
    assert pair_weights("营业执照空腹", guides, said_by)["空腹"] == first["营业"]


def test_a_guides_words_are_its_names_sections_and_faqs_not_its_phone_numbers() -> None:
    guide = {"title": "健康证办理", "aliases": ["办健康证"], "department": "区疾控中心",
             "sections": {"受理条件": {"text": "当天早上空腹"}}, "faqs": [{"question": "要预约吗", "answer": "不用"}],
             "contacts": [{"name": "体检窗口", "phone": "0000-1234567"}]}
    words = guide_words(guide)
    assert all(part in words for part in ("健康证办理", "办健康证", "区疾控中心", "空腹", "要预约吗不用"))
    assert "0000-1234567" not in words and "体检窗口" not in words
