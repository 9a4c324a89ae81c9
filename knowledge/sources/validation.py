"""Validate the whole knowledge base: every guide and document, and the checks across files.

Usage::

    from knowledge.settings import load_settings
    from knowledge.sources.validation import validate_knowledge_base

    result = validate_knowledge_base(load_settings())
    for problem in result.problems:
        print(problem)
    if result.ok:
        publish(result.guides, result.documents)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.settings import ROOT, Settings
from knowledge.sources.documents import DOCUMENT_SUFFIXES, Document, parse_document
from knowledge.sources.guides import Guide, Problem, parse_guide
from knowledge.sources.model import describe_yaml_error

GuideParser = Callable[[Path, str], tuple[Guide | None, list[Problem]]]


@dataclass
class ValidationResult:
    guides: list[Guide] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    out_of_scope: dict[str, list[str]] = field(default_factory=dict)
    out_of_scope_sha256: str | None = None  # of the bytes the anchors were read from (the manifest records what was built)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if not problem.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def display_path(path: Path) -> str:
    """A path as admins see it: relative to the repository root when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _display_paths(folder: Path, files: list[Path]) -> list[str]:
    """`display_path` of each file in `folder`, resolving the folder once: a file that is not a
    symlink resolves to the resolved folder / its name (5,000 resolves took ~0.2 s of every build)."""
    try:
        inside: str | None = str(folder.resolve().relative_to(ROOT))
    except ValueError:  # outside the repository: so is every file in it that is not a symlink
        inside = None
    shown = []
    for path in files:
        if path.is_symlink():
            shown.append(display_path(path))
        elif inside is None:
            shown.append(str(path))
        else:
            shown.append(path.name if inside == "." else f"{inside}/{path.name}")
    return shown


def _claim_order(guide: Guide) -> tuple[bool, str]:
    """Who keeps an id, title or alias claimed twice; the other is blamed. A guide whose id is not
    its file name is typically a copy saved under a new name (dog-registration-2.md still saying
    id: dog-registration): it claims last. Then by file name without ".md", so that x.md comes
    before its copies x-2.md and "x 副本.md" (by full name, "x-2.md" sorts first)."""
    stem = Path(guide.path).stem
    return guide.id != stem, stem


def _check_unique(guides: list[Guide]) -> list[Problem]:
    """Ids, titles and aliases claimed twice, each reported on the later claimant (`_claim_order`)."""
    problems: list[Problem] = []
    ids: dict[str, Guide] = {}
    names: dict[str, tuple[Guide, bool]] = {}  # a title or alias -> the guide claiming it, and whether as its title
    for guide in sorted(guides, key=_claim_order):
        if guide.id:
            first = ids.get(guide.id)
            if first is not None:
                problems.append(Problem(guide.path, guide.id_line, f"id“{guide.id}”重复，已被 {first.path} 使用"))
            else:
                ids[guide.id] = guide
        claims = [(guide.title, guide.title_line, True)] if guide.title else []
        claims += [(alias, guide.alias_lines.get(alias, 1), False) for alias in guide.aliases]
        for name, line, is_title in claims:
            holder = names.get(name)
            if holder is None:
                names[name] = (guide, is_title)
                continue
            if holder[0] is guide:
                continue
            other = f"{holder[0].path}（{holder[0].id}）"
            if is_title:
                used_as = "标题" if holder[1] else "别名"
                message = f"标题“{name}”已被 {other}用作{used_as}，同一名称不能指向两个事项：请改用能区分的标题"
            else:
                message = f"别名“{name}”已被 {other}使用，同一别名不能指向两个事项"
            problems.append(Problem(guide.path, line, message))
    problems.sort(key=lambda problem: problem.path)  # reported in file order, like every other problem
    return problems


def _skipped_files(folder: Path, readable: Callable[[Path], bool], advice: Callable[[Path], str]) -> list[Problem]:
    """A warning for each file in `folder` (or its subfolders) that validation does not read, so an
    admin who put a guide in the wrong place hears of it. Hidden files and Word's "~$" lock files
    are an editor's, not the admin's, and are passed over."""
    problems: list[Problem] = []
    with os.scandir(folder) as listing:  # the folder holds thousands of guides: no stat per file
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name.startswith((".", "~$")):
            continue
        path = folder / entry.name
        if entry.is_dir():
            nested = [inner for inner in sorted(path.rglob("*")) if inner.is_file()
                      and not any(part.startswith((".", "~$")) for part in inner.relative_to(folder).parts)]
            problems.extend(Problem(display_path(inner), 1, f"只读取 {folder.name}/ 下一层的文件，子文件夹里的文件不会读取，也不会发布："
                                    f"要用请移到 {folder.name}/ 下，不用的请移出 {folder.name}/", "warning")
                            for inner in nested)
        elif entry.is_file() and not readable(path) and path.name.lower() != "readme.md":
            problems.append(Problem(display_path(path), 1, advice(path), "warning"))
    return problems


