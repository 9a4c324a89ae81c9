"""The one rule for what a message says: every channel and the retriever clean text with it.

Standard library only: the REST channel runs it inside Rasa's Python 3.10 environment, the hall
API and the retriever in the app's.

Usage::

    from knowledge.text import half_width, visible_text
    visible_text("开办\u200b企业\n要啥材料 ")  # -> "开办企业 要啥材料"
    half_width("Ｃ１驾照换证")                    # -> "C1驾照换证"
"""

from __future__ import annotations

import unicodedata

# Removed: format characters (Cf: zero-width spaces and joiners, direction marks, the BOM, the soft
# hyphen), which are invisible and split words for the tokenizer, and lone surrogates (Cs: JSON may
# carry "\ud800", which is no text and cannot even be encoded for Rasa).
_REMOVED = ("Cf", "Cs")
# Become spaces: control characters (newlines, tabs) and line/paragraph separators.
_SPACES = ("Cc", "Zl", "Zp")


def _is_noncharacter(char: str) -> bool:
    """U+FDD0–U+FDEF and the last two code points of every plane: never text, only internal markers."""
    point = ord(char)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def visible_text(message: str | None) -> str:
    """`message` as a reader sees it, and valid Unicode: invisible characters, lone surrogates
    and non-characters removed, control characters and line
    breaks as single spaces, trimmed. ``visible_text("\u200b\u200d ") == ""``: an invisible message
    is empty."""
    kept = []
    for char in message or "":
        category = unicodedata.category(char)
        if category in _REMOVED or _is_noncharacter(char):
            continue
        kept.append(" " if category in _SPACES else char)
    return " ".join("".join(kept).split())


# Full-width Latin letters and digits (U+FF21–FF3A, U+FF41–FF5A, U+FF10–FF19): what a Chinese input method in
# full-width mode types for "C1", "KTV", "2026". Punctuation keeps its full-width form: "？" and "，" are ordinary
# Chinese text, and the rules that read punctuation are written for both forms.
_HALF_WIDTH = str.maketrans({chr(code): chr(code - 0xFEE0)
                             for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                             for code in range(start, end + 1)})


def half_width(text: str) -> str:
    """`text` with full-width Latin letters and digits in their ASCII form ("ＫＴＶ" is "KTV", "２０２６" is "2026"):
    the guides, the NLU's data and the jieba dictionary write them in ASCII, and the embedding model cuts the
    full-width forms into other pieces (m3e-small: "ｋ ##ｔ ##ｖ" where "ktv" is one piece)."""
    return text.translate(_HALF_WIDTH) if text else text
