"""The `Guide` type and its parts: what the guide reader (knowledge/sources/guides.py) produces
and every later stage (chunks, index, replies, the hall API's guide cards) consumes; with the rules
the readers share for what admins write: which known field an unknown one is a slip for, and YAML
errors told in Chinese on the line of the mistake (phone numbers: knowledge/sources/phones.py).

Usage::

    guide, problems = parse_guide(path)      # knowledge.sources.guides
    guide.section("申请材料").items           # -> ["营业执照副本", …]
    guide.as_dict()                           # JSON-ready, as stored in an index version's guides.json
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from knowledge.sources.aspects import FAQ_SECTION

DEFAULT_COMPLAINT_PHONE = "12345"

def closest_key(key: object, known: Iterable[str]) -> str | None:
    """The known field an unknown `key` is most likely a slip for ("alias" -> "aliases"), if any."""
    known = tuple(known)
    lowered = str(key).lower()
    if lowered in known:
        return lowered
    return next(iter(difflib.get_close_matches(lowered, known, n=1, cutoff=0.75)), None)


def unknown_key_message(key: object, known: Iterable[str], what: str = "") -> str:
    """The warning for a field the parser does not read. A near miss of a known field is named as
    such: its content is silently lost, which "不影响使用" would hide."""
    guess = closest_key(key, known)
    if guess is not None:
        return f"{what}未知字段 {key}，是不是 {guess}？这一项现在不起作用"
    return f"{what}未知字段 {key}（不影响使用）"


# Plain-Chinese explanations of the YAML errors admins make, keyed by the start of libyaml's (or
# PyYAML's) problem text. The original text is kept after them for whoever searches it.
_YAML_EXPLANATIONS: tuple[tuple[str, str], ...] = (
    ("did not find expected ',' or ']'", "方括号列表 [ … ] 没有闭合，或者列表项之间少了英文逗号"),
    ("expected ',' or ']'", "方括号列表 [ … ] 没有闭合，或者列表项之间少了英文逗号"),  # PyYAML's wording
    ("did not find expected ',' or '}'", "花括号 { … } 没有闭合，或者其中各项之间少了英文逗号"),
    ("expected ',' or '}'", "花括号 { … } 没有闭合，或者其中各项之间少了英文逗号"),
    ("mapping values are not allowed", "这一行多了一个冒号“: ”，或者缩进多了：值里有冒号时请给整个值加引号"),
    ("found unexpected end of stream", "引号没有闭合：引号要成对"),
    ("could not find expected ':'", "这一行缺少冒号：应写成“字段: 值”（英文冒号，后面加空格）"),
    ("did not find expected '-' indicator", "列表项缩进不一致：同一列表的各项（- 开头）要对齐，同一项的字段也要对齐"),
    ("did not find expected key", "缩进不对，或者引号后面还有文字：整个值都要放在引号里"),
    ("expected <block end>", "缩进不对：同一层的字段要左对齐"),
    ("found undefined alias", "值以 * 开头会被当成引用：请给整个值加引号"),
    ("did not find expected alphabetic or numeric character", "值以 * 或 & 开头会被当成引用：请给整个值加引号"),
    ("second occurrence", "值以 & 开头会被当成锚点：请给整个值加引号"),
    ("found unhashable key", "字段名不能是列表或花括号：请检查这一行的写法"),
)
# Contexts whose mark is where the admin's mistake starts (an unclosed bracket or quote, a line
# without its colon); for the others the problem mark is nearer, the context being a whole block.
_CONTEXT_FIRST = ("while scanning a quoted scalar", "while scanning a simple key", "while parsing a flow")


# A double quote that opens a value ("title: "…", "- "…"), and an escape inside a quoted one.
_OPENING_QUOTE = re.compile(r'(?::|(?:^|\s)-)\s+"')
_ESCAPE = re.compile(r"\\.")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _swallowing_quote_line(text: str, mark_line: int, context: str, problem: str) -> int | None:
    """The line of an unclosed " that YAML reports elsewhere, or None. Such a quote swallows the
    lines after it up to the next " (often a phone's), and YAML notices only there. A quote never
    closed is not one: YAML's own mark is then on it. A line is blamed only if its quote opens a
    value and is left open, and closing it there moves the error past `mark_line`: a quote inside a
    plain value (直径3"), an escaped one or one in a comment is not blamed for a later mistake."""
    if context.startswith("while scanning a quoted scalar") or problem.startswith("found unexpected end of stream"):
        return None
    lines = text.splitlines()
    for number in range(min(mark_line, len(lines))):
        unescaped = _ESCAPE.sub("", lines[number])
        if not (_OPENING_QUOTE.search(unescaped) and unescaped.count('"') % 2):
            continue
        repaired = "\n".join([*lines[:number], lines[number] + '"', *lines[number + 1 :]])
        try:
            yaml.compose(repaired, Loader=_YAML_LOADER)
        except yaml.YAMLError as error:
            after = getattr(error, "problem_mark", None)
            if after is None or after.line <= mark_line:
                continue
        return number
    return None


def describe_yaml_error(error: yaml.YAMLError, text: str, first_line: int) -> tuple[int, str]:
    """(file line, Chinese message) for a YAML error in `text`, whose first line is file line
    `first_line`. The line is that of the mistake as best the error's marks tell."""
    problem = str(getattr(error, "problem", None) or str(error).splitlines()[0])
    context = str(getattr(error, "context", None) or "")
    problem_mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    mark = context_mark if context_mark is not None and context.startswith(_CONTEXT_FIRST) else problem_mark
    if mark is None:
        return first_line, f"YAML 语法错误：请检查缩进、冒号、引号和括号（{problem}）"
    lines = text.splitlines()
    line = mark.line
    explanation = next((chinese for start, chinese in _YAML_EXPLANATIONS if problem.startswith(start)), "")
    unclosed = _swallowing_quote_line(text, line, context, problem)
    if unclosed is not None:
        line, explanation = unclosed, "这一行的引号没有闭合：引号要成对"
    line_text = lines[line] if 0 <= line < len(lines) else ""
    if problem.startswith("found character") and unclosed is None:
        character = line_text[mark.column : mark.column + 1]
        explanation = ("不能用 Tab 缩进，请改用空格" if character == "\t"
                       else f"值不能以“{character}”开头：请给整个值加引号")
    if "：" in line_text and ": " not in line_text and problem.startswith("could not find expected ':'") and unclosed is None:
        explanation = "这一行用了中文冒号“：”：字段名后面要用英文冒号加空格“: ”"
    explanation = explanation or "请检查这一行和上一行的缩进、冒号、引号和括号"
    return first_line + line, f"YAML 语法错误：{explanation}（{problem}）"


@dataclass(frozen=True)
class Problem:
    """One validation finding, printed as ``file:line: message``."""

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" stops a build; "warning" is only reported

    def __str__(self) -> str:
        prefix = "警告：" if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class Contact:
    unit: str
    phone: str
    address: str = ""
    hours: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"unit": self.unit, "phone": self.phone, "address": self.address, "hours": self.hours}


