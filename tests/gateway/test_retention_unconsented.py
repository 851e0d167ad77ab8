"""Messages no consent covers (written before consent, or in a conversation that declined or
never answered) go after RETENTION_UNCONSENTED_DAYS, not 12 months."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from care.handoff_models import Handoff, HandoffStatus
from conversations.models import Channel, Conversation, Direction, Kind, Message, Status
from core.settings import Settings
from core.timeutil import utcnow
from privacy.retention import purge, purge_with_settings

NOW = utcnow()
LONG_AGO = NOW - timedelta(days=45)  # past 30 days, well within 12 months


def conversation(session: Session, *, consent_at: datetime | None, declined: bool = False) -> str:
    row = Conversation(
        conversation_id=secrets.token_hex(16),
        channel=Channel.telegram,
        chat_key=str(secrets.randbelow(10**9)),
        created_at=LONG_AGO - timedelta(hours=1),
        last_inbound_at=LONG_AGO,
        consent_at=consent_at,
        consent_version="2026-11" if consent_at else None,
        consent_declined_at=LONG_AGO if declined else None,
    )
    session.add(row)
    session.flush()
    return row.conversation_id


def message(session: Session, conversation_id: str, at: datetime, text: str) -> None:
    session.add(
        Message(
            conversation_id=conversation_id,
            channel=Channel.telegram,
            direction=Direction.inbound,
            author="citizen",
            kind=Kind.text,
            text=text,
            data={},
            status=Status.rejected,
            status_at=at,
            created_at=at,
        )
    )


def test_unconsented_messages_go_after_the_short_period(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        declined = conversation(session, consent_at=None, declined=True)
        silent = conversation(session, consent_at=None)
        later = conversation(session, consent_at=LONG_AGO + timedelta(minutes=5))
        urgent = conversation(session, consent_at=None)
        message(session, declined, LONG_AGO, "mi chiamo Maria e non accetto")
        message(session, silent, LONG_AGO, "aiuto con l'affitto")
        message(session, later, LONG_AGO, "prima del consenso")
        message(session, later, LONG_AGO + timedelta(minutes=10), "dopo il consenso")
        message(session, urgent, LONG_AGO, "mi vuole picchiare")
        message(session, declined, NOW - timedelta(days=2), "recente")
        session.add(
            Handoff(
                conversation_id=urgent,
                status=HandoffStatus.waiting,
                priority="top",
                reason="safety_net:violence",
                requested_at=LONG_AGO,
            )
        )
        session.commit()
    kept_12_months = purge(engine, uploads_root=tmp_path, now=NOW, months=12)
    assert kept_12_months.messages_deleted == 0  # the old behaviour: kept a year
    report = purge(engine, uploads_root=tmp_path, now=NOW, months=12, unconsented_days=30)
    assert report.messages_deleted == 3
    with Session(engine) as session:
        texts = sorted(m.text for m in session.exec(select(Message)))
        assert texts == ["dopo il consenso", "mi vuole picchiare", "recente"]
        keys = {c.conversation_id: c.chat_key for c in session.exec(select(Conversation))}
    assert keys[silent].startswith("purged:")
    assert keys[later] != f"purged:{later}"  # consented: the 12-month rule
    assert not keys[urgent].startswith("purged:")  # a hand-off is open
    assert keys[declined] == f"purged:{declined}"  # its recent message aside, it never consented


def test_the_setting_reaches_the_gateways_purge(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        silent = conversation(session, consent_at=None)
        message(session, silent, NOW - timedelta(days=10), "dieci giorni fa")
        session.commit()
    settings = Settings(_env_file=None, var_dir=tmp_path, retention_unconsented_days=7)  # type: ignore[call-arg]
    assert purge_with_settings(settings, engine, NOW).messages_deleted == 1
