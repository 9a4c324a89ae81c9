"""Versioned index folders and the atomic CURRENT pointer.

Layout under ``settings.index_dir``::

    versions/<version>/     one complete index: manifest.json, chunks.jsonl, guides.json,
                            dense.faiss, bm25_*.npz/npy/json, user_words.json
    CURRENT                 the published version's name (replaced atomically with os.replace)
    history.jsonl           every publish and rollback, newest last (history.py reads and adds to it)
    .lock                   held while a build or rollback writes, so two never interleave

Each version's manifest lists the sha256 of every file in it ("files"); `verify()` checks them,
so a truncated or overwritten file is reported, never served.

A reader reads CURRENT once and then loads only that folder, which is complete before it is
ever named in CURRENT and is never modified afterwards: it sees the old index or the new one,
never a mix. Writers stage a version as ``.staging-*`` and rename it into place.

Usage::

    store = IndexStore(settings.index_dir)
    folder = store.current_folder()          # None before the first build
    store.publish("20261121-101500-ab12cd")   # after the folder is complete
    store.rollback()                          # back to the version published before; again: further back
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.index.history import append_entry, read_history, rollback_target, rolled_back_from
from knowledge.settings import ROOT

if TYPE_CHECKING:
    from knowledge.settings import Settings

KEEP_VERSIONS = 5  # older unpublished versions are pruned after a publish


class IndexStoreError(RuntimeError):
    pass


class IndexStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions = root / "versions"

    # --- reading ---------------------------------------------------------------------------
    def current_version(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current_folder(self) -> Path | None:
        version = self.current_version()
        return self.versions / version if version else None

    def list_versions(self) -> list[str]:
        if not self.versions.is_dir():
            return []
        return sorted(p.name for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith("."))

    def manifest(self, version: str) -> dict[str, Any]:
        return json.loads((self.versions / version / "manifest.json").read_text(encoding="utf-8"))

    def manifest_problem(self, version: str) -> str | None:
        """Why a version cannot be read at all (its folder gone, its manifest.json missing or not a JSON object),
        in Chinese for the admin; None when its manifest reads (its other files are `verify`'s business)."""
        folder = self.versions / version
        if not folder.is_dir():
            return f"它的文件夹 {folder} 不存在"
        try:
            manifest = self.manifest(version)
        except FileNotFoundError:
            return "它的文件夹里没有 manifest.json"
        except (OSError, ValueError) as error:  # ValueError: bad JSON or bad UTF-8
            return f"它的 manifest.json 无法读取或不是有效的 JSON（{error}）"
        return None if isinstance(manifest, dict) else "它的 manifest.json 格式不对（不是 JSON 对象）"

    def verify(self, version: str | None = None) -> str:
        """Check that a version (default: the published one) is complete and unchanged; its name.

        Raises IndexStoreError with a message an admin can act on."""
        version = version or self.current_version()
        if version is None:
            raise IndexStoreError(f"还没有发布任何索引（{self.root}）：请先运行 python3 index_builder.py build")
        folder = self.versions / version
        try:
            manifest = self.manifest(version)
        except (OSError, ValueError) as error:
            raise IndexStoreError(f"索引版本 {version} 不存在或清单损坏（{error}）：{_REPAIR}") from error
        for name, expected in (manifest.get("files") or {}).items():
            try:
                actual = file_sha256(folder / name)
            except OSError as error:
                raise IndexStoreError(f"索引版本 {version} 缺少文件 {name}：{_REPAIR}") from error
            if actual != expected:
                raise IndexStoreError(f"索引版本 {version} 的文件 {name} 已损坏（校验和不符）：{_REPAIR}")
        return version

    def guides(self, version: str | None = None) -> dict[str, dict[str, Any]]:
        """The guides of a version (default: the published one), checked against its manifest first.

        Raises IndexStoreError (with the repair) when the version is corrupt or incomplete."""
        version = self.verify(version)
        return read_guides(self.versions / version)

    def history(self) -> list[dict[str, Any]]:
        """Every publish and rollback in history.jsonl that can be read, oldest first."""
        return self.read_history()[0]

    def read_history(self) -> tuple[list[dict[str, Any]], int]:
        """The readable entries of history.jsonl and how many lines could not be read (history.py)."""
        return read_history(self.root)

    # --- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock for writers; a second build waits instead of corrupting the first."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def new_version_name() -> str:
        """"20261205-200616-" and six hex digits: five of the microsecond, one random. Versions are ordered by name
        (`list`, `rollback`'s "previous"), and a rebuild that reuses its caches can publish within the second of
        the build before it: a random suffix alone would order the two by chance."""
        now = dt.datetime.now()
        return now.strftime("%Y%m%d-%H%M%S-") + f"{now.microsecond:05x}" + secrets.token_hex(1)[0]

    def staging_folder(self, version: str) -> Path:
        folder = self.versions / f".staging-{version}"
        folder.mkdir(parents=True, exist_ok=False)
        return folder

    def finalize(self, staging: Path, version: str) -> Path:
        """Move a complete staged folder to its final name (an atomic rename)."""
        final = self.versions / version
        _fsync_tree(staging)
        os.rename(staging, final)
        return final

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def publish(self, version: str, *, action: str = "publish", accepted: str | None = None) -> None:
        if not (self.versions / version / "manifest.json").is_file():
            raise IndexStoreError(f"索引版本 {version} 不存在或不完整")
        previous = self.current_version()
        pointer = self.root / "CURRENT"
        temporary = self.root / f".CURRENT.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(version + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, pointer)  # atomic: readers see the old name or the new one
        entry = {"time": dt.datetime.now().isoformat(timespec="seconds"), "action": action,
                 "version": version, "previous": previous}
        if accepted:
            entry["accepted"] = accepted  # published despite the gate: the admin's reason
        append_entry(self.root, entry)

    def rollback_target(self) -> str | None:
        """The version a `rollback` without a version goes to (history.py `rollback_target`); None if none."""
        return rollback_target(self.history(), self.current_version(), self.list_versions(),
                               lambda name: self.manifest_problem(name) is None)

    def rolled_back_from(self, history: list[dict[str, Any]] | None = None) -> set[str]:
        """The versions a `rollback` without a version skips (history.py `rolled_back_from`)."""
        return rolled_back_from(self.history() if history is None else history)

    def rollback(self, version: str | None = None) -> str:
        """Publish an earlier version: the given one, or `rollback_target()`."""
        if version is None:
            version = self.rollback_target()
            current = self.current_version()
            if version is None and current is None:  # an empty store: no "当前版本 None" to name
                raise IndexStoreError("还没有发布过任何版本，无法回滚：请先运行 python3 index_builder.py build 发布第一个版本")
            if version is None:
                raise IndexStoreError(f"没有可以回滚到的上一个版本：当前版本 {current} 之前发布的版本都已删除"
                                      f"（构建后只保留最近 {KEEP_VERSIONS} 个版本）或已从它回滚离开过；"
                                      "要回到保留的某个版本，请用 rollback 加版本名")
        if version not in self.list_versions():
            raise IndexStoreError(f"索引版本 {version} 不存在；可用版本：{', '.join(self.list_versions()) or '无'}")
        if problem := self.manifest_problem(version):  # publish() checks the file is there; a reader must be able to parse it
            raise IndexStoreError(f"不能回滚到索引版本 {version}：{problem}")
        self.publish(version, action="rollback")
        return version

    def prune(self, keep: int = KEEP_VERSIONS) -> list[str]:
        """Delete old versions beyond the newest `keep`, never the current, the previous one or the one a
        `rollback` would go to (after rollbacks that is not the previous one)."""
        protected = {self.current_version(), self.rollback_target()}
        history = self.history()
        if history:
            protected.add(history[-1].get("previous"))
        removed = []
        for name in self.list_versions()[:-keep] if keep else []:
            if name not in protected:
                shutil.rmtree(self.versions / name, ignore_errors=True)
                removed.append(name)
        for leftover in self.versions.glob(".staging-*") if self.versions.is_dir() else []:
            shutil.rmtree(leftover, ignore_errors=True)  # from a build that was killed
        return removed


_REPAIR = "请运行 python3 index_builder.py build 重建，或 python3 index_builder.py rollback 回到上一个版本"


GUIDES_FILE = "guides.json"  # {guide id: Guide.as_dict()} of one version


def read_guides(folder: Path) -> dict[str, dict[str, Any]]:
    """The guides.json of one version folder: the one reader of it (retriever, hall API).

    Raises IndexStoreError (Chinese message with the repair) when it is missing, unreadable or
    not the builder's {id: guide} object."""
    path = folder / GUIDES_FILE
    try:
        guides = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise IndexStoreError(f"索引版本 {folder.name} 缺少 {GUIDES_FILE}：{_REPAIR}") from error
    except (OSError, ValueError) as error:  # ValueError covers bad JSON and bad UTF-8
        raise IndexStoreError(f"索引版本 {folder.name} 的 {GUIDES_FILE} 无法读取（{error}）：{_REPAIR}") from error
    if not isinstance(guides, dict) or not all(isinstance(g, dict) and g.get("id") == key for key, g in guides.items()):
        raise IndexStoreError(f"索引版本 {folder.name} 的 {GUIDES_FILE} 格式不对（应为 指南id → 指南）：{_REPAIR}")
    return guides


def vouching_manifest(folder: Path, name: str) -> dict[str, Any] | None:
    """The manifest of the version in `folder` if it lists `name` with the file's own checksum, else None: a
    build reuses a published file (vectors, term counts, neighbour lists) only when its version vouches for
    it. OSError / ValueError when the manifest cannot be read."""
    manifest = _manifest(folder / "manifest.json")
    return manifest if manifest.get("files", {}).get(name) == served_sha256(folder / name) else None


def _stat_key(path: Path) -> tuple[str, int, int, int, int]:
    """What changes when a file is replaced or written to: the memo below is keyed by it."""
    info = path.stat()
    return str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


# A build checks the serving version's files several times (the guide table, the vectors, the neighbour
# lists twice, the term counts; each against a 0.7 MB manifest at 5,000 guides): each file is hashed and
# the manifest parsed once per build (`hash_ahead` starts afresh), keyed by the file's identity, size and
# modification time. A published version is never written to; a file replaced meanwhile is hashed again.
_SUMS: dict[tuple[str, int, int, int, int], str] = {}
_MANIFESTS: dict[tuple[str, int, int, int, int], dict[str, Any]] = {}
_AHEAD: dict[str, threading.Thread] = {}


def _manifest(path: Path) -> dict[str, Any]:
    key = _stat_key(path)
    if key not in _MANIFESTS:
        _MANIFESTS[key] = json.loads(path.read_text(encoding="utf-8"))
    return _MANIFESTS[key]


def served_sha256(path: Path) -> str:
    """`file_sha256` of a published file, from the memo when this process already hashed it (or is
    hashing it ahead: `hash_ahead`)."""
    ahead = _AHEAD.pop(str(path), None)
    if ahead is not None:
        ahead.join()
    key = _stat_key(path)
    if key not in _SUMS:
        _SUMS[key] = file_sha256(path)
    return _SUMS[key]


def hash_ahead(folder: Path | None, names: list[str]) -> None:
    """Hash these files of a published version in a thread now, for `vouching_manifest` later: the
    serving dense.faiss (192 MB at 5,000 guides, ~0.2 s) is hashed while the build validates the
    knowledge base. Missing or unreadable files are left for the check itself to report. A build calls it
    first: what earlier builds of this process hashed is forgotten."""
    _SUMS.clear()
    _MANIFESTS.clear()
    _AHEAD.clear()
    if folder is None:
        return

    def run(paths: list[Path]) -> None:
        for path in paths:
            with contextlib.suppress(OSError):
                key = _stat_key(path)
                _SUMS[key] = file_sha256(path)

    paths = [folder / name for name in names]
    thread = threading.Thread(target=run, args=(paths,), name="hash-ahead", daemon=True)
    for path in paths:
        _AHEAD[str(path)] = thread
    thread.start()


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in blocks of up to 16 MB: hashlib releases the GIL per block, and a thread
    that must take it back every 1 MB waits on the build's main thread that often."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        block = bytearray(max(1, min(16 << 20, os.fstat(handle.fileno()).st_size)))
        while size := handle.readinto(block):
            digest.update(memoryview(block)[:size])
    return digest.hexdigest()


def file_checksums(folder: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of every file of a staged version except the manifest that will list them; `known`:
    checksums the builder took of files it wrote (and has not touched since)."""
    known = known or {}
    return {path.name: known.get(path.name) or file_sha256(path)
            for path in sorted(folder.iterdir()) if path.is_file() and path.name != "manifest.json"}


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def source_checksums(settings: Settings, known: dict[Path, str] | None = None) -> dict[str, str]:
    """sha256 of every guide and document file and of the out-of-scope anchors (they are embedded and
    calibrated against too): the manifest records them, `status` and `build --if-changed` compare.
    `known`: checksums of files already read by this build (the guides, read by the parse cache)."""
    sums = {}
    known = known or {}
    anchors = settings.out_of_scope_file
    if anchors.is_file():
        try:
            name = str(anchors.resolve().relative_to(ROOT))
        except ValueError:
            name = str(anchors)
        sums[name] = known.get(anchors) or hashlib.sha256(anchors.read_bytes()).hexdigest()
    known_names = {str(path): digest for path, digest in known.items()}
    for folder in (settings.guides_dir, settings.documents_dir):
        if folder.is_dir():
            # Names from the folder's resolved path, computed once: not a Path, resolve and
            # relative_to for each of 5,000 files (a symlinked file is resolved on its own).
            try:
                inside: str | None = str(folder.resolve().relative_to(ROOT))
            except ValueError:
                inside = None
            with os.scandir(folder) as listing:
                entries = sorted((entry for entry in listing if not entry.name.startswith(".") and entry.is_file()),
                                 key=lambda entry: entry.name)
            for entry in entries:
                path = folder / entry.name
                if entry.is_symlink():
                    try:
                        name = str(path.resolve().relative_to(ROOT))
                    except ValueError:
                        name = str(path)
                else:
                    name = str(path) if inside is None else entry.name if inside == "." else f"{inside}/{entry.name}"
                sums[name] = known_names.get(str(path)) or hashlib.sha256(path.read_bytes()).hexdigest()
    return sums
