"""What several gateway processes share through Redis (GATEWAY_REDIS_URL, else REDIS_URL).

``share_events(bus, settings, name)`` relays one event bus to the same bus of every other
process (core.event_relay) and returns the started relay; ``shared_locks(settings)`` gives
the per-conversation locks that hold across processes (core.shared_locks); ``lease(settings,
name, ttl)`` the lease that lets one process of several do a job (core.lease). All give None
for one process alone (no Redis URL: the embedded default). Channel names are prefixed
with a hash of the installation's SECRET_KEY, so two installations sharing a Redis do not
hear each other.
"""

from __future__ import annotations

import hashlib

from core.event_relay import RedisEventRelay
from core.events import EventBus
from core.lease import Lease
from core.settings import Settings
from core.shared_locks import SharedKeyedLocks


def channel_name(settings: Settings, name: str) -> str:
    secret = settings.secret_key.get_secret_value().encode()
    return f"welcome:{hashlib.sha256(secret).hexdigest()[:12]}:events:{name}"


async def share_events(bus: EventBus, settings: Settings, name: str) -> RedisEventRelay | None:
    if not settings.gateway_redis_url:
        return None
    relay = RedisEventRelay(bus, settings.gateway_redis_url, channel_name(settings, name))
    await relay.start()
    return relay


def shared_locks(
    settings: Settings, *, prefix: str = "welcome:lock:conversation:"
) -> SharedKeyedLocks | None:
    if not settings.gateway_redis_url:
        return None
    return SharedKeyedLocks(
        settings.gateway_redis_url, salt=settings.secret_key.get_secret_value(), prefix=prefix
    )


def lease(settings: Settings, name: str, ttl_seconds: float) -> Lease | None:
    if not settings.gateway_redis_url:
        return None
    return Lease(
        settings.gateway_redis_url,
        name,
        salt=settings.secret_key.get_secret_value(),
        ttl_seconds=ttl_seconds,
    )


def job_lease(settings: Settings, name: str, interval_seconds: float) -> Lease | None:
    """The lease of a periodic job that must run once per installation (core.periodic)."""
    return lease(settings, f"job:{name}", max(30.0, 2 * interval_seconds))
