"""Traditional Chinese characters read as simplified: what the NLU, the retriever and the answer rules see of a message.

The guides, the NLU's training data and every rule are written in simplified characters; a citizen from Hong Kong,
Macao or Taiwan, or anyone whose input method is set to traditional, types "開辦企業需要什麼材料". Read as typed, the
retriever's word channel finds none of the guides' words and the embedding little (the sample questions typed in
traditional: answered right 0.60 instead of 0.90, benchmarks/eval_traditional.py). OpenCC's ``t2s`` conversion (phrase
tables, not a character map: 乾隆 stays, 乾燥 becomes 干燥) makes them the same question; simplified text passes
through unchanged (all 33,925 lines of the guides, the questions and the NLU data but the 66 written in traditional on
purpose). The conversation keeps what the user typed (Rasa's events, the staff's transcript): only the reading changes.

Used in both environments (the Rasa pipeline's first component, bot/rasa/simplified_text.py, runs in Python 3.10;
the retriever and the actions in 3.11), so it needs only the `opencc` package.

Full-width letters and digits ("ＫＴＶ", "Ｃ１", typed by an input method in full-width mode) are read in ASCII too
(`knowledge.text.half_width`): `as_read` is the one reading of a message, both conversions.

Usage::

    to_simplified("營業執照遺失了怎麼補辦")   # -> "营业执照遗失了怎么补办"
    as_read("開ＫＴＶ要辦什麼證")              # -> "开KTV要办什么证"
"""

from __future__ import annotations

import threading

import opencc

from knowledge.text import half_width

_converter: opencc.OpenCC | None = None
_lock = threading.Lock()


def to_simplified(text: str) -> str:
    """`text` with traditional characters and phrases in their simplified form; ASCII is returned as it is."""
    if not text or text.isascii():
        return text
    global _converter
    if _converter is None:
        with _lock:  # the action server answers in threads: one converter, built once
            if _converter is None:
                _converter = opencc.OpenCC("t2s")
    return str(_converter.convert(text))


def as_read(text: str) -> str:
    """What the NLU, the retriever and the answer rules read of a message: full-width letters and digits in ASCII,
    traditional characters in simplified ones. The conversation keeps what was typed."""
    return to_simplified(half_width(text))
