"""Retention: the privacy notice says «i messaggi sono cancellati dopo 12 mesi».

``purge`` removes what is older than RETENTION_MONTHS (calendar months, Europe/Rome):

- messages in and out (``conversation_message``) with their ``delivery_event`` rows;
  a message whose file must stay (below) is anonymised instead: text, payload and data
  emptied, only the file reference kept;
- citizens' files (``message_attachment`` rows and the files under VAR_DIR/uploads), except
  the receipts of reimbursement requests (``welfare_reimbursement.attachment_id``), which
  are financial records kept with the request; files no row refers to (left by a crash)
  go too;
- conversations silent for the whole period (no citizen message since the cutoff): the
  channel address (Telegram chat id, WhatsApp number, web-chat token hash) is replaced by
  ``purged:<conversation id>`` and the link to a citizen's budget ends; a citizen writing
  again starts a new conversation with the privacy notice. Not while a hand-off is open,
  nor while the conversation is subscribed to announcements (the address is needed to
  send them);
- Rasa's tracker events (the tracker store, RASA_TRACKER_DB_URL) of conversations whose
  last event is older than the cutoff, except those with an open hand-off.

Kept whatever their age: ledger entries and reimbursement requests (financial records),
care flags and hand-off records (codes and times, never message text), consent times and
versions (proof of consent), the console's audit. Messages still being worked on
(received, pending, queued) are never touched. Safe to run again at any time (idempotent),
from several processes, on SQLite and PostgreSQL; the log says counts only.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Float,
    MetaData,
    String,
    Table,
    and_,
    delete,
    func,
    inspect,
    or_,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine, make_url
from sqlmodel import col, select

from bot.store.models import (
    Attachment,
    Conversation,
    DeliveryEvent,
    Direction,
    Message,
    Status,
)
from broadcast.models import Subscription
from care.handoff_models import OPEN_STATUSES, Handoff
from catalog.db import make_engine, session_scope
from catalog.ledger.models import ConversationLink
from welcome.settings import Settings
from welfare.models import Reimbursement

log = logging.getLogger(__name__)

BATCH = 500
PURGED_PREFIX = "purged:"
FIRST_RUN_DELAY_SECONDS = 60.0
_FINAL_INBOUND = (Status.processed, Status.rejected)
_FINAL_OUTBOUND = (
    Status.sent,
    Status.delivered,
    Status.read,
    Status.failed,
    Status.awaiting_window,
)


@dataclass
class PurgeReport:
    cutoff: datetime
    messages_deleted: int = 0
    messages_anonymised: int = 0
    delivery_events_deleted: int = 0
    attachments_deleted: int = 0
    files_deleted: int = 0
    conversations_anonymised: int = 0
    links_ended: int = 0
    tracker_events_deleted: int = 0

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "cutoff"}

    def describe(self) -> str:
        figures = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.counts().items())
        return f"retention purge (before {self.cutoff.isoformat()}): {figures}"


def cutoff_for(now: datetime, months: int, tz: ZoneInfo | None = None) -> datetime:
    """``now`` minus ``months`` calendar months on the local calendar (a day that does not
    exist, like 31 February, becomes the month's last day), in UTC."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware value")
    local = now.astimezone(tz or ZoneInfo("Europe/Rome"))
    year, month0 = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, calendar.monthrange(year, month0 + 1)[1])
    naive = local.replace(tzinfo=None, year=year, month=month0 + 1, day=day)
    return naive.replace(tzinfo=local.tzinfo).astimezone(UTC)


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


# --- the gateway's database ---------------------------------------------------------------


def _purge_attachments(engine: Engine, uploads_root: Path, cutoff: datetime) -> tuple[int, int]:
    """Old attachment rows and their files, except reimbursement receipts."""
    receipts = select(Reimbursement.attachment_id).where(
        col(Reimbursement.attachment_id).is_not(None)
    )
    rows_deleted = files_deleted = 0
    while True:
        with session_scope(engine) as session:
            rows = session.exec(
                select(Attachment.id, Attachment.path)
                .where(col(Attachment.created_at) < cutoff, col(Attachment.id).not_in(receipts))
                .order_by(col(Attachment.id))
                .limit(BATCH)
            ).all()
            if not rows:
                break
            session.execute(delete(Attachment).where(col(Attachment.id).in_([r[0] for r in rows])))
        rows_deleted += len(rows)  # committed: now the files (a crash leaves orphans, swept)
        files_deleted += sum(_unlink(uploads_root, path) for _, path in rows)
    return rows_deleted, files_deleted


