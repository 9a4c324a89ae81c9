"""Run one list of independent work items on two cores: the first part in this process, the rest in
a forked child, the results joined in the items' order (calibration's fold scoring: calibration.py).

Why fork and not a pool: the work reads ~1 GB of build state (vectors, BM25 unit counts, the
retriever's tables, neighbour lists) that a forked child shares copy-on-write for free; a spawned
worker would have to rebuild or unpickle it, which costs more than the work itself (~1 s at 5,000
guides). The child returns only its results (pickled, through a pipe) and leaves with
``os._exit``: no atexit handlers, no buffered output of this process written twice, no SQLite
connection or file of this process closed by it.

What the child may do: compute with what it inherited. It must not write files, use a SQLite
connection opened before the fork (`child_setup` reopens what it needs), start OpenMP/BLAS thread
pools, or rely on other threads (they do not exist in the child: the build's writer thread keeps
running in this process only). Callers prepare everything shared before calling (see
calibration._score_examples: tokens and neighbour lists are computed here first).

A failing child (an exception, a signal, an incomplete answer) raises `ForkedWorkError` naming the
cause, after this process's own part is done and the child is reaped; if this process's part fails,
the child is killed and reaped before the error goes up. Without ``os.fork`` (not POSIX), or with
fewer than `min_items` items, everything runs here.

Usage::

    rows = run_split(items, score_part, split=len(items) // 2)   # == score_part(items[:split]) + score_part(items[split:])
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many items the fork (~10-30 ms for a large build's page tables) is not worth it.
MIN_ITEMS = 400


class ForkedWorkError(RuntimeError):
    """The child process's part failed; the message says how (in Chinese, for the build's output)."""


def can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2


def splits(count: int, split: int, min_items: int | None = None) -> bool:
    """Whether `run_split` would run items[split:] of `count` items in a child."""
    return count >= (MIN_ITEMS if min_items is None else min_items) and can_fork() and 0 < split < count


def run_split(items: Sequence[Item], work: Callable[[Sequence[Item]], list[Result]], *, split: int | None = None,
              min_items: int | None = None, child_setup: Callable[[], None] | None = None) -> list[Result]:
    """`work(items[:split]) + work(items[split:])`, the second part in a forked child when it pays."""
    split = len(items) // 2 if split is None else split
    if not splits(len(items), split, min_items):
        return work(items)
    read_end, write_end = os.pipe()
    # Until the child is gone, the garbage collector leaves the objects made so far alone: a collection
    # writes into every object it scans, and each page written to is copied for one of the two processes.
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:  # no process to be had (a process or memory limit): everything here, as on one core
        for end in (read_end, write_end):
            os.close(end)
        gc.unfreeze()
        return work(items)
    if pid == 0:  # the child: never returns
        _child(read_end, write_end, lambda: work(items[split:]), child_setup)
    os.close(write_end)
    answer, status = b"", 0
    try:
        mine = work(items[:split])
        with os.fdopen(read_end, "rb") as pipe:
            read_end = -1
            answer = pipe.read()
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if read_end >= 0:
            os.close(read_end)
        if pid:  # this process's part failed: the child's answer is not wanted
            _kill(pid)
        gc.unfreeze()
    return mine + _theirs(answer, status)


def _child(read_end: int, write_end: int, work: Callable[[], list[Result]], setup: Callable[[], None] | None) -> None:
    code = 0
    try:
        os.close(read_end)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child at once; the parent reports it
        if setup is not None:
            setup()
        payload = pickle.dumps(("ok", work()), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as error:  # everything goes back to the parent as text
        code = 1
        payload = pickle.dumps(("error", f"{type(error).__name__}: {error}", traceback.format_exc()))
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view):]
    finally:
        os._exit(code)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _theirs(answer: bytes, status: int) -> list[Result]:
    """The child's results, or ForkedWorkError saying why there are none."""
    if os.WIFSIGNALED(status):
        raise ForkedWorkError(f"并行计算的子进程被信号 {os.WTERMSIG(status)} 终止（内存不足时系统会这样结束进程）")
    try:
        message = pickle.loads(answer)
    except Exception as error:  # an empty or cut-off answer
        raise ForkedWorkError(f"并行计算的子进程没有返回完整结果（退出码 {os.waitstatus_to_exitcode(status)}：{error}）") from None
    if message[0] == "ok" and os.WEXITSTATUS(status) == 0:
        return list(message[1])
    if message[0] == "error":
        raise ForkedWorkError(f"并行计算的子进程出错：{message[1]}\n{message[2]}")
    raise ForkedWorkError(f"并行计算的子进程异常退出（退出码 {os.waitstatus_to_exitcode(status)}）")
