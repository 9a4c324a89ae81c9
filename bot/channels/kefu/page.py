"""The web chat page as the hall API serves it: index.html rendered with its settings, the other
files of bot/channels/kefu/web/ as static assets, the template itself never.

index.html is a template with five placeholders, filled so the page and the API cannot disagree:
``{{HOTLINE}}`` (shown when the network is down), ``{{MAX_CHARS}}`` (the input box's limit, the
same message_max_chars the API enforces) and ``{{PUBLIC}}`` ("true" when kefu_public lets a phone
in without a token) from settings.yml, ``{{EXAMPLES}}`` (the example question chips, a JSON list)
from the published knowledge base (knowledge/examples.py: each names a guide it has; none, no chips),
``{{HANDOFF}}`` (what 转人工 sends, protocol.REQUEST_HUMAN: the page's own 转人工 button sends it, and a
reply's button group holding only it is named for what it does). Served raw under /assets/ it would show
the placeholders, so `PageAssets` refuses it there; the page lives at ``/``.

The kiosk idle reset (bot/channels/kefu/web/app.js) is configured in the page as well: ``data-idle-seconds`` on
<body>, overridable for tests with ``/?idle=<seconds>``.

Usage::

    render_page(hotline="12345", max_chars=2000, public=False, examples=PublishedExamples(index_dir).current())  # GET /
    app.mount("/assets", PageAssets(directory=WEB_DIR))  # /assets/app.js …; /assets/index.html is 404
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

from fastapi.staticfiles import StaticFiles

from knowledge.examples import Examples
from protocol import REQUEST_HUMAN

WEB_DIR = Path(__file__).resolve().parent / "web"
PAGE_TEMPLATE = "index.html"


def render_page(*, hotline: str, max_chars: int, public: bool = False, examples: Examples | None = None,
                template: Path = WEB_DIR / PAGE_TEMPLATE) -> str:
    """The chat page with its placeholders filled (all attribute-safe: escaped, quotes too)."""
    html = template.read_text(encoding="utf-8")
    chips = escape(json.dumps(list(examples.questions if examples else ()), ensure_ascii=False), quote=True)
    return (html.replace("{{HOTLINE}}", escape(hotline, quote=True)).replace("{{MAX_CHARS}}", str(int(max_chars)))
            .replace("{{EXAMPLES}}", chips).replace("{{PUBLIC}}", "true" if public else "false")
            .replace("{{HANDOFF}}", escape(REQUEST_HUMAN, quote=True)))


class PageAssets(StaticFiles):
    """bot/channels/kefu/web/ as static files, except the page template (404, like any file that is not there)."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        # `path` is already normalised by StaticFiles.get_path ("./index.html", "x/../index.html"
        # arrive as "index.html"); lower case so no spelling slips through on a case-insensitive disk.
        if os.path.normcase(path).lower() == PAGE_TEMPLATE:
            return "", None
        return super().lookup_path(path)
