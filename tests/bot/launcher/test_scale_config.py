"""The scale-out settings as an operator meets them: a clear refusal when the shared stores are
missing, the HAProxy configuration HAProxy itself accepts (retrying only refused connections), Rasa's
endpoints with the stores and no password, and passwords hidden wherever a URL is shown."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.launcher.balancer import BalancerError, ServerPool, haproxy_config, port_clash, scale_out_problem, write_endpoints
from bot.launcher.servers import redact
from tests.support import ROOT


@pytest.mark.integration  # a subprocess of the launcher
def test_several_instances_without_shared_stores_are_refused_in_chinese(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "GOVQA_RASA_INSTANCES": "2", "GOVQA_DATABASE_URL": "", "GOVQA_REDIS_URL": "",
           "GOVQA_VAR_DIR": str(tmp_path), "GOVQA_SECRETS_DIR": str(tmp_path / "secrets")}
    done = subprocess.run([sys.executable, "-m", "bot.launcher.stack", "run"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "GOVQA_RASA_INSTANCES=2" in done.stderr and "GOVQA_DATABASE_URL" in done.stderr and "GOVQA_REDIS_URL" in done.stderr
    assert not (tmp_path / "logs").exists()  # nothing was started


def _pool(name: str, port: int, ports: list[int], health: str, host: str = "127.0.0.1") -> ServerPool:
    def never(_port: int, _log: Path) -> subprocess.Popen:
        raise AssertionError("not started in this test")

    return ServerPool(name, name, host, port, ports, health, never, Path("/nonexistent"))


def test_a_store_url_of_the_wrong_kind_is_refused() -> None:
    assert scale_out_problem(1, "", "") is None
    assert "action_instances" in (scale_out_problem(1, "", "", action_instances=0) or "")
    assert "PostgreSQL" in (scale_out_problem(1, "mysql://u:p@h/db", "") or "")
    assert "redis://" in (scale_out_problem(1, "", "127.0.0.1:6379") or "")
    assert scale_out_problem(1, "postgres://u:p@h/db", "redis://:p@h:6379/0") is None


@pytest.mark.integration  # HAProxy itself checks the file
def test_haproxy_accepts_the_config_and_retries_only_refused_connections(tmp_path: Path) -> None:
    if not shutil.which("haproxy"):
        pytest.skip("未安装 haproxy：运行 bash scripts/setup_servers.sh")
    config = haproxy_config([_pool("rasa", 5005, [5006, 5007], "/"), _pool("actions", 5055, [5056, 5057], "/health")],
                            timeout_seconds=40)
    path = tmp_path / "haproxy.cfg"
    path.write_text(config, encoding="utf-8")
    checked = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    retry_lines = [line.strip() for line in config.splitlines() if line.strip().startswith("retry-on")]
    assert retry_lines == ["retry-on conn-failure"]
    assert "option redispatch 1" in config and "option httpchk GET /" in config
    assert "server rasa1 127.0.0.1:5006 check" in config and "server rasa2 127.0.0.1:5007 check" in config
    # The action servers: their own frontend on action_port, checked on /health.
    assert "bind 127.0.0.1:5055" in config and "option httpchk GET /health" in config
    assert "server actions1 127.0.0.1:5056 check" in config and "server actions2 127.0.0.1:5057 check" in config


def test_each_pool_listens_and_checks_on_its_own_host() -> None:
    config = haproxy_config([_pool("rasa", 5005, [5006, 5007], "/", host="10.0.0.5"),
                             _pool("actions", 5055, [5056, 5057], "/health", host="127.0.0.1")])
    assert "bind 10.0.0.5:5005" in config and "server rasa1 10.0.0.5:5006 check" in config
    assert "bind 127.0.0.1:5055" in config and "server actions2 127.0.0.1:5057 check" in config  # not on the Rasa host


def test_two_servers_on_one_port_are_refused_before_anything_starts() -> None:
    assert port_clash([("rasa_port", 5005), ("action_port", 5055), ("Rasa 实例 1", 5006)]) is None
    problem = port_clash([("rasa_port", 5005), ("action_port", 5006), ("Rasa 实例 1", 5006)]) or ""
    assert "action_port" in problem and "Rasa 实例 1" in problem and "5006" in problem


def test_one_instance_needs_no_balancer() -> None:
    with pytest.raises(BalancerError):
        _pool("actions", 5055, [5056], "/health")


def test_rasa_endpoints_name_the_stores_but_hold_no_password(tmp_path: Path) -> None:
    target = write_endpoints(ROOT / "endpoints.yml", tmp_path / "endpoints.yml", database=True, redis=True)
    config = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert config["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "${GOVQA_DATABASE_URL}"}
    assert config["lock_store"]["type"] == "bot.rasa.lock_store.AtomicRedisLockStore"
    assert config["lock_store"]["url"] == "${GOVQA_REDIS_URL}"
    assert config["action_endpoint"] == yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["action_endpoint"]
    only_tracker = yaml.safe_load(write_endpoints(ROOT / "endpoints.yml", tmp_path / "e2.yml", database=True, redis=False).read_text())
    assert "lock_store" not in only_tracker


def test_passwords_are_hidden_when_a_url_is_shown() -> None:
    assert redact("postgresql://govqa:s3cr%2Ft@db.example:5432/govqa") == "postgresql://govqa:***@db.example:5432/govqa"
    assert redact("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
