"""What a version knows about each guide file it was built from, so the next build reuses an
unchanged guide without turning it back into Python objects.

Why: at 5,000 guides a rebuild unpickled 5,000 parsed guides and ~94,000 chunk objects from the
parse cache (~2 s, plus ~0.7 s reading their rows from SQLite) to change one guide. A version now
keeps a columnar table of its guides (``guide_table.npz``, checksummed in the manifest like every
file): per guide, the parse cache's key of its file (sha256 of the displayed path and the bytes),
what the checks across files read (id, title, aliases and their lines, the file's warnings), where
its chunks' lines are in ``chunks.jsonl`` and its entry in ``guides.json``; per chunk, its kind, key
and the one text calibration reads of it (a sample question's text, an FAQ's content; `chunk_text`).
The next build reads each guide file, and when the key is in the table it takes the guide from
there (a `GuideStub` for validation, byte ranges of the serving version's files for the rest:
chunk_rows.py); only changed files are parsed (through the parse cache) and chunked.

The table is trusted only when its version vouches for it and for the two files it points into
(their checksums match the manifest), and only from the same parser and chunking code (its
``code`` is the parse cache's ``parts_code``).

Usage::

    table = GuideTable.load(store.current_folder(), parsed.parts_code)   # None: nothing to reuse
    reader = ReusingParser(parsed, table)
    validation = validate_knowledge_base(settings, parse=reader.parse)  # stubs for unchanged files
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.index.chunks import FAQ, OVERVIEW, QUESTION, SECTION
from knowledge.index.store import GUIDES_FILE, vouching_manifest
from knowledge.sources.model import Guide, Problem

if TYPE_CHECKING:
    from knowledge.index.parse_cache import ParseCache

TABLE_FILE = "guide_table.npz"
FORMAT = "guide-table-3"
SEPARATOR = "\x1f"  # between a stored text's pieces (jieba never makes one of it: such texts are not stored)
KINDS = (OVERVIEW, SECTION, FAQ, QUESTION)  # the kinds of guide chunks, by code
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}


def chunk_text(chunk: Any) -> str:
    """What the table keeps of a guide chunk's text: a question's text (its content is the same), an
    FAQ's content (calibration asks its first line); other chunks' texts are read from chunks.jsonl."""
    return chunk.text if chunk.kind == QUESTION else chunk.content if chunk.kind == FAQ else ""


def joined(pieces: list[str] | None) -> str | None:
    """How the table stores a text's pieces (None: not stored)."""
    return None if pieces is None or any(SEPARATOR in piece for piece in pieces) else SEPARATOR.join(pieces)


@dataclass
class WordColumns:
    """How jieba cut the table's texts under the dictionary `dictionary` (bm25.Tokenizer.segment_key),
    for the item words (knowledge/retrieval/item_words.py), which cut every guide's sample questions,
    FAQ headings and aliases and tokenize every title: per chunk, the pieces of its sample question
    (`chunk_question`; None for other chunks); per guide, [title tokens, [pieces of each alias]]."""

    dictionary: str
    pieces: list[str | None]
    names: list[list[Any]]

    def memo(self, texts: list[str], kinds: np.ndarray, meta: list[list[Any]]) -> tuple[dict[str, str], dict[str, str]]:
        """(tokens by text, pieces by text) of the table's titles, questions and aliases, joined by
        SEPARATOR (bm25.Tokenizer.preload splits a text's on use)."""
        question, faq = KIND_CODE[QUESTION], KIND_CODE[FAQ]
        segments = {text if code == question else chunk_question(FAQ, text): stored
                    for code, text, stored in zip(kinds.tolist(), texts, self.pieces, strict=True)
                    if stored is not None and (code == question or code == faq)}
        tokens: dict[str, str] = {}
        for record, (title_tokens, alias_pieces) in zip(meta, self.names, strict=True):
            if title_tokens is not None:
                tokens[record[1]] = title_tokens
            segments.update((alias, stored) for alias, stored in zip(record[2], alias_pieces, strict=True) if stored is not None)
        return tokens, segments


def chunk_question(kind: str, text: str) -> str:
    """The sample question of a chunk from its `chunk_text` (item_words.sample_question): a question's
    text, an FAQ's heading (the first line of its content)."""
    return text if kind == QUESTION else text.split("\n", 1)[0].strip()


@dataclass
class GuideStub:
    """An unchanged guide as validation's checks across files and the build see it; `row` is its
    row in the serving version's table (the rest of it is read from that version's files)."""

    id: str
    title: str
    aliases: list[str]
    alias_lines: dict[str, int]
    id_line: int
    path: str
    row: int = -1
    problems: list[Problem] = field(default_factory=list)
    title_line: int = 1  # where the title is, for a duplicate title named on its line (tables before it: line 1)


def file_key(display_path: str, data: bytes) -> bytes:
    """The parse cache's key of a guide file (its result depends on the displayed path and the bytes),
    without trailing NUL bytes: that is how a stored "S32" key reads back (numpy strips them)."""
    return hashlib.sha256(display_path.encode("utf-8") + b"\0" + data).digest().rstrip(b"\0")


