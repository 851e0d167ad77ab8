"""Run by .venv-rasa's Python (not by pytest): the atomic lock store writes what Rasa reads.

    rasa_side_lock_compat.py REDIS_HOST REDIS_PORT REDIS_DB PREFIX

Tickets issued by nlu.atomic_lock_store.AtomicRedisLockStore are read back by Rasa's own
RedisLockStore (same keys, same JSON); expired tickets are dropped; finishing the ticket
being served passes the lock to the next one; the lock is deleted only when nobody waits.
Prints one JSON object of observations for tests/nlu/test_atomic_lock_store.py.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from rasa.core.lock_store import LockStore, RedisLockStore
    from rasa.utils.endpoints import EndpointConfig

    host, port, db, prefix = sys.argv[1:5]
    config = EndpointConfig(
        url=host, type="nlu.atomic_lock_store.AtomicRedisLockStore",
        port=port, db=db, key_prefix=prefix,
    )  # fmt: skip
    atomic = LockStore.create(config)  # as Rasa builds it from endpoints.yml
    plain = RedisLockStore(host=host, port=int(port), db=int(db), key_prefix=prefix)
    conversation = "compat-" + uuid.uuid4().hex
    seen: dict[str, object] = {"class": type(atomic).__name__}

    first = atomic.issue_ticket(conversation, 60)
    second = atomic.issue_ticket(conversation, 60)
    lock = plain.get_lock(conversation)
    seen["issued"] = [first, second]
    seen["read_by_rasa"] = [t.number for t in lock.tickets] if lock else None
    seen["serving"] = lock.now_serving if lock else None

    atomic.cleanup(conversation, first)  # the second still waits: the lock stays
    lock = plain.get_lock(conversation)
    seen["after_first"] = lock.now_serving if lock else None

    short = atomic.issue_ticket(conversation, 0.05)  # will expire
    time.sleep(0.2)
    atomic.update_lock(conversation)
    lock = plain.get_lock(conversation)
    seen["after_expiry"] = [t.number for t in lock.tickets] if lock else None
    seen["short"] = short

    atomic.cleanup(conversation, second)
    seen["left_after_last"] = plain.get_lock(conversation) is not None
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
