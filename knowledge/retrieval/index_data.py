"""One published index version, loaded into memory whole: chunks, FAISS, BM25, guides and the
decision model calibrated for it. Immutable once loaded, so the retriever swaps it as a whole.

Usage::

    data = IndexData(index_dir / "versions" / "v20261205-0101")   # NoIndexError if unusable
    data.guides["company-setup"]["title"]
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from knowledge.index.bm25 import BM25Index, Tokenizer
from knowledge.index.calibration import DecisionModel
from knowledge.index.chunks import Chunk, lexical_unit
from knowledge.index.store import IndexStore, IndexStoreError, read_guides
from knowledge.retrieval.name_grams import version_weight
from knowledge.retrieval.offices import OfficeDirectory

CALIBRATION_FILE = "calibration.json"


class NoIndexError(RuntimeError):
    """No usable published index: none built yet, or the published one is missing or corrupt."""


class IndexData:
    """One loaded index version; immutable once loaded, so it can be swapped as a whole."""

    def __init__(self, folder: Path, *, staging: bool = False) -> None:
        self.folder = folder
        self.version = folder.name
        try:
            IndexStore(folder.parent.parent).verify(folder.name)
            self._load(folder)
            if self.decision is None and not staging:
                raise ValueError("没有决策模型 calibration.json（旧版本的索引）")
        except IndexStoreError as error:
            raise NoIndexError(str(error)) from error
        except (OSError, ValueError, KeyError, RuntimeError) as error:  # faiss reports a bad file as RuntimeError
            raise NoIndexError(f"索引版本 {folder.name} 无法加载（{type(error).__name__}: {error}）：请重新运行 "
                               "python3 index_builder.py build，或 rollback 回到上一个版本") from error

    @classmethod
    def from_parts(cls, folder: Path, manifest: dict[str, Any], chunks: list[Chunk], guides: dict[str, dict[str, Any]],
                   dense: faiss.Index, bm25: BM25Index, tokenizer: Tokenizer, units: list[str]) -> IndexData:
        """The version a build is staging, from the objects it has just written (reading the
        files back would cost seconds at 5,000 guides); no decision model yet."""
        data = cls.__new__(cls)
        data.folder, data.version = folder, folder.name
        data.manifest, data.chunks, data.guides, data.dense, data.bm25 = manifest, chunks, guides, dense, bm25
        data.tokenizer, data.units = tokenizer, units
        data._derive()
        data.decision = None
        data.common_words = frozenset()  # calibration learns them for the staged version
        data.everyday_words = None
        return data

    def adopt(self, model: DecisionModel) -> None:
        """Serve with `model`: it and the word lists learnt with it (the staged version once calibrated, a version
        read from its files), so every process reads a version's questions alike."""
        self.decision = model
        # The words most guides' sample questions share: the retriever leaves them out of the item vector and of
        # the lexical channel (knowledge/retrieval/item_words.py).
        self.common_words = frozenset(model.common_words)
        # Words general Chinese uses a lot, never a guide's sole words (knowledge/retrieval/sole_words.py); None for
        # a version calibrated before they were learnt.
        self.everyday_words = None if model.everyday_words is None else frozenset(model.everyday_words)

    def name_pairs_weight(self, configured: float) -> float:
        """The names' character pairs' weight this version scores with (name_grams.version_weight): the one its decision
        model was calibrated with; `configured` (settings.yml name_pairs_bonus) while it is being built."""
        return version_weight(self.manifest.get("calibration"), configured)

    @cached_property
    def offices(self) -> OfficeDirectory:
        """The offices the guides list, to find those a question names (built on first use: only questions
        asking whom to call or where to go read it)."""
        return OfficeDirectory.from_guides(self.guides)

    def _load(self, folder: Path) -> None:
        self.manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        with open(folder / "chunks.jsonl", encoding="utf-8") as handle:
            self.chunks = [Chunk.from_dict(json.loads(line)) for line in handle if line.strip()]
        self.guides: dict[str, dict[str, Any]] = read_guides(folder)
        self.dense = faiss.read_index(str(folder / "dense.faiss"))
        self.bm25 = BM25Index.load(folder)
        words = json.loads((folder / "user_words.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer(words)
        self.units: list[str] = json.loads((folder / "lexical_units.json").read_text(encoding="utf-8"))
        self._derive()
        # The decision model calibrated for this version at build time (absent only while staging).
        calibration = folder / CALIBRATION_FILE
        self.decision: DecisionModel | None = None
        self.common_words: frozenset[str] = frozenset()
        self.everyday_words: frozenset[str] | None = None
        if calibration.exists():
            self.adopt(DecisionModel.from_dict(json.loads(calibration.read_text(encoding="utf-8"))))

    def _derive(self) -> None:
        position = {unit: index for index, unit in enumerate(self.units)}
        # For each chunk, the row of its lexical unit in the BM25 index (-1: anchors).
        self.unit_of = np.array([position.get(lexical_unit(c) or "", -1) for c in self.chunks], dtype=np.int64)
        # Lower-cased names (titles, aliases) -> guide id, longest first, for exact mentions.
        names = {n.lower(): gid for gid, g in self.guides.items() for n in [g["title"], *g["aliases"]] if len(n) >= 2}
        self.names = sorted(names.items(), key=lambda item: -len(item[0]))
