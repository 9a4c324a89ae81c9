"""The web chat page as the hall API serves it: index.html rendered with its settings, the other
files of bot/channels/kefu/web/ as static assets, the template itself never.

index.html is a template with five placeholders, filled so the page and the API cannot disagree:
``{{HOTLINE}}`` (shown when the network is down), ``{{MAX_CHARS}}`` (the input box's limit, the
same message_max_chars the API enforces) and ``{{PUBLIC}}`` ("true" when kefu_public lets a phone
in without a token) from settings.yml, ``{{EXAMPLES}}`` (the example question chips, a JSON list)
from the published knowledge base (knowledge/examples.py: each names a guide it has; none, no chips),
``{{HANDOFF}}`` (what 转人工 sends, protocol.REQUEST_HUMAN: the page's own 转人工 button sends it, and a
reply's button group holding only it is named for what it does), ``{{RATINGS}}`` (the 好评 / 差评 payloads,
protocol.FEEDBACK_GOOD and FEEDBACK_BAD, which a rating button's payload begins with: those buttons are a group of
their own). Served raw under /assets/ it would show the placeholders, so `PageAssets` refuses it there; the page
lives at ``/``.

desk.html (the staff desk, ``/desk``) is a template too, with two placeholders: ``{{BUTTONS}}``, each button payload
of protocol.py with what its button said to the citizen (protocol.BUTTON_TITLES), so the desk's transcript reads
"（点击了“转人工”）" for "/request_human" without its script spelling a payload; ``{{REASONS}}``, each handoff reason
the action server records (protocol.HANDOFF_REASONS) with the desk's words for it, so the queue names why without the
script spelling a reason.

The kiosk idle reset (bot/channels/kefu/web/app.js) is configured in the page as well: ``data-idle-seconds`` on
<body>, overridable for tests with ``/?idle=<seconds>``.

Usage::

    render_page(hotline="12345", max_chars=2000, public=False, examples=PublishedExamples(index_dir).current())  # GET /
    render_desk()  # GET /desk
    app.mount("/assets", PageAssets(directory=WEB_DIR))  # /assets/app.js …; /assets/index.html and desk.html are 404
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

from fastapi.staticfiles import StaticFiles

from knowledge.examples import Examples
from protocol import (
    BUTTON_TITLES,
    FEEDBACK_BAD,
    FEEDBACK_GOOD,
    REASON_COMPLAIN,
    REASON_REQUEST_HUMAN,
    REQUEST_HUMAN,
    TITLE_REQUEST_HUMAN,
)

WEB_DIR = Path(__file__).resolve().parent / "web"
PAGE_TEMPLATE = "index.html"
DESK_TEMPLATE = "desk.html"
# Each button payload and its button's title as the citizen saw it, for the desk's transcript; a payload with entities
# ('/feedback_bad{"answer_id": …}') is its button too.
DESK_BUTTONS = tuple(BUTTON_TITLES.items())
# Why each conversation in the queue went to people, in the desk's words (the Telegram staff notice has its own).
DESK_REASONS = {REASON_REQUEST_HUMAN: "要求转人工", REASON_COMPLAIN: "投诉/反映"}


def _attribute_json(value: object) -> str:
    return escape(json.dumps(value, ensure_ascii=False), quote=True)


def render_page(*, hotline: str, max_chars: int, public: bool = False, examples: Examples | None = None,
                template: Path = WEB_DIR / PAGE_TEMPLATE) -> str:
    """The chat page with its placeholders filled (all attribute-safe: escaped, quotes too)."""
    html = template.read_text(encoding="utf-8")
    chips = _attribute_json(list(examples.questions if examples else ()))
    return (html.replace("{{HOTLINE}}", escape(hotline, quote=True)).replace("{{MAX_CHARS}}", str(int(max_chars)))
            .replace("{{EXAMPLES}}", chips).replace("{{PUBLIC}}", "true" if public else "false")
            .replace("{{HANDOFF}}", escape(REQUEST_HUMAN, quote=True)).replace("{{HANDOFF_TITLE}}", escape(TITLE_REQUEST_HUMAN, quote=True))
            .replace("{{RATINGS}}", _attribute_json([FEEDBACK_GOOD, FEEDBACK_BAD])))


def render_desk(template: Path = WEB_DIR / DESK_TEMPLATE) -> str:
    """The staff desk page with the button payloads (a JSON list of [payload, title]) and the handoff reasons (a JSON
    object, reason: words) filled in, attribute-escaped."""
    return (template.read_text(encoding="utf-8").replace("{{BUTTONS}}", _attribute_json([list(pair) for pair in DESK_BUTTONS]))
            .replace("{{REASONS}}", _attribute_json(DESK_REASONS)))


class PageAssets(StaticFiles):
    """bot/channels/kefu/web/ as static files, except the page templates (404, like any file that is not there)."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        # `path` is already normalised by StaticFiles.get_path ("./index.html", "x/../index.html"
        # arrive as "index.html"); lower case so no spelling slips through on a case-insensitive disk.
        if os.path.normcase(path).lower() in (PAGE_TEMPLATE, DESK_TEMPLATE):
            return "", None
        return super().lookup_path(path)
