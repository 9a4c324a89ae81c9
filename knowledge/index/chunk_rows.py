"""The staged version's chunks and guides as columns, with unchanged guides' bytes copied from the
serving version: a rebuild builds Python objects only for the guides that changed.

Why: a 5,000-guide knowledge base has ~94,000 chunks; turning them all into objects (unpickled
from the parse cache) and serialising them again cost ~2 s of every rebuild. What the build reads
of every chunk is its kind, guide, lexical unit and key: columns here. Its text and content are
read only for the few chunks that need them (new chunks to embed and tokenize, calibration's
sample questions, search hits), from the serving version's ``chunks.jsonl`` line on first use.

- ``chunks.jsonl`` and ``guides.json`` are written from the serving version's byte ranges
  (guide_table.py says where each unchanged guide is) and the changed guides' serialised parts
  (guide_parts.py): the bytes a build from scratch writes (tests compare them).
- `ChunkRows` is the staged IndexData's ``chunks``: a changed guide's chunks are Chunk objects; a
  reused one is a `ChunkView` whose kind, guide id, title (and a question's text or an FAQ's
  content) come from the columns, and whose other fields read its Chunk on first use.
- `GuideEntry` is an unchanged guide's ``guides.json`` entry: id, title and aliases at once, the
  rest parsed on first use.

Usage::

    rows = ChunkRows(validation.guides, parts, table, other_chunks)   # parts: {position: GuideParts}
    line_at = rows.write_chunks(staging / "chunks.jsonl")
    entry_at = rows.write_guides(staging / GUIDES_FILE)
    data = IndexData.from_parts(staging, manifest, rows, rows.guide_entries(), ...)
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from knowledge.index.chunks import FAQ, QUESTION, Chunk, lexical_unit
from knowledge.index.flat import _copy
from knowledge.index.guide_parts import GuideParts
from knowledge.index.guide_table import KIND_CODE, KINDS, GuideStub, GuideTable, chunk_text
from knowledge.index.neighbours import chunk_keys
from knowledge.sources.model import Guide


class GuideEntry(dict):  # type: ignore[type-arg]
    """A guides.json entry whose id, title and aliases are known and whose rest is parsed on first
    use (calibration reads the aliases of all 5,000 guides, answers read a few whole guides).
    Any read beyond those three keys completes it first, so it is the dict json.loads would give."""

    def __init__(self, light: dict[str, Any], load: Callable[[], dict[str, Any]]) -> None:
        super().__init__(light)
        self._load: Callable[[], dict[str, Any]] | None = load

    def _complete(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None
            full = load()
            dict.clear(self)
            dict.update(self, full)  # the entry's own key order

    def __missing__(self, key: Any) -> Any:
        if self._load is None:
            raise KeyError(key)
        self._complete()
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        if not dict.__contains__(self, key):
            self._complete()
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self._complete()
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[Any]:
        self._complete()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._complete()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._complete()
        return dict.keys(self)

    def values(self) -> Any:
        self._complete()
        return dict.values(self)

    def items(self) -> Any:
        self._complete()
        return dict.items(self)

    def copy(self) -> dict[str, Any]:
        self._complete()
        return dict(dict.items(self))

    def __eq__(self, other: object) -> bool:
        self._complete()
        if isinstance(other, GuideEntry):
            other._complete()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._complete()
        return dict.__repr__(self)


class ChunkView:
    """A reused guide chunk as the build sees it: kind, guide id and title from the columns (and a
    question's text or an FAQ's content, from the guide table), anything else from the Chunk, made
    on first use (a search hit's kind, guide and title are all that scoring reads)."""

    __slots__ = ("_row", "_rows", "content", "guide_id", "kind", "text", "title")

    def __init__(self, kind: str, guide_id: str | None, title: str, rows: ChunkRows, row: int, known: str) -> None:
        self.kind, self.guide_id, self.title, self._rows, self._row = kind, guide_id, title, rows, row
        if kind == QUESTION:
            self.text = known
        elif kind == FAQ:
            self.content = known

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rows.chunk(self._row), name)


