"""Validation names every guide file as `display_path` would, resolving the folder only once: inside
the repository, outside it, through a symlinked folder, and for a file that is itself a symlink."""

from __future__ import annotations

from pathlib import Path

from knowledge.settings import ROOT
from knowledge.sources.validation import _display_paths, display_path


def _check(folder: Path) -> list[str]:
    files = sorted(folder.glob("*.md"))
    shown = _display_paths(folder, files)
    assert shown == [display_path(path) for path in files], folder
    return shown


def test_names_match_display_path_everywhere(tmp_path: Path) -> None:
    inside = _check(ROOT / "knowledge" / "guides")
    assert inside and all(name.startswith("knowledge/guides/") for name in inside)
    _check(ROOT / "knowledge" / ".." / "knowledge" / "guides")
    outside = tmp_path / "kb"
    outside.mkdir()
    (outside / "plain.md").write_text("x", encoding="utf-8")
    (outside / "linked.md").symlink_to(ROOT / "knowledge" / "guides" / "company-setup.md")  # resolves into the repository
    assert _check(outside) == ["knowledge/guides/company-setup.md", str(outside / "plain.md")]
    (tmp_path / "alias").symlink_to(outside)  # a symlinked folder: names as given, the linked file resolved
    assert _check(tmp_path / "alias") == ["knowledge/guides/company-setup.md", str(tmp_path / "alias" / "plain.md")]
