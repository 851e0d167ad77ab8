"""privacy.retention: what is older than the period goes, what other duties need stays.

Run on SQLite and PostgreSQL (``engine``), with Rasa's tracker table in the same database.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from broadcast.models import Subscription
from care.handoff_models import Handoff, HandoffStatus
from conversations.models import (
    PURGED_PREFIX,
    Attachment,
    Channel,
    Conversation,
    DeliveryEvent,
    Direction,
    Kind,
    Message,
    Status,
)
from core.db import make_engine, session_scope
from core.timeutil import utcnow
from privacy.retention import cutoff_for, purge
from tests.gateway.conftest import RunningGateway
from welfare.ledger.accounts import create_citizen
from welfare.ledger.models import ConversationLink
from welfare.models import Reimbursement

ROOT = Path(__file__).resolve().parents[2]
NOW = utcnow()
OLD = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=20)


def _rasa_events(engine: Engine) -> Table:
    """Rasa 3.6's SQLTrackerStore table, as Rasa creates it."""
    table = Table(
        "events",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255), nullable=False, index=True),
        Column("type_name", String(255), nullable=False),
        Column("timestamp", Float),
        Column("intent_name", String(255)),
        Column("action_name", String(255)),
        Column("data", Text),
    )
    table.metadata.create_all(engine)
    return table


@dataclass
class World:
    engine: Engine
    uploads: Path
    ids: dict[str, str]
    files: dict[str, Path]
    attachment_ids: dict[str, int]
    message_ids: dict[str, int]


def _conversation(session: Session, name: str, *, last_inbound: datetime) -> str:
    conversation = Conversation(
        conversation_id=secrets.token_hex(16),
        channel=Channel.telegram,
        chat_key=str(700_000 + len(name) * 1000 + sum(map(ord, name))),
        created_at=OLD,
        last_inbound_at=last_inbound,
        consent_at=OLD,
        consent_version="2026-11",
    )
    session.add(conversation)
    session.flush()
    return conversation.conversation_id


def _message(
    session: Session,
    conversation_id: str,
    *,
    at: datetime,
    text: str,
    direction: Direction = Direction.inbound,
    status: Status = Status.processed,
    kind: Kind = Kind.text,
    data: dict[str, Any] | None = None,
) -> int:
    message = Message(
        conversation_id=conversation_id,
        channel=Channel.telegram,
        direction=direction,
        author="citizen" if direction == Direction.inbound else "bot",
        kind=kind,
        text=text,
        payload="/qualcosa" if direction == Direction.inbound else None,
        data=data or {},
        status=status,
        status_at=at,
        created_at=at,
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    return message.id


def _file(uploads: Path, relative: str, at: datetime, content: bytes = b"\xff\xd8\xffdati") -> Path:
    path = uploads / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (at.timestamp(), at.timestamp()))
    return path


def _attachment(
    session: Session, uploads: Path, message_id: int, conversation_id: str, at: datetime
) -> tuple[int, Path]:
    relative = f"{at:%Y}/{at:%m}/{secrets.token_hex(16)}.jpg"
    path = _file(uploads, relative, at)
    attachment = Attachment(
        message_id=message_id,
        conversation_id=conversation_id,
        mime_type="image/jpeg",
        size_bytes=path.stat().st_size,
        sha256="0" * 64,
        path=relative,
        created_at=at,
    )
    session.add(attachment)
    session.flush()
    assert attachment.id is not None
    info = {"id": attachment.id, "mime_type": "image/jpeg", "size_bytes": 7}
    message = session.get(Message, message_id)
    assert message is not None
    message.data = {**message.data, "file": {"file_id": "AgAD1"}, "attachment": info}
    session.add(message)
    return attachment.id, path


