"""Service guides (办事指南): parse one Markdown file into a `Guide`, reporting every problem.

The format is a contract documented in knowledge/README.md. Every problem carries the file and
line it was found on, so an admin can go straight to it.

Usage::

    from pathlib import Path
    from knowledge.sources.guides import parse_guide

    guide, problems = parse_guide(Path("knowledge/guides/company-setup.md"))
    for problem in problems:
        print(problem)            # knowledge/guides/x.md:12: 缺少必填字段 department
    if guide:
        print(guide.title, guide.section("申请材料").items)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from knowledge.sources.aspects import FAQ_SECTION, OPTIONAL_SECTIONS, REQUIRED_SECTIONS
from knowledge.sources.full_width import full_width_problems
from knowledge.sources.model import (
    DEFAULT_COMPLAINT_PHONE,
    Contact,
    Faq,
    Guide,
    Problem,
    Section,
    closest_key,
    describe_yaml_error,
    unknown_key_message,
)
from knowledge.sources.phones import body_phone_problems, phone_problem
from knowledge.text import half_width

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_QUESTIONS = 3

REQUIRED_KEYS: tuple[str, ...] = ("id", "title", "category", "department", "contacts", "updated", "questions")
OPTIONAL_KEYS: tuple[str, ...] = ("aliases", "complaint_phone", "region", "source")
CONTACT_KEYS: tuple[str, ...] = ("unit", "phone", "address", "hours")
# Sections whose content must be a numbered list, one item per material or step.
LIST_SECTIONS: tuple[str, ...] = ("申请材料", "办理流程")

# libyaml's C loader when available: parsing thousands of guides is the slow part of validation.
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TextDateLoader(_BASE_LOADER):
    """SafeLoader that leaves dates as text: PyYAML raises a bare ValueError on "2026-02-30",
    and we want to report an invalid date with its line like any other problem."""


TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_ITEM = re.compile(r"^\s*(\d+)\s*[.、．)）]\s*(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
# "##申请材料" or "##　申请材料" (full-width space): Markdown does not read these as headings, so
# the section would silently be missing; the parser reads them as meant and says what to fix.
_SPACELESS_HEADING = re.compile(r"^(#{2,3})(?!#)(?! )\s*(\S.*)$")


class _Reporter:
    """Collects problems for one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def warning(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message, "warning"))


def _compose(front_matter: str) -> yaml.Node | None:
    try:
        return yaml.compose(front_matter, Loader=TextDateLoader)
    except yaml.YAMLError:
        return None


def _key_lines(node: yaml.Node | None, first_line: int) -> dict[str, int]:
    """The file line of each top-level key, from the YAML node tree."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(key.value): first_line + key.start_mark.line
        for key, _value in node.value
        if isinstance(key, yaml.ScalarNode)
    }


def _value_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of `key` in a mapping node (the last one, as YAML keeps the last duplicate)."""
    if not isinstance(node, yaml.MappingNode):
        return None
    found = None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found = value_node
    return found


def key_lines_of(front_text: str, first_line: int) -> dict[str, int]:
    """The file line of each top-level key of YAML front matter starting on file line `first_line`."""
    return _key_lines(_compose(front_text), first_line)


def _item_lines(node: yaml.Node | None, first_line: int, key: str) -> list[int]:
    """The file line of each item of a top-level list (aliases, questions)."""
    value = _value_node(node, key)
    if not isinstance(value, yaml.SequenceNode):
        return []
    return [first_line + item.start_mark.line for item in value.value]


