"""Helpers shared by the tests: a valid guide to start from, and running the admin CLI."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ROOT / "knowledge" / "guides"
# Ten sample guides: a small knowledge base none of whose numbers were tuned (tests/knowledge/conftest.py `small`).
SMALL_GUIDES = ("company-setup", "water-connection", "electricity-connection", "construction-permit", "food-business-license",
                "housing-fund-registration", "invoice-application", "labor-arbitration", "seal-engraving",
                "special-equipment-registration")
DOCUMENTS = ROOT / "knowledge" / "documents"
DATA = ROOT / "tests" / "data"  # evaluation sets (unseen* held out, dev* for design) and fixtures
SEEDS = DATA / "seeds"  # copies of ../shared/seeds: tests read only the repository

VALID_GUIDE = """---
id: {id}
title: {title}
aliases: [{alias}]
category: 测试类别
department: 示例区测试局
contacts:
  - unit: 示例区政务服务中心测试窗口
    phone: "0000-7654321"
    address: 示例区政务服务中心九楼9号窗口
    hours: 工作日 9:00-17:00
updated: 2026-05-01
source: 《示例区测试办事指南》
questions:
  - 测试事项要带什么
  - 测试事项要多久
  - 测试事项去哪办
---
## 申请材料
1. 《测试申请表》原件1份
2. 申请人身份证复印件1份
3. 场地证明复印件1份
4. 授权委托书原件1份
## 办理流程
1. 提交申请
2. 审核
3. 发证
## 办理时限
承诺3个工作日（法定20个工作日）
## 收费标准
不收费
## 办理地点
示例区政务服务中心九楼9号窗口
## 常见问题
### 可以网上办吗？
可以。
### 要本人到场吗？
不用。
"""


def guide_text(guide_id: str = "test-item", title: str = "测试事项登记", alias: str = "测一测") -> str:
    return VALID_GUIDE.format(id=guide_id, title=title, alias=alias)


# Line numbers in VALID_GUIDE (guide_text()), for assertions on the line a problem is reported on.
GUIDE_ID_LINE = 2
GUIDE_CONTACTS_LINE = 7
GUIDE_PHONE_LINE = 9  # the first contact's phone: phone problems are reported on it
GUIDE_UPDATED_LINE = 12
GUIDE_QUESTIONS_LINE = 14
GUIDE_FIRST_BODY_LINE = 19  # "## 申请材料", right after the closing ---


def parse_with_problems(path: Path) -> tuple[Any, list[Any]]:
    """parse_guide as validate reports it (the file's own name in every problem)."""
    from knowledge.sources.guides import parse_guide

    return parse_guide(path, display_path=path.name)


def only_error(problems: list[Any]) -> Any:
    """The one error among `problems` (warnings aside); fails listing them all otherwise."""
    found = [problem for problem in problems if problem.is_error]
    assert len(found) == 1, [str(problem) for problem in problems]
    return found[0]


def write_guide(folder: Path, guide_id: str = "test-item", text: str | None = None, **fields: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{guide_id}.md"
    path.write_text(text if text is not None else guide_text(guide_id, **fields), encoding="utf-8")
    return path


def settings_env(settings: Any) -> dict[str, str]:
    """Environment variables that point the CLI at the same folders as `settings`."""
    env = dict(os.environ)
    for name in ("guides_dir", "documents_dir", "index_dir", "embedding_cache", "reports_dir", "out_of_scope_file", "eval_questions",
                 "records_db", "tracker_db", "name_pairs_bonus"):
        env["GOVQA_" + name.upper()] = str(getattr(settings, name))
    env["GOVQA_EXAMPLE_QUESTIONS"] = "|".join(settings.example_questions)  # settings.yml's list, as the environment gives one
    return env


def run_cli(settings: Any, *args: str, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `python3 index_builder.py ARGS` as an admin would, against `settings`' folders."""
    return subprocess.run(
        [sys.executable, str(ROOT / "index_builder.py"), *args],
        cwd=ROOT, env=settings_env(settings), input=stdin, capture_output=True, text=True, timeout=timeout,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


# --- local HTTP servers standing in for what tests cannot reach (Telegram, a Rasa that fails) -----

def serve_http(handler: Any, port: int = 0) -> Any:
    """A ThreadingHTTPServer for `handler` on 127.0.0.1 (`port` 0: a free one), serving in a daemon thread."""
    import threading
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"test-http-{handler.__name__}", daemon=True).start()
    return server


def stop_http(server: Any) -> None:
    """Stop serving and close the port (connections are then refused)."""
    server.shutdown()
    server.server_close()


# --- conversations with the running assistant ---------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parsed_guide(guide_id: str, folder: Path = GUIDES) -> Any:
    """The guide as the admin wrote it: tests compare answers with the file, not with copied text."""
    from knowledge.sources.guides import parse_guide

    guide, problems = parse_guide(folder / f"{guide_id}.md")
    assert guide is not None, problems
    return guide


class Turn:
    """What the user sees after one message: the texts, the buttons, the custom payloads."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.text = "\n".join(m["text"] for m in messages if m.get("text"))
        self.buttons = [b for m in messages for b in m.get("buttons") or []]
        self.custom = [m["custom"] for m in messages if m.get("custom")]

    def payload(self, key: str) -> dict[str, Any] | None:
        return next((c[key] for c in self.custom if key in c), None)

    @property
    def answer(self) -> dict[str, Any] | None:
        return self.payload("answer")

    @property
    def guide_id(self) -> str | None:
        answer = self.answer
        return answer["guide"]["id"] if answer and answer.get("guide") else None

    def button(self, title_part: str) -> dict[str, str]:
        found = [b for b in self.buttons if title_part in b["title"]]
        assert found, f"no button with {title_part!r} in {[b['title'] for b in self.buttons]}"
        return found[0]

    def __repr__(self) -> str:
        return f"Turn({self.text[:300]!r}, buttons={[b['title'] for b in self.buttons]})"


class Chat:
    """One user talking to the REST channel, as a web page or app would."""

    def __init__(self, rest_url: str, sender: str, headers: dict[str, str] | None = None) -> None:
        self.rest_url = rest_url
        self.sender = sender
        self.headers = headers or {}

    def say(self, message: str) -> Turn:
        import httpx

        response = httpx.post(self.rest_url, json={"sender": self.sender, "message": message}, headers=self.headers, timeout=60)
        response.raise_for_status()
        return Turn(response.json())

    def click(self, button: dict[str, str]) -> Turn:
        return self.say(button["payload"])


def assert_guide_answer(turn: Turn, guide_id: str, heading: str | None = None) -> None:
    """The reply answers `guide_id`: its title, the whole section `heading` (every numbered item),
    every contact phone, the department and the source date, as an admin wrote them."""
    guide = parsed_guide(guide_id)
    assert turn.guide_id == guide_id, f"expected {guide_id}, got {turn.guide_id}: {turn!r}"
    assert guide.title in turn.text
    if heading:
        section = guide.section(heading)
        assert section is not None
        for item in section.items or [section.text.strip().splitlines()[0]]:
            assert item in turn.text, f"{heading} incomplete, missing {item!r}"
    for contact in guide.contacts:
        assert contact.phone in turn.text and contact.unit in turn.text
    assert guide.department in turn.text and guide.updated in turn.text


def wait_for_rows(db: Path, table: str, where: Any, *, until: Any = bool, timeout: float = 60) -> list[dict[str, Any]]:
    """The rows of `table` for which `where(row)` holds, polled until `until(rows)` holds (by
    default: there is one) or the timeout: the action server writes records in the background,
    a moment after it has replied."""
    import time

    from knowledge.records.store import Records

    deadline = time.monotonic() + timeout
    while True:
        rows = [row for row in Records(db).rows(table) if where(row)]
        if until(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


# --- trackers for action tests (the way rasa-sdk's own tests build them) ---------------------------

def tracker_for(text: str, intent: str, slots: dict[str, Any] | None = None, entities: list[dict[str, Any]] | None = None,
                sender: str = "tracker-test", events: list[dict[str, Any]] | None = None) -> Any:
    from rasa_sdk import Tracker

    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    history = [*(events or []), {"event": "user", "text": text, "parse_data": latest, "timestamp": 1.0}]
    return Tracker(sender, dict(slots or {}), latest, history, False, None, {}, "action_listen")


def run_action(action: Any, tracker: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run a rasa-sdk action; returns (messages sent, the conversation's slots after it): an action
    sends only the slots it changes (actions/conversation.py `changes_only`)."""
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    action.services.records.wait()  # records are written in the background
    slots = {**tracker.slots, **{event["name"]: event["value"] for event in events if event.get("event") == "slot"}}
    return dispatcher.messages, slots


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(message.get("text") or "" for message in messages)


def custom(messages: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    return next((m["custom"][key] for m in messages if m.get("custom") and key in m["custom"]), None)


def staff_today(settings: Any) -> datetime.date:
    """Today on the deployment's clock (settings.yml `staff_timezone`): the date reports are named and counted by.
    Not `date.today()`: between 16:00 and 24:00 UTC a UTC machine's today is Beijing's yesterday."""
    from knowledge.records.store import now_on

    return now_on(settings.staff_timezone).date()


def age_row(db: Any, table: str, row_id: int, days: float) -> None:
    """Move one records row `days` days into the past from the time it was stamped with (Records writes the current
    time on the deployment's clock, so the age is relative to that clock whatever timezone the machine runs in).
    `db`: the SQLite file's path, or a Records store (either backend)."""
    import datetime as dt
    import sqlite3

    def older(stamped: str) -> str:
        return (dt.datetime.fromisoformat(stamped) - dt.timedelta(days=days)).isoformat(timespec="seconds")

    if hasattr(db, "engine"):
        from sqlalchemy import text

        with db.engine.begin() as connection:
            stamped = connection.execute(text(f"SELECT time FROM {table} WHERE id = :id"), {"id": row_id}).scalar_one()
            connection.execute(text(f"UPDATE {table} SET time = :when WHERE id = :id"), {"when": older(stamped), "id": row_id})
        return
    with sqlite3.connect(db) as connection:
        (stamped,) = connection.execute(f"SELECT time FROM {table} WHERE id = ?", (row_id,)).fetchone()
        connection.execute(f"UPDATE {table} SET time = ? WHERE id = ?", (older(stamped), row_id))
    connection.close()