def build_world(engine: Engine, uploads: Path) -> World:
    ids: dict[str, str] = {}
    files: dict[str, Path] = {}
    attachments: dict[str, int] = {}
    messages: dict[str, int] = {}
    with session_scope(engine) as session:
        # a: silent for the whole period; a photo, a reply, a budget link
        a = ids["silent"] = _conversation(session, "silent", last_inbound=OLD)
        messages["a_in"] = _message(session, a, at=OLD, text="sono Anna Rossi, via Roma 3")
        attachments["a"], files["a"] = _attachment(session, uploads, messages["a_in"], a, OLD)
        messages["a_out"] = _message(
            session, a, at=OLD, text="Ciao Anna", direction=Direction.outbound, status=Status.read
        )
        session.add(DeliveryEvent(message_id=messages["a_out"], status=Status.sent, at=OLD))
        citizen = create_citizen(session, first_name="Anna", family_name="Rossi", now=OLD)
        assert citizen.id is not None
        session.add(ConversationLink(conversation_id=a, citizen_id=citizen.id, linked_at=OLD))
        # b: still active; one old message, one recent, one old still waiting for Rasa
        b = ids["active"] = _conversation(session, "active", last_inbound=RECENT)
        messages["b_old"] = _message(session, b, at=OLD, text="vecchio messaggio")
        messages["b_new"] = _message(session, b, at=RECENT, text="messaggio recente")
        messages["b_pending"] = _message(
            session, b, at=OLD, text="aspetta Rasa", status=Status.pending
        )
        messages["b_queued"] = _message(
            session,
            b,
            at=OLD,
            text="da mandare",
            direction=Direction.outbound,
            status=Status.queued,
        )
        # c: a reimbursement receipt (a financial record): the file stays, the text goes
        c = ids["receipt"] = _conversation(session, "receipt", last_inbound=OLD)
        messages["c_in"] = _message(
            session, c, at=OLD, text="ricevuta del nido di Marco", kind=Kind.attachment
        )
        attachments["c"], files["c"] = _attachment(session, uploads, messages["c_in"], c, OLD)
        session.add(
            Reimbursement(
                number="RIM-TEST01",
                idempotency_key=f"test:{c}",
                citizen_id=citizen.id,
                conversation_id=c,
                attachment_id=attachments["c"],
                amount_cents=12_000,
                paid_on=date(2025, 1, 10),
                provider_name="Nido Le Coccinelle",
                beneficiary="Marco",
                created_at=OLD,
            )
        )
        # d: silent but subscribed to announcements: the address is still needed
        d = ids["subscribed"] = _conversation(session, "subscribed", last_inbound=OLD)
        messages["d_in"] = _message(session, d, at=OLD, text="avvisi del Q5")
        session.add(Subscription(conversation_id=d, channel="telegram", created_at=OLD))
        # e: silent, but a hand-off is still open
        e = ids["handoff"] = _conversation(session, "handoff", last_inbound=OLD)
        session.add(Handoff(conversation_id=e, status=HandoffStatus.waiting, requested_at=OLD))
    # files nobody refers to: an old one (a crash between write and record), a recent one
    files["orphan_old"] = _file(uploads, "2025/01/orfano.pdf", OLD, b"%PDF-1.4")
    files["orphan_new"] = _file(uploads, "2027/01/nuovo.pdf", RECENT, b"%PDF-1.4")
    events = _rasa_events(engine)
    with engine.begin() as conn:
        for sender, at in (
            (ids["silent"], OLD),
            (ids["active"], OLD),
            (ids["active"], RECENT),
            (ids["handoff"], OLD),
        ):
            conn.execute(
                insert(events),
                [
                    {"sender_id": sender, "type_name": "user", "timestamp": at.timestamp()},
                    {"sender_id": sender, "type_name": "bot", "timestamp": at.timestamp() + 1},
                ],
            )
    return World(engine, uploads, ids, files, attachments, messages)


def _tracker_senders(engine: Engine) -> dict[str, int]:
    events = Table("events", MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.sender_id)).scalars().all()
    return {sender: rows.count(sender) for sender in set(rows)}


