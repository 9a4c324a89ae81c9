"""Real PostgreSQL and Redis for the scale-out tests: the ones in GOVQA_DATABASE_URL / GOVQA_REDIS_URL
when set, else throwaway servers started for the test session (bot/launcher/servers.py) and stopped
after. Use the fixture by importing it into a test module: ``from tests.support.servers import stores``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from bot.launcher.servers import PostgresServer, RedisServer, ServerError, create_database, missing_programs, psql


@dataclass
class Stores:
    database_url: str  # a database we may create others from (the server's `postgres` one, or the given one)
    redis_url: str
    postgres: PostgresServer | None = None  # ours (restartable by a fault test), or None for given servers
    redis: RedisServer | None = None
    created: list[str] = field(default_factory=list)

    def new_database(self, purpose: str) -> str:
        """A fresh, empty database for one stack: tests never see each other's conversations."""
        name = f"govqa_test_{purpose}_{uuid.uuid4().hex[:8]}"
        url = create_database(self.database_url, name)
        self.created.append(name)
        return url

    def events(self, database_url: str, sender: str) -> list[tuple[str, str | None, str | None, str]]:
        """Rasa's events of `sender` as stored in PostgreSQL, in insertion order: (type, intent, action, text)."""
        rows = psql(database_url, "SELECT type_name, coalesce(intent_name, ''), coalesce(action_name, ''), "
                                  "coalesce(data::json->>'text', '') FROM events "
                                  f"WHERE sender_id = '{sender}' ORDER BY id")
        return [tuple(line.split("|", 3)) for line in rows.splitlines() if line]  # type: ignore[misc]


@pytest.fixture(scope="session")
def stores() -> Iterator[Stores]:
    database_url, redis_url = os.environ.get("GOVQA_DATABASE_URL", ""), os.environ.get("GOVQA_REDIS_URL", "")
    missing = [name for name in missing_programs() if name != "haproxy" and not (database_url and redis_url)]
    if missing or "haproxy" in missing_programs():
        pytest.skip(f"未安装 {', '.join(missing or ['haproxy'])}：运行 bash scripts/setup_servers.sh（apt-get）后再测")
    postgres = redis = None
    try:
        if not database_url:
            postgres = PostgresServer().start()
            database_url = postgres.url
        if not redis_url:
            redis = RedisServer().start()
            redis_url = redis.url
    except ServerError as error:
        for server in (postgres, redis):
            if server is not None:
                server.stop()
        pytest.fail(f"临时服务器启动失败：{error}")
    found = Stores(database_url, redis_url, postgres, redis)
    try:
        yield found
    finally:
        if postgres is not None:
            postgres.stop()
        else:  # a given server: leave it as we found it
            for name in found.created:
                psql(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if redis is not None:
            redis.stop()
