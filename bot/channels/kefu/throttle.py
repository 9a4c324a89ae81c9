"""Fixed-window counters for the hall API: the per-address brake on wrong credentials
(bot/channels/kefu/auth.py) and, reusing the same counter, the public mode's message limits per client
address and per session (bot/channels/kefu/public.py).

After `max_failures` wrong tokens or cookies from one remote address within `window` seconds, that
address is refused (429 with Retry-After) for the rest of the window without the credential being
checked at all, so guessing the token is slowed to a trickle and costs no HMAC per guess.

- Only a credential that was actually compared and did not match counts: a request with no token,
  or with a header that is not a bearer token, guesses nothing.
- A fixed window per address, started by its first failure: a few numbers per address, no list of
  timestamps, so the memory per address is constant.
- At most `max_clients` addresses are remembered; when full, expired ones are dropped first, then
  the oldest, so a flood of source addresses cannot grow the table without bound.
- Loopback counts like any other address (tests run there). Behind the local TLS proxy every
  browser shares 127.0.0.1, which is why the default limit is generous: it slows a guesser without
  locking a hall out for a mistyped link or two.

Usage::

    limit = WindowCounter(limit=20, window=60)   # any key: an address, a session
    limit.hit("p3f9c…"); limit.retry_after("p3f9c…")   # 0 until the 20th hit of its window
    throttle = FailedAuthThrottle(max_failures=30, window=60)
    throttle.retry_after("203.0.113.9")   # 0: go on and check the credential
    throttle.failed("203.0.113.9")        # after a wrong one
    throttle.retry_after("203.0.113.9")   # seconds to wait once the limit is reached
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# High enough that the test suite's deliberate wrong tokens (about 25 within a minute from
# 127.0.0.1, all in tests/bot/channels/kefu/test_api_auth.py) never reach it; 30 guesses a minute
# against a random 32-byte token is no threat.
DEFAULT_MAX_FAILURES = 30
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_MAX_CLIENTS = 10_000


@dataclass
class _Window:
    started: float
    hits: int


class WindowCounter:
    """Counts hits per key in fixed windows; a key is refused once it reaches `limit` hits, until
    its window ends (see the module docstring: bounded memory, one window per key)."""

    def __init__(self, *, limit: int, window: float = DEFAULT_WINDOW_SECONDS, max_clients: int = DEFAULT_MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0 or max_clients < 1:
            raise ValueError("limit（max_failures）、window 和 max_clients 必须为正数")
        self.limit, self.window, self.max_clients = limit, float(window), max_clients
        self._clock = clock
        self._windows: dict[str, _Window] = {}  # insertion order = order the windows started

    def _current(self, address: str, now: float) -> _Window | None:
        entry = self._windows.get(address)
        if entry is not None and now - entry.started >= self.window:
            del self._windows[address]  # the window is over: the address starts clean
            return None
        return entry

    def retry_after(self, address: str) -> int:
        """0 while `address` may try; otherwise the whole seconds until its window ends (≥ 1)."""
        now = self._clock()
        entry = self._current(address, now)
        if entry is None or entry.hits < self.limit:
            return 0
        # Clamped: a wall clock set back must not stretch the wait beyond one window.
        return min(math.ceil(self.window), max(1, math.ceil(entry.started + self.window - now)))

    def hit(self, address: str) -> None:
        """Count one hit (a wrong credential, a message) of `address` (or any key)."""
        now = self._clock()
        entry = self._current(address, now)
        if entry is None:
            self._make_room(now)
            self._windows[address] = _Window(started=now, hits=1)
        else:
            entry.hits += 1

    def _make_room(self, now: float) -> None:
        if len(self._windows) < self.max_clients:
            return
        for address in [a for a, entry in self._windows.items() if now - entry.started >= self.window]:
            del self._windows[address]
        while len(self._windows) >= self.max_clients:
            del self._windows[next(iter(self._windows))]  # the oldest window: the least to lose

    def __len__(self) -> int:
        return len(self._windows)


class FailedAuthThrottle(WindowCounter):
    """Counts failed credentials per remote address (see the module docstring)."""

    def __init__(self, *, max_failures: int = DEFAULT_MAX_FAILURES, window: float = DEFAULT_WINDOW_SECONDS,
                 max_clients: int = DEFAULT_MAX_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(limit=max_failures, window=window, max_clients=max_clients, clock=clock)
        self.max_failures = max_failures

    def failed(self, address: str) -> None:
        """Count one wrong credential from `address`."""
        self.hit(address)