@dataclass
class Section:
    heading: str
    line: int
    text: str = ""  # the section body as written (Markdown)
    items: list[str] = field(default_factory=list)  # numbered items, for list sections


@dataclass
class Faq:
    question: str
    answer: str
    line: int


@dataclass
class Guide:
    id: str
    title: str
    category: str
    department: str
    contacts: list[Contact]
    updated: str
    questions: list[str]
    path: str
    aliases: list[str] = field(default_factory=list)
    complaint_phone: str = DEFAULT_COMPLAINT_PHONE
    region: str = ""
    source: str = ""
    sections: dict[str, Section] = field(default_factory=dict)
    faqs: list[Faq] = field(default_factory=list)
    alias_lines: dict[str, int] = field(default_factory=dict)
    id_line: int = 1
    title_line: int = 1

    def section(self, heading: str) -> Section | None:
        return self.sections.get(heading)

    def as_dict(self) -> dict[str, Any]:
        """The structured guide as JSON-ready data (for APIs and printable notices)."""
        return {
            "id": self.id,
            "title": self.title,
            "aliases": list(self.aliases),
            "category": self.category,
            "department": self.department,
            "contacts": [contact.as_dict() for contact in self.contacts],
            "complaint_phone": self.complaint_phone,
            "region": self.region,
            "updated": self.updated,
            "source": self.source,
            "questions": list(self.questions),
            "sections": {
                heading: {"text": section.text, "items": list(section.items)}
                for heading, section in self.sections.items()
                if heading != FAQ_SECTION
            },
            "faqs": [{"question": faq.question, "answer": faq.answer} for faq in self.faqs],
        }
