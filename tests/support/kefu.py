"""Helpers for the 智能云客服 tests: a published index without embeddings (only guides.json, what
the hall API reads), a hall app on an ASGI client, a fake Rasa REST channel and the domain.yml
responses it plays; for the hall API tests (tests/bot/channels/kefu/test_api_*.py) also the API over
HTTP as a staff tool calls it, session ids unique in the test session, and the check that a reply
answers a guide as its file has it; for the browser tests (test_web_*.py) a Chromium tab on the
chat page (`Kiosk`), a second hall service with other settings (`hall_service`), the hall service
alone with a fake Rasa for tests of the page itself (`page_service`) and a PDF's page count."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from bot.channels.kefu.api import create_app
from knowledge.examples import derive_examples
from knowledge.index.store import file_checksums
from knowledge.settings import load_settings
from knowledge.sources.guides import parse_guide
from protocol import REST_TOKEN_ENV
from tests.support import GUIDES, ROOT, free_port, parsed_guide, serve_http, settings_env, stop_http

if TYPE_CHECKING:
    from tests.support.stack import Assistant

TOKEN = "test-kefu-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def domain_response(name: str, domain: Path = ROOT / "domain.yml") -> list[dict[str, Any]]:
    """What Rasa's REST channel returns for the first variation of a domain.yml response: its text
    (with its buttons), then its custom payload as a message of its own (CollectingOutputChannel)."""
    variation = yaml.safe_load(domain.read_text(encoding="utf-8"))["responses"][name][0]
    messages: list[dict[str, Any]] = []
    if variation.get("buttons"):
        messages.append({"text": variation.get("text"), "buttons": variation["buttons"]})
    elif variation.get("text"):  # a text without buttons is sent one paragraph per message
        messages.extend({"text": part} for part in str(variation["text"]).strip().split("\n\n"))
    if variation.get("custom"):
        messages.append({"custom": variation["custom"]})
    return messages


def bundled_guides(folder: Path = GUIDES) -> dict[str, dict[str, Any]]:
    """Every guide file of `folder` as the index builder stores it in guides.json."""
    guides = {}
    for path in sorted(folder.glob("*.md")):
        guide, problems = parse_guide(path)
        assert guide is not None, problems
        guides[guide.id] = guide.as_dict()
    return guides


def publish_guides(index_dir: Path, guides: dict[str, dict[str, Any]], version: str = "20260101-000000-aaaaaa") -> Path:
    """A published index holding only guides.json and its manifest (with the checksum the hall API
    verifies, and the examples a build would choose): enough for the hall API, no model needed."""
    folder = index_dir / "versions" / version
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "guides.json").write_text(json.dumps(guides, ensure_ascii=False), encoding="utf-8")
    # The example questions and item names, as a build chooses them (knowledge/examples.py).
    manifest = {"version": version, "files": file_checksums(folder), "examples": derive_examples(guides.values()).as_manifest()}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (index_dir / "CURRENT").write_text(version, encoding="utf-8")
    return folder


def corrupt_guides(folder: Path) -> None:
    """Damage a published version's guides.json the way a full disk or a bad copy does: cut short."""
    path = folder / "guides.json"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


