"""`make run` (`build --if-changed`) and `status` when settings.yml changes how questions are scored: a published
version keeps scoring as its decision model was calibrated, so the next `build --if-changed` rebuilds it."""

from __future__ import annotations

import dataclasses

from knowledge.index.store import IndexStore
from knowledge.settings import Settings
from tests.support import run_cli


def test_a_changed_name_pairs_weight_is_rebuilt_by_if_changed(kb_copy: Settings) -> None:
    off = dataclasses.replace(kb_copy, name_pairs_bonus=0.0)
    assert run_cli(off, "build", "--no-gate").returncode == 0
    store = IndexStore(kb_copy.index_dir)
    assert store.manifest(store.current_version() or "")["calibration"]["name_pairs_bonus"] == 0.0
    assert "继续使用当前索引" in run_cli(off, "build", "--if-changed").stdout
    on = dataclasses.replace(kb_copy, name_pairs_bonus=0.02)
    assert "name_pairs_bonus 和本版本校准时的不同" in run_cli(on, "status").stdout
    rebuilt = run_cli(on, "build", "--if-changed")
    assert rebuilt.returncode == 0 and "名称字对权重" in rebuilt.stdout.split("\n")[0]  # says why it rebuilds
    assert store.manifest(store.current_version() or "")["calibration"]["name_pairs_bonus"] == 0.02
    assert "继续使用当前索引" in run_cli(on, "build", "--if-changed").stdout
    assert "name_pairs_bonus" not in run_cli(on, "status").stdout
