"""Does a turn cost more late in a long conversation? CPU and wall time per turn at turns 1–10 and
91–100 of one 100-turn conversation, through our stack and through the Rasa floor, measured in one run.

What: one sender asks questions and follow-ups for 100 turns without a pause (LONG_TEXTS: the texts of
bench_conversation.SCRIPTS in order, without the handoff, repeated every PERIOD turns, so turns 91–100
send exactly the texts of turns 1–10 and only the history differs). Around each POST to the REST
channel: the CPU seconds (/proc through psutil) of the Rasa server and its action server with their
children, and the wall time. Per conversation: the mean CPU per turn and the median wall time in each
window, and the size of the tracker after turns 10 and 100 (events, and bytes of its JSON: what Rasa as
installed sends to the action server with every call; with bot/rasa/history_speedups.py only the
messages among the events go); the figures are medians over all conversations of all runs. Our
stack, the same with Rasa as installed (GOVQA_RASA_SPEEDUPS=0, sharing its action server) and the floor
(benchmarks/floor/, bench_floor.py) alternate conversation by conversation, the order reversed every
other time, so the shared machine's drift hits them all.

    var/venv-app/bin/python benchmarks/bench_long_conversation.py [--runs 3] [--conversations 3] [--stacks ours,floor] [--model …]

Writes var/reports/bench-long-conversation.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import _common
import httpx
from bench_conversation import SCRIPTS
from bench_floor import FloorStack, floor_model
from bench_turn_cpu import (
    Running,
    Variant,
    base_env,
    our_model,
    parse_turn_arguments,
    post_turn,
    scratch_dir,
    stack_cpu_seconds,
    start_variants,
    stop_all,
    turn_arguments,
)

TURNS = 100
PERIOD = 30  # divides 90: turn 91 sends the text of turn 1
# The handoff is left out: after it a clerk, not the assistant, would carry the conversation on.
LONG_TEXTS = [message for script in SCRIPTS for message in script if message != "转人工"][:PERIOD]
EARLY, LATE = range(0, 10), range(90, 100)  # turns 1–10 and 91–100 (0-based)
SNAPSHOTS = (10, 100)  # after these turns: the tracker's size
TARGET_RATIO = 1.2  # issue 14: turn 100 costs ≤ 1.2 × turn 5
# The stacks, with their GOVQA_RASA_SPEEDUPS: ours as the launcher starts it, ours with Rasa as installed
# (the same model and action server: what bot/rasa/speedups.py changes), and the floor (bench_floor.py).
STACKS = {"ours": "1", "ours_as_installed": "0", "floor": "1"}


def long_conversation(client: httpx.Client, item: Running, sender: str) -> dict[str, Any]:
    """One 100-turn conversation: per-turn CPU (ms, Rasa and action server) and wall time (ms), and the tracker's size."""
    cpu_ms: list[float] = []
    rasa_ms: list[float] = []
    wall_ms: list[float] = []
    sizes: dict[str, dict[str, int]] = {}
    for turn in range(TURNS):
        rasa_before, actions_before = stack_cpu_seconds(item)
        elapsed, _replies = post_turn(client, item.stack, sender, LONG_TEXTS[turn % PERIOD])
        rasa_after, actions_after = stack_cpu_seconds(item)
        rasa_ms.append((rasa_after - rasa_before) * 1000)
        cpu_ms.append(rasa_ms[-1] + (actions_after - actions_before) * 1000)
        wall_ms.append(elapsed * 1000)
        if turn + 1 in SNAPSHOTS:
            sizes[str(turn + 1)] = tracker_size(client, item, sender)
    return {"cpu_ms": cpu_ms, "rasa_cpu_ms": rasa_ms, "wall_ms": wall_ms, "tracker": sizes}


def tracker_size(client: httpx.Client, item: Running, sender: str) -> dict[str, int]:
    """Events in the tracker's current session and the bytes of its JSON (what each action call carries)."""
    response = client.get(f"{item.stack.rasa_url}/conversations/{sender}/tracker", params={"token": item.stack.token})
    response.raise_for_status()
    tracker = response.json()
    return {"events": len(tracker.get("events") or []), "json_bytes": len(json.dumps(tracker, ensure_ascii=False).encode())}


def window_figures(conversation: Mapping[str, Any]) -> dict[str, float]:
    """Mean CPU per turn and median wall time of each window, and their ratios late / early."""
    def mean(values: Sequence[float], window: range) -> float:
        return sum(values[turn] for turn in window) / len(window)

    figures = {
        "early_cpu_ms": mean(conversation["cpu_ms"], EARLY), "late_cpu_ms": mean(conversation["cpu_ms"], LATE),
        "early_rasa_cpu_ms": mean(conversation["rasa_cpu_ms"], EARLY), "late_rasa_cpu_ms": mean(conversation["rasa_cpu_ms"], LATE),
        "early_wall_ms": _common.median([conversation["wall_ms"][turn] for turn in EARLY]),
        "late_wall_ms": _common.median([conversation["wall_ms"][turn] for turn in LATE]),
    }
    figures["cpu_ratio"] = figures["late_cpu_ms"] / figures["early_cpu_ms"]
    figures["wall_ratio"] = figures["late_wall_ms"] / figures["early_wall_ms"]
    return {key: round(value, 3) for key, value in figures.items()}


