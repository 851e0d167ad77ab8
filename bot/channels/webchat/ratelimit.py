"""The web chat's limits: per token (anonymous chats are cheap to open) and per client
address (so that opening many chats buys nothing). The counters live in a core.limits store:
this process's memory, or Redis shared by every gateway process when REDIS_URL is set."""

from __future__ import annotations

from dataclasses import dataclass

from core.limits import Concurrent, DistinctWindow, LimitStore, MemoryLimitStore, SlidingWindow

HOUR = 3600.0
MESSAGES_PER_TOKEN = 20  # in MESSAGE_WINDOW_SECONDS: a person types slower
MESSAGE_WINDOW_SECONDS = 10.0


@dataclass
class AddressLimits:
    """The web chat's per-client-address limits (settings WEBCHAT_*_PER_ADDRESS*), beside the
    per-token one: tokens are free, addresses are not."""

    store: LimitStore
    sessions: SlidingWindow
    emergencies: DistinctWindow
    uploads: SlidingWindow
    streams: Concurrent
    messages: SlidingWindow  # per token
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
        store: LimitStore | None = None,
    ) -> AddressLimits:
        store = store or MemoryLimitStore()
        return cls(
            store=store,
            sessions=SlidingWindow(
                store, "webchat.sessions", limit=sessions_per_hour, seconds=HOUR
            ),
            emergencies=DistinctWindow(
                store, "webchat.emergencies", limit=emergencies_per_hour, seconds=HOUR
            ),
            uploads=SlidingWindow(store, "webchat.uploads", limit=uploads_per_hour, seconds=HOUR),
            streams=Concurrent(store, "webchat.streams", limit=streams),
            messages=SlidingWindow(
                store,
                "webchat.messages",
                limit=MESSAGES_PER_TOKEN,
                seconds=MESSAGE_WINDOW_SECONDS,
            ),
            trusted_proxies=trusted_proxies,
        )
