"""`index_builder.py purge` on a deployment whose conversations live in PostgreSQL (database_url): Rasa's
tracker store there is purged like the SQLite file, with the records, on a real PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.launcher.servers import psql
from knowledge.records.database import dispose_all
from tests.support import ROOT, settings_env
from tests.support.servers import Stores, stores  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration

# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent).
EVENTS_TABLE = """CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def test_purge_deletes_old_conversation_events_from_postgresql(tmp_path: Path, stores: Stores) -> None:  # noqa: F811
    url = stores.new_database("purge")
    now = time.time()
    rows = [("gone", 45), ("gone", 44), ("ongoing", 50), ("ongoing", 1), ("new", 0)]
    psql(url, EVENTS_TABLE + ";" + ";".join(
        f"INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('{sender}', 'user', {now - days * 86400}, '{{}}')"
        for sender, days in rows))
    from knowledge.settings import load_settings

    settings = load_settings(records_db=tmp_path / "records.sqlite3", tracker_db=tmp_path / "tracker.sqlite3",
                             reports_dir=tmp_path / "reports", index_dir=tmp_path / "index")
    env = {**settings_env(settings), "GOVQA_DATABASE_URL": url, "GOVQA_RETENTION_DAYS": "30"}
    done = subprocess.run([sys.executable, str(ROOT / "index_builder.py"), "purge"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    dispose_all()
    assert done.returncode == 0, done.stderr
    assert "对话事件（events）：删除 3 条，其中 1 个对话已全部删除" in done.stdout
    assert psql(url, "SELECT sender_id FROM events ORDER BY id").split() == ["ongoing", "new"]
    assert not (tmp_path / "tracker.sqlite3").exists()  # the SQLite file is not the tracker store here
    password = url.split(":")[2].split("@")[0]
    assert password not in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_purge_when_postgresql_is_unreachable_says_so_without_a_traceback(tmp_path: Path) -> None:
    from knowledge.settings import load_settings

    settings = load_settings(records_db=tmp_path / "records.sqlite3", reports_dir=tmp_path / "reports", index_dir=tmp_path / "index")
    env = {**settings_env(settings), "GOVQA_DATABASE_URL": "postgresql://govqa:secret-pw@127.0.0.1:1/govqa"}
    done = subprocess.run([sys.executable, str(ROOT / "index_builder.py"), "purge"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "对话记录库（Rasa tracker store）无法读写" in done.stderr and "Traceback" not in done.stderr
    assert "secret-pw" not in done.stdout + done.stderr
