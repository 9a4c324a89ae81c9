"""The launcher's child processes: where their Pythons are, the environment they share, waiting for one
to be ready and stopping them (every child runs in a process group of its own)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Collection
from pathlib import Path

from knowledge.settings import ROOT

APP_PYTHON = ROOT / "var" / "venv-app" / "bin" / "python"
RASA = ROOT / "var" / "venv-rasa" / "bin" / "rasa"
RASA_PYTHON = RASA.with_name("python")
# The environment of every Rasa and action server child: no telemetry, no hub, quiet TensorFlow, and
# Rasa's component cache under var/ (its default .rasa/ in the work tree grows to hundreds of MB).
CHILD_ENV = {"RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "HF_HUB_OFFLINE": "1",
             "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore", "RASA_CACHE_DIRECTORY": str(ROOT / "var" / "rasa" / "cache")}


class StackError(RuntimeError):
    """Something the operator must fix before the assistant can run (the message says what, in Chinese)."""


def wait_http(url: str, process: subprocess.Popen, timeout: float, what: str, log: Path) -> None:
    """Wait until `url` answers 200; a StackError (in Chinese, with the log's last error) when `process` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{what}启动失败（退出码 {process.returncode}）{last_error(log)}，日志：{log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise StackError(f"{what}在 {timeout:.0f} 秒内没有就绪，日志：{log}")


def last_error(log: Path) -> str:
    """The last ERROR line of a child's log, so the launcher can say why it did not start."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    errors = [line for line in lines[-200:] if " ERROR " in line or line.startswith("ERROR")]
    return f"：{errors[-1].split(': ', 1)[-1].strip()}" if errors else ""


def terminate(*processes: subprocess.Popen, grace: float = 10, interrupt: Collection[subprocess.Popen] = ()) -> None:
    """SIGTERM every process group at once (SIGINT those in `interrupt`), then SIGKILL what is still running
    after `grace` seconds (one shared deadline: Ctrl-C takes at most `grace`, not `grace` per server).

    SIGINT is for servers behind HAProxy when the whole stack stops: on SIGTERM they would first drain out
    of the balancer for DRAIN_SECONDS (bot/rasa/instance.py, actions/server.py), pointless when the balancer
    goes too, and time taken from their own shutdown (the action server's pending record writes)."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT if process in interrupt else signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
