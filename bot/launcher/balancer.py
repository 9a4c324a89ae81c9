"""Several Rasa servers and/or action servers behind HAProxy, each restarted when it dies.

`GOVQA_RASA_INSTANCES=N` (settings.yml `rasa_instances`) makes the launcher start N Rasa servers on
their own ports (rasa_port+1 … rasa_port+N) behind HAProxy (Debian's package) on rasa_port, so the hall
API and the Telegram bot keep their one URL; `GOVQA_ACTION_INSTANCES=M` (`action_instances`) does the
same for the action servers (action_port+1 … action_port+M behind action_port, which every Rasa server
calls). The Rasa instances share their state through the servers in `database_url` (the tracker store,
PostgreSQL) and `redis_url` (the lock store, bot/rasa/lock_store.py): any instance can take any message
of any conversation. The action servers share nothing but the published index folder (each watches its
CURRENT pointer) and the records database; any of them can run any action.

HAProxy (one process, a frontend per pool; config generated under var/, see `haproxy_config`):
- health checks (Rasa's `/`, the action server's `/health`: they answer once the model is loaded and
  need no token, so no secret sits in the config file); an instance failing two checks is taken out
  until it passes two; an instance told to stop (SIGTERM) first fails its checks, then stops
  (bot/rasa/instance.py, actions/server.py), so no connection reaches it as it closes;
- retries only a connection that could not be made (`retry-on conn-failure`), on another instance
  (`option redispatch 1`): a message (or an action call) that reached an instance may have been
  processed, and sending it again would answer it twice or write a record twice;
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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

from bot.launcher.processes import StackError

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
HEALTHY_SECONDS = 300  # an instance that ran this long before it died is restarted without a pause


class BalancerError(StackError):
    """The balancer cannot run as configured (the message says why, in Chinese)."""


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy 1.4 (Rasa's) accepts only postgresql://; Heroku-style postgres:// is common in the wild."""
    return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url


def scale_out_problem(instances: int, database_url: str, redis_url: str, action_instances: int = 1) -> str | None:
    """Why this configuration cannot run (in Chinese, for the operator), or None."""
    if instances < 1:
        return f"rasa_instances 必须至少为 1（现在是 {instances}）"
    if action_instances < 1:
        return f"action_instances 必须至少为 1（现在是 {action_instances}）"
    if instances > 1 and not (database_url and redis_url):
        missing = "、".join(name for name, value in (("GOVQA_DATABASE_URL（PostgreSQL）", database_url),
                                                    ("GOVQA_REDIS_URL（Redis）", redis_url)) if not value)
        return (f"GOVQA_RASA_INSTANCES={instances} 需要多个 Rasa 实例共用的对话存储和对话锁，请设置 {missing}；"
                "只用一台机器试用可先运行 python -m bot.launcher.servers（临时服务器）")
    if max(instances, action_instances) > 1 and not shutil.which("haproxy"):
        return "未安装 HAProxy（多个 Rasa 实例或动作服务器的负载均衡）：运行 bash scripts/setup_servers.sh"
    if database_url and not sqlalchemy_url(database_url).startswith("postgresql"):
        return "database_url 目前只支持 PostgreSQL（postgresql://用户:密码@主机:端口/库名）"
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        return "redis_url 的格式应为 redis://[:密码@]主机:端口/库号"
    return None


def port_clash(named: Sequence[tuple[str, int]]) -> str | None:
    """Two of the stack's ports that are the same (e.g. action_port 5006 = the first Rasa instance's), or None."""
    seen: dict[int, str] = {}
    for name, port in named:
        if port in seen:
            return f"{seen[port]} 和 {name} 用了同一个端口 {port}：请在 settings.yml 里把 rasa_port、action_port、kefu_port 隔开"
        seen[port] = name
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


def haproxy_config(pools: Sequence[ServerPool], *, timeout_seconds: float = 40) -> str:
    """HAProxy's configuration: for each pool a frontend on its host and port and a backend over its instances."""
    sections = []
    for pool in pools:
        servers = "\n".join(f"    server {pool.name}{index} {pool.host}:{port} check" for index, port in enumerate(pool.ports, 1))
        sections.append(f"""frontend {pool.name}
    bind {pool.host}:{pool.port}
    # No line per request (the servers log their turns); instances going down and up are still logged.
    no log
    default_backend {pool.name}

backend {pool.name}
    balance roundrobin
    option httpchk GET {pool.health_path}
    http-check expect status 200
    timeout check {CHECK_TIMEOUT_SECONDS}s
    default-server inter {CHECK_INTERVAL_SECONDS}s fastinter 250ms fall {CHECK_FALL} rise 2
{servers}
""")
    return f"""# Written by bot/launcher/balancer.py: do not edit (settings.yml rasa_port, rasa_instances, action_port, action_instances).
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
    # Retry only what never reached a server, and on another instance.
    retries 3
    retry-on conn-failure
    option redispatch 1
    option http-server-close

""" + "\n".join(sections)


