"""Full build of the bundled knowledge base (knowledge/guides + knowledge/documents), cold and warm.

What: wall time and peak RSS of ``index_builder.py build`` (validation → chunks → embedding →
FAISS + BM25 → eval gate → publish), the command an admin runs, into a temporary index folder:

- cold: a fresh, empty embedding cache file: every chunk is embedded;
- warm: the cache already holds every chunk (copied from the first cold run): nothing is
  re-embedded (the run checks "新向量化 0 个"), the model is still loaded for the eval gate.

How: each run is a fresh ``var/venv-app/bin/python index_builder.py build`` child process, so
interpreter start-up, imports and model loading count as the admin would see them. Settings
point into the temporary folder through GOVQA_INDEX_DIR, GOVQA_EMBEDDING_CACHE and
GOVQA_REPORTS_DIR (the same as ``load_settings(index_dir=tmp, embedding_cache=tmp,
reports_dir=tmp)``); each run gets a new empty index folder. Wall time is spawn-to-exit; peak
RSS is the child's own ``ru_maxrss`` from ``os.wait4``. Runs alternate cold/warm so slow phases
of the shared machine hit both. After the timed runs, one cold and one warm run go through
benchmarks/_instrumented_build.py for a phase breakdown (not part of the medians).

    var/venv-app/bin/python benchmarks/bench_build.py [--runs 3] [--no-phases]

Writes var/reports/bench-build.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import _common


def _build(workdir: Path, cache: Path, log: Path, phases: Path | None = None) -> _common.ChildRun:
    env = _common.build_env(index_dir=workdir / "index", cache=cache, reports=workdir / "reports")
    if phases is None:
        argv = [_common.python(), "index_builder.py", "build"]
    else:
        argv = [_common.python(), "benchmarks/_instrumented_build.py", "--phases", str(phases), "--", "build"]
    return _common.run_child(argv, env, log=log)


def _summary(runs: list[_common.ChildRun]) -> dict[str, Any]:
    return {
        "runs": len(runs),
        "median_s": round(_common.median([run.seconds for run in runs]), 2),
        "median_build_index_s": round(_common.median([run.internal_seconds or 0.0 for run in runs]), 2),
        "median_peak_rss_mb": round(_common.median([run.max_rss_mb for run in runs]), 1),
        "all": [run.as_dict() for run in runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="cold runs and warm runs (each)")
    parser.add_argument("--no-phases", action="store_true", help="skip the instrumented breakdown runs")
    args = parser.parse_args(argv)

    info = _common.machine()
    _common.say(f"bench_build on {_common.machine_line(info)}")
    cold: list[_common.ChildRun] = []
    warm: list[_common.ChildRun] = []
    phases: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="govqa-bench-build-") as temporary:
        root = Path(temporary)
        filled = root / "filled-cache.sqlite3"
        for number in range(1, args.runs + 1):
            workdir = root / f"cold-{number}"
            cache = workdir / "embeddings.sqlite3"  # does not exist yet: a fresh, empty cache
            run = _build(workdir, cache, root / f"cold-{number}.log")
            cold.append(run)
            _common.say(f"cold {number}: {run.seconds:.1f} s, peak RSS {run.max_rss_mb:.0f} MB, embedded {run.embedded}")
            shutil.copyfile(cache, filled)  # the newest complete cache is the warm runs' starting point
            shutil.rmtree(workdir)

            workdir = root / f"warm-{number}"
            workdir.mkdir()
            cache = workdir / "embeddings.sqlite3"
            shutil.copyfile(filled, cache)
            run = _build(workdir, cache, root / f"warm-{number}.log")
            if run.embedded != 0:  # only if the knowledge base or chunking changed between runs
                _common.say(f"warning: warm run {number} embedded {run.embedded} chunks (sources changed meanwhile?)")
            shutil.copyfile(cache, filled)  # keep the reference cache complete for the next runs
            warm.append(run)
            _common.say(f"warm {number}: {run.seconds:.1f} s, peak RSS {run.max_rss_mb:.0f} MB, embedded {run.embedded}")
            shutil.rmtree(workdir)

        if not args.no_phases:
            for kind in ("cold", "warm"):
                workdir = root / f"phases-{kind}"
                workdir.mkdir()
                cache = workdir / "embeddings.sqlite3"
                if kind == "warm":
                    shutil.copyfile(filled, cache)
                out = root / f"phases-{kind}.json"
                run = _build(workdir, cache, root / f"phases-{kind}.log", phases=out)
                data = json.loads(out.read_text(encoding="utf-8"))
                data["wall_s"] = round(run.seconds, 3)
                data["startup_and_exit_s"] = round(run.seconds - data["imports_s"] - data["main_s"], 3)
                phases[kind] = data
                _common.say(f"phases {kind}: {run.seconds:.1f} s")

    chunks = None
    for line in cold[0].output.splitlines():
        if "切块" in line and "个" in line:
            chunks = line.strip()
            break
    report = {
        "benchmark": "build",
        "what": "index_builder.py build of the bundled knowledge base, fresh child process per run",
        "machine": info,
        "code": _common.code_version(),
        "knowledge_base": chunks,
        "cold": _summary(cold),
        "warm": _summary(warm),
        "phases": phases,
    }
    path = _common.write_report("build", report)

    rows: list[list[Any]] = []
    for name, runs in (("cold (empty cache)", cold), ("warm (cache filled)", warm)):
        rows.append([
            name, len(runs), _common.median([r.seconds for r in runs]),
            ", ".join(f"{r.seconds:.1f}" for r in runs),
            _common.median([r.internal_seconds or 0.0 for r in runs]),
            _common.median([r.max_rss_mb for r in runs]), runs[0].embedded,
        ])
    print()
    print(f"Bundled knowledge base: {chunks}\n")
    print(_common.markdown_table(
        ["build", "runs", "median wall (s)", "all runs (s)", "median build_index (s)", "median peak RSS (MB)", "embedded"], rows))
    if phases:
        labels = list(phases["cold"]["phases"])
        table = [[label, phases["cold"]["phases"][label]["exclusive_s"],
                  phases.get("warm", {}).get("phases", {}).get(label, {}).get("exclusive_s", 0.0)]
                 for label in labels if phases["cold"]["phases"][label]["exclusive_s"] >= 0.01]
        table.append(["imports (knowledge, faiss, numpy, scipy, jieba)", phases["cold"]["imports_s"], phases["warm"]["imports_s"]])
        table.append(["interpreter start-up + exit", phases["cold"]["startup_and_exit_s"], phases["warm"]["startup_and_exit_s"]])
        table.append(["wall (instrumented run)", phases["cold"]["wall_s"], phases["warm"]["wall_s"]])
        print()
        print("Where the time goes (one instrumented run each, exclusive seconds, phases ≥ 0.01 s):\n")
        print(_common.markdown_table(["phase", "cold (s)", "warm (s)"], table))
    print(f"\nreport: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
