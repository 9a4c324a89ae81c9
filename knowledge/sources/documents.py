"""Policy documents (通知、行动方案、工作报告): load, clean, chunk into passages, find contact units.

Documents are unstructured. Cleaning removes page numbers, site furniture and advertising lines
and re-joins hard-wrapped lines; chunking keeps one passage per paragraph or list item (long
paragraphs are split at sentence ends, each piece keeping the item's heading). A passage whose
text names 牵头单位 / 责任单位 / 责任专项组 / 完成时限 (as the bracketed notes of an action plan
do) carries those as its contact units and deadline.

Usage::

    from pathlib import Path
    from knowledge.sources.documents import parse_document

    document, problems = parse_document(Path("knowledge/documents/plan.txt"))
    for passage in document.passages:
        print(passage.heading, passage.lead_units, passage.deadline)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.sources.full_width import full_width_problems
from knowledge.sources.guides import TextDateLoader, key_lines_of
from knowledge.sources.model import Problem, describe_yaml_error, unknown_key_message

DOCUMENT_SUFFIXES: tuple[str, ...] = (".md", ".txt", ".docx")
FRONT_MATTER_KEYS: tuple[str, ...] = ("title", "source", "date", "number", "region")
MAX_PASSAGE_CHARS = 320  # longer paragraphs are split at sentence ends (the embedder reads ~512 tokens)
MIN_PASSAGE_CHARS = 16

# Whole lines that are page or site furniture, not content.
_FURNITURE = re.compile(
    r"^\s*(?:"
    r"[-—–_\s]*\d{1,4}[-—–_\s]*"  # a bare page number, "- 3 -"
    r"|第\s*\d+\s*页.*|共\s*\d+\s*页.*|\d+\s*/\s*\d+"
    r"|!\[[^\]]*\]\([^)]*\)\s*\|?"  # an image left over from HTML conversion
    r"|\|+"
    r"|.*(?:Copyright|版权所有|ICP备|网站标识码|公网安备|网站地图|联系我们|免责声明|主办单位[:：].*承办).*"
    r"|.*(?:扫一扫|分享到|打印本页|关闭窗口|【打印】|【关闭】|字号[:：]|浏览次数|阅读次数|点击量).*"
    r"|.*\d{4}年\d{1,2}月\d{1,2}日印发.*"  # the 版记 line of an official document
    r"|.*(?:广告|点击进入|立即下载|扫码关注|长按识别|关注公众号|更多精彩).*"
    r")\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = "。！？；：.!?;:”’」』）)〕】]"
_LIST_START = re.compile(r"^\s*(?:[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.、．]|[一二三四五六七八九十]是)")
_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十]+[章节部分])\S{1,30}$")
_FIELD = re.compile(r"(牵头单位|责任单位|责任专项组|完成时限)\s*[:：]\s*([^;；〕】\]]+)")
_UNIT_SPLIT = re.compile(r"[、，,/]|\s+")
_SENTENCE = re.compile(r"[^。！？；]*[。！？；]|[^。！？；]+$")


@dataclass
class Passage:
    text: str
    line: int
    heading: str = ""
    lead_units: list[str] = field(default_factory=list)  # 牵头单位
    units: list[str] = field(default_factory=list)  # 责任单位 (and 责任专项组)
    deadline: str = ""  # 完成时限

    @property
    def contact_units(self) -> list[str]:
        """Who to ask about this passage: the lead units first, then the responsible ones."""
        seen: dict[str, None] = {}
        for unit in self.lead_units + self.units:
            seen.setdefault(unit, None)
        return list(seen)


@dataclass
class Document:
    title: str
    path: str
    source: str = ""
    date: str = ""  # YYYY-MM-DD, from the front matter's `date` (the document's date: 印发 / 发布)
    region: str = ""
    passages: list[Passage] = field(default_factory=list)
    number: str = ""  # 文号, from the front matter's `number`: 华容办文〔2022〕3号


def wrap_width(lines: list[str]) -> int | None:
    """The width a text was hard-wrapped at, or None when its lines are whole paragraphs.

    Hard-wrapped text (PDF or e-mail exports) has many lines of nearly the same length.
    """
    lengths = [len(line.strip()) for line in lines if len(line.strip()) >= 15]
    if len(lengths) < 3:
        return None
    best, count = 0, 0
    for width in set(lengths):
        near = sum(1 for length in lengths if width - 2 <= length <= width)
        if near > count or (near == count and width > best):
            best, count = width, near
    return best if count >= max(3, 0.3 * len(lengths)) else None


def clean_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Drop furniture lines and re-join hard-wrapped lines into paragraphs (keeps first line no.)."""
    width = wrap_width([text for _number, text in lines])
    paragraphs: list[tuple[int, str]] = []
    previous_line = ""  # the last physical line kept, to tell a wrap from a paragraph end
    for number, raw in lines:
        line = raw.replace("\u3000", " ").strip().rstrip("|").strip()
        if not line:
            previous_line = ""  # a blank line always ends a paragraph
            continue
        if _FURNITURE.match(line):
            continue
        wrapped = (
            width is not None
            and paragraphs
            and previous_line
            and len(previous_line) >= width - 2
            and previous_line[-1] not in _SENTENCE_END
            and not _LIST_START.match(line)
            and not _HEADING.match(previous_line)
        )
        if wrapped:
            first_number, text = paragraphs[-1]
            paragraphs[-1] = (first_number, text + line)
        else:
            paragraphs.append((number, line))
        previous_line = line
    return paragraphs


