"""CPU per conversation turn across the stack's processes, and one user's latency, with and without
bot/rasa/speedups.py, measured in one run.

What: short scripted conversations (bench_conversation.SCRIPTS, a new sender each) posted one turn
at a time to Rasa's REST channel. For each block of conversations: the CPU seconds (user + system,
from /proc through psutil) that the Rasa server and the action server, with all their children,
spent during the block, divided by the turns of the block; and the wall time of each POST (p50 /
p95). Two Rasa servers run side by side on the same model, the same action server and private
tracker stores: one as the stack starts it (speedups applied), one with GOVQA_RASA_SPEEDUPS=0 (Rasa
as installed). Blocks alternate between them (ABBA…) so drift of the shared machine hits both; the
idle server is not counted. Each figure is the median over --runs runs.

    var/venv-app/bin/python benchmarks/bench_turn_cpu.py [--runs 3] [--conversations 14] [--model var/models/x.tar.gz]

Writes var/reports/bench-turn-cpu.json.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common
import httpx
import psutil
from bench_conversation import SCRIPTS

from bot.launcher.model import ensure_model
from bot.launcher.stack import Stack

WARM_UP_CONVERSATIONS = 3  # per server, before the first measured block
VARIANTS = {"speedups": "1", "rasa_as_installed": "0"}
BLOCK_KEYS = ("cpu_ms_per_turn", "rasa_cpu_ms_per_turn", "actions_cpu_ms_per_turn", "p50_ms", "p95_ms")


@dataclass
class Variant:
    """One Rasa server to measure: its project (Stack or a subclass such as bench_floor.FloorStack), model
    and environment. The first variant of each stack class starts that project's action server; the
    others of the class share it (and the model's records database), each with its own tracker store."""

    name: str
    model: Path
    env: Mapping[str, str] = field(default_factory=dict)
    stack_class: type[Stack] = Stack


@dataclass
class Running:
    stack: Stack
    actions_pid: int  # the action server this variant's Rasa calls (perhaps another variant's)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, its live descendants and its reaped children."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def start_variants(variants: list[Variant], scratch: Path, base_env: Mapping[str, str], running: dict[str, Running]) -> None:
    """Start every variant into `running` (filled as they start, so the caller's `finally` stops what did)."""
    first_of_class: dict[type[Stack], Stack] = {}
    for variant in variants:
        env = {**base_env, "GOVQA_TRACKER_DB": str(scratch / f"tracker-{variant.name}.sqlite3"), **variant.env}
        shared = first_of_class.get(variant.stack_class)
        ports = (_common.free_port(), shared.action_port if shared else _common.free_port())
        stack = variant.stack_class(ports=ports, env=env, logs=scratch / f"logs-{variant.name}", model=variant.model)
        if shared is None:
            _common.say(f"starting an action server and a Rasa server ({variant.name})")
            first_of_class[variant.stack_class] = stack
            running[variant.name] = Running(stack, -1)
            stack.start(channels=False)
        else:
            _common.say(f"starting a Rasa server ({variant.name}) on the action server of the one before")
            running[variant.name] = Running(stack, -1)
            stack.start_rasa(variant.model)
        actions = (shared or stack).actions
        assert actions is not None
        running[variant.name].actions_pid = actions.pid


def stop_all(running: Mapping[str, Running]) -> None:
    for item in reversed(list(running.values())):  # servers that share an action server before its owner
        item.stack.stop()


def converse(client: httpx.Client, stack: Stack, senders: list[str]) -> tuple[list[float], int]:
    """One conversation per sender (scripts in turn); the latency of each turn, and the turns answered empty."""
    latencies: list[float] = []
    empty = 0
    for sender, script in zip(senders, itertools.cycle(SCRIPTS), strict=False):
        for message in script:
            elapsed, replies = post_turn(client, stack, sender, message)
            latencies.append(elapsed)
            empty += not replies
    return latencies, empty


def post_turn(client: httpx.Client, stack: Stack, sender: str, message: str) -> tuple[float, list[Any]]:
    """One POST to the REST channel: its wall time in seconds and the replies."""
    before = time.perf_counter()
    response = client.post(stack.rest_url, json={"sender": sender, "message": message}, headers=stack.rest_headers)
    elapsed = time.perf_counter() - before
    response.raise_for_status()
    return elapsed, response.json()


def stack_cpu_seconds(item: Running) -> tuple[float, float]:
    """CPU seconds so far of the Rasa server's tree and of the action server's tree."""
    assert item.stack.rasa is not None
    return tree_cpu_seconds(item.stack.rasa.pid), tree_cpu_seconds(item.actions_pid)


def measure_block(client: httpx.Client, item: Running, senders: list[str]) -> dict[str, Any]:
    rasa_before, actions_before = stack_cpu_seconds(item)
    latencies, empty = converse(client, item.stack, senders)
    rasa_after, actions_after = stack_cpu_seconds(item)
    rasa_cpu, actions_cpu = rasa_after - rasa_before, actions_after - actions_before
    turns = len(latencies)
    summary = _common.summary_ms(latencies)
    return {"turns": turns, "conversations": len(senders), "empty_replies": empty,
            "cpu_ms_per_turn": round((rasa_cpu + actions_cpu) * 1000 / turns, 2),
            "rasa_cpu_ms_per_turn": round(rasa_cpu * 1000 / turns, 2),
            "actions_cpu_ms_per_turn": round(actions_cpu * 1000 / turns, 2),
            "p50_ms": summary["p50_ms"], "p95_ms": summary["p95_ms"], "mean_ms": summary["mean_ms"]}


def alternate_blocks(client: httpx.Client, running: Mapping[str, Running], runs: int, conversations: int) -> list[dict[str, dict[str, Any]]]:
    """Warm every server up, then `runs` rounds of one block per variant, the order reversed every other
    round (ABBA…): drift of the shared machine hits every variant alike; idle servers are not counted."""
    for name, item in running.items():
        converse(client, item.stack, [f"warm-{name}-{n}" for n in range(WARM_UP_CONVERSATIONS)])
    order = list(running)
    results: list[dict[str, dict[str, Any]]] = []
    for run in range(runs):
        blocks: dict[str, dict[str, Any]] = {}
        for name in order if run % 2 == 0 else reversed(order):
            blocks[name] = measure_block(client, running[name], block_senders(name, run, conversations))
            _common.say(f"run {run + 1} {name}: {blocks[name]}")
        results.append(blocks)
    return results


def block_senders(name: str, run: int, conversations: int) -> list[str]:
    return [f"cpu-{name}-{run}-{n}" for n in range(conversations)]


def block_medians(runs: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Per variant, the median over runs of each block figure."""
    return {name: {key: round(_common.median([run[name][key] for run in runs]), 2) for key in BLOCK_KEYS} for name in runs[0]}


def ratios(numerator: Mapping[str, float], denominator: Mapping[str, float]) -> dict[str, float | None]:
    return {key: round(numerator[key] / denominator[key], 3) if denominator[key] else None for key in numerator}


def variants_table(runs: list[dict[str, dict[str, Any]]], medians: Mapping[str, Mapping[str, float]]) -> str:
    return _common.markdown_table(
        ["variant", "runs", "turns/block", "CPU ms/turn", "Rasa ms", "actions ms", "p50 ms", "p95 ms"],
        [[name, len(runs), runs[0][name]["turns"], *(figures[key] for key in BLOCK_KEYS)] for name, figures in medians.items()],
    )


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_common.BENCH_VAR if _common.BENCH_VAR.exists() else None))


def base_env(scratch: Path) -> dict[str, str]:
    """What every benchmark stack gets: a private records database, never a real Telegram bot, and no cache
    of recent question embeddings: the scripts repeat a few dozen questions, which real users do not, so
    with the cache every measured turn would skip the model (settings.yml query_embedding_cache_size)."""
    return {"GOVQA_RECORDS_DB": str(scratch / "records.sqlite3"), "TELEGRAM_BOT_TOKEN": "",
            "GOVQA_QUERY_EMBEDDING_CACHE_SIZE": "0"}


def turn_arguments(doc: str, *, conversations: int = 14, conversations_help: str = "conversations per block (~5 turns each)"
                   ) -> argparse.ArgumentParser:
    """--runs, --conversations and --model, as every benchmark of conversation turns takes them."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs; the median is reported")
    parser.add_argument("--conversations", type=int, default=conversations, help=conversations_help)
    parser.add_argument("--model", type=Path, help="our trained model (default: the one for the current inputs, trained if missing)")
    return parser


def parse_turn_arguments(parser: argparse.ArgumentParser) -> argparse.Namespace:
    args = parser.parse_args()
    if args.runs < 1 or args.conversations < 1:
        parser.error("--runs and --conversations must be positive")
    return args


def our_model(args: argparse.Namespace, scratch: Path) -> Path:
    """--model, else the model for the current inputs (trained first if missing: 3-5 minutes)."""
    return args.model.resolve() if args.model else ensure_model(log=scratch / "train.log")


def main() -> None:
    args = parse_turn_arguments(turn_arguments(__doc__))
    scratch = scratch_dir("bench-turn-cpu-")
    model = our_model(args, scratch)
    running: dict[str, Running] = {}
    started = time.perf_counter()
    try:
        # Both Rasa servers on the same action server, model and records database, each with its own tracker store.
        start_variants([Variant(name, model, {"GOVQA_RASA_SPEEDUPS": flag}) for name, flag in VARIANTS.items()],
                       scratch, base_env(scratch), running)
        ready_seconds = time.perf_counter() - started
        states = {name: speedups_state(item.stack) for name, item in running.items()}
        with httpx.Client(timeout=60) as client:
            runs = alternate_blocks(client, running, args.runs, args.conversations)
            deciders = policy_deciders(client, running["speedups"].stack,
                                       [sender for run in range(args.runs) for sender in block_senders("speedups", run, args.conversations)])
    finally:
        stop_all(running)
    medians = block_medians(runs)
    ratio = ratios(medians["speedups"], medians["rasa_as_installed"])
    report = {"machine": _common.machine(), "code": _common.code_version(), "model": model.name, "runs": args.runs,
              "conversations_per_block": args.conversations, "warm_up_conversations": WARM_UP_CONVERSATIONS,
              "speedups_state_in_rasa_log": states,
              "deciding_policy": deciders, "stack_ready_seconds": round(ready_seconds, 1),
              "median": medians, "ratio_speedups_to_installed": ratio, "runs_detail": runs,
              "target": {"cpu_ms_per_turn": 35, "p50_ms": 50, "p95_ms": 90}}
    path = _common.write_report("turn-cpu", report)
    print(variants_table(runs, medians))
    print(f"speedups / as installed: CPU {ratio['cpu_ms_per_turn']}, Rasa CPU {ratio['rasa_cpu_ms_per_turn']}, "
          f"p50 {ratio['p50_ms']}, p95 {ratio['p95_ms']}")
    print("actions predicted, by policy:", deciders["by_policy"])
    print(f"report: {path}")


def policy_deciders(client: httpx.Client, stack: Stack, senders: list[str]) -> dict[str, Any]:
    """Which policy predicted each action of these conversations (ActionExecuted.policy in the trackers,
    through Rasa's HTTP API), and the actions that only TEDPolicy decided: what dropping TED would change."""
    by_policy: dict[str, int] = {}
    ted_actions: dict[str, int] = {}
    for sender in senders:
        response = client.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.token})
        response.raise_for_status()
        for event in response.json().get("events", []):
            if event.get("event") != "action" or not event.get("policy"):
                continue
            policy = str(event["policy"])  # as Rasa names it, e.g. "policy_2_TEDPolicy"
            by_policy[policy] = by_policy.get(policy, 0) + 1
            if policy.endswith("TEDPolicy"):
                ted_actions[event["name"]] = ted_actions.get(event["name"], 0) + 1
    return {"conversations": len(senders), "by_policy": by_policy, "ted_actions": ted_actions}


def speedups_state(stack: Stack) -> str:
    """What bot/rasa/server.py said it did ("applied", "off", "refused (version)"), from the Rasa log."""
    log = stack.logs / "rasa.log"
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []:
        if "govqa: Rasa speedups " in line:
            return line.split("govqa: Rasa speedups ", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
