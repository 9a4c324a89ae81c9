"""The action server's CPU per conversation turn and its memory with each query engine (settings.yml
``query_engine``: onnx vs torch), measured in one run with bench_turn_cpu's machinery.

What: two complete stacks (a Rasa server and its own action server each) on the same trained model,
one action server with GOVQA_QUERY_ENGINE=onnx and one with torch, both without the recent-questions
cache (base_env). Short scripted conversations go to each in blocks that alternate ABBA… over
--runs runs (drift of the shared machine hits both); per block the CPU seconds of each action
server's process tree (and of its Rasa server) divided by the turns. Reported: the median over
runs, the ratio onnx / torch, each action server's RSS after the runs (psutil), whether torch is
loaded in it (/proc/<pid>/maps), and the load average before and after.

    var/venv-app/bin/python benchmarks/bench_engine_cpu.py [--runs 3] [--conversations 14] [--model var/models/x.tar.gz]

Writes var/reports/bench-engine-cpu.json.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import _common
import bench_turn_cpu as turn
import httpx
import psutil

from bot.launcher.stack import Stack


class TorchStack(Stack):
    """The same stack; its own class so that bench_turn_cpu starts it a second action server."""


ENGINES = {"onnx": Stack, "torch": TorchStack}


def torch_mapped(pid: int) -> bool:
    """Whether the process has torch's shared library mapped (it imported torch)."""
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text(errors="replace")
    except OSError:
        return False


def main() -> None:
    args = turn.parse_turn_arguments(turn.turn_arguments(__doc__))
    scratch = turn.scratch_dir("bench-engine-cpu-")
    model = turn.our_model(args, scratch)
    started = time.perf_counter()
    load_before = [round(value, 2) for value in os.getloadavg()]
    running: dict[str, turn.Running] = {}
    memory: dict[str, dict[str, object]] = {}
    try:
        turn.start_variants([turn.Variant(name, model, {"GOVQA_QUERY_ENGINE": name}, stack_class=kind)
                             for name, kind in ENGINES.items()], scratch, turn.base_env(scratch), running)
        with httpx.Client(timeout=60) as client:
            runs = turn.alternate_blocks(client, running, args.runs, args.conversations)
        for name, item in running.items():
            process = psutil.Process(item.actions_pid)
            tree = [process, *process.children(recursive=True)]
            memory[name] = {"actions_rss_mb": round(sum(p.memory_info().rss for p in tree) / 2**20, 1),
                            "torch_loaded": any(torch_mapped(p.pid) for p in tree)}
    finally:
        turn.stop_all(running)
    medians = turn.block_medians(runs)
    ratio = turn.ratios(medians["onnx"], medians["torch"])
    report = {"machine": _common.machine(), "code": _common.code_version(), "model": model.name, "runs": args.runs,
              "conversations_per_block": args.conversations, "median": medians, "ratio_onnx_to_torch": ratio,
              "action_servers": memory, "load_before": load_before, "load_after": [round(v, 2) for v in os.getloadavg()],
              "runs_detail": runs, "seconds": round(time.perf_counter() - started, 1)}
    path = _common.write_report("engine-cpu", report)
    print(turn.variants_table(runs, medians))
    print(f"onnx / torch: action server CPU {ratio['actions_cpu_ms_per_turn']}, all CPU {ratio['cpu_ms_per_turn']}, "
          f"p50 {ratio['p50_ms']}, p95 {ratio['p95_ms']}")
    print("action servers after the runs:", memory)
    print(f"load average before / after: {report['load_before']} / {report['load_after']}")
    print(f"report: {path}")


if __name__ == "__main__":
    main()
