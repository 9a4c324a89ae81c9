"""Scale-out: the same load on one Rasa server vs several, on SQLite vs PostgreSQL + Redis.

What: for each configuration (``--configs``, default all four)

- ``sqlite``: one Rasa server, one action server, SQLite tracker store and records (``make run``'s default);
- ``pg1``: the same on PostgreSQL (tracker store, records) + Redis (lock store, bot/rasa/lock_store.py);
- ``pg2``: two Rasa servers behind HAProxy, one action server;
- ``pg2x2``: two Rasa servers and two action servers behind HAProxy,

a stack is started (bot.launcher.stack.Stack on free ports, a fresh database per run), then

1. one user, ``--single-turns`` turns one after the other (bench_conversation's scripts): p50, p95;
2. ``--users`` users with no think time for ``--seconds`` on the REST channel (bench_load.run_load):
   requests/s, p50, p95, errors; and the CPU seconds each process used during those seconds (Rasa
   instances, action servers, HAProxy, PostgreSQL, Redis: psutil, children included).

The configurations run in turn, ``--rounds`` times (default 3), so each round compares them under the
same machine load; the headline is the median over rounds of each number and of the ratios
pg2 / pg1 and pg1 / sqlite measured in the same round. On a 2-core machine more instances cannot
add cores: the ratio says what an instance costs, so a reader can size a deployment of several machines.

    var/venv-app/bin/python benchmarks/bench_scale.py [--users 50] [--seconds 60] [--rounds 3]

Writes var/reports/bench-scale.json (after every run, so an interrupted run keeps its numbers).
Needs PostgreSQL, Redis and HAProxy (bash scripts/setup_servers.sh): throwaway servers are started.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import _common
import httpx
import psutil
from bench_conversation import SCRIPTS
from bench_load import _rest_request, run_load

CONFIGS = {"sqlite": (1, 1, False), "pg1": (1, 1, True), "pg2": (2, 1, True), "pg2x2": (2, 2, True)}  # rasa, actions, stores


def _cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _groups(stack: Any, postgres: Any, redis: Any) -> dict[str, list[psutil.Process]]:
    """The processes whose CPU time is reported, by role."""
    groups: dict[str, list[psutil.Process]] = {}
    rasa = stack.pool.instances if stack.pool else [stack.rasa]
    actions = stack.action_pool.instances if stack.action_pool else [stack.actions]
    for index, process in enumerate(rasa, 1):
        groups[f"rasa{index}"] = _tree(process.pid)
    for index, process in enumerate(actions, 1):
        groups[f"actions{index}"] = _tree(process.pid)
    if stack.balancer is not None and stack.balancer.haproxy is not None:
        groups["haproxy"] = _tree(stack.balancer.haproxy.pid)
    if redis is not None and redis.process is not None:
        groups["redis"] = _tree(redis.process.pid)
    if postgres is not None:
        groups["postgresql"] = _postgres_processes(postgres)
    return groups


def _postgres_processes(server: Any) -> list[psutil.Process]:
    # The postmaster's pid is the first line of postmaster.pid; its backends are its children.
    try:
        pid = int((server.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    return _tree(pid)


def _single_user(url: str, token: str, turns: int) -> dict[str, float]:
    latencies = []
    with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
        for number in range(turns):
            script = SCRIPTS[number // 4 % len(SCRIPTS)]
            message = script[number % len(script)]
            started = time.perf_counter()
            response = client.post(url, json={"sender": f"single-{number // 4}", "message": message})
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)
    ordered = sorted(latencies)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1)}


def run_config(name: str, args: argparse.Namespace, postgres: Any, redis: Any, run: int) -> dict[str, Any]:
    from bot.launcher.servers import create_database
    from bot.launcher.stack import Stack

    rasa, actions, shared = CONFIGS[name]
    scratch = Path(tempfile.mkdtemp(prefix=f"bench-scale-{name}-", dir=_common.BENCH_VAR if _common.BENCH_VAR.exists() else None))
    env = {"GOVQA_TRACKER_DB": str(scratch / "tracker.sqlite3"), "GOVQA_RECORDS_DB": str(scratch / "records.sqlite3"),
           "TELEGRAM_BOT_TOKEN": "", "GOVQA_RASA_INSTANCES": str(rasa), "GOVQA_ACTION_INSTANCES": str(actions),
           "GOVQA_DATABASE_URL": "", "GOVQA_REDIS_URL": "", "GOVQA_QUERY_EMBEDDING_CACHE_SIZE": "0"}
    if shared:
        env["GOVQA_DATABASE_URL"] = create_database(postgres.url, f"bench_scale_{name}_{run}_{time.time_ns() % 10**9}")
        env["GOVQA_REDIS_URL"] = redis.url
    ports = (_common.free_port(), _common.free_port())
    stack = Stack(ports=ports, kefu_port=_common.free_port(), env=env, logs=scratch / "logs",
                  instance_ports=[_common.free_port() for _ in range(rasa)] if rasa > 1 else None,
                  action_ports=[_common.free_port() for _ in range(actions)] if actions > 1 else None)
    _common.say(f"{name} (run {run}): {rasa} Rasa, {actions} action server(s), {'PostgreSQL + Redis' if shared else 'SQLite'}")
    stack.start(channels=False)
    try:
        _single_user(stack.rest_url, stack.rest_token, 8)  # warm-up: first turns load lazily
        single = _single_user(stack.rest_url, stack.rest_token, args.single_turns)
        groups = _groups(stack, postgres if shared else None, redis if shared else None)
        before = {role: _cpu_seconds(processes) for role, processes in groups.items()}
        load = asyncio.run(run_load("rest", _rest_request(stack.rest_url, stack.rest_token), args.users, args.seconds)).summary()
        cpu = {role: round(_cpu_seconds(processes) - before[role], 1) for role, processes in groups.items()}
    finally:
        stack.stop()
    return {"config": name, "run": run, "seconds": args.seconds,
            "single_user": single, "load": load, "cpu_seconds": cpu,
            "load_average": round(psutil.getloadavg()[0], 2)}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _per_turn(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """CPU milliseconds per turn by role (instances of one role summed: rasa1 + rasa2 → rasa), median over runs."""
    per: dict[str, list[float]] = {}
    for run in runs:
        turns = run["load"]["throughput_rps"] * run["seconds"]
        roles: dict[str, float] = {}
        for name, seconds in run["cpu_seconds"].items():
            role = name.rstrip("0123456789")
            roles[role] = roles.get(role, 0.0) + seconds
        for role, seconds in {**roles, "total": sum(roles.values())}.items():
            per.setdefault(role, []).append(seconds / turns * 1000 if turns else 0.0)
    return {role: _median(values) for role, values in per.items()}


def summarise(runs: list[dict[str, Any]], configs: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name in configs:
        mine = [run for run in runs if run["config"] == name]
        summary[name] = {"runs": len(mine), "single_p50_ms": _median([r["single_user"]["p50_ms"] for r in mine]),
                         "rps": _median([r["load"]["throughput_rps"] for r in mine]),
                         "p50_ms": _median([r["load"]["p50_ms"] for r in mine]), "p95_ms": _median([r["load"]["p95_ms"] for r in mine]),
                         "errors": sum(r["load"]["errors"] for r in mine),
                         "cpu_seconds": {role: _median([r["cpu_seconds"].get(role, 0.0) for r in mine])
                                         for role in (mine[-1]["cpu_seconds"] if mine else {})},
                         "cpu_ms_per_turn": _per_turn(mine)}
    for top, bottom in (("pg2", "pg1"), ("pg2x2", "pg1"), ("pg1", "sqlite")):
        pairs = [(a["load"]["throughput_rps"], b["load"]["throughput_rps"]) for a in runs for b in runs
                 if a["config"] == top and b["config"] == bottom and a["run"] == b["run"] and b["load"]["throughput_rps"]]
        if pairs:
            summary[f"rps_ratio_{top}_{bottom}"] = _median([a / b for a, b in pairs])
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--single-turns", type=int, default=40)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args()
    configs = [name.strip() for name in args.configs.split(",") if name.strip()]
    unknown = [name for name in configs if name not in CONFIGS]
    if unknown:
        parser.error(f"unknown configs {unknown}; choose from {list(CONFIGS)}")
    from bot.launcher.servers import PostgresServer, RedisServer

    postgres, redis = PostgresServer().start(), RedisServer().start()
    runs: list[dict[str, Any]] = []
    path = None
    try:
        for round_ in range(1, args.rounds + 1):
            for name in configs:
                runs.append(run_config(name, args, postgres, redis, round_))
                report = {"machine": _common.machine(), "code": _common.code_version(), "users": args.users,
                          "seconds": args.seconds, "runs": runs, "summary": summarise(runs, configs)}
                path = _common.write_report("scale", report)
    finally:
        redis.stop()
        postgres.stop()
    summary = summarise(runs, configs)
    print(_common.markdown_table(
        ["config", "runs", "1 user p50 ms", "req/s", "p50 ms", "p95 ms", "errors", "CPU ms per turn by role"],
        [[name, s["runs"], s["single_p50_ms"], s["rps"], s["p50_ms"], s["p95_ms"], s["errors"],
          ", ".join(f"{role} {value}" for role, value in s["cpu_ms_per_turn"].items())] for name, s in summary.items() if isinstance(s, dict)]))
    for key, value in summary.items():
        if key.startswith("rps_ratio"):
            print(f"{key}: {value}")
    print(f"report: {path}")
    return 1 if any(run["load"]["errors"] for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