def extract_fields(text: str) -> tuple[list[str], list[str], str]:
    """(lead units, responsible units, deadline) named in a passage's text."""
    lead: list[str] = []
    units: list[str] = []
    deadline = ""
    for name, value in _FIELD.findall(text):
        value = value.strip().rstrip(")）")
        if name == "完成时限":
            deadline = deadline or value
            continue
        names = [part.strip().removesuffix("等") for part in _UNIT_SPLIT.split(value)]
        target = lead if name == "牵头单位" else units
        target.extend(part for part in names if part and part not in target)
    return lead, units, deadline


def _split_long(text: str) -> list[str]:
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    sentences = [sentence for sentence in _SENTENCE.findall(text) if sentence.strip()]
    lead = sentences[0] if len(sentences[0]) <= 60 else ""  # "(二)推行惠企政策免申即享和精准推送。"
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        if current and current != lead and len(current) + len(sentence) > MAX_PASSAGE_CHARS:
            pieces.append(current)
            current = lead  # every piece after the first repeats the item's title, so it stands alone
        current += sentence
    if current.strip() and current != lead:
        pieces.append(current)
    return pieces


def chunk_passages(paragraphs: list[tuple[int, str]]) -> list[Passage]:
    """One passage per paragraph or list item; headings become the context of what follows."""
    passages: list[Passage] = []
    heading = ""
    for number, text in paragraphs:
        if _HEADING.match(text) and len(text) <= 32:
            heading = text
            continue
        if len(text) < MIN_PASSAGE_CHARS:
            continue  # signatures, dates
        lead, units, deadline = extract_fields(text)
        for piece in _split_long(text):
            passages.append(Passage(piece, number, heading, list(lead), list(units), deadline))
    return passages


def _read_docx(path: Path) -> list[tuple[int, str]]:
    from docx import Document as DocxDocument  # imported here: only .docx files need it

    document = DocxDocument(str(path))
    lines = [(index, paragraph.text) for index, paragraph in enumerate(document.paragraphs, start=1)]
    for table in document.tables:
        for row in table.rows:
            lines.append((len(lines) + 1, " ".join(cell.text for cell in row.cells)))
    return lines


def _default_title(path: Path) -> str:
    # Crawled files are often named "002_54ee83bbaa690066": drop the hash suffix.
    return re.sub(r"[_-][0-9a-f]{8,}$", "", path.stem)


def parse_document(path: Path, display_path: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Load and chunk one policy document; returns it (None if unusable) and its problems."""
    shown = display_path or str(path)
    problems: list[Problem] = []
    meta: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    if path.suffix.lower() == ".docx":
        try:
            lines = _read_docx(path)
        except Exception as error:  # python-docx raises PackageNotFoundError, BadZipFile, KeyError…
            return None, [Problem(shown, 1, f"无法读取 Word 文件：{error}")]
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            return None, [Problem(shown, line, "文件不是 UTF-8 编码，请另存为 UTF-8")]
        raw_lines = text.splitlines()
        start = 0
        if raw_lines and raw_lines[0].strip() == "---":
            end = next((i for i in range(1, len(raw_lines)) if raw_lines[i].strip() == "---"), None)
            if end is None:
                return None, [Problem(shown, 1, "YAML 头信息没有结束：缺少第二个 --- 行")]
            front_text = "\n".join(raw_lines[1:end])
            try:
                loaded = yaml.load(front_text, Loader=TextDateLoader) or {}
            except yaml.YAMLError as error:
                return None, [Problem(shown, *describe_yaml_error(error, front_text, 2))]
            if not isinstance(loaded, dict):
                return None, [Problem(shown, 2, "YAML 头信息应为“字段: 值”的形式")]
            meta = loaded
            key_lines = key_lines_of(front_text, 2)
            start = end + 1
        lines = [(number, line) for number, line in enumerate(raw_lines[start:], start=start + 1)]

    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            problems.append(Problem(shown, key_lines.get(str(key), 1), unknown_key_message(key, FRONT_MATTER_KEYS), "warning"))
    date = meta.get("date")
    if isinstance(date, dt.date):
        date = date.isoformat()
    elif date not in (None, ""):
        try:
            date = dt.date.fromisoformat(str(date)).isoformat()
        except ValueError:
            problems.append(Problem(shown, key_lines.get("date", 1), f"日期“{date}”无效，应为 YYYY-MM-DD"))
            date = ""
    # Indexed as written (full_width.py): a warning on each line with full-width letters or digits, page furniture aside.
    problems += full_width_problems(shown, [(number, text) for number, text in lines if not _FURNITURE.match(text)])
    passages = chunk_passages(clean_lines(lines))
    if not passages:
        problems.append(Problem(shown, 1, "文件清理后没有可用的正文段落"))
        return None, problems
    document = Document(
        title=str(meta.get("title") or _default_title(path)).strip(),
        path=shown,
        source=str(meta.get("source") or "").strip(),
        date=str(date or ""),
        region=str(meta.get("region") or "").strip(),
        passages=passages,
        number=str(meta.get("number") or "").strip(),
    )
    return document, problems