@contextmanager
def fake_rasa(replies: list[list[dict[str, Any]]] | Mapping[str, list[dict[str, Any]]] | None = None,
              status: int = 200) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A REST channel on 127.0.0.1 answering `replies` in turn (the last one repeats), or, given a
    mapping, the reply for the message received (no messages for any other); yields its URL and the
    list of requests it received."""
    received: list[dict[str, Any]] = []
    by_message = replies if isinstance(replies, Mapping) else None
    answers = [] if isinstance(replies, Mapping) else list(replies or [[]])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            request = json.loads(self.rfile.read(length))
            received.append(request)
            if by_message is not None:
                reply = by_message.get(str(request.get("message")), [])
            else:
                reply = answers.pop(0) if len(answers) > 1 else answers[0]
            body = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = serve_http(Handler)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook", received
    finally:
        stop_http(server)


# --- the hall API as staff tools and kiosks use it (test_api_*.py) -------------------------------

# What the REST channel returns after a rating and a comment (domain.yml: each text, then its
# {"feedback": …} custom payload), to play it in fake Rasa replies.
THANKS_REPLY, ASK_REPLY, SAVED_REPLY = (domain_response(name) for name in (
    "utter_feedback_thanks", "utter_ask_feedback_comment", "utter_feedback_comment_saved"))
THANKS = THANKS_REPLY[0]["text"]

# One counter for every test module: the running assistant is shared by the whole test session,
# so two modules must never talk in the same Rasa conversation.
_session_numbers = itertools.count(1)


def new_session() -> str:
    return f"api-test-{next(_session_numbers)}"


class Api:
    """The hall API over HTTP, as a staff tool would call it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=90)

    def chat(self, session_id: str, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.http.post("/api/v1/chat", json={"session_id": session_id, "message": message}, headers=headers or AUTH)
        assert response.status_code == 200, response.text
        return response.json()

    def text(self, reply: dict[str, Any]) -> str:
        return "\n".join(m["text"] for m in reply["messages"])


def button(reply: dict[str, Any], title_part: str) -> dict[str, str]:
    found = [b for b in reply["buttons"] if title_part in b["title"]]
    assert found, f"no button {title_part!r} in {[b['title'] for b in reply['buttons']]}"
    return found[0]


def assert_answers(api: Api, reply: dict[str, Any], guide_id: str, heading: str | None = None) -> None:
    """The structured reply is about `guide_id`, with the whole section and every contact."""
    guide = parsed_guide(guide_id)
    assert reply["kind"] == "answer", reply
    assert reply["guide"]["id"] == guide_id
    assert (reply["guide"]["title"], reply["guide"]["department"], reply["guide"]["updated"]) == (guide.title, guide.department, guide.updated)
    # matters and phones: offices asked for by name only
    assert reply["contacts"] == [{**contact.as_dict(), "matters": [], "phones": []} for contact in guide.contacts]
    text = api.text(reply)
    if heading:
        section = guide.section(heading)
        for item in section.items or [section.text.strip().splitlines()[0]]:
            assert item in text, f"{heading} incomplete: missing {item!r}"
    for contact in guide.contacts:
        assert contact.phone in text
    assert reply["handoff"] is False and 0 < reply["confidence"] <= 1


def asgi_client(settings: Any, rasa_url: str) -> httpx.AsyncClient:
    """The hall app built with `settings` and the test token, on an ASGI client (no server, no port)."""
    app = create_app(settings, rasa_url=rasa_url, token=TOKEN)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kefu.test")


# --- the web page in headless Chromium (test_web_*.py; the `browser` fixture is in conftest.py) ---

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
VIEWPORTS = {"kiosk": (1920, 1080), "phone": (390, 844)}
TIMEOUT_MS = 90_000  # one answer can take a while on a busy 2-core machine


BUBBLE_FONT = "parseFloat(getComputedStyle(document.querySelector('.row.bot .bubble')).fontSize)"  # the assistant's text size


class Kiosk:
    """One browser tab on the chat page, with what the test needs to look at."""

    def __init__(self, browser: Any, base: str, viewport: str, *, token: str | None = TOKEN, path: str = "/") -> None:
        width, height = VIEWPORTS[viewport]
        self.name = viewport
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(base + path + (f"#token={token}" if token else ""))
        self.page.wait_for_selector("body[data-ready]")

    def ask(self, question: str) -> None:
        answers = self.page.locator(".row.bot").count()
        self.page.fill("#message", question)
        self.page.press("#message", "Enter")
        self.wait_for_reply(answers)

    def wait_for_reply(self, bot_rows_before: int) -> None:
        self.page.wait_for_function(
            "n => !document.querySelector('.typing') && document.querySelectorAll('.row.bot').length > n", arg=bot_rows_before)

    def click(self, title_part: str) -> None:
        answers = self.page.locator(".row.bot").count()
        self.page.locator(".choices button:not(:disabled)", has_text=title_part).first.click()
        self.wait_for_reply(answers)

    def chat_text(self) -> str:
        return self.page.inner_text("#chat")

    def screenshot(self, what: str, page: Any = None) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"kefu-{self.name}-{what}.png"
        (page or self.page).screenshot(path=str(path), full_page=page is not None)
        return path

    def bubble_font(self) -> float:
        """The size of the assistant's text, in pixels."""
        return float(self.page.evaluate(BUBBLE_FONT))

    def enlarge(self) -> tuple[float, float]:
        """A+ twice, as a citizen with poor sight does: the text size before and after (at least 1.25 times)."""
        normal = self.bubble_font()
        self.page.click("#font-larger")
        self.page.click("#font-larger")
        larger = self.bubble_font()
        assert larger >= normal * 1.25, (normal, larger)
        return normal, larger

    def assert_fits_the_screen(self) -> None:
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"page wider than the {self.name} screen by {overflow}px"
        box = self.page.locator("#composer").bounding_box()
        assert box and box["y"] + box["height"] <= VIEWPORTS[self.name][1] + 1, "the input box is off screen"

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()


def pdf_pages(pdf: bytes) -> int:
    """The number of pages of a PDF as Chromium writes it (one /Type /Page object per page)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@contextmanager
def hall_service(assistant: Assistant, folder: Path, *, rasa_url: str | None = None, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A second hall service (its own process and port) beside the running assistant, with other
    settings in `env` (GOVQA_KEFU_PUBLIC=true, a short GOVQA_KEFU_SESSION_SECONDS, …); by default it
    talks to the assistant's Rasa. Yields its base URL."""
    environment = {**assistant.stack.env, "KEFU_API_TOKEN": TOKEN, REST_TOKEN_ENV: assistant.stack.rest_token, **(env or {})}
    with _hall_process(environment, rasa_url or assistant.stack.rest_url, folder / "kefu.log") as base:
        yield base


@contextmanager
def page_service(folder: Path, replies: Mapping[str, list[dict[str, Any]]], *,
                 env: Mapping[str, str] | None = None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The hall service on its own, for browser tests of the page itself (no Rasa, no action server, no
    model): the bundled guides published without embeddings, records under `folder`, and a fake Rasa
    answering each message with its reply in `replies` (`rest_output` turns an action's reply into one). Yields the base URL
    and the requests the fake Rasa received."""
    index = folder / "index"
    publish_guides(index, bundled_guides())
    settings = load_settings(index_dir=index, records_db=folder / "records.sqlite3", tracker_db=folder / "tracker.sqlite3")
    with fake_rasa(replies) as (rasa_url, received):
        environment = {**settings_env(settings), "KEFU_API_TOKEN": TOKEN, REST_TOKEN_ENV: "test-rest-token", **(env or {})}
        with _hall_process(environment, rasa_url, folder / "kefu.log") as base:
            yield base, received


def rest_output(reply: Any, recipient: str = "kefu-x") -> list[dict[str, Any]]:
    """What Rasa's REST channel returns for one action reply (actions.replies.Reply; see actions.conversation.send):
    its text with its buttons, then its custom payload as a message of its own."""
    messages: list[dict[str, Any]] = [{"recipient_id": recipient, "text": reply.text, **({"buttons": reply.buttons} if reply.buttons else {})}]
    if reply.custom:
        messages.append({"recipient_id": recipient, "custom": reply.custom})
    return messages


@contextmanager
def _hall_process(environment: Mapping[str, str], rasa_url: str, log: Path) -> Iterator[str]:
    """`python -m bot.channels.kefu.api` on a free port with `environment`; yields its base URL once it answers."""
    port = free_port()
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "-m", "bot.channels.kefu.api", "--host", "127.0.0.1", "--port", str(port), "--rasa-url",
                                    rasa_url], cwd=ROOT, env=dict(environment), stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(20)
