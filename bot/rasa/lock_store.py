"""A Rasa 3.6 lock store on Redis whose every step is one atomic Redis operation.

Why not Rasa's own `RedisLockStore`: it keeps a conversation's ticket queue as one JSON value and
changes it with GET, modify in Python, SET. Two Rasa servers that receive a message of the same
conversation at the same moment both read the same queue and both write it back with "their" ticket:
they get the same ticket number (or one ticket is lost) and both process the conversation at once —
the tracker then gets events twice or interleaved. Rasa fixed this in `ConcurrentRedisLockStore`
(RasaHQ/rasa PR #11256), reverted it from open source (#11428, issue #9213) and ships it in Rasa Pro.

Here the same ticket-lock protocol (Rasa's `TicketLock`: first come, first served, each ticket
with a lifetime so a crashed server cannot block a conversation for good) lives in Redis itself:

- ``<prefix>:lock:{<conversation>}:n``  a counter; INCR issues the next ticket number;
- ``…:q``  a sorted set of the waiting tickets (score = number): the lowest one is served;
- ``…:e``  a hash ticket → expiry (milliseconds, Redis's clock: one clock for every server).

Issuing, "am I being served?", and releasing are small Lua scripts, which Redis runs atomically; all
three keys share a hash tag, so they stay on one node of a Redis Cluster. Rasa's flow
(`LockStore.lock`: `issue_ticket`, wait, `cleanup`) is kept; only the steps that read-modified-wrote
are replaced. Waiting polls every `poll_seconds` (default 50 ms, not Rasa's 1 s: a second message of
a conversation should not wait a second for nothing).

endpoints.yml (the launcher writes it when `redis_url` is set)::

    lock_store:
      type: bot.rasa.lock_store.AtomicRedisLockStore
      url: ${GOVQA_REDIS_URL}        # redis://[:password@]host:port/db — in the environment, never in a file
      key_prefix: govqa              # optional
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "govqa"
DEFAULT_POLL_SECONDS = 0.05
# Redis unreachable: fail the turn within seconds (the channel answers politely), never hang it.
DEFAULT_SOCKET_TIMEOUT = 5.0

# Shared by the scripts: Redis's clock in ms, and dropping expired tickets (a server that crashed
# while holding or waiting).
_PRUNE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function prune(queue, expiry)
  for _, member in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
    local expires = tonumber(redis.call('HGET', expiry, member) or '0')
    if expires <= now then
      redis.call('ZREM', queue, member)
      redis.call('HDEL', expiry, member)
    end
  end
end
"""
# KEYS: counter, queue, expiry. ARGV: lifetime ms. Returns the new ticket's number.
_ISSUE = _PRUNE + """
prune(KEYS[2], KEYS[3])
local lifetime = tonumber(ARGV[1])
local number = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], number, number)
redis.call('HSET', KEYS[3], number, now + lifetime)
-- The keys outlive their longest ticket by a minute, then vanish: nothing piles up after crashes.
local keep = lifetime + 60000
for i = 1, 3 do
  if redis.call('PTTL', KEYS[i]) < keep then redis.call('PEXPIRE', KEYS[i], keep) end
end
return number
"""
# KEYS: queue, expiry. ARGV: ticket. Returns 0 = served now, n > 0 = n tickets ahead, -1 = expired/gone.
_POSITION = _PRUNE + """
prune(KEYS[1], KEYS[2])
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then return -1 end
return rank
"""
# KEYS: counter, queue, expiry. ARGV: ticket. Removes it; the last one out deletes the lock.
_RELEASE = _PRUNE + """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
prune(KEYS[2], KEYS[3])
local left = redis.call('ZCARD', KEYS[2])
if left == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return left
"""
# KEYS: queue, expiry. Returns the number of live tickets.
_WAITING = _PRUNE + """
prune(KEYS[1], KEYS[2])
return redis.call('ZCARD', KEYS[1])
"""


