"""Personal data that users type is masked; public data (guide phones, dates, time limits) is not."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.records.privacy import mask_personal_data


@pytest.mark.parametrize(("text", "secret"), [
    ("我的手机13812345678，帮我查一下", "13812345678"),
    ("电话 +86 139-1234-5678", "1234"),
    ("身份证430102199001011234要补办", "430102199001011234"),
    ("身份证号43010219900101123X", "43010219900101123X"),
    ("卡号 6222 0212 3456 7890 123", "0212 3456 7890"),
    ("银行卡6222021234567890123到账了吗", "6222021234567890123"),
    ("手机１３８１２３４５６７８", "１２３４"),
    ("身份证４３０１０２１９９００１０１１２３Ｘ", "１９９００１０１"),
    ("回电8613812345678", "13812345678"),
    ("回电86 138 1234 5678", "1234 5678"),
])
def test_personal_numbers_are_masked(text: str, secret: str) -> None:
    masked = mask_personal_data(text)
    assert secret not in masked
    assert "*" in masked


def test_masking_keeps_a_recognisable_tail() -> None:
    assert mask_personal_data("手机13812345678") == "手机138****5678"
    assert mask_personal_data("身份证430102199001011234").endswith("1234")


@pytest.mark.parametrize("text", [
    "咨询电话0731-88886666", "2026年5月1日更新", "承诺3个工作日（法定20个工作日）", "ETC办理", "订单号123456789012", "",
])
def test_public_and_short_numbers_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


chinese = st.text(alphabet=st.sampled_from("我要办理营业执照手机身份证号码是，。 "), max_size=12)


@given(prefix=chinese, mobile=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), suffix=chinese)
def test_no_mobile_number_survives(prefix: str, mobile: str, suffix: str) -> None:
    assert mobile not in mask_personal_data(prefix + mobile + suffix)


@given(prefix=chinese, number=st.from_regex(r"[0-9]{15,19}", fullmatch=True), suffix=chinese)
def test_no_long_number_survives(prefix: str, number: str, suffix: str) -> None:
    masked = mask_personal_data(prefix + number + suffix)
    assert number not in masked
    assert not re.search(r"\d{8}", masked)  # at most the kept head and tail are readable


full_width = str.maketrans("0123456789", "０１２３４５６７８９")


@given(prefix=chinese, mobile=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), suffix=chinese)
def test_no_full_width_mobile_number_survives(prefix: str, mobile: str, suffix: str) -> None:
    masked = mask_personal_data(prefix + mobile.translate(full_width) + suffix)
    assert mobile not in masked and mobile.translate(full_width) not in masked


@given(st.text(max_size=200))
def test_any_text_is_handled(text: str) -> None:
    masked = mask_personal_data(text)
    assert isinstance(masked, str)
    assert len(re.findall(r"\d", masked)) <= len(re.findall(r"\d", text))


SEPARATORS = [" ", "　", ".", "．", "/", "／", "_", "＿", ",", "-", "－", "‐", "–", "—", "−", "\u00ad", "\u200b", "\u2060", "\ufeff"]
separator = st.text(alphabet=st.sampled_from(SEPARATORS), min_size=0, max_size=2)


@given(mobile=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), data=st.data(), prefix=chinese, suffix=chinese)
def test_no_mobile_number_survives_any_separators(mobile: str, data: st.DataObject, prefix: str, suffix: str) -> None:
    """Any mix of spaces, dots, slashes, underscores, commas, hyphens, dashes, soft hyphens and
    zero-width characters between the digits: "138.1234.5678", "138／1234／5678", "138–1234–5678"."""
    spaced = mobile[0] + "".join(data.draw(separator) + digit for digit in mobile[1:])
    assert mask_personal_data(prefix + spaced + suffix) == f"{prefix}{mobile[:3]}****{mobile[-4:]}{suffix}"


@given(number=st.from_regex(r"[1-9][0-9]{15,18}", fullmatch=True), data=st.data())
def test_no_card_or_id_number_survives_any_separators(number: str, data: st.DataObject) -> None:
    spaced = number[0] + "".join(data.draw(separator) + digit for digit in number[1:])
    masked = mask_personal_data(f"卡号{spaced}，请查询")
    assert masked == f"卡号{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}，请查询"


@pytest.mark.parametrize("text", ["138.1234.5678", "138/1234/5678", "138_1234_5678", "138－1234－5678", "138–1234–5678",
                                  "6222,0202,1234,5678,901", "110101.19900307.7777", "138\u00ad1234\u00ad5678"])
def test_the_separators_found_in_the_security_review_are_masked(text: str) -> None:
    masked = mask_personal_data(f"我的号码{text}")
    assert "*" in masked and len(re.findall(r"\d", masked)) <= 7  # at most the head and the last four
