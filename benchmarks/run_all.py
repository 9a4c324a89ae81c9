"""Run the benchmarks and print one Markdown table of the headline numbers, with the machine.

What: bench_build.py (bundled knowledge base, cold and warm builds), bench_large.py (only with
``--large``: 5000 generated guides, cold build, one-guide rebuilds, breakdown; tens of minutes
on 2 cores) and bench_query.py (query latency on the bundled index, and on the 5000-guide index
when it exists), bench_conversation.py (per-turn latency through the running Rasa and action
servers), bench_load.py (50 concurrent users on the REST channel and the hall API) and
bench_switch.py (publish → first answer from the new index), bench_floor.py (our turn against a
minimal Rasa project, same run) and bench_long_conversation.py (turns 91–100 against 1–10 of
100-turn conversations) and bench_engine_cpu.py (the action server's CPU per turn with the ONNX query
engine against torch, same run), one after the other so they
never compete for the CPU. Then one table from their JSON reports (var/reports/bench-*.json) plus the machine: nproc, CPU model
(/proc/cpuinfo), RAM, load average, date, and the commit measured.

How: each benchmark is a child process whose output is shown as it runs; a failing benchmark
is reported and the others still run. ``--report-only`` prints the table from the reports
already written, without running anything.

    var/venv-app/bin/python benchmarks/run_all.py [--large] [--report-only]

Writes var/reports/bench-run_all.json.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from typing import Any

import _common


def _run(script: str) -> dict[str, Any]:
    _common.say(f"running benchmarks/{script}")
    started = time.perf_counter()
    status = subprocess.run([_common.python(), f"benchmarks/{script}"], cwd=_common.ROOT, check=False).returncode
    return {"script": script, "returncode": status, "seconds": round(time.perf_counter() - started, 1)}


def _query_row(name: str, result: dict[str, Any]) -> list[Any]:
    summary = result["summary"]
    counts = result.get("counts", {})
    parts = summary["parts"]
    share = 100 * parts["embedding"]["mean_ms"] / summary["mean_ms"] if summary["mean_ms"] else 0.0
    return [
        f"query, {name} ({counts.get('guides')} guides, {counts.get('chunks')} chunks)",
        f"{summary['passes']} passes × {summary['questions_per_pass']}",
        f"p50 {summary['p50_ms']:.1f} ms",
        f"p95 {summary['p95_ms']:.1f} ms, max {summary['max_ms']:.1f} ms; embedding {share:.0f}% of mean "
        f"({parts['embedding']['p50_ms']:.1f} ms p50); load index {result['load_index_s']:.1f} s, first question {result['first_question_s']:.1f} s",
        f"{result['rss_mb']['after_loading']:.0f} after loading, {result['rss_mb']['after_passes']:.0f} after passes",
    ]


def headline() -> tuple[list[list[Any]], dict[str, Any]]:
    rows: list[list[Any]] = []
    build = _common.read_report("build")
    if build:
        for kind, label in (("cold", "empty embedding cache"), ("warm", "cache filled, 0 re-embedded")):
            data = build[kind]
            rows.append([
                f"build bundled KB, {kind} ({label})", data["runs"], f"{data['median_s']:.1f} s",
                "runs: " + ", ".join(f"{run['seconds']:.1f}" for run in data["all"]) + f" s; build_index {data['median_build_index_s']:.1f} s",
                f"{data['median_peak_rss_mb']:.0f}",
            ])
    large = _common.read_report("large")
    if large and "cold" in large:
        cold = large["cold"]
        rows.append([f"build {large['guides']} guides, cold, --no-gate", 1, f"{cold['seconds']:.0f} s",
                     f"{cold['embedded']} chunks embedded ({cold['embedded'] / cold['seconds']:.0f}/s wall)" if cold.get("embedded") else "",
                     f"{cold['max_rss_mb']:.0f}"])
        if "rebuild" in large:
            rebuild = large["rebuild"]
            rows.append([f"rebuild {large['guides']} guides after editing 1", rebuild["runs"], f"{rebuild['median_s']:.1f} s",
                         "runs: " + ", ".join(f"{run['seconds']:.1f}" for run in rebuild["all"]) + " s; re-embedded "
                         + ", ".join(str(run["embedded"]) for run in rebuild["all"]),
                         f"{rebuild['median_peak_rss_mb']:.0f}"])
        if "breakdown" in large:
            top = large["breakdown"]["phases"][:3]
            breakdown = large["breakdown"]
            rows.append([f"  where a {large['guides']}-guide rebuild goes", breakdown["runs"], f"{breakdown['median_wall_s']:.1f} s",
                         "; ".join(f"{row['phase']} {row['median_s']:.1f} s" for row in top), ""])
    query = _common.read_report("query")
    if query:
        for name, result in query["results"].items():
            rows.append(_query_row(name, result))
    conversation = _common.read_report("conversation")
    if conversation:
        turns, memory = conversation["turns"], conversation["rss_after_run"]
        rows.append([f"conversation turn via REST (Rasa + actions), one user, {conversation['warm_up_turns']} warm-up turns", 1,
                     f"p50 {turns['p50_ms']:.1f} ms", f"p95 {turns['p95_ms']:.1f} ms, max {turns['max_ms']:.1f} ms over {turns['n']} turns; "
                     f"stack ready in {conversation['stack_ready_seconds']:.0f} s",
                     f"Rasa {memory.get('rasa_server_mb', 0):.0f}, actions {memory.get('action_server_mb', 0):.0f} (RSS after run)"])
    load = _common.read_report("load")
    if load:
        for channel in load["channels"]:
            rows.append([f"load: {load['users']} users × {load['seconds_per_channel']:.0f} s, {channel['channel']}", 1,
                         f"p50 {channel['p50_ms']} ms", f"p95 {channel['p95_ms']} ms, p99 {channel['p99_ms']} ms; "
                         f"{channel['throughput_rps']} req/s; {channel['requests']} requests, {channel['errors']} errors", ""])
    switch = _common.read_report("switch")
    if switch:
        rows.append(["publish → first answer from the new index", switch["runs"], f"{switch['median_seconds']:.2f} s",
                     f"max {switch['max_seconds']:.2f} s; watcher polls every {switch['poll_seconds']} s", ""])
    floor = _common.read_report("floor")
    if floor:
        ours, installed = floor["median"]["ours"], floor["median"]["floor_as_installed"]
        ratio, strict = floor["ratio_ours_to_floor_as_installed"], floor["ratio_ours_to_floor"]
        # Older reports named the target after the stricter ratio; the number is the same.
        target = floor["target"].get("ratio_ours_to_floor_as_installed", floor["target"].get("ratio_ours_to_floor"))
        rows.append([f"turn CPU, ours / Rasa floor as installed (same run; floor with our speedups: {strict['cpu_ms_per_turn']}×)",
                     floor["runs"], f"{ratio['cpu_ms_per_turn']}×",
                     f"CPU {ours['cpu_ms_per_turn']} / {installed['cpu_ms_per_turn']} ms; p50 {ours['p50_ms']} / {installed['p50_ms']} ms "
                     f"(×{ratio['p50_ms']}); target ≤ {target}", ""])
    long = _common.read_report("long-conversation")
    if long:
        for name, result in long["results"].items():
            median = result["median"]
            rows.append([f"turn CPU at 91–100 / 1–10 of a 100-turn conversation, {name}", result["conversations"],
                         f"{median['cpu_ratio']}×", f"CPU {median['early_cpu_ms']} → {median['late_cpu_ms']} ms, wall "
                         f"{median['early_wall_ms']} → {median['late_wall_ms']} ms (×{median['wall_ratio']}); target ≤ "
                         f"{long['target']['late_to_early']}", ""])
    reports = {"build": build, "large": large, "query": query, "conversation": conversation, "load": load, "switch": switch,
               "floor": floor, "long-conversation": long}
    return rows, reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="also run bench_large.py (tens of minutes)")
    parser.add_argument("--report-only", action="store_true", help="only print the table from existing reports")
    args = parser.parse_args(argv)

    info = _common.machine()
    runs: list[dict[str, Any]] = []
    if not args.report_only:
        scripts = ["bench_build.py", *(["bench_large.py"] if args.large else []), "bench_query.py", "bench_conversation.py",
                   "bench_load.py", "bench_switch.py", "bench_floor.py", "bench_long_conversation.py", "bench_engine_cpu.py"]
        runs = [_run(script) for script in scripts]
    rows, reports = headline()
    code = _common.code_version()
    print("\n## Benchmarks\n")
    print(f"Machine: {_common.machine_line(info)}; commit {code['commit']}{' (package modified)' if code['package_modified'] else ''}\n")
    print(_common.markdown_table(["what", "runs", "median", "detail", "peak RSS (MB)"], rows))
    failed = [run for run in runs if run["returncode"] != 0]
    for run in failed:
        print(f"\nbenchmarks/{run['script']} FAILED (exit {run['returncode']})")
    measured = {name: (report or {}).get("machine", {}).get("date") for name, report in reports.items()}
    print("\nMeasured: " + ", ".join(f"{name} {date}" for name, date in measured.items() if date))
    path = _common.write_report("run_all", {"machine": info, "code": code, "runs": runs, "headline": rows, "measured": measured})
    print(f"report: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
