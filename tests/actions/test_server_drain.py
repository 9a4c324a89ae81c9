"""The action server behind HAProxy (actions/server.py): /health names the index version it serves, and a
SIGTERM first fails /health (HAProxy takes the server out) while action calls are still answered, then
stops the server after BALANCER_DRAIN_SECONDS. A real server process on a real published index."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from knowledge.index.builder import BuildReport
from knowledge.settings import Settings
from protocol import ACTION_TOKEN_ENV, DRAIN_ENV
from tests.support import ROOT, free_port

TOKEN = "test-action-token"
DRAIN = 3.0


def _call(port: int) -> httpx.Response:
    body = {"next_action": "action_answer", "sender_id": "test-drain",
            "tracker": {"sender_id": "test-drain", "slots": {}, "events": [], "latest_message": {
                "text": "开公司要带什么材料", "intent": {"name": "ask_materials", "confidence": 0.9}, "entities": []}},
            "domain": {}, "version": "3.6.21"}
    return httpx.post(f"http://127.0.0.1:{port}/webhook", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


def test_sigterm_drains_out_of_the_balancer_and_keeps_answering_then_stops(bundled: tuple[Settings, BuildReport],
                                                                          tmp_path: Path) -> None:
    settings, report = bundled
    port = free_port()
    env = {**os.environ, "GOVQA_INDEX_DIR": str(settings.index_dir), "GOVQA_RECORDS_DB": str(tmp_path / "records.sqlite3"),
           ACTION_TOKEN_ENV: TOKEN, DRAIN_ENV: str(DRAIN), "GOVQA_DATABASE_URL": ""}
    log = open(tmp_path / "actions.log", "w")  # closed in finally
    server = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert health is not None and health.json() == {"status": "ok", "index_version": report.version}
        assert _call(port).status_code == 200

        os.killpg(server.pid, signal.SIGTERM)
        stopped_at = time.monotonic()
        time.sleep(0.3)
        draining = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert (draining.status_code, draining.json()["status"]) == (503, "draining")
        answered = _call(port)  # what still arrives is answered, not cut off
        assert answered.status_code == 200 and answered.json()["responses"], answered.text
        assert server.poll() is None
        server.wait(30)
        assert DRAIN - 0.5 <= time.monotonic() - stopped_at < DRAIN + 20
        assert server.returncode == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
