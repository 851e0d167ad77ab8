"""The delivery engine: a worker that drains the durable delivery queue at Telegram's pace.

One ``BroadcastWorker`` per process (the gateway's, and any number of
``python -m broadcast worker`` processes). Its asyncio loop starts the broadcasts whose
time has come (copying their audience into ``broadcast_delivery``), claims a batch,
reserves sending slots from the channel's shared pacer, and hands each delivery to a
thread of its own shortly before its slot (BROADCAST_CONCURRENCY threads): the thread
marks the row in flight, waits for the slot, sends, and commits the outcome at once. The
next batch is claimed just before the current one ends, so there is no gap between them.

Exactly-once, as far as it goes (see also broadcast.queue):
- a delivery is sent only by the worker holding its claim, after one transaction that marks
  it in flight (checking claim, broadcast still running, channel not paused, lease long
  enough for the request's timeout; the chat's subscription still active and its consent
  still on record; the chat's per-chat gap and a window token held, see below): two
  workers can never send the same row, a live worker never sends a row whose lease could
  expire meanwhile, and a citizen who stopped the announcements or withdrew consent a
  moment ago is never sent to, even if the delivery was claimed before;
- a crash before that mark loses nothing (the lease expires, the row is claimed again);
- a crash (or a read timeout) after the request left and before its outcome is committed
  is the only window where a citizen could get the announcement twice ("retry", the
  default, at-least-once) or never ("skip", at-most-once): Telegram's sendMessage has no
  idempotency key, so no design can close it. The outcome is the first thing done after
  the answer, in the same thread (on PostgreSQL without waiting for the WAL flush), and
  rows caught in flight by a crash are flagged ``uncertain``: the report and the bench
  count them apart from duplicates;
- a graceful stop finishes the requests in flight and releases the rest: no window.

Limits, all shared by every worker process through the database (broadcast.ratelimit):
the global pace per channel (``reserve_slots``); at most ``rate`` requests per sliding
second as the channel sees them, each counted from its start until a second after its
answer (window tokens: no self-inflicted 429 whatever the delays on the way or the number
of workers); a minimum gap per chat, counted from the answer (the subscription's
``next_send_at``, held while the request is in flight). ``ChatGap`` keeps the gap in
memory too, to defer a delivery before asking the database. 429 -> the whole channel
pauses for retry_after (all workers) and this worker slows down a little
(ratelimit.AdaptiveRate), 403 -> blocked (conversation marked unreachable, never
retried), 5xx/network -> retried with exponential backoff up to BROADCAST_MAX_ATTEMPTS,
400 -> failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import exists, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from broadcast import broadcasts as service
from broadcast import queue
from broadcast.formatting import visible_text
from broadcast.models import Broadcast, BroadcastStatus, DeliveryStatus
from broadcast.queue import Claimed, Go, Policy, RetryPolicy
from broadcast.ratelimit import (
    AdaptiveRate,
    ChatGap,
    ensure_pacers,
    reserve_slots,
)
from broadcast.senders import Announcement, Sender
from channels.outcome import Outcome, Result
from core.database import Database
from core.i18n import gettext
from core.settings import Settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")
LEASE_MARGIN_SECONDS = 2.0
PREFETCH_SECONDS = 0.3  # claim the next batch this long before the current one ends
LEAD_SECONDS = 0.08  # a delivery's thread starts this long before its slot
WINDOW_SECONDS = 1.0


@dataclass
class Schedule:
    token: str
    items: list[tuple[float, Claimed]]


@dataclass(frozen=True)
class EngineConfig:
    rates: dict[str, float] = field(default_factory=lambda: {"telegram": 29.0})
    default_rate: float = 20.0
    per_chat_seconds: float = 1.0
    batch_size: int = 30
    concurrency: int = 8
    lease_seconds: float = 60.0
    send_timeout: float = 10.0
    poll_seconds: float = 1.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    var_dir: Path = Path("var")

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineConfig:
        return cls(
            rates={
                "telegram": settings.broadcast_telegram_rate,
                "whatsapp": settings.broadcast_whatsapp_rate,
            },
            per_chat_seconds=settings.broadcast_per_chat_seconds,
            batch_size=settings.broadcast_batch_size,
            concurrency=settings.broadcast_concurrency,
            lease_seconds=settings.broadcast_lease_seconds,
            send_timeout=settings.broadcast_send_timeout_seconds,
            poll_seconds=settings.broadcast_poll_seconds,
            retry=RetryPolicy(
                max_attempts=settings.broadcast_max_attempts,
                base_seconds=settings.broadcast_retry_base_seconds,
                max_seconds=settings.broadcast_retry_max_seconds,
                uncertain=Policy(settings.broadcast_uncertain_policy),
            ),
            var_dir=settings.var_dir,
        )

    def rate(self, channel: str) -> float:
        return self.rates.get(channel, self.default_rate)


def default_worker_id() -> str:
    return f"{socket.gethostname()[:20]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class BroadcastWorker:
    def __init__(
        self,
        engine: Engine,
        config: EngineConfig,
        senders: dict[str, Sender],
        *,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.db = Database(engine)
        # The outcome of a request the channel already answered commits without waiting for
        # the WAL flush: the window a worker crash can hit shrinks; only a PostgreSQL crash in
        # the next fraction of a second could lose it, and then the delivery is flagged
        # uncertain like after a worker crash.
        self.outcome_db = Database(engine, relaxed_commit=True)
        self.config = config
        self.senders = senders
        self.worker_id = worker_id or default_worker_id()
        self.gap = ChatGap(config.per_chat_seconds)
        self._paused_until: dict[str, float] = {}
        self._pacers_ready = False
        self._announcements: dict[tuple[int, str], Announcement] = {}  # (broadcast, language)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._semaphore = asyncio.Semaphore(max(1, config.concurrency))
        self._in_flight: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, config.concurrency), thread_name_prefix="broadcast-send"
        )
        self._rates = {
            channel: AdaptiveRate(config.rate(channel)) for channel in {*senders, *config.rates}
        }
        self.sent = 0  # counters of this worker, for logs and tests
        self.failed = 0

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Run in the background of the current event loop (the gateway's lifespan)."""
        self._task = asyncio.get_running_loop().create_task(self.run(), name="broadcast-worker")
        return self._task

    def request_stop(self) -> None:
        """Ask the worker to stop after the requests in flight (safe from a signal handler)."""
        self._stopping.set()

    async def stop(self) -> None:
        """Graceful: no new claims, requests in flight finish, unsent claims are released."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def aclose(self) -> None:
        await self.stop()
        self._executor.shutdown(wait=True)
        for sender in self.senders.values():
            sender.close()

    async def run(self, *, until_idle: bool = False) -> None:
        """Work until ``stop()`` (or, with ``until_idle``, until no broadcast is running)."""
        await self._ensure_pacers()
        log.info("broadcast worker %s started", self.worker_id)
        prefetched: Schedule | None = None
        last_housekeeping = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() - last_housekeeping >= self.config.poll_seconds:
                    await self._housekeeping()
                    last_housekeeping = time.monotonic()
                schedule = prefetched if prefetched is not None else await self._claim()
                prefetched = None
                if schedule.items:
                    prefetched = await self._dispatch(schedule)
                    continue
                await self._drain()
                await self._housekeeping()
                last_housekeeping = time.monotonic()
                if until_idle and await self._db(_idle, now=utcnow()):
                    break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("broadcast worker %s: iteration failed", self.worker_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.config.poll_seconds)
        if prefetched is not None and prefetched.items:
            await self._release([item for _, item in prefetched.items], prefetched.token, 0.0)
        await self._drain()
        log.info("broadcast worker %s stopped (sent %d)", self.worker_id, self.sent)

    async def _ensure_pacers(self) -> None:
        if not self._pacers_ready:
            await self._db(
                ensure_pacers,
                channels=sorted(set(self.senders) | set(self.config.rates)),
                limits={c: max(1, round(r)) for c, r in self.config.rates.items()},
            )
            self._pacers_ready = True

    async def run_once(self) -> int:
        """Housekeeping, then claim and send one batch (waiting for its outcomes)."""
        await self._ensure_pacers()
        await self._housekeeping()
        schedule = await self._claim()
        if schedule.items:
            leftover = await self._dispatch(schedule, prefetch=False)
            assert leftover is None
        await self._drain()
        await self._housekeeping()
        return len(schedule.items)

    async def _housekeeping(self) -> None:
        """Start due broadcasts, close cancelled leftovers, mark finished broadcasts done."""
        now = utcnow()
        for broadcast_id in await self._db(service.due_broadcasts, now=now):
            count = await self._db(service.start, broadcast_id=broadcast_id, now=now)
            if count is not None:
                log.info("broadcast %d started: %d recipients", broadcast_id, count)
        await self._db(queue.sweep, now=utcnow())
        for broadcast_id in await self._db(service.finish_done, now=utcnow()):
            log.info("broadcast %d finished", broadcast_id)
            for key in [k for k in self._announcements if k[0] == broadcast_id]:
                del self._announcements[key]

    async def _drain(self) -> None:
        if self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    # --- one batch -------------------------------------------------------------------

    async def _claim(self) -> Schedule:
        """Claim a batch and reserve its sending slots: (slot, delivery) sorted by slot."""
        token = uuid.uuid4().hex
        batch = await self._db(
            queue.claim,
            token=token,
            now=utcnow(),
            lease_seconds=self.config.lease_seconds,
            limit=self.config.batch_size,
            policy=self.config.retry.uncertain,
        )
        items: list[tuple[float, Claimed]] = []
        by_channel: dict[str, list[Claimed]] = {}
        for item in batch:
            by_channel.setdefault(item.recipient.channel, []).append(item)
        for channel, claimed in by_channel.items():
            if channel not in self.senders:
                await self._db(
                    queue.settle,
                    delivery_ids=[i.recipient.delivery_id for i in claimed],
                    token=token,
                    status=DeliveryStatus.skipped,
                    error=f"{channel}:no-sender",
                    now=utcnow(),
                )
                continue
            slots = await self._db(
                reserve_slots,
                channel=channel,
                count=len(claimed),
                rate=self._rates[channel].current(),
            )
            items.extend(zip(slots, claimed, strict=True))
        items.sort(key=lambda pair: pair[0])
        return Schedule(token, items)

    async def _dispatch(self, schedule: Schedule, *, prefetch: bool = True) -> Schedule | None:
        """Start each delivery at its slot; claim the next batch shortly before the last slot
        (so there is no gap between batches) and return it."""
        following: asyncio.Task[Schedule] | None = None
        items = schedule.items
        last_slot = items[-1][0]
        for index, (slot, item) in enumerate(items):
            if self._stopping.is_set():
                await self._release([i for _, i in items[index:]], schedule.token, 0.0)
                break
            if prefetch and following is None and last_slot - time.time() <= PREFETCH_SECONDS:
                following = asyncio.create_task(self._claim())
            recipient = item.recipient
            pause_end = self._paused_until.get(recipient.channel, 0.0)
            if pause_end > slot:
                await self._release([item], schedule.token, pause_end - time.time())
                continue
            # the delivery's thread starts a little early: it marks the row in flight, then
            # waits for the slot, so the request leaves on time whatever the commit took
            delay = slot - LEAD_SECONDS - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            send_at = time.monotonic() + max(0.0, slot - time.time())
            wait = self.gap.reserve(recipient.conversation_id, send_at)
            if wait > 0:
                await self._release([item], schedule.token, wait)
                continue
            announcement = await self._announcement(recipient.broadcast_id, recipient.language)
            await self._semaphore.acquire()
            task = asyncio.create_task(self._deliver(item, schedule.token, announcement, slot))
            self._in_flight.add(task)
            task.add_done_callback(self._done)
        if not prefetch:
            return None
        if following is None and not self._stopping.is_set():
            following = asyncio.create_task(self._claim())
        return await following if following is not None else None

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._semaphore.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("broadcast delivery task failed: %r", type(task.exception()).__name__)

    async def _release(self, items: list[Claimed], token: str, delay: float) -> None:
        now = utcnow()
        await self._db(
            queue.release,
            delivery_ids=[i.recipient.delivery_id for i in items],
            token=token,
            now=now,
            next_attempt_at=now + timedelta(seconds=max(0.0, delay)),
        )

    async def _deliver(
        self, item: Claimed, token: str, announcement: Announcement | None, slot: float
    ) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._executor, self._deliver_now, item, token, announcement, slot
        )

    def _deliver_now(
        self, item: Claimed, token: str, announcement: Announcement | None, slot: float
    ) -> None:
        """One delivery, start to end, in its own thread: mark in flight (holding the chat and
        a window token, shared by every worker), wait for the slot, send, and commit the
        outcome before anything else (the only crash window is between the channel's answer
        and that commit)."""
        recipient = item.recipient
        now = utcnow()
        mark: queue.Mark = self.db.run_sync(
            queue.mark_in_flight,
            delivery_id=recipient.delivery_id,
            token=token,
            channel=recipient.channel,
            conversation_id=recipient.conversation_id,
            now=now,
            epoch=time.time(),
            send_at=slot,
            min_lease_until=now
            + timedelta(seconds=self.config.send_timeout + LEASE_MARGIN_SECONDS),
            pacing=self._pacing(recipient.channel),
        )
        if mark.go == Go.paused:
            self._pause(recipient.channel, mark.until)
        if mark.go != Go.go:
            return
        delay = mark.send_at - time.time()
        if delay > 0:
            time.sleep(delay)
        pause_end = self._paused_until.get(recipient.channel, 0.0)
        if pause_end > time.time() or self._stopping.is_set():
            self.db.run_sync(
                queue.unmark,
                delivery_id=recipient.delivery_id,
                token=token,
                now=utcnow(),
                delay=max(0.0, pause_end - time.time()),
                channel=recipient.channel,
                conversation_id=recipient.conversation_id,
                mark=mark,
            )
            return
        if announcement is None:  # the broadcast vanished: nothing sensible to send
            outcome = Outcome(Result.permanent, error="broadcast-missing")
        else:
            try:
                outcome = self.senders[recipient.channel].send(recipient, announcement)
            except Exception as exc:  # a sender's bug: the request may have left
                outcome = Outcome(
                    Result.transient, error=f"sender:{type(exc).__name__}"[:60], uncertain=True
                )
        if outcome.result == Result.rate_limited:
            # in memory only, before the commit: the other threads of this worker must not
            # send while the outcome is being written
            self._pause(recipient.channel, time.time() + outcome.retry_after)
        # first of all, the outcome: nothing between the answer and its commit
        status = self._record(recipient, token, outcome, mark)
        self.gap.sent(recipient.conversation_id)  # counted from the answer
        if announcement is not None and outcome.file_id:
            announcement.remember_upload(recipient.channel, outcome.file_id)
        if outcome.result == Result.rate_limited:
            self._rates[recipient.channel].limited()
            log.warning(
                "broadcast %d: %s rate limited, channel paused %.1f s",
                recipient.broadcast_id,
                recipient.channel,
                outcome.retry_after,
            )
        if status == DeliveryStatus.sent:
            self.sent += 1
        elif status in (DeliveryStatus.failed, DeliveryStatus.blocked):
            self.failed += 1
            log.info(
                "broadcast %d: conversation %s %s (%s)",
                recipient.broadcast_id,
                recipient.conversation_id,
                status,
                outcome.error,
            )

    def _pacing(self, channel: str) -> queue.Pacing:
        """The shared pacing of ``channel``: per-chat gap, the window's size (the channel's
        current rate, lowered after 429s) and how long a request may stay unanswered."""
        window = round(self._rates[channel].current()) if channel in self.config.rates else 0
        return queue.Pacing(
            per_chat_seconds=self.config.per_chat_seconds,
            hold_seconds=self.config.send_timeout + LEASE_MARGIN_SECONDS,
            window_limit=max(1, window) if window else 0,
            window_seconds=WINDOW_SECONDS,
        )

    def _pause(self, channel: str, until: float) -> None:
        self._paused_until[channel] = max(until, self._paused_until.get(channel, 0.0))

    def _record(
        self, recipient: Any, token: str, outcome: Outcome, mark: queue.Mark
    ) -> DeliveryStatus | None:
        """Commit the outcome at once; a database hiccup is retried (not committing a sent
        message would widen the duplicate window)."""
        answered = time.time()
        for attempt in range(5):
            try:
                return self.outcome_db.run_sync(
                    queue.record,
                    recipient=recipient,
                    token=token,
                    outcome=outcome,
                    now=utcnow(),
                    epoch=answered,
                    retry=self.config.retry,
                    mark=mark,
                    pacing=self._pacing(recipient.channel),
                )
            except Exception:
                if attempt == 4:
                    log.exception("broadcast %d: outcome not recorded", recipient.broadcast_id)
                    return None
                time.sleep(0.2 * 2**attempt)
        return None

    async def _announcement(self, broadcast_id: int, language: str) -> Announcement | None:
        """The broadcast in ``language`` (its own version, else the Italian one), cached."""
        cached = self._announcements.get((broadcast_id, language))
        if cached is None:
            cached = await self._db(
                load_announcement,
                broadcast_id=broadcast_id,
                var_dir=self.config.var_dir,
                language=language,
            )
            if cached is not None:
                self._announcements[(broadcast_id, language)] = cached
        return cached

    async def _db(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        return await self.db.run(fn, **kwargs)


def load_announcement(
    session: Session, *, broadcast_id: int, var_dir: Path, language: str = "it"
) -> Announcement | None:
    """The broadcast as the senders need it: the version in ``language`` when staff wrote
    one (``Broadcast.translations``), else the Italian one."""
    from broadcast.formatting import to_whatsapp

    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    version = (broadcast.translations or {}).get(language) or {}
    title = version.get("title") or broadcast.title
    body = version.get("body") or broadcast.body
    link_label = broadcast.link_label
    if version and link_label:
        link_label = gettext(language, link_label)  # the default label; staff's own stays
    return Announcement(
        broadcast_id=broadcast_id,
        title=title,
        telegram_html=body,
        whatsapp_text=to_whatsapp(body),
        plain_text=visible_text(body),
        link_url=broadcast.link_url,
        link_label=link_label,
        image_path=(var_dir / broadcast.image_path) if broadcast.image_path else None,
        image_mime=broadcast.image_mime,
        telegram_file_id=broadcast.telegram_file_id,
        whatsapp_media_id=broadcast.whatsapp_media_id,
    )


def _idle(session: Session, *, now: Any) -> bool:
    """No broadcast running and none due: a worker started with until_idle may exit."""
    running = session.execute(
        select(
            exists().where(
                (col(Broadcast.status) == BroadcastStatus.running)
                | (
                    (col(Broadcast.status) == BroadcastStatus.scheduled)
                    & (col(Broadcast.scheduled_at) <= now)
                )
            )
        )
    ).scalar_one()
    return not running


def build_senders(settings: Settings, extra: dict[str, Sender] | None = None) -> dict[str, Sender]:
    """The channels' senders configured in ``settings`` (plus ``extra``, e.g. the web chat's
    CallbackSender built by the gateway)."""
    from broadcast.senders import TelegramSender, WhatsAppSender

    senders: dict[str, Sender] = {}
    token = settings.telegram_bot_token.get_secret_value()
    if token:
        senders["telegram"] = TelegramSender(
            base_url=settings.telegram_api_base_url,
            token=token,
            timeout=settings.broadcast_send_timeout_seconds,
        )
    wa_token = settings.whatsapp_access_token.get_secret_value()
    if wa_token and settings.whatsapp_phone_number_id:
        senders["whatsapp"] = WhatsAppSender(
            base_url=settings.whatsapp_graph_base_url,
            version=settings.whatsapp_api_version,
            phone_number_id=settings.whatsapp_phone_number_id,
            access_token=wa_token,
            template_name=settings.whatsapp_template_name,
            template_language=settings.whatsapp_template_language,
            timeout=settings.broadcast_send_timeout_seconds,
        )
    senders.update(extra or {})
    return senders


def build_worker(
    settings: Settings,
    engine: Engine,
    *,
    extra_senders: dict[str, Sender] | None = None,
    worker_id: str | None = None,
) -> BroadcastWorker:
    return BroadcastWorker(
        engine,
        EngineConfig.from_settings(settings),
        build_senders(settings, extra_senders),
        worker_id=worker_id,
    )
