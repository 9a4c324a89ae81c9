"""Load: many simulated users chatting at once, on Rasa's REST channel and on the hall API.

What: USERS concurrent users (asyncio + httpx), each running the scripted conversations of
bench_conversation.py (questions, follow-ups, picks, off-topic, handoff, ratings) turn after
turn with no think time, for SECONDS on each channel: first the REST channel
(POST /webhooks/rest/webhook), then the 智能云客服 hall API (POST /api/v1/chat, bearer token).
An error is any transport failure, any status but 200, a reply without text, or the polite
"unavailable" reply (Rasa or the action server could not answer). Reported per
channel: requests, errors, throughput (requests/s), latency p50/p95/p99/max.

How: against a running stack (--rest-url with GOVQA_REST_TOKEN in the environment, --kefu-url, --kefu-token), or, by default, a stack of
its own started with bot.launcher.stack.Stack on free ports (private tracker store and records file, the
published index and the trained model, the recent-question embedding cache off).

    var/venv-app/bin/python benchmarks/bench_load.py [--users 50] [--seconds 60]
    var/venv-app/bin/python benchmarks/bench_load.py --users 5 --seconds 10 --rest-url … --kefu-url … --kefu-token …

Writes var/reports/bench-load.json (or --out). Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common
import httpx
from bench_conversation import SCRIPTS

from protocol import REST_TOKEN_ENV


@dataclass
class ChannelLoad:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def percentile(share: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1) if ordered else None

        return {"channel": self.name, "requests": len(self.latencies) + len(self.errors), "errors": len(self.errors),
                "error_examples": self.errors[:5], "throughput_rps": round(len(self.latencies) / self.seconds, 1) if self.seconds else 0,
                "p50_ms": percentile(0.50), "p95_ms": percentile(0.95), "p99_ms": percentile(0.99),
                "max_ms": round(ordered[-1] * 1000, 1) if ordered else None}


def _rest_request(url: str, token: str) -> Any:
    def build(sender: str, message: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        return url, {"sender": sender, "message": message}, {"Authorization": f"Bearer {token}"}

    def ok(body: Any) -> bool:
        if not isinstance(body, list) or not any(m.get("text") for m in body):
            return False
        # "Sorry, unavailable" has text too, but it is a failure, not an answer.
        markers = [m["custom"] for m in body if isinstance(m.get("custom"), dict)]
        return not any("unavailable" in c or (c.get("not_found") or {}).get("unavailable") for c in markers)

    return build, ok


def _kefu_request(url: str, token: str) -> Any:
    def build(sender: str, message: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        return url + "/api/v1/chat", {"session_id": sender, "message": message}, {"Authorization": f"Bearer {token}"}

    def ok(body: Any) -> bool:
        return (isinstance(body, dict) and body.get("kind") != "unavailable"
                and any(m.get("text") for m in body.get("messages") or []))

    return build, ok


async def _user(number: int, client: httpx.AsyncClient, request: Any, load: ChannelLoad, deadline: float) -> None:
    build, ok = request
    for round_ in itertools.count():
        for script_number, script in enumerate(SCRIPTS):
            sender = f"load-{load.name}-{number}-{round_}-{script_number}"
            for message in script:
                if time.monotonic() >= deadline:
                    return
                url, body, headers = build(sender, message)
                before = time.perf_counter()
                try:
                    response = await client.post(url, json=body, headers=headers)
                    elapsed = time.perf_counter() - before
                    if response.status_code != 200:
                        load.errors.append(f"HTTP {response.status_code} for {message!r}")
                    elif not ok(response.json()):
                        load.errors.append(f"no answer (empty or unavailable) for {message!r}")
                    else:
                        load.latencies.append(elapsed)
                except (httpx.HTTPError, ValueError) as error:
                    load.errors.append(f"{type(error).__name__} for {message!r}")


async def run_load(name: str, request: Any, users: int, seconds: float) -> ChannelLoad:
    load = ChannelLoad(name)
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.monotonic()
        await asyncio.gather(*(_user(n, client, request, load, started + seconds) for n in range(users)))
        load.seconds = time.monotonic() - started
    return load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rest-url", help="a running stack's REST webhook (else a stack is started)")
    parser.add_argument("--kefu-url", help="a running stack's hall API base URL")
    parser.add_argument("--kefu-token", help="the hall API token")
    parser.add_argument("--out", type=Path, help="where to write the JSON report")
    args = parser.parse_args()

    stack = None
    if args.rest_url:
        # The REST token from the environment (GOVQA_REST_TOKEN), never the command line.
        rest_url, rest_token, kefu_url, kefu_token = args.rest_url, os.environ.get(REST_TOKEN_ENV, ""), args.kefu_url, args.kefu_token
    else:
        from bot.launcher.stack import Stack

        scratch = Path(tempfile.mkdtemp(prefix="bench-load-", dir=_common.BENCH_VAR if _common.BENCH_VAR.exists() else None))
        env = {"GOVQA_TRACKER_DB": str(scratch / "tracker.sqlite3"), "GOVQA_RECORDS_DB": str(scratch / "records.sqlite3"),
               "TELEGRAM_BOT_TOKEN": "",  # a benchmark never starts a real Telegram bot
               # The scripted conversations repeat a few dozen questions: with the recent-question cache
               # every turn after the first minute would skip the embedding, which real users do not.
               "GOVQA_QUERY_EMBEDDING_CACHE_SIZE": "0"}
        stack = Stack(ports=(_common.free_port(), _common.free_port()), kefu_port=_common.free_port(), env=env, logs=scratch / "logs")
        _common.say("starting the action server, the Rasa server and the hall API")
        stack.start()
        rest_url, rest_token, kefu_url, kefu_token = stack.rest_url, stack.rest_token, stack.kefu_url, stack.kefu_token
    try:
        results = []
        _common.say(f"REST channel: {args.users} users for {args.seconds:.0f} s")
        results.append(asyncio.run(run_load("rest", _rest_request(rest_url, rest_token), args.users, args.seconds)).summary())
        if kefu_url and kefu_token:
            _common.say(f"hall API: {args.users} users for {args.seconds:.0f} s")
            results.append(asyncio.run(run_load("kefu", _kefu_request(kefu_url, kefu_token), args.users, args.seconds)).summary())
    finally:
        if stack is not None:
            stack.stop()
    report = {"machine": _common.machine(), "code": _common.code_version(), "users": args.users,
              "seconds_per_channel": args.seconds, "channels": results}
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        path = args.out
    else:
        path = _common.write_report("load", report)
    print(_common.markdown_table(
        ["channel", "users", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [[r["channel"], args.users, r["requests"], r["errors"], r["throughput_rps"], r["p50_ms"], r["p95_ms"], r["p99_ms"],
          r["max_ms"]] for r in results],
    ))
    print(f"report: {path}")
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
