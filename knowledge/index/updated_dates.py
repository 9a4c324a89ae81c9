"""Guides whose content changed since the serving version while their ``updated:`` date did not: a warning
for the admin, who edited the guide and forgot the date citizens read as "更新日期" (the hall's guide card,
the printable notice). A warning only: the build publishes as usual.

What counts as content is what citizens read of a guide: its title, category, department, contacts,
complaint phone, region, source, sections and FAQs. Its aliases and sample questions (``questions:``) only
help the assistant find it, so changing them alone leaves the date right.

Only the guides this build parsed anew are compared (an unchanged file is a GuideStub of the serving
version's guide table: same bytes, same date), each with its entry in the serving version's guides.json,
read by its byte range when the build has the guide table (guide_table.py), else from the whole file.

Usage::

    serving = serving_entries(store.current_folder(), table, {g.id for g in changed_guides})
    for problem in stale_dates(changed_guides, serving): print(problem)
    # knowledge/guides/water-connection.md:12: 警告：内容改了（办理时限），但 updated: 还是 2026-03-01，…
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from knowledge.index.guide_table import GuideTable
from knowledge.index.store import GUIDES_FILE, IndexStoreError, read_guides
from knowledge.settings import ROOT
from knowledge.sources.model import Guide, Problem

# What citizens do not read as the guide: changing only these leaves its date right.
NOT_CONTENT = frozenset({"id", "updated", "aliases", "questions"})
# The guide's parts by the names the admin writes them with (the front matter's keys; sections by their heading).
PART_NAMES = {"title": "标题（title）", "category": "类别（category）", "department": "实施主体（department）",
              "contacts": "联系单位（contacts）", "complaint_phone": "投诉电话（complaint_phone）", "region": "适用地区（region）",
              "source": "来源（source）", "faqs": "常见问题"}
SHOWN_PARTS = 3
_UPDATED_LINE = re.compile(r"^updated\s*:")


def serving_entries(folder: Path | None, table: GuideTable | None, ids: set[str]) -> dict[str, dict[str, Any]]:
    """{id: the serving version's guides.json entry} of the guides `ids` it has; {} without a readable version."""
    if folder is None or not ids:
        return {}
    if table is not None and table.folder == folder:
        rows = [(row, str(meta[0])) for row, meta in enumerate(table.meta) if str(meta[0]) in ids]
        entries = {}
        try:
            with open(folder / GUIDES_FILE, "rb") as handle:  # vouched for with the table (GuideTable.load)
                for row, guide_id in rows:
                    start, end = int(table.entry_at[row, 0]), int(table.entry_at[row, 1])
                    handle.seek(start)
                    entries[guide_id] = json.loads(handle.read(end - start))
        except (OSError, ValueError):
            return {}
        return entries
    try:
        return {guide_id: entry for guide_id, entry in read_guides(folder).items() if guide_id in ids}
    except IndexStoreError:
        return {}  # a damaged version: the build goes on, it only cannot compare dates


def changed_parts(now: dict[str, Any], before: dict[str, Any]) -> list[str]:
    """The parts citizens read that differ between two guides.json entries, by the names the admin writes them
    with. A part only one side has (a field added to the format since) is not a change of the guide."""
    parts = []
    for key in sorted((set(now) & set(before)) - NOT_CONTENT, key=list(now).index):
        if key == "sections":
            sections_now, sections_before = now[key] or {}, before[key] or {}
            parts += [heading for heading in dict.fromkeys([*sections_now, *sections_before])
                      if sections_now.get(heading) != sections_before.get(heading)]
        elif now[key] != before[key]:
            parts.append(PART_NAMES.get(key, key))
    return parts


def _updated_line(guide: Guide) -> int:
    """The line of `updated:` in the guide's file (1 when it cannot be read)."""
    path = Path(guide.path)
    try:
        lines = (path if path.is_absolute() else ROOT / path).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return 1
    return next((number for number, line in enumerate(lines, start=1) if _UPDATED_LINE.match(line)), 1)


def stale_dates(guides: Iterable[Guide], serving: dict[str, dict[str, Any]]) -> list[Problem]:
    """A warning for each guide whose content differs from its serving entry while its `updated:` is the same."""
    problems = []
    for guide in guides:
        before = serving.get(guide.id)
        if before is None or not guide.updated or before.get("updated") != guide.updated:
            continue  # a new guide, or the date was changed
        now = json.loads(json.dumps(guide.as_dict(), ensure_ascii=False))  # as guides.json holds it (lists, not tuples)
        parts = changed_parts(now, before)
        if not parts:
            continue
        named = "、".join(parts[:SHOWN_PARTS]) + (f" 等 {len(parts)} 处" if len(parts) > SHOWN_PARTS else "")
        problems.append(Problem(guide.path, _updated_line(guide),
                                f"内容改了（{named}），但 updated: 还是 {guide.updated}，群众看到的更新日期不对："
                                "请把 updated: 改成这次修改的日期（本次照常发布）", "warning"))
    return problems