class ChunkRows(Sequence[Chunk]):
    """Every chunk of the version being built, guides' chunks first (in guide order), then `other`."""

    def __init__(self, guides: Sequence[Guide | GuideStub], parts: dict[int, GuideParts], table: GuideTable | None,
                 other: Sequence[Chunk]) -> None:
        self.guides, self.parts, self.table, self.other = list(guides), parts, table, list(other)
        counts = np.zeros(len(self.guides), dtype=np.int64)
        old_start = np.full(len(self.guides), -1, dtype=np.int64)
        for position, guide in enumerate(self.guides):
            if isinstance(guide, GuideStub):
                assert table is not None
                old_start[position] = table.chunk_at[guide.row]
                counts[position] = table.chunk_at[guide.row + 1] - old_start[position]
            else:
                counts[position] = len(parts[position].chunks)
        self.chunk_at = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.guide_rows = int(self.chunk_at[-1])
        owner = np.repeat(np.arange(len(self.guides), dtype=np.int64), counts)
        # Row in the serving version's table of each reused chunk (-1: a chunk made by this build)
        self.old_row = np.where(old_start[owner] >= 0, old_start[owner] + np.arange(self.guide_rows) - self.chunk_at[owner], -1)
        codes = np.zeros(self.guide_rows, dtype=np.uint8)
        keys = np.zeros(self.guide_rows, dtype="S16")
        reused = self.old_row >= 0
        if reused.any():
            assert table is not None
            codes[reused] = table.kinds[self.old_row[reused]]
            keys[reused] = table.chunk_keys[self.old_row[reused]]
        old_texts = table.texts if table is not None else []
        self.texts = [old_texts[row] if row >= 0 else "" for row in self.old_row.tolist()]  # chunk_text of each row
        self._objects: dict[int, Chunk] = {}
        for position, part in parts.items():
            start = int(self.chunk_at[position])
            for offset, chunk in enumerate(part.chunks):
                self._objects[start + offset] = chunk
                codes[start + offset] = KIND_CODE[chunk.kind]
                self.texts[start + offset] = chunk_text(chunk)
            if part.chunks:
                keys[start : start + len(part.chunks)] = chunk_keys([c.id for c in part.chunks], [c.digest for c in part.chunks])
        for offset, chunk in enumerate(self.other):
            self._objects[self.guide_rows + offset] = chunk
        self.codes = codes
        self.keys = np.concatenate([keys, chunk_keys([c.id for c in self.other], [c.digest for c in self.other])])
        ids = [guide.id for guide in self.guides]
        owners = owner.tolist()
        self.kinds = [KINDS[code] for code in codes.tolist()] + [c.kind for c in self.other]
        self.guide_ids: list[str | None] = [ids[g] for g in owners] + [c.guide_id for c in self.other]
        units = [f"guide:{guide_id}" for guide_id in ids]  # lexical_unit of a guide's chunk
        self.units: list[str | None] = [units[g] for g in owners] + [lexical_unit(c) for c in self.other]
        self._views: list[Any] | None = None
        self._fd: int | None = None
        self._lock = threading.Lock()

    # --- the Sequence of chunks --------------------------------------------------------------
    def __len__(self) -> int:
        return self.guide_rows + len(self.other)

    @overload
    def __getitem__(self, row: int) -> Chunk: ...

    @overload
    def __getitem__(self, row: slice) -> list[Chunk]: ...

    def __getitem__(self, row: int | slice) -> Chunk | list[Chunk]:
        """A Chunk, or for a reused chunk its ChunkView (the Chunk is read when a field beyond the columns is)."""
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._all()[row]  # type: ignore[no-any-return]

    def chunk(self, row: int) -> Chunk:
        """The Chunk of a row (read from the serving version's chunks.jsonl on first use)."""
        chunk = self._objects.get(row)
        if chunk is None:
            with self._lock:
                chunk = self._objects[row] = self._read(int(self.old_row[row]))
        return chunk

    def __iter__(self) -> Iterator[Any]:
        return iter(self._all())

    def _all(self) -> list[Any]:
        """Every row: the Chunk objects this build made, views of the reused ones."""
        if self._views is None:
            with self._lock:  # two build threads may ask first (staged_files.VectorsAhead); one builds them
                return self._build_views()
        return self._views

    def _build_views(self) -> list[Any]:
        if self._views is None:
            titles = [guide.title for guide in self.guides]
            owners = np.repeat(np.arange(len(self.guides)), np.diff(self.chunk_at)).tolist()
            views: list[Any] = [self._objects.get(row) or ChunkView(kind, guide_id, titles[owner], self, row, text)
                                for row, (kind, guide_id, text, owner)
                                in enumerate(zip(self.kinds[: self.guide_rows], self.guide_ids, self.texts, owners, strict=False))]
            self._views = views + self.other
        return self._views

    def _read(self, old_row: int) -> Chunk:
        """A reused chunk, from its line in the serving version's chunks.jsonl."""
        table = self.table
        assert table is not None and old_row >= 0
        if self._fd is None:
            self._fd = os.open(table.folder / "chunks.jsonl", os.O_RDONLY)
        start, end = int(table.line_at[old_row]), int(table.line_at[old_row + 1])
        return Chunk.from_dict(json.loads(os.pread(self._fd, end - start, start)))

    def reopen(self) -> None:
        """In a forked child (forked.py): a lock no thread of the parent can be holding."""
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()

    # --- the version's files -----------------------------------------------------------------
    def _runs(self) -> list[tuple[int, int]]:
        """(first, last + 1) guide positions of runs of consecutive reused guides (consecutive table rows)."""
        rows = np.array([g.row if isinstance(g, GuideStub) else -1 for g in self.guides], dtype=np.int64)
        runs: list[tuple[int, int]] = []
        position = 0
        while position < len(rows):
            if rows[position] < 0:
                position += 1
                continue
            end = position + 1
            while end < len(rows) and rows[end] == rows[end - 1] + 1:
                end += 1
            runs.append((position, end))
            position = end
        return runs

    def write_chunks(self, path: Any) -> np.ndarray:
        """chunks.jsonl (guides' lines, then the other chunks'); returns each guide chunk's line offset
        (and the end of the last) for the next table."""
        line_at = np.zeros(self.guide_rows + 1, dtype=np.int64)
        runs = {first: end for first, end in self._runs()}
        with open(path, "wb") as out, open(self.table.folder / "chunks.jsonl", "rb") if self.table else contextlib.nullcontext() as old:
            at = 0
            position = 0
            while position < len(self.guides):
                start_row = int(self.chunk_at[position])
                if position in runs:
                    end = runs[position]
                    assert self.table is not None and old is not None
                    first_old = int(self.table.chunk_at[self.guides[position].row])  # type: ignore[union-attr]
                    last_old = int(self.table.chunk_at[self.guides[end - 1].row + 1])  # type: ignore[union-attr]
                    old_from, old_to = int(self.table.line_at[first_old]), int(self.table.line_at[last_old])
                    _copy(old.fileno(), out.fileno(), old_to - old_from, old_from, at)
                    line_at[start_row : int(self.chunk_at[end])] = self.table.line_at[first_old:last_old] - old_from + at
                    at += old_to - old_from
                    position = end
                    continue
                lines = self.parts[position].lines
                ends = np.flatnonzero(np.frombuffer(lines, dtype=np.uint8) == 10) + 1
                count = int(self.chunk_at[position + 1]) - start_row
                line_at[start_row : start_row + count] = at + np.concatenate([[0], ends[:-1]])[:count]
                os.pwrite(out.fileno(), lines, at)
                at += len(lines)
                position += 1
            line_at[self.guide_rows] = at
            rest = "".join(json.dumps(chunk.as_dict(), ensure_ascii=False) + "\n" for chunk in self.other).encode("utf-8")
            os.pwrite(out.fileno(), rest, at)
        return line_at

    def write_guides(self, path: Any) -> np.ndarray:
        """guides.json, ``json.dumps({id: guide.as_dict()}, ensure_ascii=False)`` byte for byte; returns
        each guide's entry (start, end) in it for the next table."""
        entry_at = np.zeros((len(self.guides), 2), dtype=np.int64)
        runs = {first: end for first, end in self._runs()}
        with open(path, "wb") as out, open(self.table.folder / "guides.json", "rb") if self.table else contextlib.nullcontext() as old:
            at = 0

            def put(data: bytes) -> None:
                nonlocal at
                os.pwrite(out.fileno(), data, at)
                at += len(data)

            put(b"{")
            position = 0
            while position < len(self.guides):
                guide = self.guides[position]
                put(((", " if position else "") + json.dumps(guide.id, ensure_ascii=False) + ": ").encode("utf-8"))
                if position in runs:
                    assert self.table is not None and old is not None
                    end = runs[position]
                    first, last = self.guides[position].row, self.guides[end - 1].row  # type: ignore[union-attr]
                    old_from, old_to = int(self.table.entry_at[first, 0]), int(self.table.entry_at[last, 1])
                    _copy(old.fileno(), out.fileno(), old_to - old_from, old_from, at)
                    entry_at[position:end] = self.table.entry_at[first : last + 1] - old_from + at
                    at += old_to - old_from
                    position = end
                    continue
                entry = self.parts[position].entry.encode("utf-8")
                entry_at[position] = (at, at + len(entry))
                put(entry)
                position += 1
            put(b"}")
        return entry_at

    def guide_entries(self) -> dict[str, dict[str, Any]]:
        """{id: guides.json entry} for the staged IndexData: unchanged guides as GuideEntry."""
        entries: dict[str, dict[str, Any]] = {}
        for guide in self.guides:
            if isinstance(guide, GuideStub):
                entries[guide.id] = GuideEntry({"id": guide.id, "title": guide.title, "aliases": list(guide.aliases)},
                                               self._entry_loader(guide.row))
            else:
                entries[guide.id] = guide.as_dict()
        return entries

    def _entry_loader(self, row: int) -> Callable[[], dict[str, Any]]:
        table = self.table
        assert table is not None

        def load() -> dict[str, Any]:
            start, end = int(table.entry_at[row, 0]), int(table.entry_at[row, 1])
            with open(table.folder / "guides.json", "rb") as handle:
                handle.seek(start)
                value: dict[str, Any] = json.loads(handle.read(end - start))
            return value

        return load