def _unlink(root: Path, relative: str) -> bool:
    path = (root / relative).resolve()
    if root.resolve() not in path.parents:
        return False  # never outside the uploads folder
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _sweep_orphans(engine: Engine, uploads_root: Path, cutoff: datetime) -> int:
    """Files older than the cutoff that no attachment row refers to."""
    if not uploads_root.is_dir():
        return 0
    limit = cutoff.timestamp()
    deleted = 0
    for folder, _dirs, files in os.walk(uploads_root):
        old = {}
        for name in files:
            path = Path(folder) / name
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit:
                    old[path.relative_to(uploads_root).as_posix()] = path
        for chunk in (list(old)[i : i + BATCH] for i in range(0, len(old), BATCH)):
            with session_scope(engine) as session:
                known = set(
                    session.exec(select(Attachment.path).where(col(Attachment.path).in_(chunk)))
                )
            for relative in chunk:
                if relative not in known and _unlink(uploads_root, relative):
                    deleted += 1
    return deleted


def _purge_messages(engine: Engine, cutoff: datetime) -> tuple[int, int, int]:
    """Old messages in a final status: deleted, or anonymised when a file stays with them."""
    deleted = anonymised = events = 0
    after = 0
    finished = or_(
        and_(
            col(Message.direction) == Direction.inbound,
            col(Message.status).in_(_FINAL_INBOUND),
        ),
        and_(
            col(Message.direction) == Direction.outbound,
            col(Message.status).in_(_FINAL_OUTBOUND),
        ),
    )
    while True:
        with session_scope(engine) as session:
            ids = list(
                session.exec(
                    select(Message.id)
                    .where(col(Message.created_at) < cutoff, col(Message.id) > after, finished)
                    .order_by(col(Message.id))
                    .limit(BATCH)
                )
            )
            if not ids:
                break
            after = max(i for i in ids if i is not None)
            with_files = set(
                session.exec(
                    select(Attachment.message_id).where(col(Attachment.message_id).in_(ids))
                )
            )
            for message in session.exec(select(Message).where(col(Message.id).in_(with_files))):
                kept = (
                    {"attachment": message.data["attachment"]}
                    if "attachment" in (message.data or {})
                    else {}
                )
                if message.text or message.payload or message.data != {**kept, "purged": True}:
                    message.text = ""
                    message.payload = None
                    message.data = {**kept, "purged": True}
                    session.add(message)
                    anonymised += 1
            gone = [i for i in ids if i not in with_files]
            if gone:
                events += session.execute(
                    delete(DeliveryEvent).where(col(DeliveryEvent.message_id).in_(gone))
                ).rowcount
                deleted += session.execute(
                    delete(Message).where(col(Message.id).in_(gone))
                ).rowcount
    return deleted, anonymised, events


def _open_handoffs() -> Any:
    return select(Handoff.conversation_id).where(col(Handoff.status).in_(OPEN_STATUSES))


def _purge_conversations(engine: Engine, cutoff: datetime, now: datetime) -> tuple[int, int]:
    """Conversations silent for the whole period lose their channel address and budget link."""
    subscribed = select(Subscription.conversation_id).where(col(Subscription.active).is_(True))
    anonymised = links = 0
    while True:
        with session_scope(engine) as session:
            ids = list(
                session.exec(
                    select(Conversation.conversation_id)
                    .where(
                        col(Conversation.created_at) < cutoff,
                        or_(
                            col(Conversation.last_inbound_at).is_(None),
                            col(Conversation.last_inbound_at) < cutoff,
                        ),
                        col(Conversation.chat_key).not_like(f"{PURGED_PREFIX}%"),
                        col(Conversation.conversation_id).not_in(_open_handoffs()),
                        col(Conversation.conversation_id).not_in(subscribed),
                    )
                    .order_by(col(Conversation.id))
                    .limit(BATCH)
                )
            )
            if not ids:
                break
            for conversation_id in ids:
                session.execute(
                    update(Conversation)
                    .where(col(Conversation.conversation_id) == conversation_id)
                    .values(chat_key=f"{PURGED_PREFIX}{conversation_id}")
                )
            links += session.execute(
                update(ConversationLink)
                .where(
                    col(ConversationLink.conversation_id).in_(ids),
                    col(ConversationLink.unlinked_at).is_(None),
                )
                .values(unlinked_at=now)
            ).rowcount
            anonymised += len(ids)
    return anonymised, links


