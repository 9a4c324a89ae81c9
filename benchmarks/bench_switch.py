"""Guide update to answer: how long after `index_builder.py build` publishes does the running
assistant answer from the new index?

What: the time from the moment the new version is published (the mtime of the index's CURRENT
pointer, written atomically by the build) to the first reply on Rasa's REST channel that carries
the new index version — the action server's watcher polls every `index_poll_seconds` (2 s in
settings.yml) and loads the new version fully before it swaps. Target: within 5 s, no restart.

How: a private copy of the knowledge base and its own index under var/bench/, a stack started
with bot.launcher.stack.Stack (action server + Rasa, free ports), then RUNS times: change one guide
(append a sentence to its FAQ), `index_builder.py build` (eval gate on, as an admin runs it),
and ask every 50 ms until the answer comes from the new version.

    var/venv-app/bin/python benchmarks/bench_switch.py [--runs 5]

Writes var/reports/bench-switch.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import _common
import httpx

from bot.launcher.stack import Stack
from knowledge.index.store import IndexStore

GUIDE = "water-connection"
QUESTION = "用水报装要什么材料"


def _env(scratch: Path) -> dict[str, str]:
    return {"GOVQA_GUIDES_DIR": str(scratch / "guides"), "GOVQA_DOCUMENTS_DIR": str(scratch / "documents"),
            "GOVQA_INDEX_DIR": str(scratch / "index"), "GOVQA_REPORTS_DIR": str(scratch / "reports"),
            "GOVQA_TRACKER_DB": str(scratch / "tracker.sqlite3"), "GOVQA_RECORDS_DB": str(scratch / "records.sqlite3")}


def _build(env: dict[str, str]) -> None:
    done = subprocess.run([_common.python(), "index_builder.py", "build"], cwd=_common.ROOT, env={**os.environ, **env},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stdout}\n{done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    _common.BENCH_VAR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-switch-", dir=_common.BENCH_VAR))
    shutil.copytree(_common.ROOT / "knowledge" / "guides", scratch / "guides")
    shutil.copytree(_common.ROOT / "knowledge" / "documents", scratch / "documents")
    env = _env(scratch)
    _common.say("building the private index")
    _build(env)
    stack = Stack(ports=(_common.free_port(), _common.free_port()), env=env, logs=scratch / "logs")
    _common.say("starting the action server and the Rasa server")
    stack.start(channels=False)
    store = IndexStore(scratch / "index")
    seconds: list[float] = []
    try:
        with httpx.Client(timeout=60) as client:
            for run in range(args.runs):
                path = scratch / "guides" / f"{GUIDE}.md"
                path.write_text(path.read_text(encoding="utf-8") + f"\n补充说明第 {run + 1} 次更新。\n", encoding="utf-8")
                _build(env)
                version = store.current_version()
                published = (scratch / "index" / "CURRENT").stat().st_mtime
                while True:
                    reply = client.post(stack.rest_url, json={"sender": f"switch-{run}-{time.time()}", "message": QUESTION},
                                         headers=stack.rest_headers).json()
                    served = next((m["custom"]["answer"]["index_version"] for m in reply if "answer" in (m.get("custom") or {})), None)
                    if served == version:
                        seconds.append(time.time() - published)
                        break
                    if time.time() - published > 60:
                        raise SystemExit(f"version {version} not served after 60 s")
                    time.sleep(0.05)
                _common.say(f"run {run + 1}: served {seconds[-1]:.2f} s after publishing")
    finally:
        stack.stop()
    report = {"machine": _common.machine(), "code": _common.code_version(), "runs": args.runs,
              "poll_seconds": stack.settings.index_poll_seconds, "seconds": [round(s, 2) for s in seconds],
              "median_seconds": round(statistics.median(seconds), 2), "max_seconds": round(max(seconds), 2)}
    path = _common.write_report("switch", report)
    print(_common.markdown_table(["runs", "poll s", "median s", "max s"],
                                 [[args.runs, report["poll_seconds"], report["median_seconds"], report["max_seconds"]]]))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
