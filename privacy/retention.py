"""Retention: the privacy notice says «i messaggi sono cancellati dopo 12 mesi»; and the
erasure of one conversation at the citizen's request (GDPR art. 17), with the same code.

Both run the same passes over a ``Scope``: everything older than a cutoff (``purge``,
periodic) or everything of one conversation whatever its age (``erase_conversation``):

- messages in and out (``conversation_message``) with their ``delivery_event`` rows;
  a message whose file must stay (below) is anonymised instead: text, payload and data
  emptied, only the file reference kept. The purge leaves messages still being worked on
  (received, pending, queued) alone; an erasure takes them too (nothing is left to retry);
- citizens' files (``message_attachment`` rows and the files under VAR_DIR/uploads), except
  the receipts of reimbursement requests (``welfare_reimbursement.attachment_id``), which
  are financial records kept with the request; the purge also sweeps files no row refers
  to (left by a crash);
- the channel address (Telegram chat id, WhatsApp number, web-chat token hash) is replaced
  by ``purged:<conversation id>`` and the link to a citizen's budget ends; a citizen writing
  again starts a new conversation with the privacy notice. The purge does it to
  conversations silent for the whole period, not while a hand-off is open nor while the
  conversation is subscribed to announcements (the address is needed to send them);
- Rasa's tracker events (the tracker store, RASA_TRACKER_DB_URL): the purge those of
  conversations whose last event is older than the cutoff, except those with an open
  hand-off; an erasure those of the conversation.

What no consent covers goes after RETENTION_UNCONSENTED_DAYS (30) instead of 12 months: the
messages and files written before the conversation's consent or in a conversation that never
consented (the citizen declined, or never answered the notice), and the address of a
conversation that never consented; not while a hand-off of it is open.

Kept whatever their age: ledger entries and reimbursement requests (financial records),
care flags and hand-off records (codes and times, never message text), consent times and
versions (proof of consent), the console's audit. What an erasure does beyond these passes
(announcements, hand-off notes, unmet needs, ...) is in ``erase_conversation``.

The purge commits batch by batch, safe to run again at any time (idempotent), from several
processes; an erasure runs in the caller's transaction. Both on SQLite and PostgreSQL; the
log says counts only.
"""

from __future__ import annotations

import calendar
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
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
    true,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from broadcast.models import Subscription
from care.handoff_models import OPEN_STATUSES, Handoff
from conversations.models import (
    PURGED_PREFIX,
    Attachment,
    Conversation,
    DeliveryEvent,
    Direction,
    Message,
    Status,
)
from core.db import make_engine, session_scope
from core.periodic import ThreadedPeriodicTask
from core.settings import Settings
from review import queue as review_queue
from welfare.ledger.models import ConversationLink
from welfare.models import Reimbursement

log = logging.getLogger(__name__)

BATCH = 500
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


# --- which rows: the purge's cutoff or one conversation -----------------------------------


def _open_handoffs() -> Any:
    return select(Handoff.conversation_id).where(col(Handoff.status).in_(OPEN_STATUSES))


def _finished() -> ColumnElement[bool]:
    return or_(
        and_(
            col(Message.direction) == Direction.inbound,
            col(Message.status).in_(_FINAL_INBOUND),
        ),
        and_(
            col(Message.direction) == Direction.outbound,
            col(Message.status).in_(_FINAL_OUTBOUND),
        ),
    )


