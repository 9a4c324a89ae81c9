"""Work split between this process and a forked child (forked.py): the same results in the same
order, and a child that fails says so instead of leaving a half result or a stray process."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence

import pytest

from knowledge.index import forked
from knowledge.index.forked import ForkedWorkError, run_split

pytestmark = [pytest.mark.unit, pytest.mark.skipif(not forked.can_fork(), reason="needs os.fork and two cores")]


def squares(part: Sequence[int]) -> list[tuple[int, int, int]]:
    return [(item, item * item, os.getpid()) for item in part]


def test_the_results_are_those_of_one_process_in_the_same_order() -> None:
    items = list(range(1000))
    rows = run_split(items, squares, split=300, min_items=10)
    assert [row[:2] for row in rows] == [(i, i * i) for i in items]
    pids = {row[2] for row in rows[:300]}, {row[2] for row in rows[300:]}
    assert pids[0] == {os.getpid()} and len(pids[1]) == 1 and pids[1] != pids[0]  # the second part ran elsewhere


def test_few_items_run_here() -> None:
    rows = run_split(list(range(5)), squares, min_items=10)
    assert {row[2] for row in rows} == {os.getpid()}


def test_an_error_in_the_child_is_raised_here_with_its_message() -> None:
    parent = os.getpid()

    def fails_in_child(part: Sequence[int]) -> list[int]:
        if os.getpid() != parent:
            raise ValueError("第二个进程的数据坏了")
        return list(part)

    with pytest.raises(ForkedWorkError, match="子进程出错：ValueError: 第二个进程的数据坏了"):
        run_split(list(range(100)), fails_in_child, min_items=10)


def test_a_child_killed_by_a_signal_is_reported() -> None:
    parent = os.getpid()

    def killed_in_child(part: Sequence[int]) -> list[int]:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return list(part)

    with pytest.raises(ForkedWorkError, match="信号 9"):
        run_split(list(range(100)), killed_in_child, min_items=10)


def test_a_failure_here_ends_and_reaps_the_child() -> None:
    parent = os.getpid()
    # Other tests in the same session may have left servers running as this process's children.
    before = set(_children())
    children: list[int] = []

    def fails_here(part: Sequence[int]) -> list[int]:
        if os.getpid() == parent:
            children.extend(set(_children()) - before)
            raise KeyError("本进程出错")
        signal.pause()  # the child would wait forever: only the parent's kill ends it
        return []

    with pytest.raises(KeyError):
        run_split(list(range(100)), fails_here, min_items=10)
    assert children and not set(children) & set(_children())  # killed and reaped, no zombie left


def _children() -> list[int]:
    """This process's child processes (zombies included), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.append(int(entry))
    return found


def test_without_a_process_to_fork_everything_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(forked.os, "fork", no_fork)
    rows = run_split(list(range(100)), squares, min_items=10)
    assert [row[:2] for row in rows] == [(i, i * i) for i in range(100)] and {row[2] for row in rows} == {os.getpid()}
