"""The serving version as the publish gate compares with it, loaded through its guide table: chunks
and guides are made on first use, the vectors are a memory map, and the build's own tokenizer is
used when the dictionary is the same; the questions its own build asked are answered from its
neighbour lists.

Why: the gate asks the serving version a few hundred questions. Loading it the way the answering
processes do (IndexData: every line of chunks.jsonl parsed, guides.json parsed, dense.faiss read
into FAISS, jieba's dictionary loaded a second time) cost ~3 s of CPU of every gated rebuild at
5,000 guides. The files are checked against the version's manifest first, exactly as IndexData
does; the answers are the same (tests compare them with IndexData's).

Usage::

    retriever = published_retriever(store, params, embedder, table, tokenizer, depth)   # None: no usable version
    findings = check_gate(new_retriever, retriever, settings, change=change)
"""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.index.bm25 import BM25Index, Tokenizer
from knowledge.index.calibration import DecisionModel
from knowledge.index.chunk_rows import ChunkRows
from knowledge.index.chunks import Chunk
from knowledge.index.embedding import CachedEmbedder, Embedder
from knowledge.index.flat import FlatVectors, read_flat
from knowledge.index.guide_table import GuideTable
from knowledge.index.mentions import MentionScan
from knowledge.index.neighbours import NeighbourIndex, NeighbourTable
from knowledge.index.store import IndexStore, IndexStoreError
from knowledge.retrieval.index_data import CALIBRATION_FILE, IndexData, NoIndexError
from knowledge.retrieval.retriever import RetrievalParams, Retriever


def lazy_index_data(folder: Path, table: GuideTable, tokenizer: Tokenizer, depth: int = 0) -> IndexData | None:
    """The version in `folder` (whose guide table is `table`) as an IndexData, or None when it cannot
    be used this way (then load it with IndexData). With `depth`, its searches of the questions its
    own build asked (the evaluation questions among them) come from its neighbour lists
    (neighbours.py: the lists of a full search, kept `depth` deep)."""
    if table.folder != folder:
        return None
    try:
        IndexStore(folder.parent.parent).verify(folder.name)  # every file matches the manifest
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        with open(folder / "chunks.jsonl", "rb") as handle:  # policy passages and anchors follow the guides' lines
            handle.seek(int(table.line_at[-1]))
            other = [Chunk.from_dict(json.loads(line)) for line in handle.read().splitlines() if line.strip()]
        chunks = ChunkRows([table.stub(row) for row in range(len(table.keys))], {}, table, other)
        vectors = read_flat(folder / "dense.faiss", len(chunks), int(manifest["embedding"]["dimension"]))
        if vectors is None:
            return None
        words = json.loads((folder / "user_words.json").read_text(encoding="utf-8"))
        if words != tokenizer.user_words:  # another dictionary: this version's own tokenizer
            tokenizer = Tokenizer(words)
        units = json.loads((folder / "lexical_units.json").read_text(encoding="utf-8"))
        data = IndexData.from_parts(folder, manifest, chunks, chunks.guide_entries(), FlatVectors(vectors),  # type: ignore[arg-type]
                                    BM25Index.load(folder), tokenizer, units)
        data.adopt(DecisionModel.from_dict(json.loads((folder / CALIBRATION_FILE).read_text(encoding="utf-8"))))
        lists = NeighbourTable.load(folder, manifest["embedding"]["id"]) if depth else None
        if lists is not None and len(lists.keys) == len(chunks):
            data.dense = NeighbourIndex(data.dense, lists.keys, depth, lists)  # type: ignore[arg-type]
    except (IndexStoreError, OSError, ValueError, KeyError):
        return None
    return data


def published_retriever(store: IndexStore, params: RetrievalParams, embedder: Embedder | CachedEmbedder,
                        table: GuideTable | None, tokenizer: Tokenizer, depth: int = 0) -> Retriever | None:
    """The version serving now, to compare with; None when there is none (or it cannot be loaded,
    or it was built with another model: nothing comparable)."""
    folder = store.current_folder()
    if folder is None or not folder.is_dir():
        return None
    try:
        data = lazy_index_data(folder, table, tokenizer, depth) if table is not None else None
        retriever = Retriever(data or IndexData(folder), params, embedder)
    except NoIndexError:  # unusable, or built with another model
        return None
    retriever._mentioned = MentionScan(retriever.data)  # type: ignore[method-assign]  # same result, faster at thousands of guides
    return retriever
