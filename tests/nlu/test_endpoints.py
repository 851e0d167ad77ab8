"""endpoints.yml as Rasa reads it: tracker store and lock store from the environment."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from core.settings import get_settings
from devtools.rasa_env import ENDPOINTS_FILE, RASA_PYTHON, rasa_env

READ_ENDPOINTS = """
import asyncio, json, sys
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import TrackerStore
from rasa.utils.endpoints import read_endpoint_config
path = sys.argv[1]
tracker = TrackerStore.create(read_endpoint_config(path, "tracker_store"))
lock_store = LockStore.create(read_endpoint_config(path, "lock_store"))
async def lock_round_trip():
    async with lock_store.lock("welcome-test-conversation"):
        return lock_store.get_lock("welcome-test-conversation") is not None
held = asyncio.run(lock_round_trip())
print(json.dumps({"tracker": type(tracker).__name__, "tracker_url": str(tracker.engine.url),
                  "lock": type(lock_store).__name__, "held": held}))
"""


def _read(env: dict[str, str]) -> dict[str, object]:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    completed = subprocess.run(
        [str(RASA_PYTHON), "-c", READ_ENDPOINTS, str(ENDPOINTS_FILE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.rasa
def test_sqlite_tracker_store_and_in_memory_lock(tmp_path) -> None:
    db = tmp_path / "tracker.db"
    env = rasa_env(get_settings(), tracker_url=f"sqlite:///{db}", lock_store_url="")
    answer = _read(env)
    assert answer == {
        "tracker": "SQLTrackerStore",
        "tracker_url": f"sqlite:///{db}",
        "lock": "InMemoryLockStore",
        "held": True,
    }
    assert db.exists()


@pytest.mark.rasa
@pytest.mark.redis
def test_redis_lock_store_when_a_redis_url_is_set(tmp_path) -> None:
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError:
        if os.environ.get("WELCOME_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis not reachable at {url} (WELCOME_REQUIRE_SERVICES=1)")
        pytest.skip(f"Redis not reachable at {url}")
    env = rasa_env(get_settings(), tracker_url=f"sqlite:///{tmp_path / 't.db'}", lock_store_url=url)
    answer = _read(env)
    assert answer["lock"] == "AtomicRedisLockStore"
    assert answer["held"] is True
