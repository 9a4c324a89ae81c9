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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.settings import ROOT, Settings
from knowledge.sources.documents import DOCUMENT_SUFFIXES, Document, parse_document
from knowledge.sources.guides import Guide, Problem, parse_guide

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


def _check_unique(guides: list[Guide]) -> list[Problem]:
    problems: list[Problem] = []
    ids: dict[str, Guide] = {}
    names: dict[str, tuple[Guide, str]] = {}  # a title or alias -> the guide claiming it
    for guide in guides:
        if guide.id:
            first = ids.get(guide.id)
            if first is not None:
                problems.append(Problem(guide.path, guide.id_line, f"id“{guide.id}”重复，已被 {first.path} 使用"))
            else:
                ids[guide.id] = guide
        claims = [(guide.title, 1)] if guide.title else []
        claims += [(alias, guide.alias_lines.get(alias, 1)) for alias in guide.aliases]
        for name, line in claims:
            holder = names.get(name)
            if holder is not None and holder[0] is not guide:
                problems.append(Problem(
                    guide.path, line,
                    f"别名“{name}”已被 {holder[0].path}（{holder[0].id}）使用，同一别名不能指向两个事项",
                ))
            elif holder is None:
                names[name] = (guide, name)
    return problems


def validate_knowledge_base(settings: Settings, parse: GuideParser = parse_guide) -> ValidationResult:
    """Parse and check every guide and document; never raises on bad input. `parse` reads one
    guide file (the index builder passes a cached one; the checks across files always run)."""
    result = ValidationResult()
    guide_files = sorted(settings.guides_dir.glob("*.md")) if settings.guides_dir.is_dir() else []
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
        for path in sorted(settings.documents_dir.iterdir()):
            if path.suffix.lower() not in DOCUMENT_SUFFIXES or path.name.lower() == "readme.md":
                continue
            document, problems = parse_document(path, display_path(path))
            result.problems.extend(problems)
            if document is not None:
                result.documents.append(document)
    result.out_of_scope, result.out_of_scope_sha256 = _load_out_of_scope(settings.out_of_scope_file, result.problems)
    return result


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
        mark = getattr(error, "problem_mark", None)
        problems.append(Problem(shown, (mark.line + 1) if mark else 1, f"YAML 语法错误：{getattr(error, 'problem', None) or error}"))
        return {}, digest
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict) or not all(isinstance(v, list) for v in topics.values()):
        problems.append(Problem(shown, 1, "应为 topics: {话题: [例句, …]} 的形式"))
        return {}, digest
    return {str(topic): [str(text) for text in texts if str(text).strip()] for topic, texts in topics.items()}, digest
