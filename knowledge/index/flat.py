"""The chunk vectors of the version being built, as one float32 array: searched with FAISS's flat
inner-product kernel and written as the IndexFlatIP file FAISS itself writes, without copying the
array into a FAISS index first.

Why: at 5,000 guides the vectors are 94,000 x 512 floats (192 MB). A rebuild read the serving
version's dense.faiss into an index, copied its rows out, into a new array, into a new index and
then wrote it: four passes over 192 MB through the process's memory, 1-8 s on the shared machine
(most of it the kernel handing out fresh pages). Now a rebuild copies the unchanged rows file to
file in the kernel (`write_rows`, copy_file_range), writes the new rows, and reads rows back from
the written file only when asked (`StoredVectors`); a build from scratch writes its array
(`FlatVectors`).

Same results: `search` is `faiss.knn` with METRIC_INNER_PRODUCT, the function IndexFlatIP.search
runs on its own storage (same kernel, same heap, same ties); the files are the bytes of
``faiss.write_index`` of an IndexFlatIP holding these vectors (header taken from FAISS itself;
tests compare both byte for byte).

Usage::

    dense = FlatVectors(vectors)                 # (n, d) float32, C-contiguous
    dense.write(staging / "dense.faiss")
    dense = write_rows(staging / "dense.faiss", d, source, serving / "dense.faiss", fresh)   # a rebuild
    scores, rows = dense.search(query[None, :], 200)
    old = read_flat(folder / "dense.faiss", n, d)   # memory map of a published file, or None
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import faiss
import numpy as np

# IndexFlatIP's file: b"IxFI", d (int32), ntotal (int64), two int64 fields, is_trained (1 byte),
# metric (int32), then the vectors as a float vector: its length (uint64) and the floats.
_NTOTAL = slice(8, 16)
_HEADER = 45


def _header(dimension: int, count: int) -> bytes:
    """FAISS's own header for an IndexFlatIP of this size (an empty index serialised, sizes filled in)."""
    empty = bytes(faiss.serialize_index(faiss.IndexFlatIP(dimension)))
    if len(empty) != _HEADER or empty[:4] != b"IxFI":  # another FAISS file layout: never guess
        raise RuntimeError(f"unexpected FAISS IndexFlatIP layout ({len(empty)} bytes, {empty[:4]!r})")
    header = bytearray(empty)
    header[_NTOTAL] = struct.pack("<q", count)
    header[_HEADER - 8 :] = struct.pack("<Q", count * dimension)
    return bytes(header)


class FlatVectors:
    """What the build needs of a faiss.IndexFlatIP (ntotal, d, search, reconstruct_batch, write)
    over an array it does not copy."""

    def __init__(self, vectors: np.ndarray) -> None:
        if vectors.dtype != np.float32 or vectors.ndim != 2 or not vectors.flags.c_contiguous:
            raise ValueError("FlatVectors needs a C-contiguous (n, d) float32 array")
        self.vectors = vectors
        self.ntotal, self.d = vectors.shape

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return faiss.knn(np.ascontiguousarray(x, dtype=np.float32), self.vectors, k, faiss.METRIC_INNER_PRODUCT)

    def reconstruct_batch(self, rows: np.ndarray) -> np.ndarray:
        return self.vectors[np.asarray(rows, dtype=np.int64)]

    def reconstruct(self, row: int) -> np.ndarray:
        return self.vectors[row].copy()

    def __getitem__(self, row: int) -> np.ndarray:
        return self.vectors[row]

    def write(self, path: Path) -> None:
        """The file faiss.write_index writes for an IndexFlatIP of these vectors."""
        try:
            with open(path, "wb") as handle:
                handle.write(_header(self.d, self.ntotal))
                if self.vectors.size:
                    handle.write(memoryview(self.vectors).cast("B"))
        except OSError as error:
            raise OSError(error.errno or errno.EIO, f"写入 {path.name} 失败：{error.strerror or error}") from error


def read_flat(path: Path, count: int, dimension: int) -> np.ndarray | None:
    """A read-only memory map of the vectors in an IndexFlatIP file written by FAISS (or `write`),
    or None when the file is not exactly that (another index type, size or dimension)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEADER)
        if head != _header(dimension, count) or path.stat().st_size != _HEADER + 4 * count * dimension:
            return None
        if count == 0:
            return np.zeros((0, dimension), dtype=np.float32)
        return np.memmap(path, dtype=np.float32, mode="r", offset=_HEADER, shape=(count, dimension))
    except (OSError, ValueError, RuntimeError):
        return None


class StoredVectors:
    """The same for a dense.faiss already written (by `write_rows`): rows are read from the file
    when asked for, and the whole file only if a search has to run for real (the neighbour
    tables answer the build's searches; neighbours.py). A rebuild so never holds 192 MB of vectors."""

    def __init__(self, path: Path, count: int, dimension: int) -> None:
        self.path, self.ntotal, self.d = path, count, dimension
        self._width = 4 * dimension
        self._all: FlatVectors | None = None
        self._fd: int | None = None  # opened on the first read, closed with the object

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)  # type: ignore[arg-type]
            self._fd = None

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return self._fd

    def __getitem__(self, row: int) -> np.ndarray:
        # One pread per row (calibration asks for ~20,000 scattered rows): no memory map whose
        # page faults cost more than the reads on this machine.
        if not 0 <= row < self.ntotal:
            raise IndexError(row)
        return self._read(self._file(), row)

    def _read(self, fd: int, row: int) -> np.ndarray:
        data = os.pread(fd, self._width, _HEADER + int(row) * self._width)
        if len(data) != self._width:
            raise OSError(errno.EIO, f"{self.path.name} 比预期短")
        return np.frombuffer(data, dtype=np.float32)

    def rows(self, rows: np.ndarray | list[int]) -> np.ndarray:
        """Several rows, one read each, in the order asked."""
        found = [self._read(self._file(), row) for row in np.asarray(rows, dtype=np.int64).tolist()]
        return np.array(found, dtype=np.float32).reshape(len(found), self.d)

    def reconstruct(self, row: int) -> np.ndarray:
        return self[row]

    def reconstruct_batch(self, rows: np.ndarray) -> np.ndarray:
        return self.rows(rows)

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._all is None:
            self._all = FlatVectors(np.fromfile(self.path, dtype=np.float32, offset=_HEADER).reshape(self.ntotal, self.d))
        return self._all.search(x, k)


