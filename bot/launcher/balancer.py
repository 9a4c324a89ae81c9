"""Several Rasa servers behind HAProxy on the usual REST port, each restarted when it dies.

`GOVQA_RASA_INSTANCES=N` (settings.yml `rasa_instances`) makes the launcher start N Rasa servers on
their own ports (rasa_port+1 … rasa_port+N) and HAProxy (Debian's package) on rasa_port, so the hall
API and the Telegram bot keep their one URL. The instances share their state through the servers in
`database_url` (the tracker store, PostgreSQL) and `redis_url` (the lock store,
bot/rasa/lock_store.py): any instance can take any message of any conversation.

HAProxy (config generated under var/, see `haproxy_config`):
- health checks on Rasa's `/` (it answers once the model is loaded; it needs no token, so no secret
  sits in the config file); an instance failing two checks is taken out until it passes two; an
  instance told to stop (SIGTERM) first fails its checks, then stops (bot/rasa/instance.py), so no
  connection reaches it as it closes;
- retries only a connection that could not be made (`retry-on conn-failure`), on another instance
  (`option redispatch 1`): a message that reached an instance may have been processed, and sending it
  again would answer it twice;
- one connection per request to the instances (`http-server-close`): a request never goes out on a
  kept-alive connection that a stopping instance is closing at that moment.

Supervision: a thread checks the instances every second and restarts one that exited (with a growing
pause if it keeps failing); HAProxy's checks keep it out of rotation until it is ready again.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from bot.launcher.stack import Stack

LOCK_STORE_CLASS = "bot.rasa.lock_store.AtomicRedisLockStore"
# The names Rasa's endpoints file reads the store URLs from (set in the Rasa servers' environment
# only: the file itself never holds a password).
DATABASE_URL_ENV = "GOVQA_DATABASE_URL"
REDIS_URL_ENV = "GOVQA_REDIS_URL"
# HAProxy checks each instance every second (every 250 ms once one failed) and takes it out after two
# failed checks. A busy instance answers its check late, not never: with 30 users on two instances on
# 2 cores, checks timed out at 1 s and took both out (503s for everyone), hence 5 s; a dead instance
# refuses the connection at once anyway. A stopping instance fails its checks for DRAIN_SECONDS, long
# enough to be out even while busy, before it closes its port (bot/rasa/instance.py).
CHECK_INTERVAL_SECONDS = 1
CHECK_FALL = 2
CHECK_TIMEOUT_SECONDS = 5
DRAIN_SECONDS = 5


class BalancerError(RuntimeError):
    pass


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy 1.4 (Rasa's) accepts only postgresql://; Heroku-style postgres:// is common in the wild."""
    return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url


def scale_out_problem(instances: int, database_url: str, redis_url: str) -> str | None:
    """Why this configuration cannot run (in Chinese, for the operator), or None."""
    if instances < 1:
        return f"rasa_instances 必须至少为 1（现在是 {instances}）"
    if instances > 1 and not (database_url and redis_url):
        missing = "、".join(name for name, value in (("GOVQA_DATABASE_URL（PostgreSQL）", database_url),
                                                    ("GOVQA_REDIS_URL（Redis）", redis_url)) if not value)
        return (f"GOVQA_RASA_INSTANCES={instances} 需要多个 Rasa 实例共用的对话存储和对话锁，请设置 {missing}；"
                "只用一台机器试用可先运行 python -m bot.launcher.servers（临时服务器）")
    if instances > 1 and not shutil.which("haproxy"):
        return "未安装 HAProxy（多个 Rasa 实例的负载均衡）：运行 bash scripts/setup_servers.sh"
    if database_url and not sqlalchemy_url(database_url).startswith("postgresql"):
        return "database_url 目前只支持 PostgreSQL（postgresql://用户:密码@主机:端口/库名）"
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        return "redis_url 的格式应为 redis://[:密码@]主机:端口/库号"
    return None


