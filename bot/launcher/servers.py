"""Throwaway PostgreSQL and Redis servers: private, on free loopback ports, with generated passwords.

The tests use them when GOVQA_DATABASE_URL / GOVQA_REDIS_URL are not set (tests/support/servers.py),
and an operator can try the multi-instance setup on one machine with them::

    python -m bot.launcher.servers      # starts both, prints how to use them, Ctrl-C stops and deletes them

Debian's packages (scripts/setup_servers.sh installs them): `postgresql` (initdb, pg_ctl) and
`redis-server`. PostgreSQL refuses to run as root; as root the server runs as the `postgres` system
user, with its data in a private folder under /tmp (var/ is 700 and owned by root, so `postgres` could
not reach a folder inside it). As any other user, the data lives under var/servers/.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from knowledge.settings import ROOT


class ServerError(RuntimeError):
    pass


def redact(url: str) -> str:
    """The URL with its password replaced by *** (for messages and logs)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.hostname or ""
    return urlunsplit((parts.scheme, user + host + (f":{parts.port}" if parts.port else ""), parts.path, parts.query, ""))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_bin(name: str) -> Path | None:
    """A PostgreSQL server program: Debian keeps them in /usr/lib/postgresql/<version>/bin, off the PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if found:
        return found[-1]
    which = shutil.which(name)
    return Path(which) if which else None


def missing_programs() -> list[str]:
    """The Debian packages whose programs are missing (scripts/setup_servers.sh installs them)."""
    needs = {"postgresql": postgres_bin("pg_ctl") and postgres_bin("initdb") and shutil.which("psql"),
             "redis-server": shutil.which("redis-server"), "haproxy": shutil.which("haproxy")}
    return [package for package, found in needs.items() if not found]


def psql(url: str, sql: str, *, timeout: float = 30) -> str:
    """Run SQL with psql against `url`; the password goes in PGPASSWORD, never on the command line."""
    parts = urlsplit(url.replace("postgresql+psycopg2://", "postgresql://", 1))
    env = {**os.environ, "PGPASSWORD": unquote(parts.password or ""), "PGCONNECT_TIMEOUT": "5"}
    command = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", parts.hostname or "127.0.0.1",
               "-p", str(parts.port or 5432), "-U", unquote(parts.username or "postgres"), "-d", parts.path.lstrip("/") or "postgres",
               "-c", sql]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise ServerError(f"psql 失败（{redact(url)}）：{done.stderr.strip()}")
    return done.stdout


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def create_database(url: str, database: str) -> str:
    """Create `database` on the server of `url` (connecting to its database); returns the new URL."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"数据库名只能含字母、数字和下划线：{database}")
    psql(url, f'CREATE DATABASE "{database}"')
    return with_database(url, database)


def _wait_port(port: int, process: subprocess.Popen | None, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerError(f"{what}启动失败（退出码 {process.returncode}），日志：{log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise ServerError(f"{what}在 {timeout:.0f} 秒内没有就绪，日志：{log}")


class PostgresServer:
    """A private PostgreSQL cluster (initdb) on 127.0.0.1:port, user `govqa` with a generated password."""

    def __init__(self, folder: Path | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.password = secrets.token_urlsafe(24)
        self.user = "govqa"
        self.run_as = "postgres" if os.geteuid() == 0 else None
        if self.run_as:
            self.folder = Path(tempfile.mkdtemp(prefix="govqa-pg-"))
        else:
            self.folder = (folder or ROOT / "var" / "servers") / f"postgres-{self.port}"
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        done = subprocess.run(list(command), capture_output=True, text=True, user=self.run_as, cwd=self.folder, timeout=120)
        if done.returncode != 0:
            raise ServerError(f"{Path(command[0]).name} 失败：{(done.stderr or done.stdout).strip()[-500:]}，日志：{self.log}")

    def start(self) -> PostgresServer:
        initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
        if not (initdb and pg_ctl):
            raise ServerError("未安装 PostgreSQL（Debian 的 postgresql 包）：运行 bash scripts/setup_servers.sh")
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.run_as:
            account = pwd.getpwnam(self.run_as)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            password_file = self.folder / "password"
            with os.fdopen(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
                handle.write(self.password + "\n")
            if self.run_as:
                os.chown(password_file, account.pw_uid, account.pw_gid)
            try:
                # Password (SCRAM) over TCP, which is all we listen on; the Unix socket sits in our folder.
                self._run(str(initdb), "-D", str(self.data), "-U", self.user, f"--pwfile={password_file}", "-E", "UTF8",
                          "--no-locale", "--auth-host=scram-sha-256", "--auth-local=peer")
            finally:
                password_file.unlink(missing_ok=True)
        self._run(str(pg_ctl), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start", "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=200")
        _wait_port(self.port, None, 30, "PostgreSQL ", self.log)
        return self

    def stop(self, *, delete: bool = True) -> None:
        pg_ctl = postgres_bin("pg_ctl")
        if pg_ctl and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ServerError, subprocess.TimeoutExpired):
                self._run(str(pg_ctl), "-D", str(self.data), "-m", "fast", "-w", "stop")
        if delete:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self) -> None:
        self.stop(delete=False)
        self.start()


class RedisServer:
    """A private redis-server on 127.0.0.1:port with a generated password, no persistence (locks only)."""

    def __init__(self, folder: Path | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.password = secrets.token_urlsafe(24)
        self.folder = (folder or ROOT / "var" / "servers") / f"redis-{self.port}"
        self.log = self.folder / "redis.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:{quote(self.password, safe='')}@127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        program = shutil.which("redis-server")
        if not program:
            raise ServerError("未安装 Redis（Debian 的 redis-server 包）：运行 bash scripts/setup_servers.sh")
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = self.folder / "redis.conf"
        # The password in a 600 file, not on the command line (which `ps` shows every user).
        with os.fdopen(os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(f"bind 127.0.0.1\nport {self.port}\ndir {self.folder}\nsave \"\"\nappendonly no\n"
                         f"requirepass {self.password}\ndaemonize no\nlogfile {self.log}\n")
        self.process = subprocess.Popen([program, str(config)], cwd=self.folder, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_port(self.port, self.process, 30, "Redis ", self.log)
        return self

    def stop(self, *, delete: bool = True) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if delete:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self) -> None:
        self.stop(delete=False)
        self.start()


def main() -> int:
    postgres, redis = PostgresServer(), RedisServer()
    try:
        postgres.start()
        redis.start()
        url = create_database(postgres.url, "govqa")
        secrets_file = ROOT / "var" / "servers" / "scale-out.env"
        secrets_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with os.fdopen(os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(f"export GOVQA_DATABASE_URL='{url}'\nexport GOVQA_REDIS_URL='{redis.url}'\n")
        print(f"""✓ 临时 PostgreSQL {redact(url)}
✓ 临时 Redis      {redact(redis.url)}
  连接地址（含密码）已写入 {secrets_file}（仅本用户可读）。在另一个终端：
    source {secrets_file} && GOVQA_RASA_INSTANCES=2 make run
按 Ctrl-C 停止并删除这两个服务器的数据。""", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    except ServerError as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1
    finally:
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    sys.exit(main())
