"""The servers as an operator sees them: bound to 127.0.0.1, Rasa's HTTP API behind its token,
conversations kept across a Rasa restart, and `make run`'s launcher stopping cleanly."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil

from tests.support import ROOT, assert_guide_answer, free_port
from tests.support.stack import Assistant


def _listening_hosts(pid: int) -> set[str]:
    process = psutil.Process(pid)
    processes = [process, *process.children(recursive=True)]
    return {c.laddr.ip for p in processes for c in p.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}


def test_servers_listen_on_loopback_only(assistant: Assistant) -> None:
    assert _listening_hosts(assistant.stack.rasa.pid) == {"127.0.0.1"}
    assert _listening_hosts(assistant.stack.actions.pid) == {"127.0.0.1"}
    assert _listening_hosts(assistant.stack.kefu.pid) == {"127.0.0.1"}


def test_rasa_http_api_needs_the_token(assistant: Assistant) -> None:
    status = assistant.stack.rasa_url + "/status"
    assert httpx.get(status, timeout=10).status_code == 401
    assert httpx.get(status, params={"token": "wrong"}, timeout=10).status_code == 401
    assert httpx.get(status, params={"token": assistant.stack.token}, timeout=10).status_code == 200


def test_conversation_survives_a_rasa_restart(assistant: Assistant) -> None:
    chat = assistant.chat()
    assert_guide_answer(chat.say("用水报装要什么材料"), "water-connection", "申请材料")
    assistant.stack.restart_rasa()
    assert_guide_answer(chat.say("那要多久？"), "water-connection", "办理时限")


def test_launcher_prints_how_to_use_it_and_stops_cleanly_on_ctrl_c(assistant: Assistant, tmp_path) -> None:
    rasa_port, action_port, kefu_port = free_port(), free_port(), free_port()
    # The staff token is left unset, as in a first `make run`: the launcher generates it.
    inherited = {key: value for key, value in assistant.stack.env.items() if key != "KEFU_STAFF_TOKEN"}
    env = {**inherited, "GOVQA_RASA_PORT": str(rasa_port), "GOVQA_ACTION_PORT": str(action_port),
           "GOVQA_KEFU_PORT": str(kefu_port),
           "GOVQA_TRACKER_DB": str(tmp_path / "tracker.sqlite3"), "GOVQA_VAR_DIR": str(tmp_path),
           "GOVQA_SECRETS_DIR": str(tmp_path / "secrets")}
    launcher = subprocess.Popen([sys.executable, "-m", "bot.launcher.stack", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    output = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = launcher.stdout.readline()
        output.append(line)
        if "按 Ctrl-C 停止" in line or launcher.poll() is not None:
            break
    text = "".join(output)
    assert f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook" in text and "curl" in text, text
    assert f"http://127.0.0.1:{kefu_port}/#token=" in text  # the web page, with the hall token
    staff_file = tmp_path / "secrets" / "kefu_staff_token"  # the staff desk's own token, generated 600
    assert f"http://127.0.0.1:{kefu_port}/desk" in text and str(staff_file) in text
    assert oct(staff_file.stat().st_mode & 0o777) == "0o600"
    desk = f"http://127.0.0.1:{kefu_port}/desk/api/queue"
    assert httpx.get(desk, headers={"Authorization": f"Bearer {staff_file.read_text().strip()}"}, timeout=30).status_code == 200
    assert httpx.get(desk, headers={"Authorization": "Bearer test-kefu-token"}, timeout=30).status_code == 401
    children = psutil.Process(launcher.pid).children(recursive=True)
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    assert httpx.post(url, json={"sender": "x", "message": "你好"}, timeout=60).status_code == 401
    token = (tmp_path / "secrets" / "rest_token").read_text().strip()
    assert oct((tmp_path / "secrets" / "rest_token").stat().st_mode & 0o777) == "0o600"
    reply = httpx.post(url, json={"sender": "x", "message": "你好"}, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert reply.status_code == 200 and reply.json()
    # No secret on any command line: every local user can read those (ps, /proc/<pid>/cmdline).
    secrets = [path.read_text().strip() for path in (tmp_path / "secrets").iterdir()]
    assert len(secrets) >= 3 and not [c for c in children for s in secrets if s in " ".join(c.cmdline())]

    launcher.send_signal(signal.SIGINT)
    try:
        code = launcher.wait(120)
    except subprocess.TimeoutExpired:
        for process in [launcher, *children]:  # leave no servers behind for the tests that follow
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        raise AssertionError("the launcher did not stop within 120 s of Ctrl-C:\n" + text + launcher.stdout.read()) from None
    assert code == 0
    assert "已停止" in launcher.stdout.read()
    time.sleep(0.5)
    assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    for port in (rasa_port, action_port, kefu_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