class PlannedVectors:
    """The vectors of a dense.faiss that `write_rows` is still writing (in another thread): row i is
    row source[i] of the serving version's file, or, where source[i] < 0, the next row of `fresh`.
    Read from there, so the build need not wait for the new file (calibration reads ~25,000 rows and
    searches through neighbour lists; a real search gathers the whole matrix, rarely needed)."""

    def __init__(self, dimension: int, source: np.ndarray, old_path: Path, fresh: np.ndarray) -> None:
        self.ntotal, self.d = len(source), dimension
        self.source = source
        self.fresh = np.ascontiguousarray(fresh, dtype=np.float32).reshape(-1, dimension)
        self._fresh_row = np.cumsum(source < 0) - 1  # row of `fresh` for each new row
        self._old = StoredVectors(old_path, 0, dimension)
        self._all: FlatVectors | None = None

    def __getitem__(self, row: int) -> np.ndarray:
        if not 0 <= row < self.ntotal:
            raise IndexError(row)
        old = int(self.source[row])
        return self._old._read(self._old._file(), old) if old >= 0 else self.fresh[int(self._fresh_row[row])]

    def rows(self, rows: np.ndarray | list[int]) -> np.ndarray:
        found = [self[row] for row in np.asarray(rows, dtype=np.int64).tolist()]
        return np.array(found, dtype=np.float32).reshape(len(found), self.d)

    def reconstruct(self, row: int) -> np.ndarray:
        return np.array(self[row])

    def reconstruct_batch(self, rows: np.ndarray) -> np.ndarray:
        return self.rows(rows)

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._all is None:
            old = read_flat(self._old.path, (self._old.path.stat().st_size - _HEADER) // (4 * self.d), self.d)
            vectors = np.empty((self.ntotal, self.d), dtype=np.float32)
            reused = np.flatnonzero(self.source >= 0)
            if len(reused):
                if old is None:
                    raise OSError(errno.EIO, f"{self._old.path.name} 无法读取")
                vectors[reused] = old[self.source[reused]]
            vectors[self.source < 0] = self.fresh
            self._all = FlatVectors(vectors)
        return self._all.search(x, k)


def write_rows(path: Path, dimension: int, source: np.ndarray, old_path: Path, fresh: np.ndarray) -> StoredVectors:
    """Write the IndexFlatIP file whose row i is row source[i] of the IndexFlatIP file `old_path`,
    or, where source[i] < 0, the next row of `fresh`; the copying stays in the kernel
    (copy_file_range), a run of consecutive rows at a time. Same bytes as `FlatVectors.write`."""
    width = 4 * dimension
    count = len(source)
    reused = np.flatnonzero(source >= 0)
    new = np.flatnonzero(source < 0)
    try:
        with open(path, "wb") as out, open(old_path, "rb") as old:
            out.write(_header(dimension, count))
            out.flush()
            for start, end in _runs(reused, source):
                _copy(old.fileno(), out.fileno(), (end - start) * width,
                      _HEADER + int(source[start]) * width, _HEADER + start * width)
            if len(new):
                fresh = np.ascontiguousarray(fresh, dtype=np.float32)
                for start, end in _runs(new, np.arange(count)):
                    first = int(np.searchsorted(new, start))
                    os.pwrite(out.fileno(), memoryview(fresh[first : first + end - start]).cast("B"), _HEADER + start * width)
    except OSError as error:
        raise OSError(error.errno or errno.EIO, f"写入 {path.name} 失败：{error.strerror or error}") from error
    return StoredVectors(path, count, dimension)


def _runs(rows: np.ndarray, values: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the runs of consecutive `rows` whose `values` are consecutive too."""
    if not len(rows):
        return []
    steps = np.flatnonzero((np.diff(rows) != 1) | (np.diff(values[rows]) != 1)) + 1
    starts = np.concatenate([[0], steps])
    ends = np.concatenate([steps, [len(rows)]])
    return [(int(rows[a]), int(rows[b - 1]) + 1) for a, b in zip(starts, ends, strict=True)]


def _copy(source: int, target: int, length: int, source_at: int, target_at: int) -> None:
    """`length` bytes between two files, in the kernel when it can (else read and write)."""
    while length > 0:
        try:
            done = os.copy_file_range(source, target, length, source_at, target_at)
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            done = 0
        if done <= 0:  # not supported here, or the source is shorter: copy by hand
            block = os.pread(source, min(length, 1 << 22), source_at)
            if not block:
                raise OSError(errno.EIO, "源文件比预期短")
            done = os.pwrite(target, block, target_at)
        length, source_at, target_at = length - done, source_at + done, target_at + done
