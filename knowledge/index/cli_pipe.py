"""index_builder.py when its reader goes away: `status | head -1`, `validate 2>&1 | head -1`.

Python ignores SIGPIPE, so a write to a pipe whose reader has exited raises BrokenPipeError: it ended
the command with a traceback and exit code 1, or (output still buffered) the interpreter's complaint
and exit code 120. The reader chose to stop reading; that is not the command failing. So stdout and
stderr go quiet instead (to /dev/null) and the command runs on and exits with its own code: 0 for a
`status` or a `report` that worked, 1 for a validation or build that failed (its problems and "构建失败"
go to stderr, often piped along with 2>&1), 0 for a build that published though its progress output was
cut off. Not 141 (128 + SIGPIPE, as `cat` would): under `set -o pipefail` that would fail an admin's
script that only wanted the first line, and a build's outcome would be lost.

Usage::

    raise SystemExit(run_quietly(main))
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from knowledge.index.cli_parser import EXIT_FAILED


def silence(stream: TextIO, fallback: int) -> None:
    """Point the stream's file descriptor (`fallback` when it has none) at /dev/null: what is still buffered
    or written later is dropped, and the flush at interpreter exit cannot raise BrokenPipeError again."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError and a ValueError
        fd = fallback
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class QuietStream:
    """sys.stdout or sys.stderr that goes quiet once nobody reads it, instead of raising BrokenPipeError."""

    def __init__(self, stream: TextIO, fallback: int) -> None:
        self._stream, self._fallback = stream, fallback

    def silence(self) -> None:
        silence(self._stream, self._fallback)

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self.silence()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self.silence()
            self._stream.flush()  # the data still buffered, now to /dev/null

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def run_quietly(main: Callable[[], int]) -> int:
    """main()'s exit code, with stdout and stderr that cannot end it."""
    streams = [QuietStream(sys.stdout, 1), QuietStream(sys.stderr, 2)]
    sys.stdout, sys.stderr = streams  # type: ignore[assignment]
    code = None
    try:
        code = main()
        for stream in streams:
            stream.flush()
    except BrokenPipeError:
        # Written past sys.stdout and sys.stderr (to their file descriptors): the output was not wanted, but the
        # outcome is unknown when main did not get to return one. Never 0 then: a failed build must not pass.
        for stream in streams:
            stream.flush()  # goes quiet if its reader has gone too
        return EXIT_FAILED if code is None else code
    return code
