"""The report tests' settings: a records file and reports folder in tmp, no published index (guide
titles then come from the bundled guide files); `publish_line` publishes a version that holds only its answer line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(records_db=tmp_path / "records.sqlite3", reports_dir=tmp_path / "reports", index_dir=tmp_path / "index")


@pytest.fixture
def publish_line(settings: Settings) -> Callable[..., None]:
    """Make `version` a kept index version whose decision model answers from `answer_at` (only the line: the report
    reads nothing else of calibration.json), and the serving one unless `current` is False."""

    def publish(version: str, answer_at: float, *, current: bool = True) -> None:
        folder = settings.index_dir / "versions" / version
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "calibration.json").write_text(json.dumps({"answer_at": answer_at}), encoding="utf-8")
        if current:
            (settings.index_dir / "CURRENT").write_text(version, encoding="utf-8")

    return publish
