"""Rasa's ticket lock under contention: Rasa's RedisLockStore against ours.

``python -m bench lock_store [--quick] [--processes N] [--turns N]``: N processes (as N Rasa
workers) each run TURNS turns of ONE conversation through ``lock_store.lock(...)`` on the
Redis of REDIS_URL / TEST_REDIS_URL (default redis://127.0.0.1:6379/15; keys under the
prefix ``welcomebench``, removed afterwards). Inside the lock a turn reads a counter and
writes it back plus one, as a turn loads and saves its tracker. Prints, per store, the
increments kept, LockErrors, overlapping turns and the wall time, then the ratios. The
script itself is devtools/lock_contention.py, run by .venv-rasa's Python.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from urllib.parse import urlsplit

from core.settings import PROJECT_ROOT, get_settings
from devtools.rasa_env import RASA_PYTHON, rasa_env

SCRIPT = PROJECT_ROOT / "devtools" / "lock_contention.py"
STORES = {"rasa": "Rasa's RedisLockStore", "atomic": "AtomicRedisLockStore"}


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--processes", type=int, default=4, help="contending processes")
    group.add_argument("--turns", type=int, default=25, help="turns per process")
    group.add_argument(
        "--lifetime", type=float, default=10.0,
        help="ticket lifetime in seconds (Rasa's default is 60: a lost ticket then stalls "
        "its turn for up to a minute, which is what Rasa's own store does under contention)",
    )  # fmt: skip


def contend(
    store: str, redis_url: str, processes: int, turns: int, lifetime: float
) -> dict[str, float]:
    parts = urlsplit(redis_url)
    completed = subprocess.run(
        [str(RASA_PYTHON), str(SCRIPT), parts.hostname or "127.0.0.1", str(parts.port or 6379),
         parts.path.lstrip("/") or "0", "welcomebench", store, str(processes), str(turns),
         str(lifetime)],
        env=rasa_env(get_settings()),
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )  # fmt: skip
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> None:
    if not RASA_PYTHON.exists():
        raise SystemExit("the Rasa environment (.venv-rasa) is missing: scripts/setup.sh rasa")
    redis_url = os.environ.get(
        "TEST_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    processes, turns = (2, 10) if args.quick else (args.processes, args.turns)
    print(
        f"lock store: {processes} processes x {turns} turns of one conversation, "
        f"tickets live {args.lifetime:g} s"
    )
    results = {}
    for store, label in STORES.items():
        result = results[store] = contend(store, redis_url, processes, turns, args.lifetime)
        print(
            f"  {label:24} kept {int(result['counter'])}/{int(result['turns'])}  "
            f"LockError {int(result['lock_errors'])}  overlaps {int(result['overlaps'])}  "
            f"{result['seconds']:.2f} s"
        )
    rasa, atomic = results["rasa"], results["atomic"]
    kept = atomic["counter"] / max(1, rasa["counter"])
    print(f"  increments kept, atomic / Rasa's: {kept:.1f}x")
    print(f"  wall time, atomic / Rasa's: {atomic['seconds'] / max(rasa['seconds'], 1e-9):.2f}")