def _tracker_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _snapshot(world: World) -> dict[str, Any]:
    with Session(world.engine) as session:
        messages = {m.id: (m.text, m.payload, m.data) for m in session.exec(sm_select(Message))}
        conversations = {
            c.conversation_id: c.chat_key for c in session.exec(sm_select(Conversation))
        }
        attachments = sorted(a.id or 0 for a in session.exec(sm_select(Attachment)))
        links = [link.unlinked_at for link in session.exec(sm_select(ConversationLink))]
    files = sorted(p.relative_to(world.uploads).as_posix() for p in world.uploads.rglob("*.*"))
    return {
        "messages": messages,
        "conversations": conversations,
        "attachments": attachments,
        "links": links,
        "files": files,
        "tracker": _tracker_senders(world.engine),
    }


def test_purge_deletes_what_is_old_and_keeps_what_other_duties_need(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(engine, tmp_path / "uploads")
    caplog.set_level(logging.INFO)
    report = purge(
        engine, uploads_root=world.uploads, now=NOW, months=12, tracker_url=_tracker_url(engine)
    )
    assert report.counts() == {
        "messages_deleted": 4,  # a_in, a_out, b_old, d_in
        "messages_anonymised": 1,  # c_in: its receipt stays
        "delivery_events_deleted": 1,
        "attachments_deleted": 1,
        "files_deleted": 2,  # a's photo and the old orphan
        "conversations_anonymised": 2,  # silent and receipt; not subscribed, not handoff
        "links_ended": 1,
        "tracker_events_deleted": 2,  # silent's two events
    }
    m = world.message_ids
    with Session(engine) as session:
        left = {msg.id: msg for msg in session.exec(sm_select(Message))}
        assert set(left) == {m["b_new"], m["b_pending"], m["b_queued"], m["c_in"]}
        receipt = left[m["c_in"]]
        assert receipt.text == "" and receipt.payload is None
        assert receipt.data == {
            "attachment": {
                "id": world.attachment_ids["c"],
                "mime_type": "image/jpeg",
                "size_bytes": 7,
            },
            "purged": True,
        }
        assert [a.id for a in session.exec(sm_select(Attachment))] == [world.attachment_ids["c"]]
        assert session.exec(sm_select(DeliveryEvent)).all() == []
        keys = {c.conversation_id: c.chat_key for c in session.exec(sm_select(Conversation))}
        assert keys[world.ids["silent"]] == PURGED_PREFIX + world.ids["silent"]
        assert keys[world.ids["receipt"]] == PURGED_PREFIX + world.ids["receipt"]
        for kept in ("active", "subscribed", "handoff"):
            assert not keys[world.ids[kept]].startswith(PURGED_PREFIX)
        (link,) = session.exec(sm_select(ConversationLink)).all()
        assert link.unlinked_at is not None and link.unlinked_at.tzinfo is not None
        (reimbursement,) = session.exec(sm_select(Reimbursement)).all()
        assert reimbursement.attachment_id == world.attachment_ids["c"]  # financial record kept
        conversation = session.exec(
            sm_select(Conversation).where(col(Conversation.conversation_id) == world.ids["silent"])
        ).one()
        assert conversation.consent_at is not None  # proof of consent stays
    assert not world.files["a"].exists() and not world.files["orphan_old"].exists()
    assert world.files["c"].exists() and world.files["orphan_new"].exists()
    assert _tracker_senders(engine) == {world.ids["active"]: 4, world.ids["handoff"]: 2}

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "messages deleted 4" in logged
    for secret in ("Anna", "Roma", "Marco", "ricevuta", *world.ids.values()):
        assert secret not in logged
    with Session(engine) as session:
        chat_keys = [c.chat_key for c in session.exec(sm_select(Conversation))]
    assert not any(key in logged for key in chat_keys if not key.startswith(PURGED_PREFIX))

    # a second run (the next day, or another process) finds nothing more to do
    before = _snapshot(world)
    again = purge(
        engine, uploads_root=world.uploads, now=NOW, months=12, tracker_url=_tracker_url(engine)
    )
    assert set(again.counts().values()) == {0}
    assert _snapshot(world) == before


def test_a_citizen_writing_again_after_the_purge_starts_afresh(
    engine: Engine, tmp_path: Path
) -> None:
    from conversations import repository as repo
    from conversations.inbound import Inbound

    world = build_world(engine, tmp_path / "uploads")
    with Session(engine) as session:
        old_key = session.exec(
            sm_select(Conversation.chat_key).where(
                col(Conversation.conversation_id) == world.ids["silent"]
            )
        ).one()
    purge(engine, uploads_root=world.uploads, now=NOW, months=12)
    with session_scope(engine) as session:
        stored = repo.store_inbound(
            session,
            inbound=Inbound(
                channel=Channel.telegram, chat_key=old_key, kind=Kind.text, text="ciao"
            ),
        )
        assert stored.conversation.conversation_id != world.ids["silent"]
        assert not stored.conversation.has_consent  # the privacy notice again


def test_the_period_is_counted_in_calendar_months_on_rome_time() -> None:
    rome = ZoneInfo("Europe/Rome")
    # 31 March 14:00 in Rome (summer time) -> 28 February 14:00 in Rome (winter time)
    assert cutoff_for(datetime(2027, 3, 31, 12, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, 14, tzinfo=rome
    )
    # midnight in Rome on 1 July is 22:00 UTC on 30 June; a year earlier, the same local time
    now = datetime(2027, 7, 1, 0, 30, tzinfo=rome)
    assert cutoff_for(now, 12) == datetime(2026, 7, 1, 0, 30, tzinfo=rome).astimezone(UTC)
    assert cutoff_for(datetime(2028, 2, 29, 9, tzinfo=UTC), 12).day == 28
    with pytest.raises(ValueError, match="naive"):
        cutoff_for(datetime(2027, 1, 1), 12)


def test_a_missing_tracker_store_is_left_alone(engine: Engine, tmp_path: Path) -> None:
    missing = tmp_path / "no-rasa-here.db"
    report = purge(
        engine,
        uploads_root=tmp_path / "uploads",
        now=NOW,
        months=12,
        tracker_url=f"sqlite:///{missing}",
    )
    assert report.tracker_events_deleted == 0 and not missing.exists()
    assert not (tmp_path / "uploads").exists()


def test_the_command_line_purge(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    var = tmp_path / "var"
    world = build_world(engine, var / "uploads")
    engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "VAR_DIR": str(var),
        "RASA_TRACKER_DB_URL": sqlite_url,
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "server", "purge"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "messages deleted 4" in result.stdout and "tracker events deleted 2" in result.stdout
    assert "Anna" not in result.stdout + result.stderr
    assert not world.files["a"].exists()
    bad = subprocess.run(
        [sys.executable, "-m", "server", "purge", "--months", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--months" in bad.stderr


def test_the_gateway_purges_by_itself(
    start_gateway: Callable[..., RunningGateway], sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    world = build_world(engine, tmp_path / "var" / "uploads")
    engine.dispose()
    running = start_gateway(retention_purge_interval_hours=0.0005)  # every 1.8 s
    running.wait_until(
        lambda: world.message_ids["a_in"] not in {m.id for m in running.messages()},
        timeout=20,
        what="the purge job",
    )
    assert not world.files["a"].exists()
    running.wait_until(lambda: running.app.state.retention.runs >= 2, what="a second run")
    assert world.message_ids["b_new"] in {m.id for m in running.messages()}


def test_the_privacy_notice_states_the_period_the_purge_applies() -> None:
    from bot import wording
    from core.settings import Settings

    months = Settings.model_fields["retention_months"].default
    assert f"cancellati dopo {months} mesi" in wording.PRIVACY_NOTICE
