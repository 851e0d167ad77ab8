"""Small in-memory limits of the web chat: per token (anonymous chats are cheap to open) and
per client address (so that opening many chats buys nothing)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass


class SlidingWindow:
    def __init__(self, limit: int, seconds: float, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.seconds = seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque()
        while hits and now - hits[0] > self.seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or now - v[-1] > self.seconds]:
            del self._hits[key]


class DistinctWindow:
    """At most ``limit`` distinct keys (conversations) per address within ``seconds``; a key
    already counted for the address passes again freely."""

    def __init__(self, limit: int, seconds: float, max_addresses: int = 10_000) -> None:
        self.limit = limit
        self.seconds = seconds
        self.max_addresses = max_addresses
        self._seen: dict[str, dict[str, float]] = {}

    def allow(self, address: str, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        seen = self._seen.get(address)
        if seen is None:
            if len(self._seen) >= self.max_addresses:
                self._forget_idle(now)
            seen = self._seen[address] = {}
        for old in [k for k, at in seen.items() if now - at > self.seconds]:
            del seen[old]
        if key in seen:
            return True
        if len(seen) >= self.limit:
            return False
        seen[key] = now
        return True

    def _forget_idle(self, now: float) -> None:
        for address in [
            a
            for a, seen in self._seen.items()
            if all(now - t > self.seconds for t in seen.values())
        ]:
            del self._seen[address]


class Concurrent:
    """At most ``limit`` things open at once per address (event streams)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def acquire(self, address: str) -> bool:
        if self._open.get(address, 0) >= self.limit:
            return False
        self._open[address] = self._open.get(address, 0) + 1
        return True

    def release(self, address: str) -> None:
        left = self._open.get(address, 0) - 1
        if left > 0:
            self._open[address] = left
        else:
            self._open.pop(address, None)


@dataclass
class AddressLimits:
    """The web chat's per-client-address limits (settings WEBCHAT_*_PER_ADDRESS*), beside the
    per-token ones: tokens are free, addresses are not."""

    sessions: SlidingWindow
    emergencies: DistinctWindow
    uploads: SlidingWindow
    streams: Concurrent
    trusted_proxies: str = ""

    @classmethod
    def from_values(
        cls,
        *,
        sessions_per_hour: int,
        emergencies_per_hour: int,
        uploads_per_hour: int,
        streams: int,
        trusted_proxies: str = "",
    ) -> AddressLimits:
        return cls(
            sessions=SlidingWindow(limit=sessions_per_hour, seconds=3600.0),
            emergencies=DistinctWindow(limit=emergencies_per_hour, seconds=3600.0),
            uploads=SlidingWindow(limit=uploads_per_hour, seconds=3600.0),
            streams=Concurrent(limit=streams),
            trusted_proxies=trusted_proxies,
        )