@dataclass(frozen=True)
class Scope:
    """The rows a pass touches: those older than ``cutoff`` (the periodic purge) or every
    row of ``conversation_id`` whatever its age (an erasure). Exactly one is set."""

    cutoff: datetime | None = None
    conversation_id: str | None = None
    # only what no consent covers: messages (and files) written before the conversation's
    # consent, or in a conversation that never consented (declined, or never answered), and
    # the address of a conversation that never consented (RETENTION_UNCONSENTED_DAYS)
    before_consent: bool = False

    def __post_init__(self) -> None:
        if (self.cutoff is None) == (self.conversation_id is None):
            raise ValueError("a scope is either a cutoff or a conversation")
        if self.cutoff is not None and self.cutoff.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")

    @classmethod
    def older_than(cls, cutoff: datetime) -> Scope:
        return cls(cutoff=cutoff)

    @classmethod
    def conversation(cls, conversation_id: str) -> Scope:
        return cls(conversation_id=conversation_id)

    @classmethod
    def unconsented_older_than(cls, cutoff: datetime) -> Scope:
        return cls(cutoff=cutoff, before_consent=True)

    def attachments(self) -> ColumnElement[bool]:
        """Attachment rows to delete (reimbursement receipts are excluded by the pass)."""
        if self.conversation_id is not None:
            return col(Attachment.conversation_id) == self.conversation_id
        older = col(Attachment.created_at) < self.cutoff
        if self.before_consent:
            return and_(older, _unconsented(Attachment.conversation_id, Attachment.created_at))
        return older

    def messages(self) -> ColumnElement[bool]:
        """Messages to delete or anonymise: an erasure takes every status."""
        if self.conversation_id is not None:
            return col(Message.conversation_id) == self.conversation_id
        older = and_(col(Message.created_at) < self.cutoff, _finished())
        if self.before_consent:
            return and_(older, _unconsented(Message.conversation_id, Message.created_at))
        return older

    def addresses(self) -> ColumnElement[bool]:
        """Conversations whose channel address goes (and whose budget link ends)."""
        not_yet = col(Conversation.chat_key).not_like(f"{PURGED_PREFIX}%")
        if self.conversation_id is not None:
            return and_(col(Conversation.conversation_id) == self.conversation_id, not_yet)
        subscribed = select(Subscription.conversation_id).where(col(Subscription.active).is_(True))
        never_consented = col(Conversation.consent_at).is_(None) if self.before_consent else true()
        return and_(
            never_consented,
            col(Conversation.created_at) < self.cutoff,
            or_(
                col(Conversation.last_inbound_at).is_(None),
                col(Conversation.last_inbound_at) < self.cutoff,
            ),
            not_yet,
            col(Conversation.conversation_id).not_in(_open_handoffs()),
            col(Conversation.conversation_id).not_in(subscribed),
        )

    def links(self, conversation_ids: list[str]) -> ColumnElement[bool]:
        """Budget links to end: of the conversations anonymised now; an erasure ends its
        conversation's link even when the address went earlier."""
        if self.conversation_id is not None:
            conversation_ids = [self.conversation_id]
        return and_(
            col(ConversationLink.conversation_id).in_(conversation_ids),
            col(ConversationLink.unlinked_at).is_(None),
        )

    def tracker_senders(self, events: Table, keep: list[str]) -> Any:
        """A SELECT of the Rasa senders whose events go."""
        if self.conversation_id is not None:
            return (
                sa_select(events.c.sender_id)
                .where(events.c.sender_id == self.conversation_id)
                .distinct()
            )
        assert self.cutoff is not None
        stale = (
            sa_select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(func.max(events.c.timestamp) < self.cutoff.timestamp())
        )
        return stale.where(events.c.sender_id.not_in(keep)) if keep else stale


def _unconsented(conversation_id: Any, created_at: Any) -> ColumnElement[bool]:
    """The row was written when its conversation had no consent (never given, declined, or
    given later), and no hand-off of the conversation is open (an emergency before consent
    keeps its messages while a person handles it)."""
    no_consent_then = (
        sa_select(Conversation.id)
        .where(
            col(Conversation.conversation_id) == conversation_id,
            or_(col(Conversation.consent_at).is_(None), col(Conversation.consent_at) > created_at),
        )
        .exists()
    )
    return and_(no_consent_then, col(conversation_id).not_in(_open_handoffs()))


# --- the passes: one batch each, in the caller's transaction ------------------------------


def _receipts() -> Any:
    return select(Reimbursement.attachment_id).where(col(Reimbursement.attachment_id).is_not(None))


def _attachment_batch(session: Session, scope: Scope) -> list[tuple[int, str]]:
    """Delete up to BATCH attachment rows in scope (never a receipt); their (id, path)."""
    rows = [
        (int(i), str(p))
        for i, p in session.exec(
            select(Attachment.id, Attachment.path)
            .where(scope.attachments(), col(Attachment.id).not_in(_receipts()))
            .order_by(col(Attachment.id))
            .limit(BATCH)
        ).all()
    ]
    if rows:
        session.execute(delete(Attachment).where(col(Attachment.id).in_([r[0] for r in rows])))
    return rows


@dataclass
class _MessageBatch:
    last_id: int | None = None  # None: nothing left after ``after``
    deleted: int = 0
    anonymised: int = 0
    events: int = 0


