"""The short load run of `make test`: 5 users for 10 s on the REST channel and the hall API, zero
errors (the 50-user numbers in the README come from benchmarks/bench_load.py, not from here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from protocol import REST_TOKEN_ENV
from tests.support import ROOT
from tests.support.stack import Assistant


def test_five_users_for_ten_seconds_without_an_error(assistant: Assistant, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    stack = assistant.stack
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_load.py"), "--users", "5", "--seconds", "10",
         "--rest-url", stack.rest_url, "--kefu-url", stack.kefu_url, "--kefu-token", stack.kefu_token, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, REST_TOKEN_ENV: stack.rest_token},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [channel["channel"] for channel in report["channels"]] == ["rest", "kefu"]
    for channel in report["channels"]:
        assert channel["errors"] == 0, channel["error_examples"]
        assert channel["requests"] >= 10