def summarise(conversations: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over conversations: the window figures, CPU per turn by tens of turns, the tracker's size."""
    windows = [window_figures(conversation) for conversation in conversations]
    medians = {key: round(_common.median([figures[key] for figures in windows]), 3) for key in windows[0]}
    by_tens = [round(_common.median([sum(c["cpu_ms"][start:start + 10]) / 10 for c in conversations]), 2) for start in range(0, TURNS, 10)]
    sizes = {turn: {key: int(_common.median([c["tracker"][turn][key] for c in conversations])) for key in ("events", "json_bytes")}
             for turn in conversations[0]["tracker"]}
    return {"conversations": len(conversations), "median": medians, "cpu_ms_per_turn_by_tens": by_tens, "tracker": sizes,
            "per_conversation": windows}


def main() -> None:
    parser = turn_arguments(__doc__, conversations=3, conversations_help="100-turn conversations per stack and run")
    parser.add_argument("--stacks", default=",".join(STACKS), help=f"which of {', '.join(STACKS)} (comma-separated)")
    args = parse_turn_arguments(parser)
    chosen = [name for name in args.stacks.split(",") if name]
    if not chosen or set(chosen) - set(STACKS):
        parser.error(f"--stacks: choose from {', '.join(STACKS)}")
    scratch = scratch_dir("bench-long-conversation-")
    model = our_model(args, scratch)
    variants = [Variant(name, floor_model(scratch / "train-floor.log"), {"GOVQA_RASA_SPEEDUPS": STACKS[name]}, FloorStack)
                if name == "floor" else Variant(name, model, {"GOVQA_RASA_SPEEDUPS": STACKS[name]}) for name in chosen]
    running: dict[str, Running] = {}
    measured: dict[str, list[dict[str, Any]]] = {variant.name: [] for variant in variants}
    try:
        start_variants(variants, scratch, base_env(scratch), running)
        with httpx.Client(timeout=60) as client:
            for name, item in running.items():  # warm-up: the first turns of a fresh server are slower
                for turn in range(10):
                    post_turn(client, item.stack, f"warm-{name}", LONG_TEXTS[turn])
            order = list(running)
            for run in range(args.runs):
                for number in range(args.conversations):
                    for name in order if (run * args.conversations + number) % 2 == 0 else reversed(order):
                        conversation = long_conversation(client, running[name], f"long-{name}-{run}-{number}")
                        measured[name].append(conversation)
                        figures = window_figures(conversation)
                        _common.say(f"run {run + 1} conversation {number + 1} {name}: turns 1–10 {figures['early_cpu_ms']:.1f} ms CPU, "
                                    f"91–100 {figures['late_cpu_ms']:.1f} ms (×{figures['cpu_ratio']:.2f}); wall "
                                    f"{figures['early_wall_ms']:.1f} → {figures['late_wall_ms']:.1f} ms; tracker {conversation['tracker']}")
    finally:
        stop_all(running)
    results = {name: summarise(conversations) for name, conversations in measured.items()}
    report = {"machine": _common.machine(), "code": _common.code_version(), "model": model.name, "runs": args.runs,
              "conversations_per_run": args.conversations, "turns": TURNS, "period": PERIOD, "texts": LONG_TEXTS,
              "windows": {"early": "turns 1-10", "late": "turns 91-100"}, "results": results,
              "raw": measured, "target": {"late_to_early": TARGET_RATIO}}
    path = _common.write_report("long-conversation", report)
    print(_common.markdown_table(
        ["stack", "conversations", "CPU ms 1–10", "CPU ms 91–100", "ratio", "wall ms 1–10", "wall ms 91–100", "ratio",
         "events @10", "events @100", "tracker KB @100"],
        [[name, result["conversations"], result["median"]["early_cpu_ms"], result["median"]["late_cpu_ms"], result["median"]["cpu_ratio"],
          result["median"]["early_wall_ms"], result["median"]["late_wall_ms"], result["median"]["wall_ratio"],
          result["tracker"]["10"]["events"], result["tracker"]["100"]["events"], round(result["tracker"]["100"]["json_bytes"] / 1024, 1)]
         for name, result in results.items()],
    ))
    for name, result in results.items():
        print(f"{name}: CPU ms per turn by tens of turns {result['cpu_ms_per_turn_by_tens']} (target late/early ≤ {TARGET_RATIO})")
    print(f"report: {path}")


if __name__ == "__main__":
    main()
