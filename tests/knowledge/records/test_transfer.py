"""`index_builder.py copy-records`: a deployment that scales out moves its records from the SQLite file to
PostgreSQL without losing or doubling one (knowledge/records/transfer.py), on a real PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.records.database import dispose_all
from knowledge.records.desk import DeskRecords
from knowledge.records.store import ALL_TABLES, ANSWERED, Records
from tests.support import ROOT
from tests.support.servers import Stores, stores  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration


def _copy(source: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "GOVQA_DATABASE_URL": url, "GOVQA_RECORDS_DB": str(source),
           "GOVQA_VAR_DIR": str(source.parent)}
    return subprocess.run([sys.executable, str(ROOT / "index_builder.py"), "copy-records", *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _everything(records: Records) -> dict[str, list[dict]]:
    return {table: records.rows(table) for table in ALL_TABLES}


def test_every_record_moves_once_with_its_ids_and_new_ones_follow(tmp_path: Path, stores: Stores) -> None:  # noqa: F811
    source = tmp_path / "records.sqlite3"
    old = DeskRecords(source)
    old.add_question("kefu-a", "开公司要带什么材料", outcome=ANSWERED, guide_id="company-setup", aspect="materials",
                     confidence=0.8, index_version="v1")
    old.add_feedback("kefu-a", "bad", question="开公司要带什么材料", guide_id="company-setup", section="申请材料",
                     index_version="v1", answer_id="abcdefghijkl", comment="电话 13812345678 打不通")
    handoff = old.add_handoff("tg-7", reason="request_human", guide_id="water-connection", question="用水报装\x00",
                              transcript=[{"role": "user", "text": "转人工"}])  # a NUL PostgreSQL cannot store
    old.take(handoff, "王芳")
    old.reply(handoff, "王芳", "您好，请带身份证到 3 号窗口")
    before = _everything(old)
    file_bytes = source.read_bytes()
    dispose_all()

    url = stores.new_database("transfer")
    done = _copy(source, url)
    dispose_all()
    assert done.returncode == 0, done.stderr
    assert "提问记录（questions）：1 条" in done.stdout and "坐席往来消息（desk_messages）：" in done.stdout
    moved = DeskRecords(tmp_path / "unused.sqlite3", url=url)
    before["handoffs"][0]["question"] = "用水报装"  # the NUL dropped, nothing else
    assert _everything(moved) == before  # every row, every column, the same ids; the personal number stays masked
    assert "13812345678" not in str(before)
    assert source.read_bytes() == file_bytes  # the SQLite file untouched (a snapshot was read and upgraded)
    # PostgreSQL numbers the next rows after the copied ones, and the desk goes on with the moved handoff.
    assert moved.add_question("kefu-b", "用电报装要多久", outcome=ANSWERED) > before["questions"][-1]["id"]
    assert moved.add_feedback("kefu-b", "good", question=None, guide_id=None, section=None, index_version=None) > before["feedback"][-1]["id"]
    assert moved.add_handoff("kefu-b", reason="complain", guide_id=None, question=None, transcript=[]) > handoff
    assert moved.reply(handoff, "王芳", "已为您登记")["status"] == "taken"

    again = _copy(source, url)
    assert again.returncode == 1 and "已有数据" in again.stderr and "Traceback" not in again.stderr
    assert len(DeskRecords(tmp_path / "unused.sqlite3", url=url).rows("questions")) == 2  # nothing doubled
    dispose_all()


def test_without_a_postgresql_url_or_a_file_nothing_is_copied(tmp_path: Path) -> None:
    missing = _copy(tmp_path / "none.sqlite3", "postgresql://u:secret-pw@127.0.0.1:1/db")
    assert missing.returncode == 1 and "找不到 SQLite 记录文件" in missing.stderr
    Records(tmp_path / "records.sqlite3").add_question("u", "q", outcome=ANSWERED)
    dispose_all()
    no_url = _copy(tmp_path / "records.sqlite3", "")
    assert no_url.returncode == 1 and "GOVQA_DATABASE_URL" in no_url.stderr
    unreachable = _copy(tmp_path / "records.sqlite3", "postgresql://u:secret-pw@127.0.0.1:1/db")
    assert unreachable.returncode == 1 and "没有写入任何记录" in unreachable.stderr
    assert "secret-pw" not in unreachable.stderr and "Traceback" not in unreachable.stderr
