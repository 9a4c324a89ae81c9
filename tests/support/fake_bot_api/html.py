"""Message text as Telegram measures and parses it: lengths in UTF-16 code units, the 4096 limit,
and the HTML parse mode (only Telegram's tags, every other <, > and & escaped)."""

from __future__ import annotations

import re
from typing import Any

from tests.support.fake_bot_api.errors import bad_request

ENTITY_TYPES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
                "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "code": "code", "pre": "pre",
                "a": "text_link", "tg-spoiler": "spoiler", "span": "spoiler", "blockquote": "blockquote", "tg-emoji": "custom_emoji"}
MESSAGE_LIMIT = 4096


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>|&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities (UTF-16 offsets), or ApiError."""
    text: list[str] = []
    units = 0
    entities: list[dict[str, Any]] = []
    open_tags: list[tuple[str, int, dict[str, Any]]] = []
    position = 0

    def plain(chunk: str, at: int) -> None:
        nonlocal units
        for offset, char in enumerate(chunk):
            if char in "<&":  # Telegram: every <, > and & that is not markup must be escaped
                what = "start tag" if char == "<" else "entity"
                raise bad_request(f"can't parse entities: Unsupported {what} at byte offset {len(source[:at + offset].encode())}")
        text.append(chunk)
        units += utf16_len(chunk)

    for match in _HTML_TOKEN.finditer(source):
        plain(source[position:match.start()], position)
        position = match.end()
        closing, tag, attributes, entity = match.group(1), (match.group(2) or "").lower(), match.group(3) or "", match.group(4)
        byte_offset = len(source[:match.start()].encode())
        if entity is not None:
            if entity.startswith("#"):
                char = chr(int(entity[2:], 16) if entity[1] in "xX" else int(entity[1:]))
            elif entity in _NAMED_ENTITIES:
                char = _NAMED_ENTITIES[entity]
            else:
                raise bad_request(f"can't parse entities: Unsupported HTML entity \"&{entity};\" at byte offset {byte_offset}")
            text.append(char)
            units += utf16_len(char)
        elif tag not in ENTITY_TYPES:
            raise bad_request(f"can't parse entities: Unsupported start tag \"{tag}\" at byte offset {byte_offset}")
        elif not closing:
            extra: dict[str, Any] = {}
            if tag == "a":
                href = re.search(r'href\s*=\s*"([^"]*)"', attributes)
                extra = {"url": href.group(1)} if href else {}
            open_tags.append((tag, units, extra))
        else:
            if not open_tags or open_tags[-1][0] != tag:
                raise bad_request(f"can't parse entities: Unexpected end tag at byte offset {byte_offset}")
            _tag, start, extra = open_tags.pop()
            if units > start:
                entities.append({"type": ENTITY_TYPES[tag], "offset": start, "length": units - start, **extra})
    plain(source[position:], position)
    if open_tags:
        raise bad_request(f"can't parse entities: Can't find end tag corresponding to start tag \"{open_tags[-1][0]}\"")
    return "".join(text), sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))