def _as_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse_date(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        return None


def _parse_body(lines: list[str], first_line: int, report: _Reporter) -> tuple[dict[str, Section], list[Faq]]:
    sections: dict[str, Section] = {}
    faqs: list[Faq] = []
    current: Section | None = None
    body: list[str] = []
    faq: Faq | None = None
    faq_lines: list[str] = []

    def close_faq() -> None:
        nonlocal faq, faq_lines
        if faq is not None:
            faq.answer = "\n".join(faq_lines).strip()
            if not faq.answer:
                report.error(faq.line, f"常见问题“{faq.question}”没有答案")
            faqs.append(faq)
        faq, faq_lines = None, []

    def close_section() -> None:
        nonlocal current, body
        close_faq()
        if current is not None:
            current.text = "\n".join(body).strip()
            if current.heading in LIST_SECTIONS:
                current.items = _list_items(body)
        current, body = None, []

    for offset, raw in enumerate(lines):
        number = first_line + offset
        line = raw.rstrip()
        spaceless = _SPACELESS_HEADING.match(line)
        if spaceless and (len(spaceless[1]) == 2 or (current is not None and current.heading == FAQ_SECTION)):
            line = f"{spaceless[1]} {spaceless[2].strip()}"
            report.warning(number, f"标题“{raw.strip()}”的 {spaceless[1]} 后面缺少空格，已按“{line}”读取；请补上半角空格")
        if line.startswith("## "):
            close_section()
            heading = line[3:].strip()
            if heading in sections:
                report.error(number, f"章节“{heading}”重复（第一次在第 {sections[heading].line} 行）")
            elif heading not in REQUIRED_SECTIONS + OPTIONAL_SECTIONS:
                report.warning(number, f"未知章节标题“{heading}”（不影响使用）")
            current = Section(heading=heading, line=number)
            sections[heading] = current
            continue
        if line.startswith("### ") and current is not None and current.heading == FAQ_SECTION:
            close_faq()
            faq = Faq(question=line[4:].strip(), answer="", line=number)
            body.append(line)
            continue
        if current is None:
            if line.strip():
                report.warning(number, "正文出现在第一个“## 章节”之前，已忽略")
            continue
        body.append(line)
        if faq is not None:
            faq_lines.append(line)
    close_section()
    return sections, faqs


def _list_items(body: list[str]) -> list[str]:
    """Numbered (or bulleted) items; an unnumbered line continues the item above it."""
    items: list[str] = []
    for line in body:
        match = _ITEM.match(line) or _BULLET.match(line)
        if match:
            items.append(match.groups()[-1].strip())
        elif line.strip() and items:
            items[-1] = f"{items[-1]} {line.strip()}"
    return [item for item in items if item]


def _check_phone(report: _Reporter, line: int, value: Any, what: str, node: yaml.Node | None, key: str) -> str:
    """The phone as citizens will see it. `node` is the value's YAML node when known: its line is
    the phone's own (a missing phone has none: `line` then), its text what the admin typed."""
    if node is not None:
        line = node.start_mark.line + 2  # the front matter starts on file line 2
    typed = node.value if isinstance(node, yaml.ScalarNode) else None
    if problem := phone_problem(value, typed, what, key):  # (message, severity)
        report.problems.append(Problem(report.path, line, *problem))
    return _as_text(value)


def _parse_contacts(raw: Any, line: int, report: _Reporter, node: yaml.Node | None) -> list[Contact]:
    if not isinstance(raw, list) or not raw:
        report.error(line, "contacts 至少需要一个联系单位（unit 和 phone）")
        return []
    item_nodes = node.value if isinstance(node, yaml.SequenceNode) and len(node.value) == len(raw) else [None] * len(raw)
    contacts: list[Contact] = []
    for index, (item, item_node) in enumerate(zip(raw, item_nodes, strict=True), start=1):
        what = f"contacts 第 {index} 项"
        if not isinstance(item, dict):
            report.error(line, f"{what}应包含 unit、phone 等字段")
            continue
        unit = _as_text(item.get("unit"))
        if not unit:
            report.error(line, f"{what}缺少单位名称（unit）")
        phone = _check_phone(report, line, item.get("phone"), what, _value_node(item_node, "phone"), "phone")
        field_lines = _key_lines(item_node, 2)
        for key in item:
            if key not in CONTACT_KEYS:
                report.warning(field_lines.get(str(key), line), unknown_key_message(key, CONTACT_KEYS, f"{what}有"))
        contacts.append(Contact(unit, phone, _as_text(item.get("address")), _as_text(item.get("hours"))))
    return contacts


def _text_list(raw: Any, line: int, key: str, report: _Reporter) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        report.error(line, f"{key} 应该是列表")
        return []
    return [_as_text(item) for item in raw if _as_text(item)]


def parse_guide(path: Path, display_path: str | None = None) -> tuple[Guide | None, list[Problem]]:
    """Parse one guide file. Returns the guide (None if unreadable) and every problem found.

    A guide is usable only when no problem is an error.
    """
    shown = display_path or str(path)
    report = _Reporter(shown)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        report.error(line, "文件不是 UTF-8 编码，请另存为 UTF-8")
        return None, report.problems
    text = text.removeprefix("\ufeff")
    if not text.strip():
        report.error(1, "文件是空的：请按 knowledge/README.md 的格式写办事指南，或删除这个文件")
        return None, report.problems
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        report.error(1, "缺少 YAML 头信息：文件第一行应为 ---")
        return None, report.problems
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        report.error(1, "YAML 头信息没有结束：缺少第二个 --- 行")
        return None, report.problems

    front_text = "\n".join(lines[1:end])
    try:
        meta = yaml.load(front_text, Loader=TextDateLoader)
    except yaml.YAMLError as error:
        report.error(*describe_yaml_error(error, front_text, 2))
        return None, report.problems
    if not isinstance(meta, dict):
        report.error(2, "YAML 头信息应为“字段: 值”的形式")
        return None, report.problems

    node = _compose(front_text)
    key_line = _key_lines(node, 2)
    known_keys = REQUIRED_KEYS + OPTIONAL_KEYS
    unknown = [key for key in meta if key not in known_keys]
    slips = {closest_key(key, known_keys): key for key in reversed(unknown)}  # the first slip wins
    for key in REQUIRED_KEYS:
        if key not in meta or meta[key] in (None, "", []):
            # A misspelt key ("question:") is where the missing one is: point there, not at line 1.
            report.error(key_line.get(key) or key_line.get(str(slips.get(key)), 1), f"缺少必填字段 {key}")
    for key in unknown:
        report.warning(key_line.get(str(key), 1), unknown_key_message(key, known_keys))

    guide_id = _as_text(meta.get("id"))
    id_line = key_line.get("id", 1)
    if guide_id:
        if not ID_PATTERN.match(guide_id):
            report.error(id_line, f"id“{guide_id}”只能包含小写字母、数字和 -")
        if guide_id != path.stem:
            report.error(id_line, f"id“{guide_id}”与文件名“{path.stem}”不一致")

    updated = ""
    if meta.get("updated") not in (None, ""):
        updated = _parse_date(meta["updated"]) or ""
        if not updated:
            report.error(key_line.get("updated", 1), f"日期“{meta['updated']}”无效，应为 YYYY-MM-DD")

    contacts = []
    if "contacts" in meta:
        contacts = _parse_contacts(meta.get("contacts"), key_line.get("contacts", 1), report, _value_node(node, "contacts"))
    complaint_phone = DEFAULT_COMPLAINT_PHONE
    if meta.get("complaint_phone") not in (None, ""):
        complaint_phone = _check_phone(report, key_line.get("complaint_phone", 1), meta["complaint_phone"], "complaint_phone",
                                       _value_node(node, "complaint_phone"), "complaint_phone")

    aliases = [half_width(alias) for alias in _text_list(meta.get("aliases"), key_line.get("aliases", 1), "aliases", report)]
    alias_item_lines = _item_lines(node, 2, "aliases")
    alias_lines = {alias: alias_item_lines[i] if i < len(alias_item_lines) else key_line.get("aliases", 1) for i, alias in enumerate(aliases)}
    questions = _text_list(meta.get("questions"), key_line.get("questions", 1), "questions", report)
    if "questions" in meta and 0 < len(questions) < MIN_QUESTIONS:
        report.error(key_line.get("questions", 1), f"questions 至少需要 {MIN_QUESTIONS} 个典型问法，现有 {len(questions)} 个")

    sections, faqs = _parse_body(lines[end + 1 :], end + 2, report)
    for heading in REQUIRED_SECTIONS:
        if heading not in sections:
            report.error(end + 2 if end + 2 <= len(lines) else len(lines), f"缺少必填章节“## {heading}”")
        elif not sections[heading].text:
            report.error(sections[heading].line, f"章节“{heading}”内容为空")
    for heading, message in (("申请材料", "申请材料为空：请用编号列表逐条列出（1. …）"), ("办理流程", "办理流程应为编号列表（1. …）")):
        if heading in sections and sections[heading].text and not sections[heading].items:
            report.error(sections[heading].line, message)
    faq_section = sections.get(FAQ_SECTION)
    if faq_section is not None and not faqs:
        report.error(faq_section.line, "常见问题应使用“### 问题”加答案的形式")
    if sections:
        start = min(s.line for s in sections.values())  # the lines before the first section are not published
        for line, message in body_phone_problems(lines[end + 1 :], end + 2, start, contacts, complaint_phone):
            report.warning(line, message)
        report.problems += full_width_problems(shown, enumerate(lines[start - 1 :], start))  # indexed as written

    # The guide is returned even when it has errors, so that cross-file checks (duplicate ids,
    # aliases) still see it; callers must not publish anything while errors exist.
    guide = Guide(
        id=guide_id,
        title=half_width(_as_text(meta.get("title"))),
        category=_as_text(meta.get("category")),
        department=_as_text(meta.get("department")),
        contacts=contacts,
        updated=updated,
        questions=questions,
        path=shown,
        aliases=aliases,
        complaint_phone=complaint_phone,
        region=_as_text(meta.get("region")),
        source=_as_text(meta.get("source")),
        sections=sections,
        faqs=faqs,
        alias_lines=alias_lines,
        id_line=id_line,
        title_line=key_line.get("title", 1),
    )
    return guide, report.problems


def guide_names(folder: Path) -> list[str]:
    """Titles and aliases of the guides in `folder`, longest first: the words a tokenizer must keep
    whole. A guide that does not parse is skipped (the builder reports it; a tokenizer must never
    fail because of it). "企业开办（公司设立登记）" also gives "企业开办" and "公司设立登记"."""
    names: set[str] = set()
    for path in sorted(folder.glob("*.md")):
        try:
            guide, _problems = parse_guide(path)
        except Exception:  # a reader of last resort: whatever is in the folder, never raise
            guide = None
        if guide is None:
            continue
        names |= names_of(guide.title, guide.aliases)
    return sorted(names, key=len, reverse=True)


def names_of(title: str, aliases: Iterable[str]) -> set[str]:
    """The names a guide goes by: its title, the title's parts around brackets ("企业开办（公司设立登记）" ->
    企业开办, 公司设立登记) and its aliases, of 2+ characters."""
    names = {title, *re.split(r"[（）()]", title), *aliases}
    return {name.strip() for name in names if len(name.strip()) >= 2}