def guide_meta(guide: Guide | GuideStub, problems: list[Problem]) -> list[Any]:
    """The table's record of one guide (JSON)."""
    return [guide.id, guide.title, list(guide.aliases), dict(guide.alias_lines), guide.id_line, guide.path,
            [[p.path, p.line, p.message, p.severity] for p in problems], guide.title_line]


class GuideTable:
    """The guide table of one published version (see the module docstring)."""

    def __init__(self, folder: Path, keys: np.ndarray, meta: list[list[Any]], chunk_at: np.ndarray, line_at: np.ndarray,
                 entry_at: np.ndarray, kinds: np.ndarray, chunk_keys: np.ndarray, texts: list[str],
                 words: WordColumns | None = None) -> None:
        self.folder, self.texts = folder, texts
        self.keys, self.meta, self.chunk_at, self.line_at = keys, meta, chunk_at, line_at
        self.entry_at, self.kinds, self.chunk_keys = entry_at, kinds, chunk_keys
        self.words = words or WordColumns("", [None] * len(texts), [[None, []] for _ in meta])
        self.row_of = {key: row for row, key in enumerate(keys.tolist())}

    @classmethod
    def load(cls, folder: Path | None, code: str) -> GuideTable | None:
        """The table of a published version, or None (none stored, other code, not vouched for)."""
        if folder is None or not (folder / TABLE_FILE).is_file():
            return None
        try:
            # Its byte ranges are copied into the new version: the files they point into must be intact too.
            for name in (TABLE_FILE, "chunks.jsonl", GUIDES_FILE):
                if vouching_manifest(folder, name) is None:
                    return None
            with np.load(folder / TABLE_FILE, allow_pickle=False) as stored:
                if str(stored["format"]) != FORMAT or str(stored["code"]) != code:
                    return None
                meta = json.loads(stored["meta"].tobytes().decode("utf-8"))
                texts = json.loads(stored["texts"].tobytes().decode("utf-8"))
                pieces, names = json.loads(stored["words"].tobytes().decode("utf-8"))
                table = cls(folder, stored["keys"], meta, stored["chunk_at"], stored["line_at"], stored["entry_at"],
                            stored["kinds"], stored["chunk_keys"], texts, WordColumns(str(stored["dictionary"]), pieces, names))
        except (OSError, ValueError, KeyError):
            return None
        if len(meta) != len(table.keys) or len(table.chunk_at) != len(meta) + 1 or len(texts) != len(table.kinds) \
                or len(pieces) != len(texts) or len(names) != len(meta):
            return None
        return table

    def stub(self, row: int) -> GuideStub:
        guide_id, title, aliases, alias_lines, id_line, path, problems, *rest = self.meta[row]
        return GuideStub(guide_id, title, aliases, alias_lines, id_line, path, row,
                         [Problem(p[0], p[1], p[2], p[3]) for p in problems], int(rest[0]) if rest else 1)

    @staticmethod
    def save(path: Path, code: str, keys: list[bytes], meta: list[list[Any]], chunk_at: np.ndarray, line_at: np.ndarray,
             entry_at: np.ndarray, kinds: np.ndarray, chunk_keys: np.ndarray, texts: list[str], words: WordColumns) -> None:
        """Write a table (into the staged version, before its checksums are taken)."""

        def encoded(value: Any) -> np.ndarray:
            return np.frombuffer(json.dumps(value, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)

        with open(path, "wb") as handle:
            np.savez(handle, format=np.array(FORMAT), code=np.array(code), keys=np.array(keys, dtype="S32"), meta=encoded(meta),
                     chunk_at=chunk_at.astype(np.int64), line_at=line_at.astype(np.int64),
                     entry_at=entry_at.astype(np.int64), kinds=kinds.astype(np.uint8), chunk_keys=chunk_keys, texts=encoded(texts),
                     dictionary=np.array(words.dictionary), words=encoded([words.pieces, words.names]))


class ReusingParser:
    """`parse` for validate_knowledge_base: a GuideStub for a file the table knows (same path and
    bytes), else the parse cache's parse (a full Guide). Records every file's checksum (for the
    manifest) and each guide's key and problems (for the next table)."""

    def __init__(self, cache: ParseCache, table: GuideTable | None) -> None:
        self.cache, self.table = cache, table
        self.file_sums = cache.file_sums  # the manifest's source checksums, without reading again
        self.keys: dict[int, bytes] = {}
        self.problems: dict[int, list[Problem]] = {}
        self.reused = 0

    def parse(self, path: Path, display_path: str) -> tuple[Guide | GuideStub | None, list[Problem]]:
        if self.table is not None:
            data = path.read_bytes()
            key = file_key(display_path, data)
            row = self.table.row_of.get(key)
            if row is not None:
                self.file_sums[path] = hashlib.sha256(data).hexdigest()
                stub = self.table.stub(row)
                self.keys[id(stub)], self.problems[id(stub)] = key, stub.problems
                self.reused += 1
                return stub, list(stub.problems)
        guide, problems = self.cache.parse(path, display_path)
        key = self.cache.key_of(guide) if guide is not None else None
        key = key.rstrip(b"\0") if key is not None else None
        if guide is not None and key is not None:
            self.keys[id(guide)] = key
            self.problems[id(guide)] = list(problems)
        return guide, problems
