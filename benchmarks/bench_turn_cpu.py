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
from pathlib import Path
from typing import Any

import _common
import httpx
import psutil
from bench_conversation import SCRIPTS

from bot.launcher.stack import Stack, ensure_model

WARM_UP_CONVERSATIONS = 3  # per server, before the first measured block
VARIANTS = {"speedups": "1", "rasa_as_installed": "0"}


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


def converse(client: httpx.Client, stack: Stack, senders: list[str]) -> tuple[list[float], int]:
    """One conversation per sender (scripts in turn); the latency of each turn, and the turns answered empty."""
    latencies: list[float] = []
    empty = 0
    for sender, script in zip(senders, itertools.cycle(SCRIPTS), strict=False):
        for message in script:
            before = time.perf_counter()
            response = client.post(stack.rest_url, json={"sender": sender, "message": message}, headers=stack.rest_headers)
            latencies.append(time.perf_counter() - before)
            response.raise_for_status()
            empty += not response.json()
    return latencies, empty


def measure_block(client: httpx.Client, stack: Stack, actions_pid: int, senders: list[str]) -> dict[str, Any]:
    assert stack.rasa is not None
    rasa_before, actions_before = tree_cpu_seconds(stack.rasa.pid), tree_cpu_seconds(actions_pid)
    latencies, empty = converse(client, stack, senders)
    rasa_cpu = tree_cpu_seconds(stack.rasa.pid) - rasa_before
    actions_cpu = tree_cpu_seconds(actions_pid) - actions_before
    turns = len(latencies)
    summary = _common.summary_ms(latencies)
    return {"turns": turns, "conversations": len(senders), "empty_replies": empty,
            "cpu_ms_per_turn": round((rasa_cpu + actions_cpu) * 1000 / turns, 2),
            "rasa_cpu_ms_per_turn": round(rasa_cpu * 1000 / turns, 2),
            "actions_cpu_ms_per_turn": round(actions_cpu * 1000 / turns, 2),
            "p50_ms": summary["p50_ms"], "p95_ms": summary["p95_ms"], "mean_ms": summary["mean_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs (each: one block per variant); median reported")
    parser.add_argument("--conversations", type=int, default=14, help="conversations per block (~5 turns each)")
    parser.add_argument("--model", type=Path, help="a trained model (default: the one for the current inputs, trained if missing)")
    args = parser.parse_args()
    if args.runs < 1 or args.conversations < 1:
        parser.error("--runs and --conversations must be positive")
    scratch = Path(tempfile.mkdtemp(prefix="bench-turn-cpu-", dir=_common.BENCH_VAR if _common.BENCH_VAR.exists() else None))
    base_env = {"GOVQA_RECORDS_DB": str(scratch / "records.sqlite3"), "TELEGRAM_BOT_TOKEN": ""}
    model = args.model.resolve() if args.model else ensure_model(log=scratch / "train.log")
    stacks: dict[str, Stack] = {}
    started = time.perf_counter()
    try:
        # The first stack brings the action server and its Rasa server; the second only a Rasa server
        # on the same action server, model and records database, with its own tracker store.
        for number, (variant, flag) in enumerate(VARIANTS.items()):
            env = {**base_env, "GOVQA_TRACKER_DB": str(scratch / f"tracker-{variant}.sqlite3"), "GOVQA_RASA_SPEEDUPS": flag}
            if number == 0:
                stack = Stack(ports=(_common.free_port(), _common.free_port()), env=env, logs=scratch / f"logs-{variant}", model=model)
                _common.say(f"starting the action server and the Rasa server ({variant})")
                stack.start(channels=False)
            else:
                first = next(iter(stacks.values()))
                stack = Stack(ports=(_common.free_port(), first.action_port), env=env, logs=scratch / f"logs-{variant}", model=model)
                _common.say(f"starting a second Rasa server ({variant})")
                stack.start_rasa(model)
            stacks[variant] = stack
        ready_seconds = time.perf_counter() - started
        actions = next(iter(stacks.values())).actions
        assert actions is not None
        states = {variant: _speedups_state(stack) for variant, stack in stacks.items()}
        runs: list[dict[str, dict[str, Any]]] = []
        with httpx.Client(timeout=60) as client:
            for variant, stack in stacks.items():
                converse(client, stack, [f"warm-{variant}-{n}" for n in range(WARM_UP_CONVERSATIONS)])
            order = list(stacks)
            for run in range(args.runs):
                blocks: dict[str, dict[str, Any]] = {}
                for variant in order if run % 2 == 0 else reversed(order):
                    senders = [f"cpu-{variant}-{run}-{n}" for n in range(args.conversations)]
                    blocks[variant] = measure_block(client, stacks[variant], actions.pid, senders)
                    _common.say(f"run {run + 1} {variant}: {blocks[variant]}")
                runs.append(blocks)
            deciders = policy_deciders(client, stacks["speedups"], [f"cpu-speedups-{run}-{n}" for run in range(args.runs)
                                                                    for n in range(args.conversations)])
    finally:
        for stack in reversed(list(stacks.values())):
            stack.stop()
    medians = {variant: {key: round(_common.median([run[variant][key] for run in runs]), 2)
                         for key in ("cpu_ms_per_turn", "rasa_cpu_ms_per_turn", "actions_cpu_ms_per_turn", "p50_ms", "p95_ms")}
               for variant in VARIANTS}
    on, off = medians["speedups"], medians["rasa_as_installed"]
    ratios = {key: round(on[key] / off[key], 3) if off[key] else None for key in on}
    report = {"machine": _common.machine(), "code": _common.code_version(), "model": model.name, "runs": args.runs,
              "conversations_per_block": args.conversations, "warm_up_conversations": WARM_UP_CONVERSATIONS,
              "speedups_state_in_rasa_log": states,
              "deciding_policy": deciders, "stack_ready_seconds": round(ready_seconds, 1),
              "median": medians, "ratio_speedups_to_installed": ratios, "runs_detail": runs,
              "target": {"cpu_ms_per_turn": 35, "p50_ms": 50, "p95_ms": 90}}
    path = _common.write_report("turn-cpu", report)
    print(_common.markdown_table(
        ["variant", "runs", "turns/block", "CPU ms/turn", "Rasa ms", "actions ms", "p50 ms", "p95 ms"],
        [[variant, args.runs, runs[0][variant]["turns"], medians[variant]["cpu_ms_per_turn"], medians[variant]["rasa_cpu_ms_per_turn"],
          medians[variant]["actions_cpu_ms_per_turn"], medians[variant]["p50_ms"], medians[variant]["p95_ms"]] for variant in VARIANTS],
    ))
    print(f"speedups / as installed: CPU {ratios['cpu_ms_per_turn']}, Rasa CPU {ratios['rasa_cpu_ms_per_turn']}, "
          f"p50 {ratios['p50_ms']}, p95 {ratios['p95_ms']}")
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


def _speedups_state(stack: Stack) -> str:
    """What bot/rasa/server.py said it did ("applied", "off", "refused (version)"), from the Rasa log."""
    log = stack.logs / "rasa.log"
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []:
        if "govqa: Rasa speedups " in line:
            return line.split("govqa: Rasa speedups ", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