def _guide_advice(path: Path) -> str:
    if path.suffix.lower() == ".md":
        return f"只读取扩展名为小写 .md 的文件，这个文件没有发布：请改名为 {path.stem}.md"
    return (f"只读取 {path.parent.name}/ 下的 .md 文件，这个文件没有发布：办事指南请按 knowledge/README.md 写成 .md 文件，"
            "政策文件请放到 documents/")


def _document_advice(path: Path) -> str:
    suffix = path.suffix.lower()
    supported = "、".join(DOCUMENT_SUFFIXES)
    if suffix == ".doc":
        return f"不支持旧版 Word（.doc），这个文件没有入库：请在 Word 里“另存为” .docx（支持 {supported}）"
    if suffix == ".pdf":
        return f"不支持 PDF，这个文件没有入库：请把正文另存为 .docx 或 .txt（支持 {supported}）"
    kind = f" {path.suffix} " if path.suffix else "没有扩展名的"
    return f"不支持{kind}文件，这个文件没有入库：政策文件请用 {supported}"


def validate_knowledge_base(settings: Settings, parse: GuideParser = parse_guide) -> ValidationResult:
    """Parse and check every guide and document; never raises on bad input. `parse` reads one
    guide file (the index builder passes a cached one; the checks across files always run)."""
    result = ValidationResult()
    guide_files = sorted(settings.guides_dir.glob("*.md")) if settings.guides_dir.is_dir() else []
    if not settings.guides_dir.is_dir():
        # Most often a mistyped guides_dir (settings.yml) or GOVQA_GUIDES_DIR: say so, not "no guides".
        result.problems.append(Problem(display_path(settings.guides_dir), 1,
                                       "办事指南文件夹不存在：请检查 settings.yml 的 guides_dir 或环境变量 GOVQA_GUIDES_DIR"))
    else:
        result.problems.extend(_skipped_files(settings.guides_dir, lambda path: path.suffix == ".md", _guide_advice))
        if not guide_files:
            result.problems.append(Problem(display_path(settings.guides_dir), 1, "没有找到任何办事指南（*.md）"))
    for path, shown in zip(guide_files, _display_paths(settings.guides_dir, guide_files), strict=True):
        if path.name.lower() == "readme.md":
            continue
        guide, problems = parse(path, shown)
        result.problems.extend(problems)
        if guide is not None:
            result.guides.append(guide)
    result.problems.extend(_check_unique(result.guides))

    if settings.documents_dir.is_dir():
        result.problems.extend(_skipped_files(settings.documents_dir, _is_document, _document_advice))
        for path in sorted(settings.documents_dir.iterdir()):
            if not _is_document(path) or path.name.lower() == "readme.md":
                continue
            document, problems = parse_document(path, display_path(path))
            result.problems.extend(problems)
            if document is not None:
                result.documents.append(document)
    result.out_of_scope, result.out_of_scope_sha256 = _load_out_of_scope(settings.out_of_scope_file, result.problems)
    return result


def _is_document(path: Path) -> bool:
    return path.suffix.lower() in DOCUMENT_SUFFIXES and path.is_file()


def _load_out_of_scope(path: Path, problems: list[Problem]) -> tuple[dict[str, list[str]], str | None]:
    """The out-of-scope anchors: {topic: [example, ...]} (optional), and the sha256 of the bytes read."""
    if not path.is_file():
        return {}, None
    shown = display_path(path)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except UnicodeDecodeError:
        problems.append(Problem(shown, 1, "文件不是 UTF-8 编码，请另存为 UTF-8"))
        return {}, digest
    except yaml.YAMLError as error:
        problems.append(Problem(shown, *describe_yaml_error(error, raw.decode("utf-8"), 1)))
        return {}, digest
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict) or not all(isinstance(v, list) for v in topics.values()):
        problems.append(Problem(shown, 1, "应为 topics: {话题: [例句, …]} 的形式"))
        return {}, digest
    return {str(topic): [str(text) for text in texts if str(text).strip()] for topic, texts in topics.items()}, digest
