"""Shared helpers for the benchmark scripts: paths, timed child processes with their peak RSS,
statistics, the machine description, Markdown tables and the JSON reports.

Not a benchmark itself. Importing it puts the repository root on ``sys.path`` so that the
scripts (run as ``var/venv-app/bin/python benchmarks/<name>.py``) can import ``knowledge``.

Peak RSS of a child is exact, not sampled: each child is reaped with ``os.wait4``, which
returns that one child's ``ru_maxrss`` (``RUSAGE_CHILDREN`` would give the maximum over every
child the benchmark ever waited for).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
APP_PYTHON = ROOT / "var" / "venv-app" / "bin" / "python"
REPORTS_DIR = ROOT / "var" / "reports"
BENCH_VAR = ROOT / "var" / "bench"
# The evaluation sets are the folders of tests/data/ (one source: adding a folder registers its set). unseen*:
# held out, measured and reported, never used to choose a design; dev*: the development sets designs are chosen on.
DATA_SETS = ROOT / "tests" / "data"
HELD_OUT_SETS = tuple(sorted((p.name for p in DATA_SETS.glob("unseen*") if (p / "questions.yml").is_file()),
                             key=lambda name: (len(name), name)))
DEV_SETS = tuple(sorted((p.name for p in DATA_SETS.glob("dev*") if (p / "questions.yml").is_file()),
                        key=lambda name: (len(name), name)))

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_EMBEDDED = re.compile(r"新向量化 (\d+) 个")
_INTERNAL_SECONDS = re.compile(r"用时 ([\d.]+) 秒")


def free_port() -> int:
    """A free TCP port on 127.0.0.1, for a stack of the benchmark's own."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def python() -> str:
    """The app interpreter (index_builder.py would re-exec itself into it anyway)."""
    return str(APP_PYTHON) if APP_PYTHON.exists() else sys.executable


@dataclass
class ChildRun:
    """One finished child process."""

    argv: list[str]
    seconds: float  # wall time from spawn to exit, as the person who typed the command sees it
    returncode: int
    max_rss_mb: float  # peak resident set size of this child (ru_maxrss from wait4)
    user_seconds: float
    system_seconds: float
    output: str  # stdout and stderr, interleaved

    @property
    def embedded(self) -> int | None:
        """Chunks embedded by a build, from its "新向量化 N 个" line."""
        found = _EMBEDDED.findall(self.output)
        return int(found[-1]) if found else None

    @property
    def internal_seconds(self) -> float | None:
        """build_index's own timer, from its "用时 X 秒" line (excludes start-up and imports)."""
        found = _INTERNAL_SECONDS.findall(self.output)
        return float(found[-1]) if found else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "returncode": self.returncode,
            "max_rss_mb": round(self.max_rss_mb, 1),
            "user_seconds": round(self.user_seconds, 2),
            "system_seconds": round(self.system_seconds, 2),
            "cpu_utilisation": round((self.user_seconds + self.system_seconds) / self.seconds, 2) if self.seconds else None,
            "embedded": self.embedded,
            "build_index_seconds": self.internal_seconds,
            "load_average_at_exit": round(os.getloadavg()[0], 2),  # the machine is shared: was it busy?
        }


def run_child(
    argv: Sequence[str], env: Mapping[str, str] | None = None, *, log: Path | None = None, check: bool = True
) -> ChildRun:
    """Run a command from the repository root, wait for it, and return its wall time and peak RSS.

    Output goes to ``log`` (or a temporary file), never to a pipe, so a chatty child cannot block.
    """
    environment = dict(os.environ)
    environment.update(env or {})
    environment.setdefault("HF_HUB_OFFLINE", "1")
    environment.setdefault("TRANSFORMERS_OFFLINE", "1")
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    log_path = log or BENCH_VAR / f".child-{os.getpid()}.log"
    with open(log_path, "w", encoding="utf-8") as handle:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), cwd=ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    if log is None:
        log_path.unlink(missing_ok=True)
    run = ChildRun(
        argv=list(argv), seconds=seconds, returncode=process.returncode, max_rss_mb=usage.ru_maxrss / 1024,
        user_seconds=usage.ru_utime, system_seconds=usage.ru_stime, output=output,
    )
    if check and run.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {run.returncode}:\n{output[-3000:]}")
    return run


# --- statistics ----------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / max / mean of latencies given in seconds, in milliseconds."""
    ms = [value * 1000 for value in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2) if ms else math.nan,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else math.nan,
    }


# --- the machine -------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM, load, date: enough to compare numbers between machines."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    ram_gb = math.nan
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    return {
        "nproc": nproc,
        "cpu_model": model,
        "ram_gb": ram_gb,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def machine_line(info: Mapping[str, Any] | None = None) -> str:
    info = info or machine()
    load = "/".join(str(value) for value in info["load_average"])
    return (f"{info['nproc']} CPU ({info['cpu_model']}), {info['ram_gb']} GB RAM, load {load}, "
            f"Python {info['python']}, {info['date']}")


# --- output ----------------------------------------------------------------------------------
def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.2f}" if abs(value) < 100 else f"{value:.1f}"
        return "-" if value is None else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(name: str, data: Mapping[str, Any]) -> Path:
    """var/reports/bench-<name>.json"""
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORTS_DIR / f"bench-{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def read_report(name: str) -> dict[str, Any] | None:
    path = REPORTS_DIR / f"bench-{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def build_env(*, index_dir: Path, cache: Path, reports: Path, guides: Path | None = None,
              documents: Path | None = None) -> dict[str, str]:
    """GOVQA_* overrides for an ``index_builder.py`` child (settings.yml keys, upper case)."""
    env = {
        "GOVQA_INDEX_DIR": str(index_dir),
        "GOVQA_EMBEDDING_CACHE": str(cache),
        "GOVQA_REPORTS_DIR": str(reports),
    }
    if guides is not None:
        env["GOVQA_GUIDES_DIR"] = str(guides)
    if documents is not None:
        env["GOVQA_DOCUMENTS_DIR"] = str(documents)
    return env


def say(message: str) -> None:
    print(f"[{dt.datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def code_version() -> dict[str, Any]:
    """The commit measured, and whether the package had uncommitted changes."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = git("status", "--porcelain", "--", "knowledge", "index_builder.py", "settings.yml")
    return {"commit": git("rev-parse", "--short", "HEAD"), "package_modified": bool(changed)}