def write_endpoints(source: Path, target: Path, *, database: bool, redis: bool) -> Path:
    """Rasa's endpoints file `source` with the tracker store on PostgreSQL and/or the lock store on
    Redis, written to `target`. URLs stay ${VARIABLES} that Rasa fills from its environment."""
    config = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if database:
        config["tracker_store"] = {"type": "SQL", "dialect": "postgresql", "url": f"${{{DATABASE_URL_ENV}}}"}
    if redis:
        config["lock_store"] = {"type": LOCK_STORE_CLASS, "url": f"${{{REDIS_URL_ENV}}}", "key_prefix": "govqa"}
    text = "# Written by bot/launcher/balancer.py from " + source.name + " and settings.yml: do not edit.\n"
    text += yaml.safe_dump(config, allow_unicode=True, sort_keys=False, default_style=None)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def haproxy_config(port: int, instance_ports: list[int], *, host: str = "127.0.0.1", timeout_seconds: float = 40) -> str:
    servers = "\n".join(f"    server rasa{index} {host}:{instance} check" for index, instance in enumerate(instance_ports, 1))
    return f"""# Written by bot/launcher/balancer.py: do not edit (settings.yml rasa_port, rasa_instances).
global
    maxconn 4096
    log stdout format raw local0 info

defaults
    mode http
    log global
    timeout connect 2s
    timeout client {timeout_seconds:.0f}s
    timeout server {timeout_seconds:.0f}s
    timeout http-request 10s
    # Retry only what never reached Rasa, and on another instance.
    retries 3
    retry-on conn-failure
    option redispatch 1
    option http-server-close

frontend rest
    bind {host}:{port}
    # No line per request (Rasa logs the turns); instances going down and up are still logged.
    no log
    default_backend rasa

backend rasa
    balance roundrobin
    option httpchk GET /
    http-check expect status 200
    timeout check {CHECK_TIMEOUT_SECONDS}s
    default-server inter {CHECK_INTERVAL_SECONDS}s fastinter 250ms fall {CHECK_FALL} rise 2
{servers}
"""


class RasaPool:
    """N Rasa servers and HAProxy in front of them, for one Stack."""

    def __init__(self, stack: Stack, instance_ports: list[int], spawn_rasa: Callable[[int, Path], subprocess.Popen]) -> None:
        self.stack = stack
        self.ports = instance_ports
        self.spawn_rasa = spawn_rasa  # (port, log) -> a started Rasa server
        self.instances: list[subprocess.Popen] = []
        self.restarts = [0] * len(instance_ports)
        self.haproxy: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def log(self, index: int) -> Path:
        return self.stack.logs / f"rasa-{index + 1}.log"

    def start(self, wait_http: Callable[[str, subprocess.Popen, float, str, Path], None]) -> None:
        program = shutil.which("haproxy")
        if not program:
            raise BalancerError("未安装 HAProxy：运行 bash scripts/setup_servers.sh")
        settings = self.stack.settings
        config = settings.var_dir / "rasa" / f"haproxy-{self.stack.rasa_port}.cfg"
        config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        config.write_text(haproxy_config(self.stack.rasa_port, self.ports, host=settings.rasa_host,
                                         timeout_seconds=settings.rasa_timeout_seconds + 10), encoding="utf-8")
        checked = subprocess.run([program, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        if checked.returncode != 0:
            raise BalancerError(f"HAProxy 配置有误（{config}）：{checked.stderr.strip()[-300:]}")
        # All at once: each loads its model in its own process.
        self.instances = [self.spawn_rasa(port, self.log(index)) for index, port in enumerate(self.ports)]
        for index, (port, process) in enumerate(zip(self.ports, self.instances, strict=True)):
            wait_http(f"http://{settings.rasa_host}:{port}/", process, 300, f"Rasa 实例 {index + 1}", self.log(index))
        self.haproxy = self.stack._spawn([program, "-db", "-f", str(config)], self.stack.logs / "haproxy.log")
        wait_http(self.stack.rasa_url + "/", self.haproxy, 30, "负载均衡（HAProxy）", self.stack.logs / "haproxy.log")
        self._thread = threading.Thread(target=self._supervise, name="rasa-supervisor", daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        not_before = [0.0] * len(self.ports)
        while not self._stopping.wait(1.0):
            with self._lock:
                for index, process in enumerate(self.instances):
                    if process.poll() is None or self._stopping.is_set() or time.monotonic() < not_before[index]:
                        continue
                    self.restarts[index] += 1
                    print(f"✗ Rasa 实例 {index + 1}（端口 {self.ports[index]}）已退出（退出码 {process.returncode}），"
                          f"正在重启（第 {self.restarts[index]} 次）；恢复前负载均衡不再转发给它。日志：{self.log(index)}",
                          file=sys.stderr, flush=True)
                    self.instances[index] = self.spawn_rasa(self.ports[index], self.log(index))
                    # A server that keeps dying is restarted less and less often (at most once a minute).
                    not_before[index] = time.monotonic() + min(60.0, 5.0 * (self.restarts[index] - 1))

    def running(self) -> bool:
        """HAProxy is up (instances that die are restarted, not a reason to stop the stack)."""
        return self.haproxy is not None and self.haproxy.poll() is None

    def processes(self) -> list[subprocess.Popen]:
        with self._lock:
            return [*self.instances, *([self.haproxy] if self.haproxy else [])]

    def stop(self, terminate: Callable[..., None]) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        terminate(*(process for process in self.processes()))
        self.instances, self.haproxy = [], None


def store_env(database_url: str, redis_url: str) -> Mapping[str, str]:
    """What the Rasa servers need in their environment for the endpoints file write_endpoints wrote."""
    env = {}
    if database_url:
        env[DATABASE_URL_ENV] = sqlalchemy_url(database_url)
    if redis_url:
        env[REDIS_URL_ENV] = redis_url
    return env
