"""The admin report's entry point: build the numbers, render the page, write the file atomically.

The report is one self-contained HTML page about how the assistant served people over a period (the
last N days by default), on one channel or all, without test traffic unless asked. Its parts live
next to this module:

- knowledge/report/filters.py: which channel, and whether test traffic counts (Filters);
- knowledge/report/stats.py: reads the records database and computes the numbers (Report);
- knowledge/report/followups.py: what came of a clarify or confirm (answered after a pick, or not answered);
- knowledge/report/answer_lines.py: which answers are low-confidence (just above their index version's answer line);
- knowledge/report/grouping.py: groups similar questions and masks the texts the report shows;
- knowledge/report/page.py: renders a Report into HTML;
- knowledge/report/charts.py: the embedded SVG charts.

Usage::

    from knowledge.report.admin import write_report
    from knowledge.report.filters import Filters
    from knowledge.report.stats import Period
    from knowledge.settings import load_settings

    path, report = write_report(load_settings(), days=30)
    path, report = write_report(load_settings(), period=Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
                                filters=Filters(channel="kefu", include_test=False))
    print(path, report.summary())

or from the shell: ``python3 index_builder.py report --days 30 [--channel kefu] [--include-test]``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from knowledge.report.filters import Filters
from knowledge.report.page import render_html
from knowledge.report.stats import Period, Report, build_report
from knowledge.settings import Settings


def default_path(settings: Settings, today: dt.date, filters: Filters | None = None) -> Path:
    """Where the report of `today` goes when no path is given: one file per day under settings.reports_dir
    (admin-report-2026-11-30.html; -kefu, -with-test … for other filters, so they do not overwrite it)."""
    return settings.reports_dir / f"admin-report-{today.isoformat()}{(filters or Filters()).file_suffix()}.html"


def write_report(settings: Settings, days: int = 30, out: Path | None = None, now: dt.datetime | None = None, *,
                 period: Period | None = None, filters: Filters | None = None) -> tuple[Path, Report]:
    """Build the report and write it atomically (a reader never sees half a page); returns (path, report).
    `period` (default: the last `days` days) and `filters` (default: every channel, no test traffic) as in build_report."""
    report = build_report(settings, days, now, period=period, filters=filters)
    path = out or default_path(settings, report.generated_at.date(), report.filters)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written next to the target and renamed over it: os.replace is atomic only within one file system.
    handle, temporary = tempfile.mkstemp(prefix=".admin-report-", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(render_html(report))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path, report
