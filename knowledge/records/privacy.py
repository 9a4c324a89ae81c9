"""Masking of the personal data users type: 身份证号, mobile numbers, bank card numbers.

Users paste their ID or phone number into a chat ("我的身份证是 430…，怎么补办"). Whatever we
keep — feedback, handoff transcripts, the question log, logs, the admin report — keeps the
masked text only. Only what *users* wrote is masked: guide phone numbers in the bot's answers
are public contact data.

Usage::

    from knowledge.records.privacy import mask_personal_data

    mask_personal_data("手机13812345678，身份证430102199001011234")
    # '手机138****5678，身份证430***********1234'

Over-masking is preferred to leaking: any run of 15 or more digits (an ID, a bank card, an
account number) is masked, whatever it is.
"""

from __future__ import annotations

import re

# Chinese input methods often type full-width digits ("１３８…"): read them as digits.
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
# What people put between the digits of one number: spaces (any width), dots, slashes, underscores,
# commas, hyphens and dashes (ASCII, full-width, en/em, minus), and the invisible soft hyphen and
# zero-width characters. A number is normalised (separators removed) before it is matched.
_SEPARATOR = "[\\s.．。/／_＿,，、\\-－‐‑‒–—―−﹣\u00ad\u200b-\u200f\u2060\ufeff]"
# A run of digits with at most two separator characters between any two of them; an ID may end in X.
_RUN = re.compile(rf"(?<![\d])\d(?:{_SEPARATOR}{{0,2}}\d)+(?:{_SEPARATOR}{{0,2}}[Xx])?(?![\dXx])")
_MOBILE = re.compile(r"(?:0{0,2}86)?(1[3-9]\d)(\d{4})(\d{4})")
LONG_DIGITS = 15  # an ID (18), a bank card (16-19), an account number: masked whatever it is


def _mask_run(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"[^\dXx]", "", text)
    if len(digits) >= LONG_DIGITS:
        # Keep the region or bank prefix and the last four: enough for staff to recognise, not to use.
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    mobile = _MOBILE.fullmatch(digits)
    if mobile:
        return f"{mobile.group(1)}****{mobile.group(3)}"
    return text  # a landline with its area code, a date, an order number: public or harmless


def mask_personal_data(text: str) -> str:
    """`text` with ID, bank card and mobile numbers masked (see the module docstring)."""
    if not text:
        return text
    if any("０" <= char <= "９" for char in text):
        text = text.translate(_FULL_WIDTH_DIGITS)
    return _RUN.sub(_mask_run, text)
