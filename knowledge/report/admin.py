"""The admin report's entry point: build the numbers, render the page, write the file atomically.

The report is one self-contained HTML page about how the assistant served people over the last N
days. Its parts live next to this module:

- knowledge/report/stats.py: reads the records database and computes the numbers (Report);
- knowledge/report/grouping.py: groups similar questions and masks the texts the report shows;
- knowledge/report/page.py: renders a Report into HTML;
- knowledge/report/charts.py: the embedded SVG charts.

Usage::

    from knowledge.report.admin import write_report
    from knowledge.settings import load_settings

    path, report = write_report(load_settings(), days=30)
    print(path, report.summary())

or from the shell: ``python3 index_builder.py report --days 30``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from knowledge.report.page import render_html
from knowledge.report.stats import Report, build_report
from knowledge.settings import Settings


def default_path(settings: Settings, today: dt.date) -> Path:
    """Where the report of `today` goes when no path is given: one file per day under settings.reports_dir."""
    return settings.reports_dir / f"admin-report-{today.isoformat()}.html"


def write_report(settings: Settings, days: int = 30, out: Path | None = None, now: dt.datetime | None = None) -> tuple[Path, Report]:
    """Build the report and write it atomically (a reader never sees half a page); returns (path, report)."""
    report = build_report(settings, days, now)
    path = out or default_path(settings, report.generated_at.date())
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