class AtomicRedisLockStore(LockStore):
    """Rasa's ticket lock with each step atomic in Redis: one conversation, one turn at a time, in
    arrival order, across any number of Rasa servers (and Sanic workers)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, *, url: str | None = None,
                 key_prefix: str | None = None, poll_seconds: float | None = None,
                 socket_timeout: float | None = None) -> None:
        options: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        url = url or (endpoint_config.url if endpoint_config else None)
        if not url:
            raise ValueError("AtomicRedisLockStore 需要 url（redis://…，例如 ${GOVQA_REDIS_URL}）")
        timeout = float(socket_timeout or options.get("socket_timeout") or DEFAULT_SOCKET_TIMEOUT)
        # from_url: a password in the URL never reaches a log line (redis-py's repr omits it).
        self.red = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                        retry_on_timeout=False)
        self.key_prefix = str(key_prefix or options.get("key_prefix") or DEFAULT_KEY_PREFIX)
        self.poll_seconds = float(poll_seconds or options.get("poll_seconds") or DEFAULT_POLL_SECONDS)
        self._issue = self.red.register_script(_ISSUE)
        self._position = self.red.register_script(_POSITION)
        self._release = self.red.register_script(_RELEASE)
        self._waiting = self.red.register_script(_WAITING)
        super().__init__()

    def _keys(self, conversation_id: str) -> tuple[str, str, str]:
        # The {…} hash tag keeps a conversation's three keys on one Redis Cluster slot.
        base = f"{self.key_prefix}:lock:{{{conversation_id}}}"
        return base + ":n", base + ":q", base + ":e"

    # --- the steps Rasa's LockStore.lock() runs, each one atomic ---------------------------------

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return int(self._issue(keys=self._keys(conversation_id), args=[int(lock_lifetime * 1000)]))
        except redis.RedisError as error:
            raise LockError(f"无法取得对话锁（Redis 不可用：{type(error).__name__}）") from error

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        _counter, queue, expiry = self._keys(conversation_id)
        pause = min(wait_time_in_seconds, self.poll_seconds)
        while True:
            try:
                ahead = int(self._position(keys=[queue, expiry], args=[ticket]))
            except redis.RedisError as error:
                raise LockError(f"无法取得对话锁（Redis 不可用：{type(error).__name__}）") from error
            if ahead == 0:
                logger.debug("Acquired lock for conversation '%s' (ticket %s).", conversation_id, ticket)
                return self.get_lock(conversation_id) or TicketLock(conversation_id)
            if ahead < 0:  # our ticket expired while we waited (a turn ahead took longer than its lifetime)
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(pause)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        try:
            self._release(keys=self._keys(conversation_id), args=[ticket_number])
        except redis.RedisError as error:
            # The ticket expires by itself; the turn's own outcome must not be replaced by this error.
            logger.error("对话锁释放失败（Redis 不可用：%s），票据将在到期后自动失效", type(error).__name__)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def update_lock(self, conversation_id: str) -> None:
        self.is_someone_waiting(conversation_id)  # pruning expired tickets is all an update does

    def is_someone_waiting(self, conversation_id: str) -> bool:
        _counter, queue, expiry = self._keys(conversation_id)
        return int(self._waiting(keys=[queue, expiry])) > 0

    # --- the storage interface, for anything that inspects or edits a lock as a TicketLock --------

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        _counter, queue, expiry = self._keys(conversation_id)
        with self.red.pipeline(transaction=True) as pipe:
            numbers, expires = pipe.zrange(queue, 0, -1).hgetall(expiry).execute()
        if not numbers:
            return None
        tickets = deque(Ticket(int(number), int(expires.get(number, 0)) / 1000) for number in numbers)
        return TicketLock(conversation_id, tickets)

    def save_lock(self, lock: TicketLock) -> None:
        """Replace a conversation's queue with `lock`'s tickets in one transaction (Rasa's own flow
        never calls this here: issuing and releasing are the scripts above)."""
        counter, queue, expiry = self._keys(lock.conversation_id)
        with self.red.pipeline(transaction=True) as pipe:
            pipe.delete(queue, expiry)
            for ticket in lock.tickets:
                pipe.zadd(queue, {str(ticket.number): ticket.number})
                pipe.hset(expiry, str(ticket.number), int(ticket.expires * 1000))
            if lock.tickets:
                pipe.set(counter, max(ticket.number for ticket in lock.tickets))
            pipe.execute()

    def delete_lock(self, conversation_id: str) -> None:
        deleted = self.red.delete(*self._keys(conversation_id))
        self._log_deletion(conversation_id, bool(deleted))
