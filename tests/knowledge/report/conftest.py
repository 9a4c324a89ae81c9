"""The report tests' settings: a records file and reports folder in tmp, no published index (guide
titles then come from the bundled guide files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(records_db=tmp_path / "records.sqlite3", reports_dir=tmp_path / "reports", index_dir=tmp_path / "index")
