"""The chunk vectors of the version being built, as one float32 array: searched with FAISS's flat
inner-product kernel and written as the IndexFlatIP file FAISS itself writes, without copying the
array into a FAISS index first.

Why: at 5,000 guides the vectors are 94,000 x 512 floats (192 MB). A rebuild read the serving
version's dense.faiss into an index, copied its rows out, into a new array, into a new index and
then wrote it: four passes over 192 MB, ~2-3 s. Now the unchanged rows are gathered once from a
memory map of the serving file into the new array, which is searched and written as it is.

Same results: `search` is `faiss.knn` with METRIC_INNER_PRODUCT, the function IndexFlatIP.search
runs on its own storage (same kernel, same heap, same ties); `write` produces the bytes of
``faiss.write_index`` of an IndexFlatIP holding these vectors (header taken from FAISS itself;
tests compare both byte for byte).

Usage::

    dense = FlatVectors(vectors)                 # (n, d) float32, C-contiguous
    scores, rows = dense.search(query[None, :], 200)
    dense.write(staging / "dense.faiss")
    old = read_flat(folder / "dense.faiss", n, d)   # memory map of a published file, or None
"""

from __future__ import annotations

import errno
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
