"""What the Telegram bot sends, independent of Telegram itself: long texts split into messages,
HTML escaping, Rasa buttons as inline keyboards with short callback data, and the transcript lines
and plain text that staff.py builds the staff notice from (sending.py does the sending).

Usage::

    store = ButtonStore(context.bot_data.setdefault("buttons", {}))
    keyboard = inline_keyboard(reply.buttons, store)       # callback data "b:…", ≤ 64 bytes
    for chunk in split_text(reply.text):                    # ≤ 4096 UTF-16 units, on line boundaries
        await bot.send_message(chat_id, to_html(chunk), parse_mode="HTML", reply_markup=keyboard)
    store.payload("b:Qx3…")                                 # '/choose{"pick": "company-setup"}'

Nothing here imports the Rasa side (actions/), so the bot stays light.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import time
import unicodedata
from collections.abc import Iterable, MutableMapping, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MESSAGE_LIMIT = 4096  # Telegram: 1-4096 characters of text after entity parsing
CALLBACK_DATA_LIMIT = 64  # Telegram: callback_data is 1-64 bytes
BUTTON_PREFIX = "b:"
USED_BUTTON = "used"  # the callback data of the "✓ 已选" mark left on a keyboard after a click
MAX_STORED_BUTTONS = 5000
SHORT_TITLE = 10  # buttons with titles this short share a row (👍 好评 | 👎 差评)

# Where a too-long line is best cut: after a sentence or clause, else after a space.
_CUT_AFTER = ("。", "；", "！", "？", "，", "、", " ")
# Lines shown in bold: the guide title 【…】 and section headings such as "申请材料：".
_HEADING = re.compile(r"^(【[^】]{1,60}】|[^\s：:]{2,12}：)$")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji such as 👍 counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split `text` into messages of at most `limit` UTF-16 units, between lines.

    A line is cut only when it alone is longer than `limit` (then after a sentence end when there
    is one in the second half of the piece). Blank lines at a cut are dropped; nothing else is.

    >>> split_text("第一行\\n第二行", limit=4)
    ['第一行', '第二行']
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in _lines_within(text, limit):
        extra = utf16_len(line) + (1 if current else 0)
        if current and size + extra > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
            extra = utf16_len(line)
        if not current and not line.strip():
            continue  # a chunk never starts with a blank line
        current.append(line)
        size += extra
    if current:
        chunks.append("\n".join(current))
    return [chunk.rstrip() for chunk in chunks if chunk.strip()]


def _lines_within(text: str, limit: int) -> Iterable[str]:
    """The lines of `text`, each line longer than `limit` cut into pieces that fit."""
    for line in text.replace("\r\n", "\n").split("\n"):
        while utf16_len(line) > limit:
            cut = _cut_point(line, limit)
            yield line[:cut]
            line = line[cut:]
        yield line


def _cut_point(line: str, limit: int) -> int:
    """The largest prefix length of `line` within `limit` UTF-16 units, moved back to a clause end."""
    units, end = 0, 0
    for end, char in enumerate(line):  # noqa: B007 - `end` is used after the loop
        units += utf16_len(char)
        if units > limit:
            break
    best = max((line.rfind(mark, 0, end) for mark in _CUT_AFTER), default=-1)
    return best + 1 if best >= end // 2 else max(end, 1)


def to_html(text: str) -> str:
    """`text` for parse_mode HTML: everything escaped, the title and section headings in bold.

    >>> to_html("【开办企业】\\n1. <身份证> & 复印件")
    '<b>【开办企业】</b>\\n1. &lt;身份证&gt; &amp; 复印件'
    """
    lines = []
    for line in text.split("\n"):
        escaped = html.escape(line, quote=False)
        lines.append(f"<b>{escaped}</b>" if _HEADING.match(line.strip()) else escaped)
    return "\n".join(lines)


def callback_key(payload: str) -> str:
    """A short, stable callback data for a Rasa button payload (the same payload, the same key)."""
    digest = hashlib.blake2b(payload.encode("utf-8"), digest_size=9).digest()
    return BUTTON_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii")


class ButtonStore:
    """Rasa button payloads behind short callback keys, kept in a mapping (the bot's bot_data).

    Payloads such as ``/choose{"pick": "individual-business-registration"}`` may exceed Telegram's
    64 bytes, so every button carries a key and the payload stays here. Keys are hashes of the
    payloads, so the store only grows with distinct payloads; it is still bounded, oldest first.
    Each entry is ``key: (payload, when last shown)``, so `expire` can forget what is older than
    the retention period (a plain ``key: payload`` from an older state file still works).

    >>> store = ButtonStore({})
    >>> key = store.key("/feedback_good")
    >>> store.payload(key)
    '/feedback_good'
    """

    def __init__(self, mapping: MutableMapping[str, tuple[str, float] | str], limit: int = MAX_STORED_BUTTONS) -> None:
        self.mapping = mapping
        self.limit = limit

    def key(self, payload: str, now: float | None = None) -> str:
        key = callback_key(payload)
        self.mapping.pop(key, None)  # re-insert: a payload in use is never the oldest
        self.mapping[key] = (payload, time.time() if now is None else now)
        while len(self.mapping) > self.limit:
            del self.mapping[next(iter(self.mapping))]
        return key

    def payload(self, key: str) -> str | None:
        entry = self.mapping.get(key)
        return entry[0] if isinstance(entry, tuple) else entry

    def expire(self, before: float, now: float | None = None) -> int:
        """Forget the payloads last shown before `before`; how many went.

        An undated entry (an older state file) is dated `now`: payloads hold no personal data,
        and its keyboard may still be live, so it gets a whole retention period from here.
        """
        now = time.time() if now is None else now
        old = []
        for key, entry in self.mapping.items():
            if not isinstance(entry, tuple):
                self.mapping[key] = (entry, now)  # same key: changing values while iterating is fine
            elif entry[1] < before:
                old.append(key)
        for key in old:
            del self.mapping[key]
        return len(old)


def inline_keyboard(buttons: Sequence[dict[str, str]], store: ButtonStore) -> InlineKeyboardMarkup | None:
    """Rasa's buttons ({title, payload}) as an inline keyboard: short titles two to a row."""
    usable = [b for b in buttons if b.get("title") and b.get("payload")]
    if not usable:
        return None
    per_row = 2 if all(len(b["title"]) <= SHORT_TITLE for b in usable) else 1
    keys = [InlineKeyboardButton(b["title"], callback_data=store.key(b["payload"])) for b in usable]
    return InlineKeyboardMarkup([keys[i:i + per_row] for i in range(0, len(keys), per_row)])


def used_keyboard(*titles: str) -> InlineKeyboardMarkup:
    """What a keyboard becomes once clicked: an inert button saying what was chosen (a pick, then the 转人工 kept
    beside it: one under the other)."""
    return InlineKeyboardMarkup([[_chosen(title)] for title in titles])


def picked_keyboard(title: str, handoff: InlineKeyboardButton) -> InlineKeyboardMarkup:
    """What a keyboard becomes once a pick is clicked beside 转人工: the choice, and 转人工 still usable under it.
    The pick may not be what the user needed, and asking for a person must stay as easy as it was (as on the web page)."""
    return InlineKeyboardMarkup([[_chosen(title)], [handoff]])


def marks_of(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """What an expired keyboard keeps: its "✓ 已选" marks, which say what was chosen there, one under the other
    (None: no mark, no keyboard)."""
    marks = [[button] for row in (markup.inline_keyboard if markup else ()) for button in row if button.callback_data == USED_BUTTON]
    return InlineKeyboardMarkup(marks) if marks else None


def _chosen(title: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(f"✓ 已选：{title}"[:60], callback_data=USED_BUTTON)


def button_beside(markup: InlineKeyboardMarkup | None, data: str, payload: str, store: ButtonStore) -> InlineKeyboardButton | None:
    """The button of `markup` sending `payload`, unless it is the one tapped (callback `data`): as it was shown,
    its callback data refreshed in `store` (still in use)."""
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data != data and isinstance(button.callback_data, str) and store.payload(button.callback_data) == payload:
                return InlineKeyboardButton(button.text, callback_data=store.key(payload))
    return None


def button_title(markup: InlineKeyboardMarkup | None, data: str) -> str:
    """The title of the button carrying callback `data` in `markup` ("" when it is not there)."""
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return ""


# One line of a chat's transcript: (who, when, what), who being "user" or "bot", when in seconds
# since the epoch (time.time()), so that lines can be dropped after the retention period.
# Plain tuples, because transcripts are pickled with the chat's data and must outlive code changes.
TranscriptLine = tuple[str, float, str]

# Invisible characters that change how the rest of a line shows: zero-width and direction controls.
# A right-to-left override in what a user typed would otherwise turn the staff notice around.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def plain_text(text: str) -> str:
    """`text` without control, zero-width and direction characters (line breaks kept), for the staff.

    >>> plain_text("开\\u200b办\\u202e企业\\x00")
    '开办企业'
    """
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n"))
    return "".join(char for char in text if char == "\n" or unicodedata.category(char) != "Cc")


def recent_lines(transcript: Iterable[TranscriptLine], since: float) -> list[TranscriptLine]:
    """The lines from `since` on. Lines of an older format ("05-14 10:21", no year) cannot be dated: they go."""
    return [line for line in transcript if isinstance(line[1], (int, float)) and line[1] >= since]