def _message_batch(session: Session, scope: Scope, after: int) -> _MessageBatch:
    """Up to BATCH messages in scope after id ``after``: deleted, or anonymised when a file
    stays with them (a reimbursement receipt)."""
    ids = [
        i
        for i in session.exec(
            select(Message.id)
            .where(scope.messages(), col(Message.id) > after)
            .order_by(col(Message.id))
            .limit(BATCH)
        )
        if i is not None
    ]
    batch = _MessageBatch()
    if not ids:
        return batch
    batch.last_id = max(ids)
    with_files = set(
        session.exec(select(Attachment.message_id).where(col(Attachment.message_id).in_(ids)))
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
            batch.anonymised += 1
    review_queue.forget(session, message_ids=ids)  # the words are gone: so is their review
    gone = [i for i in ids if i not in with_files]
    if gone:
        batch.events = session.execute(
            delete(DeliveryEvent).where(col(DeliveryEvent.message_id).in_(gone))
        ).rowcount
        batch.deleted = session.execute(delete(Message).where(col(Message.id).in_(gone))).rowcount
    return batch


def _address_batch(session: Session, scope: Scope, now: datetime) -> tuple[int, int]:
    """Up to BATCH conversations in scope lose their channel address; their budget links end.
    Returns (addresses anonymised, links ended)."""
    ids = list(
        session.exec(
            select(Conversation.conversation_id)
            .where(scope.addresses())
            .order_by(col(Conversation.id))
            .limit(BATCH)
        )
    )
    for conversation_id in ids:
        session.execute(
            update(Conversation)
            .where(col(Conversation.conversation_id) == conversation_id)
            .values(chat_key=f"{PURGED_PREFIX}{conversation_id}")
        )
    links = 0
    if ids or scope.conversation_id is not None:
        links = session.execute(
            update(ConversationLink).where(scope.links(ids)).values(unlinked_at=now)
        ).rowcount
    return len(ids), links


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


def _tracker_missing(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and not (
        parsed.database and Path(parsed.database).exists()
    )


def _tracker_batch(conn: Connection, scope: Scope, keep: list[str]) -> int | None:
    """Delete the events of up to BATCH senders in scope; None when none is left."""
    events = _events_table()
    senders = list(conn.execute(scope.tracker_senders(events, keep).limit(BATCH)).scalars())
    if not senders:
        return None
    return int(conn.execute(delete(events).where(events.c.sender_id.in_(senders))).rowcount)


def purge_tracker(url: str, cutoff: datetime, keep: list[str]) -> int:
    """Delete the events of every Rasa conversation whose last event is older than the
    cutoff (except ``keep``). Nothing happens when the store or its table does not exist."""
    return _tracker_pass(url, Scope.older_than(cutoff), keep)


def _tracker_pass(url: str, scope: Scope, keep: list[str]) -> int:
    """The tracker pass on its own engine, one transaction per batch."""
    if _tracker_missing(url):
        return 0
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("events"):
            return 0
        deleted = 0
        while True:
            with engine.begin() as conn:
                count = _tracker_batch(conn, scope, keep)
            if count is None:
                return deleted
            deleted += count
    finally:
        engine.dispose()


def _same_database(a: URL, b: URL) -> bool:
    """Whether two URLs name the same database (whatever the driver)."""
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        return bool(a.database and b.database) and (
            Path(str(a.database)).resolve() == Path(str(b.database)).resolve()
        )
    return (a.host, a.port or 5432, a.database, a.username) == (
        b.host,
        b.port or 5432,
        b.database,
        b.username,
    )


# --- the periodic purge -------------------------------------------------------------------


def purge(
    engine: Engine,
    *,
    uploads_root: Path,
    now: datetime,
    months: int,
    tracker_url: str | None = None,
    tz: ZoneInfo | None = None,
    unconsented_days: int | None = None,
) -> PurgeReport:
    """Everything older than ``months`` before ``now``: see the module docstring; with
    ``unconsented_days``, what no consent covers (``Scope.before_consent``) older than that
    many days too. Each
    batch is its own transaction; files go after the commit that deleted their rows (a
    crash in between leaves orphans, swept by the next run)."""
    cutoff = cutoff_for(now, months, tz)
    scope = Scope.older_than(cutoff)
    report = PurgeReport(cutoff=cutoff)
    _run_passes(engine, scope, report, uploads_root=uploads_root, now=now)
    report.files_deleted += _sweep_orphans(engine, uploads_root, cutoff)
    if unconsented_days is not None:
        # what no consent covers goes much sooner (before the tracker: Rasa never saw it)
        early = Scope.unconsented_older_than(now - timedelta(days=unconsented_days))
        _run_passes(engine, early, report, uploads_root=uploads_root, now=now)
    if tracker_url:
        with session_scope(engine) as session:
            keep = [str(c) for c in session.execute(_open_handoffs()).scalars()]
        report.tracker_events_deleted = _tracker_pass(tracker_url, scope, keep)
    log.info("%s", report.describe())
    return report


def _run_passes(
    engine: Engine, scope: Scope, report: PurgeReport, *, uploads_root: Path, now: datetime
) -> None:
    """Files, messages and addresses in ``scope``, batch by batch, counted in ``report``."""
    while True:
        with session_scope(engine) as session:
            rows = _attachment_batch(session, scope)
        if not rows:
            break
        report.attachments_deleted += len(rows)
        report.files_deleted += sum(_unlink(uploads_root, path) for _, path in rows)
    after = 0
    while True:
        with session_scope(engine) as session:
            batch = _message_batch(session, scope, after)
        if batch.last_id is None:
            break
        after = batch.last_id
        report.messages_deleted += batch.deleted
        report.messages_anonymised += batch.anonymised
        report.delivery_events_deleted += batch.events
    while True:
        with session_scope(engine) as session:
            anonymised, links = _address_batch(session, scope, now)
        report.conversations_anonymised += anonymised
        report.links_ended += links
        if not anonymised:
            break


def purge_with_settings(settings: Settings, engine: Engine, now: datetime) -> PurgeReport:
    return purge(
        engine,
        uploads_root=settings.var_dir / "uploads",
        now=now,
        months=settings.retention_months,
        tracker_url=tracker_engine_url(settings),
        tz=settings.tz,
        unconsented_days=settings.retention_unconsented_days,
    )


# --- the erasure of one conversation (GDPR art. 17) ---------------------------------------


@dataclass
class ErasureReport:
    """What one erasure did (counts only)."""

    messages_deleted: int = 0
    messages_anonymised: int = 0
    delivery_events_deleted: int = 0
    attachments_deleted: int = 0
    files_deleted: int = 0
    address_anonymised: int = 0
    links_ended: int = 0
    tracker_events_deleted: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        figures = {k: v for k, v in asdict(self).items() if k != "extra"}
        return {**figures, **self.extra}

    def describe(self) -> str:
        return "erasure: " + ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in self.counts().items()
        )


def erase_conversation(
    session: Session,
    *,
    conversation_id: str,
    uploads_root: Path,
    now: datetime,
    tracker_url: str | None = None,
) -> ErasureReport:
    """The retention passes for one conversation, whatever its age, in ``session``'s
    transaction (the caller commits): messages of every status, files (not the receipts
    of reimbursement requests), the channel address, the budget link; then Rasa's tracker
    events (in the same transaction when the tracker store is the same database, else in
    its own, committed first) and the files on disk. A failed commit leaves nothing half
    done that a second call would not finish; a second call finds nothing to do."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware value")
    scope = Scope.conversation(conversation_id)
    report = ErasureReport()
    paths: list[str] = []
    while rows := _attachment_batch(session, scope):
        report.attachments_deleted += len(rows)
        paths.extend(path for _, path in rows)
    after = 0
    while (batch := _message_batch(session, scope, after)).last_id is not None:
        after = batch.last_id
        report.messages_deleted += batch.deleted
        report.messages_anonymised += batch.anonymised
        report.delivery_events_deleted += batch.events
    report.address_anonymised, report.links_ended = _address_batch(session, scope, now)
    session.flush()
    if tracker_url:
        report.tracker_events_deleted = _erase_tracker(session, tracker_url, scope)
    # the rows are gone in this transaction: now the files (a failed commit leaves rows
    # whose files are already gone; the next erasure deletes those rows)
    report.files_deleted = sum(_unlink(uploads_root, path) for path in paths)
    return report


def _erase_tracker(session: Session, tracker_url: str, scope: Scope) -> int:
    bind = session.get_bind()
    assert isinstance(bind, Engine | Connection)
    if _same_database(bind.engine.url, make_url(tracker_url)):
        conn = session.connection()
        if not inspect(conn).has_table("events"):
            return 0
        deleted = 0
        while (count := _tracker_batch(conn, scope, [])) is not None:
            deleted += count
        return deleted
    return _tracker_pass(tracker_url, scope, [])


# --- the gateway's job --------------------------------------------------------------------


class RetentionWorker(ThreadedPeriodicTask):
    """Runs the purge in the gateway: shortly after start, then every ``interval`` seconds
    (core.periodic: a failed run is logged by type only, and the next run tries again)."""

    def __init__(
        self,
        job: Callable[[], PurgeReport],
        interval_seconds: float,
        first_delay_seconds: float = FIRST_RUN_DELAY_SECONDS,
    ) -> None:
        super().__init__(
            "retention purge", job, interval_seconds, first_delay_seconds=first_delay_seconds
        )