class ServerPool:
    """N copies of one server (Rasa or the action server) on `host` and their own ports; `port` (same host)
    is where HAProxy takes their requests. `spawn(port, log)` starts one copy; `name` names HAProxy's
    backend, its servers (rasa1, rasa2 …) and the logs (rasa-1.log …); `label` is what the operator reads."""

    def __init__(self, name: str, label: str, host: str, port: int, ports: list[int], health_path: str,
                 spawn: Callable[[int, Path], subprocess.Popen], logs: Path) -> None:
        if len(ports) < 2:
            raise BalancerError(f"{label}少于 2 个时不需要负载均衡")
        self.name, self.label, self.host, self.port, self.ports = name, label, host, port, ports
        self.health_path = health_path
        self.spawn = spawn
        self.logs = logs
        self.instances: list[subprocess.Popen] = []
        self.restarts = [0] * len(ports)  # in all
        self._streak = [0] * len(ports)  # restarts since the instance last ran for HEALTHY_SECONDS
        self._started = [0.0] * len(ports)
        self._not_before = [0.0] * len(ports)

    def log(self, index: int) -> Path:
        return self.logs / f"{self.name}-{index + 1}.log"

    def start(self, wait_http: Callable[[str, subprocess.Popen, float, str, Path], None], timeout: float) -> None:
        # All at once: each loads its model in its own process.
        self.instances = [self.spawn(port, self.log(index)) for index, port in enumerate(self.ports)]
        self._started = [time.monotonic()] * len(self.ports)
        for index, (port, process) in enumerate(zip(self.ports, self.instances, strict=True)):
            wait_http(f"http://{self.host}:{port}{self.health_path}", process, timeout, f"{self.label} {index + 1}", self.log(index))

    def restart_exited(self) -> None:
        """Start again every instance that exited (called by the Balancer's supervisor, under its lock)."""
        for index, process in enumerate(self.instances):
            if process.poll() is None or time.monotonic() < self._not_before[index]:
                continue
            self.restarts[index] += 1
            # A crash after a long healthy run starts the pauses over: a rare crash is restarted at once.
            self._streak[index] = 1 if time.monotonic() - self._started[index] > HEALTHY_SECONDS else self._streak[index] + 1
            print(f"✗ {self.label} {index + 1}（端口 {self.ports[index]}）已退出（退出码 {process.returncode}），"
                  f"正在重启（第 {self.restarts[index]} 次）；恢复前负载均衡不再转发给它。日志：{self.log(index)}",
                  file=sys.stderr, flush=True)
            self.instances[index] = self.spawn(self.ports[index], self.log(index))
            self._started[index] = time.monotonic()
            # A server that keeps dying is restarted less and less often (at most once a minute).
            self._not_before[index] = time.monotonic() + min(60.0, 5.0 * (self._streak[index] - 1))


class Balancer:
    """HAProxy in front of the pools, and the thread that restarts their instances."""

    def __init__(self, pools: Sequence[ServerPool], *, config: Path, log: Path, timeout_seconds: float,
                 spawn: Callable[[list[str], Path], subprocess.Popen]) -> None:
        self.pools = list(pools)
        self.config, self.log, self.timeout_seconds = config, log, timeout_seconds
        self.spawn = spawn  # (command, log) -> a started child
        self.haproxy: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, wait_http: Callable[[str, subprocess.Popen, float, str, Path], None]) -> None:
        """Start HAProxy once the pools' instances are up, then supervise them."""
        program = shutil.which("haproxy")
        if not program:
            raise BalancerError("未安装 HAProxy：运行 bash scripts/setup_servers.sh")
        self.config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config.write_text(haproxy_config(self.pools, timeout_seconds=self.timeout_seconds), encoding="utf-8")
        checked = subprocess.run([program, "-c", "-q", "-f", str(self.config)], capture_output=True, text=True)
        if checked.returncode != 0:
            raise BalancerError(f"HAProxy 配置有误（{self.config}）：{checked.stderr.strip()[-300:]}")
        self.haproxy = self.spawn([program, "-db", "-f", str(self.config)], self.log)
        for pool in self.pools:
            wait_http(f"http://{pool.host}:{pool.port}{pool.health_path}", self.haproxy, 30, f"负载均衡（HAProxy，{pool.label}）", self.log)
        self._thread = threading.Thread(target=self._supervise, name="pool-supervisor", daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            with self._lock:
                if self._stopping.is_set():
                    return
                for pool in self.pools:
                    pool.restart_exited()

    def running(self) -> bool:
        """HAProxy is up (instances that die are restarted, not a reason to stop the stack)."""
        return self.haproxy is not None and self.haproxy.poll() is None

    def processes(self) -> list[subprocess.Popen]:
        with self._lock:
            return [*(process for pool in self.pools for process in pool.instances), *([self.haproxy] if self.haproxy else [])]

    def stop(self) -> list[subprocess.Popen]:
        """Stop supervising; the processes to stop (the caller stops them with the rest of the stack at once:
        everything is going away, so no instance needs to drain out of HAProxy first)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        processes = self.processes()
        for pool in self.pools:
            pool.instances = []
        self.haproxy = None
        return processes


def store_env(database_url: str, redis_url: str) -> Mapping[str, str]:
    """What the Rasa servers need in their environment for the endpoints file write_endpoints wrote."""
    env = {}
    if database_url:
        env[DATABASE_URL_ENV] = sqlalchemy_url(database_url)
    if redis_url:
        env[REDIS_URL_ENV] = redis_url
    return env
