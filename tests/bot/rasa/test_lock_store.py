"""bot/rasa/lock_store.py on a real Redis, in Rasa's own environment (Python 3.10, Rasa 3.6): several
processes locking one conversation take turns, one at a time, in the order they asked; a crashed
holder blocks only until its ticket expires; nothing is left in Redis afterwards; Redis down → LockError."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from bot.launcher.processes import CHILD_ENV, RASA
from tests.support import ROOT
from tests.support.servers import Stores, stores  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration
RASA_PYTHON = RASA.parent / "python"

PRELUDE = """
import asyncio, json, os, sys, time
from bot.rasa.lock_store import AtomicRedisLockStore
from rasa.core.lock_store import LockError
def store(url=None):
    return AtomicRedisLockStore(url=url or os.environ["TEST_REDIS_URL"], key_prefix=os.environ["TEST_PREFIX"])
"""

# Each process: 5 coroutines x 4 turns on one conversation. Inside the lock a shared Redis counter
# says how many holders there are right now (must be 1), and the entry order is kept in a list.
WORKER = PRELUDE + """
async def main():
    s = store()
    prefix = os.environ["TEST_PREFIX"]
    most = 0
    async def turn(i):
        nonlocal most
        async with s.lock("citizen-1"):
            most = max(most, s.red.incr(prefix + ":inside"))
            await asyncio.sleep(0.003)
            s.red.rpush(prefix + ":entered", f"{os.getpid()}-{i}")
            s.red.decr(prefix + ":inside")
    await asyncio.gather(*(turn(i) for i in range(20)))
    print(json.dumps({"most_inside": most}))
asyncio.run(main())
"""

FIFO_AND_EXPIRY = PRELUDE + """
async def main():
    first, second, third = store(), store(), store()  # three "servers", three connections
    order = []
    async def turn(s, name, hold):
        async with s.lock("citizen-2"):
            order.append(name)
            await asyncio.sleep(hold)
    tasks = []
    for s, name in ((first, "first"), (second, "second"), (third, "third")):
        tasks.append(asyncio.create_task(turn(s, name, 0.2)))
        await asyncio.sleep(0.01)  # the tickets are issued in this order
    await asyncio.gather(*tasks)
    keys_left = first.red.exists(*first._keys("citizen-2"))
    # A server crashed holding a ticket of 0.3 s: the next turn waits for it to expire, then runs.
    first.issue_ticket("citizen-3", lock_lifetime=0.3)
    async with second.lock("citizen-3"):
        crashed_then_served = True
    saved = first.create_lock("citizen-4")
    saved.issue_ticket(30); saved.issue_ticket(30)
    first.save_lock(saved)
    reread = [t.number for t in second.get_lock("citizen-4").tickets]
    first.delete_lock("citizen-4")
    try:
        store("redis://127.0.0.1:1/0").issue_ticket("citizen-5")
        down = "no error"
    except LockError as error:
        down = str(error)
    print(json.dumps({"order": order, "keys_left": keys_left, "crashed_then_served": crashed_then_served,
                      "reread": reread, "gone": second.get_lock("citizen-4") is None, "down": down}))
asyncio.run(main())
"""


def _run(script: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(RASA_PYTHON), "-c", script], cwd=ROOT, env={**os.environ, **CHILD_ENV, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def test_processes_locking_one_conversation_take_turns_one_at_a_time(stores: Stores) -> None:  # noqa: F811
    env = {"TEST_REDIS_URL": stores.redis_url, "TEST_PREFIX": f"t{uuid.uuid4().hex[:8]}"}
    workers = [_run(WORKER, env) for _ in range(4)]
    results = [_result(worker) for worker in workers]
    assert [result["most_inside"] for result in results] == [1, 1, 1, 1]
    count = _run(PRELUDE + "s = store(); p = os.environ['TEST_PREFIX']\n"
                 "print(json.dumps({'entered': s.red.llen(p + ':entered'), 'left': len(s.red.keys(p + ':lock:*'))}))", env)
    totals = _result(count)
    assert totals == {"entered": 80, "left": 0}  # every turn ran once, and no lock is left behind


def test_first_come_first_served_expired_tickets_and_redis_down(stores: Stores) -> None:  # noqa: F811
    result = _result(_run(FIFO_AND_EXPIRY, {"TEST_REDIS_URL": stores.redis_url, "TEST_PREFIX": f"t{uuid.uuid4().hex[:8]}"}))
    assert result["order"] == ["first", "second", "third"]
    assert result["keys_left"] == 0
    assert result["crashed_then_served"] is True
    assert result["reread"] == [0, 1] and result["gone"] is True
    assert "Redis 不可用" in result["down"]