# --- Rasa's tracker store -----------------------------------------------------------------


def tracker_engine_url(settings: Settings) -> str:
    """SQLAlchemy URL of Rasa's tracker store for this (Python 3.11) side: psycopg 3."""
    url = settings.rasa_tracker_db_url
    if not url:
        return f"sqlite:///{settings.var_dir / 'rasa-tracker.db'}"
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        scheme = "postgresql+psycopg"
    return f"{scheme}{sep}{rest}"


def _events_table() -> Table:
    """The columns of Rasa's SQLTrackerStore ``events`` table we read (Rasa 3.6)."""
    return Table(
        "events",
        MetaData(),
        Column("sender_id", String(255)),
        Column("timestamp", Float),
    )


def purge_tracker(url: str, cutoff: datetime, keep: list[str]) -> int:
    """Delete the events of every Rasa conversation whose last event is older than the
    cutoff (except ``keep``). Nothing happens when the store or its table does not exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not (
        parsed.database and Path(parsed.database).exists()
    ):
        return 0
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("events"):
            return 0
        events = _events_table()
        stale = (
            sa_select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(func.max(events.c.timestamp) < cutoff.timestamp())
        )
        if keep:
            stale = stale.where(events.c.sender_id.not_in(keep))
        deleted = 0
        while True:
            with engine.begin() as conn:
                senders = list(conn.execute(stale.limit(BATCH)).scalars())
                if not senders:
                    break
                deleted += conn.execute(
                    delete(events).where(events.c.sender_id.in_(senders))
                ).rowcount
        return deleted
    finally:
        engine.dispose()


# --- the whole job ------------------------------------------------------------------------


def purge(
    engine: Engine,
    *,
    uploads_root: Path,
    now: datetime,
    months: int,
    tracker_url: str | None = None,
    tz: ZoneInfo | None = None,
) -> PurgeReport:
    """Everything older than ``months`` before ``now``: see the module docstring."""
    cutoff = cutoff_for(now, months, tz)
    report = PurgeReport(cutoff=cutoff)
    report.attachments_deleted, report.files_deleted = _purge_attachments(
        engine, uploads_root, cutoff
    )
    report.files_deleted += _sweep_orphans(engine, uploads_root, cutoff)
    (
        report.messages_deleted,
        report.messages_anonymised,
        report.delivery_events_deleted,
    ) = _purge_messages(engine, cutoff)
    report.conversations_anonymised, report.links_ended = _purge_conversations(engine, cutoff, now)
    if tracker_url:
        with session_scope(engine) as session:
            keep = [str(c) for c in session.execute(_open_handoffs()).scalars()]
        report.tracker_events_deleted = purge_tracker(tracker_url, cutoff, keep)
    log.info("%s", report.describe())
    return report


def purge_with_settings(settings: Settings, engine: Engine, now: datetime) -> PurgeReport:
    return purge(
        engine,
        uploads_root=settings.var_dir / "uploads",
        now=now,
        months=settings.retention_months,
        tracker_url=tracker_engine_url(settings),
        tz=settings.tz,
    )


class RetentionWorker:
    """Runs the purge in the gateway: shortly after start, then every ``interval`` seconds."""

    def __init__(
        self,
        job: Callable[[], PurgeReport],
        interval_seconds: float,
        first_delay_seconds: float = FIRST_RUN_DELAY_SECONDS,
    ) -> None:
        self.job = job
        self.interval = interval_seconds
        self.first_delay = min(first_delay_seconds, interval_seconds)
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        await asyncio.sleep(self.first_delay)
        while True:
            try:
                await asyncio.to_thread(self.job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next run tries again; the type only, no data
                log.error(
                    "retention purge failed (%s); next try in %.0f s",
                    type(exc).__name__,
                    self.interval,
                )
            self.runs += 1
            await asyncio.sleep(self.interval)
