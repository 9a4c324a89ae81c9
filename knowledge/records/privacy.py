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

# An 11-digit mainland mobile number, optionally with +86/0086/86 and space or hyphen groups
# ("138 1234 5678", "138-1234-5678", "8613812345678"); not part of a longer digit run.
_MOBILE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![\d])")
# Chinese input methods often type full-width digits ("１３８…"): read them as digits.
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
# A run of 15+ digits (18-digit ID ending in X too), optionally grouped by single spaces or
# hyphens as bank cards are written ("6222 0212 3456 7890 123").
_LONG_NUMBER = re.compile(r"(?<!\d)\d(?:[\s-]?\d){13,}[\s-]?[\dXx](?!\d)")


def _mask_long(match: re.Match[str]) -> str:
    digits = re.sub(r"[\s-]", "", match.group(0))
    # Keep the region or bank prefix and the last four: enough for staff to recognise, not to use.
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _mask_mobile(match: re.Match[str]) -> str:
    return f"{match.group(1)}****{match.group(3)}"


def mask_personal_data(text: str) -> str:
    """`text` with ID, bank card and mobile numbers masked (see the module docstring)."""
    if not text:
        return text
    if any("０" <= char <= "９" for char in text):
        text = text.translate(_FULL_WIDTH_DIGITS)
    return _MOBILE.sub(_mask_mobile, _LONG_NUMBER.sub(_mask_long, text))
