"""Run by .venv-rasa's Python (a script, not imported by the project): several processes
contend for one conversation's Rasa ticket lock, as several Rasa workers do. Used by
tests/nlu/test_atomic_lock_store.py and ``python -m bench lock_store``.

    lock_contention.py REDIS_HOST REDIS_PORT REDIS_DB PREFIX STORE PROCESSES TURNS [LIFETIME]

STORE is ``atomic`` (nlu.atomic_lock_store.AtomicRedisLockStore) or ``rasa`` (Rasa's own
RedisLockStore, for the comparison in the bench). Every process runs TURNS "turns" of the same
conversation through ``lock_store.lock(...)``, Rasa's own waiting loop (tickets live
LIFETIME seconds, Rasa's default 60); inside the lock a
turn reads a counter, yields, and writes it back plus one (the way a turn reads the tracker
and saves it with one more event). With a correct lock no increment is lost and no turn
sees another inside the lock. Prints one JSON object: turns, counter, overlaps,
lock_errors, left (whether a lock key is left behind) and seconds (wall time).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _store(kind: str, host: str, port: int, db: int, prefix: str) -> Any:
    from rasa.core.lock_store import RedisLockStore

    from nlu.atomic_lock_store import AtomicRedisLockStore

    cls = AtomicRedisLockStore if kind == "atomic" else RedisLockStore
    return cls(host=host, port=port, db=db, key_prefix=prefix)


def _worker(args: tuple[str, str, int, int, str, str, int, float, Any]) -> dict[str, float]:
    kind, host, port, db, prefix, conversation, turns, lifetime, barrier = args
    store = _store(kind, host, port, db, prefix)
    counter_key = f"{prefix}:counter:{conversation}"
    inside_key = f"{prefix}:inside:{conversation}"
    overlaps = lock_errors = 0

    async def turn() -> None:
        nonlocal overlaps, lock_errors
        from rasa.core.lock_store import LockError

        try:
            async with store.lock(conversation, lock_lifetime=lifetime, wait_time_in_seconds=0.01):
                if store.red.incr(inside_key) != 1:
                    overlaps += 1
                value = int(store.red.get(counter_key) or 0)
                await asyncio.sleep(0.002)
                store.red.set(counter_key, value + 1)
                store.red.decr(inside_key)
        except LockError:
            lock_errors += 1

    async def run() -> None:
        await asyncio.gather(*(turn() for _ in range(turns)))

    barrier.wait()  # every process, Rasa imported, starts in the same instant
    started = time.time()
    asyncio.run(run())
    return {"overlaps": overlaps, "lock_errors": lock_errors, "started": started,
            "ended": time.time()}  # fmt: skip


def main() -> None:
    host, port, db, prefix, kind, processes, turns = sys.argv[1:8]
    lifetime = float(sys.argv[8]) if len(sys.argv) > 8 else 60.0
    conversation = uuid.uuid4().hex
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(int(processes)) as pool:
        barrier = manager.Barrier(int(processes))
        jobs = [
            (kind, host, int(port), int(db), prefix, conversation, int(turns), lifetime, barrier)
            for _ in range(int(processes))
        ]
        results = pool.map(_worker, jobs)
    store = _store(kind, host, int(port), int(db), prefix)
    counter_key = f"{prefix}:counter:{conversation}"
    answer = {
        "turns": int(processes) * int(turns),
        "counter": int(store.red.get(counter_key) or 0),
        "overlaps": int(sum(r["overlaps"] for r in results)),
        "lock_errors": int(sum(r["lock_errors"] for r in results)),
        "left": store.get_lock(conversation) is not None,
    }
    store.red.delete(counter_key, f"{prefix}:inside:{conversation}")
    answer["seconds"] = round(
        max(r["ended"] for r in results) - min(r["started"] for r in results), 3
    )
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
