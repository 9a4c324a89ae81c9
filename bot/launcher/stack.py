"""Run the assistant: train the Rasa model when its inputs changed, start every process, stop them cleanly.

    python -m bot.launcher.stack run      # make run: train if needed, start both servers, Ctrl-C stops
    python -m bot.launcher.stack train    # make train: train only if config/domain/data changed
    python -m bot.launcher.stack chat     # make chat: action server + `rasa shell` in this terminal

The model is trained once per change of its inputs (bot/launcher/model.py); the guides are not among them
(no retraining). With rasa_instances / action_instances above 1, the servers run as pools behind HAProxy
(bot/launcher/balancer.py); children are started and stopped by bot/launcher/processes.py.

Tests use `Stack` directly on free ports with their own databases::

    with Stack(ports=(5105, 5155), env={"GOVQA_RECORDS_DB": "/tmp/r.sqlite3"}) as stack:
        requests.post(stack.rest_url, json={"sender": "u1", "message": "开公司要带什么材料"})
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from bot.launcher.balancer import DRAIN_SECONDS, Balancer, ServerPool, port_clash, scale_out_problem, store_env, write_endpoints
from bot.launcher.model import ensure_model
from bot.launcher.processes import APP_PYTHON, CHILD_ENV, RASA, RASA_PYTHON, StackError, last_error, terminate, wait_http
from bot.launcher.ready import print_ready
from bot.launcher.tokens import KEFU_TOKEN_ENV, TOKEN_ENV, action_token, kefu_token, rasa_token, rest_token, staff_token
from knowledge.records.logs import private_process, tighten
from knowledge.settings import ENV_PREFIX, ROOT, Settings, load_settings
from protocol import ACTION_TOKEN_ENV, DRAIN_ENV, REST_TOKEN_ENV, STAFF_TOKEN_ENV

# Each secret reaches only the child that needs it (passed explicitly by start_*), never the others.
SECRET_ENVS = frozenset({TOKEN_ENV, KEFU_TOKEN_ENV, REST_TOKEN_ENV, ACTION_TOKEN_ENV, STAFF_TOKEN_ENV,
                         "GOVQA_DATABASE_URL", "GOVQA_REDIS_URL"})  # the store URLs hold passwords
TELEGRAM_TOKEN_ENV = "TELEGRAM_BOT_TOKEN"  # the Telegram bot starts only when this is set


class Stack:
    """The action server, the Rasa server and the channels, each a child process group.

    Started in that order: the hall API (智能云客服 backend and web page) always, the Telegram
    bot only when TELEGRAM_BOT_TOKEN is set.
    """

    # The Rasa server's configuration files (relative to ROOT) and the action server's module: a
    # benchmark's floor project (benchmarks/bench_floor.py) runs on this class with its own.
    endpoints_file = "endpoints.yml"
    credentials_file = "credentials.yml"
    actions_module = "actions.server"

    def __init__(self, settings: Settings | None = None, *, ports: tuple[int, int] | None = None,
                 kefu_port: int | None = None, env: Mapping[str, str] | None = None, logs: Path | None = None,
                 model: Path | None = None, instance_ports: list[int] | None = None,
                 action_ports: list[int] | None = None, pooled_actions: bool = True) -> None:
        self.env = {**os.environ, **CHILD_ENV, **(env or {})}
        # The children read GOVQA_* too, so settings and children agree on every path.
        self.settings = settings or _settings_for(self.env)
        problem = scale_out_problem(self.settings.rasa_instances, self.settings.database_url, self.settings.redis_url,
                                    self.settings.action_instances)
        if problem:
            raise StackError(problem)
        self.rasa_port, self.action_port = ports or (self.settings.rasa_port, self.settings.action_port)
        self.kefu_port = kefu_port or self.settings.kefu_port
        self.logs = logs or self.settings.var_dir / "logs"
        self.model = model
        self.token = rasa_token(self.settings, self.env)
        self.kefu_token = kefu_token(self.settings, self.env)
        self.staff_token = staff_token(self.settings, self.env)
        self.rest_token = rest_token(self.settings, self.env)
        self.action_token = action_token(self.settings, self.env)
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.kefu: subprocess.Popen | None = None
        self.telegram: subprocess.Popen | None = None
        # More than one Rasa server or action server: each on its own port, behind HAProxy (balancer.py).
        count, actions = self.settings.rasa_instances, self.settings.action_instances
        ports = instance_ports or [self.rasa_port + index for index in range(1, count + 1)]
        self.pool = ServerPool("rasa", "Rasa 实例", self.settings.rasa_host, self.rasa_port, ports, "/", self._spawn_rasa,
                               self.logs) if count > 1 else None
        self.action_pool = ServerPool("actions", "动作服务器", self.settings.action_host, self.action_port,
                                      action_ports or [self.action_port + index for index in range(1, actions + 1)],
                                      "/health", self._spawn_actions, self.logs) if actions > 1 and pooled_actions else None
        pools = [pool for pool in (self.pool, self.action_pool) if pool is not None]
        clash = port_clash([("rasa_port", self.rasa_port), ("action_port", self.action_port), ("kefu_port", self.kefu_port),
                            *((f"{pool.label} {index}", port) for pool in pools for index, port in enumerate(pool.ports, 1))])
        if clash:
            raise StackError(clash)
        self.balancer = Balancer(pools, config=self.settings.var_dir / "rasa" / f"haproxy-{self.rasa_port}.cfg",
                                 log=self.logs / "haproxy.log", timeout_seconds=self.settings.rasa_timeout_seconds + 10,
                                 spawn=self._spawn) if pools else None

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.rasa_host}:{self.rasa_port}"

    @property
    def rest_url(self) -> str:
        return self.rasa_url + "/webhooks/rest/webhook"

    @property
    def rest_headers(self) -> dict[str, str]:
        """What a client of the REST channel must send (the channels' bearer token)."""
        return {"Authorization": f"Bearer {self.rest_token}"}

    @property
    def action_url(self) -> str:
        return f"http://{self.settings.action_host}:{self.action_port}"

    @property
    def kefu_url(self) -> str:
        return f"http://{self.settings.kefu_host}:{self.kefu_port}"

    def start(self, *, channels: bool = True) -> Stack:
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.settings.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        # Files an older version (or another umask) created: conversations, records, logs, secrets.
        tighten(self.settings.var_dir, self.logs, *self.logs.glob("*.log"), self.settings.secrets_dir, self.settings.tracker_db,
                self.settings.records_db, self.settings.var_dir / "telegram", *self.settings.var_dir.glob("telegram/*"))
        model = self.model = self.model or ensure_model(self.settings, log=self.logs / "train.log")
        try:
            self.start_actions()
            self.start_rasa(model)
            if self.balancer is not None:
                self.balancer.start(wait_http)
            if channels:
                self.start_kefu()
                if self.env.get(TELEGRAM_TOKEN_ENV):
                    self.start_telegram()
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def records_env(self) -> Mapping[str, str]:
        """Our records on PostgreSQL (knowledge/records/database.py) when database_url is set: the processes that
        write or read them (action server, hall API, Telegram bot) get its URL in their environment only."""
        return store_env(self.settings.database_url, "")

    def start_kefu(self) -> None:
        """The 智能云客服 hall API and web chat page (bot/channels/kefu/api.py)."""
        log = self.logs / "kefu.log"
        self.kefu = self._spawn([str(APP_PYTHON), "-m", "bot.channels.kefu.api", "--host", self.settings.kefu_host,
                                 "--port", str(self.kefu_port), "--rasa-url", self.rest_url],
                                log, {KEFU_TOKEN_ENV: self.kefu_token, REST_TOKEN_ENV: self.rest_token, STAFF_TOKEN_ENV: self.staff_token,
                                      **self.records_env})
        wait_http(self.kefu_url + "/healthz", self.kefu, 60, "智能云客服接口", log)

    def start_telegram(self) -> None:
        """The Telegram bot (bot/channels/telegram/app.py); its token stays in the environment, never in argv or logs."""
        self.telegram = self._spawn([str(APP_PYTHON), "-m", "bot.channels.telegram.app", "--rasa-url", self.rest_url],
                                    self.logs / "telegram.log", {REST_TOKEN_ENV: self.rest_token, **self.records_env}, telegram=True)

    def start_actions(self) -> None:
        if self.action_pool is not None:
            self.action_pool.start(wait_http, 180)
            return
        log = self.logs / "actions.log"
        self.actions = self._spawn_actions(self.action_port, log)
        wait_http(self.action_url + "/health", self.actions, 180, "动作服务器", log)

    def _spawn_actions(self, port: int, log: Path) -> subprocess.Popen:
        env = {ACTION_TOKEN_ENV: self.action_token, **self.records_env}
        if self.action_pool is not None:
            env[DRAIN_ENV] = str(DRAIN_SECONDS)  # behind HAProxy: leave it before stopping (actions/server.py)
        return self._spawn([str(APP_PYTHON), "-m", self.actions_module, "--host", self.settings.action_host, "--port", str(port)], log, env)

    def start_rasa(self, model: Path) -> None:
        if self.pool is not None:
            self.pool.start(wait_http, 300)
            return
        log = self.logs / "rasa.log"
        self.rasa = self._spawn_rasa(self.rasa_port, log, model)
        wait_http(self.rasa_url + "/", self.rasa, 240, "Rasa 服务器", log)

    def _spawn_rasa(self, port: int, log: Path, model: Path | None = None) -> subprocess.Popen:
        """One Rasa server on `port`; its stores as settings.yml says (balancer.write_endpoints)."""
        model = model or self.model
        assert model is not None, "start() first"
        endpoints = self.endpoints_file
        if self.settings.database_url or self.settings.redis_url:
            endpoints = str(write_endpoints(ROOT / self.endpoints_file, self.settings.var_dir / "rasa" / f"endpoints-{self.rasa_port}.yml",
                                            database=bool(self.settings.database_url), redis=bool(self.settings.redis_url)))
        env = {"ACTION_ENDPOINT_URL": self.action_url + "/webhook", "RASA_TRACKER_DB": str(self.settings.tracker_db),
               # Sanic reads SANIC_* variables: refuse oversized bodies (413) and answer errors as JSON.
               "SANIC_REQUEST_MAX_SIZE": str(self.settings.kefu_max_body_bytes), "SANIC_FALLBACK_ERROR_FORMAT": "json"}
        # Secrets reach Rasa in its environment (readable by this user only), never on its command line,
        # which every local user can read in `ps`: bot/rasa/server.py hands the API token to Rasa.
        env.update({TOKEN_ENV: self.token, REST_TOKEN_ENV: self.rest_token, ACTION_TOKEN_ENV: self.action_token,
                    **store_env(self.settings.database_url, self.settings.redis_url)})
        # On shared stores: store errors fail the turn politely; behind HAProxy: leave it before stopping.
        module = "bot.rasa.instance" if self.settings.database_url or self.settings.redis_url else "bot.rasa.server"
        if self.pool is not None:
            env[DRAIN_ENV] = str(DRAIN_SECONDS)
        return self._spawn([str(RASA_PYTHON), "-m", module, "run", "--model", str(model), "--endpoints", endpoints,
                            "--credentials", self.credentials_file, "--interface", self.settings.rasa_host,
                            "--port", str(port), "--enable-api"], log, env)

    def _spawn(self, command: list[str], log: Path, extra: Mapping[str, str] | None = None, *,
               telegram: bool = False) -> subprocess.Popen:
        log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Each secret only reaches the child that needs it: the Telegram variables the bot, the hall
        # token the hall API (passed in `extra`).
        env = {key: value for key, value in self.env.items()
               if key not in SECRET_ENVS and (telegram or not key.startswith("TELEGRAM_"))}
        # Logs hold (masked) conversations: this user's alone, whatever the caller's umask.
        with os.fdopen(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as output:
            # A session of its own: Ctrl-C in the terminal reaches us, and we stop each group whole.
            return subprocess.Popen(command, cwd=ROOT, env={**env, **(extra or {})}, stdout=output,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def restart_rasa(self) -> None:
        """Stop and start the Rasa server alone: conversations continue from the tracker store."""
        if self.pool is not None:
            raise StackError("多个 Rasa 实例时由负载均衡器逐个重启：停掉一个实例（SIGTERM），启动器会自动把它重新启动")
        if self.rasa is not None:
            terminate(self.rasa)
        assert self.model is not None, "start() first"
        self.start_rasa(self.model)

    def running(self) -> bool:
        """The servers are up, and the hall API if it was started. The Telegram bot is not required:
        a revoked token stops the bot, never the assistant that the hall and the web page use."""
        needed = [process for process in (self.kefu,) if process is not None]
        # Pooled instances are restarted by the balancer's supervisor; HAProxy itself must be up.
        needed += [self.actions] if self.action_pool is None else []
        needed += [self.rasa] if self.pool is None else []
        if self.balancer is not None and not self.balancer.running():
            return False
        return all(process is not None and process.poll() is None for process in needed)

    def telegram_exit(self) -> int | None:
        """The Telegram bot's exit code once it has stopped (None while it runs or was not started)."""
        return self.telegram.poll() if self.telegram is not None else None

    def stop(self) -> None:
        pooled = self.balancer.stop() if self.balancer is not None else []
        terminate(*(process for process in (self.telegram, self.kefu, self.rasa, self.actions) if process is not None), *pooled,
                  interrupt=pooled)
        self.telegram = self.kefu = self.rasa = self.actions = None

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


def _settings_for(env: Mapping[str, str]) -> Settings:
    """Settings as a child started with `env` will read them (its GOVQA_* overrides included)."""
    fields = {field.name for field in dataclasses.fields(Settings)}
    overrides = {key[len(ENV_PREFIX):].lower(): value for key, value in env.items() if key.startswith(ENV_PREFIX)}
    return load_settings(**{name: value for name, value in overrides.items() if name in fields})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="政务服务智能问答助手：训练与启动")
    parser.add_argument("command", choices=("run", "train", "chat"))
    args = parser.parse_args(argv)
    private_process()
    settings = load_settings()
    try:
        if args.command == "train":
            print(f"模型：{ensure_model(settings, log=settings.var_dir / 'logs' / 'train.log')}")
            return 0
        stack = Stack(settings, pooled_actions=args.command != "chat")  # one person at a terminal: one action server

        def _stop(_signum: int, _frame: object) -> None:
            raise KeyboardInterrupt  # SIGTERM stops as cleanly as Ctrl-C

        signal.signal(signal.SIGTERM, _stop)
        # Set explicitly: a process started in the background by a non-interactive shell (CI, nohup …
        # &) inherits SIGINT as ignored, and Python then never turns Ctrl-C into KeyboardInterrupt.
        signal.signal(signal.SIGINT, _stop)
        try:
            if args.command == "chat":
                stack.logs.mkdir(parents=True, exist_ok=True)
                model = ensure_model(settings, log=stack.logs / "train.log")
                stack.start_actions()
                env = {**stack.env, "ACTION_ENDPOINT_URL": stack.action_url + "/webhook", "RASA_TRACKER_DB": str(settings.tracker_db),
                       ACTION_TOKEN_ENV: stack.action_token}
                return subprocess.call([str(RASA), "shell", "--model", str(model), "--endpoints", "endpoints.yml"], cwd=ROOT, env=env)
            stack.start()
            print_ready(stack)
            telegram_reported = False
            while stack.running():
                time.sleep(1)
                if not telegram_reported and stack.telegram_exit() is not None:
                    telegram_reported = True
                    print(f"✗ Telegram 机器人已退出（退出码 {stack.telegram_exit()}{last_error(stack.logs / 'telegram.log')}），"
                          f"日志：{stack.logs / 'telegram.log'}；其他服务继续运行。", file=sys.stderr, flush=True)
            print("✗ 有服务意外退出，查看日志：" + str(stack.logs), file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\n正在停止 …", flush=True)
            return 0
        finally:
            stack.stop()
            print("✓ 已停止", flush=True)
    except StackError as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
