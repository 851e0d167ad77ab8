"""privacy.erasure.erase: the real erasure of one conversation (GDPR art. 17), on SQLite and
PostgreSQL, with Rasa's tracker table in the same database (one transaction) or in its own.

What goes: messages of every status, files on disk, tracker events, the chat address,
the announcements subscription (and the announcements not yet delivered), hand-off notes
and labels, unmet needs, linking attempts, the budget link. What stays: the ledger, the
reimbursement request with its receipt, consent time, flags and hand-off records. Another
conversation is untouched; a second erasure changes nothing; an open hand-off refuses it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from broadcast.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Subscription,
    SubscriptionTopic,
    TopicKind,
)
from care.handoff_models import (
    CsatAnswer,
    Handoff,
    HandoffLabel,
    HandoffNote,
    HandoffStatus,
    Label,
)
from care.models import ConversationFlag
from catalog.models import UnmetNeed
from conversations.models import (
    PURGED_PREFIX,
    Attachment,
    Channel,
    Conversation,
    DeliveryEvent,
    Direction,
    Message,
    Status,
)
from core.db import make_engine, session_scope
from privacy import erasure
from tests.gateway.test_retention import _attachment, _message, _rasa_events
from welfare.ledger.accounts import create_citizen, open_account, upsert_source
from welfare.ledger.models import ConversationLink, LedgerEntry, LinkAttempt, SourceKind
from welfare.ledger.payments import credit
from welfare.models import Reimbursement

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=40)


@dataclass
class World:
    engine: Engine
    uploads: Path
    me: str  # the conversation whose data are erased
    other: str  # a bystander with the same kinds of data
    request_id: int
    photo: Path
    receipt: Path
    receipt_attachment: int
    receipt_message: int
    other_photo: Path


def _conversation(session: Session, chat_key: str) -> str:
    conversation = Conversation(
        conversation_id=secrets.token_hex(16),
        channel=Channel.telegram,
        chat_key=chat_key,
        created_at=LONG_AGO,
        last_inbound_at=NOW - timedelta(hours=1),
        consent_at=LONG_AGO,
        consent_version="2026-11",
    )
    session.add(conversation)
    session.flush()
    return conversation.conversation_id


def _data_of(session: Session, uploads: Path, cid: str, tag: str, citizen_id: int) -> Path:
    """Messages, a photo, a subscription, a closed hand-off with a note and a label, an
    unmet need and a failed linking attempt."""
    inbound = _message(session, cid, at=LONG_AGO, text=f"sono {tag}, abito in via Roma 3")
    _message(session, cid, at=NOW, text=f"aspetta Rasa {tag}", status=Status.pending)
    out = _message(
        session,
        cid,
        at=LONG_AGO,
        text=f"Ciao {tag}",
        direction=Direction.outbound,
        status=Status.read,
    )
    session.add(DeliveryEvent(message_id=out, status=Status.sent, at=LONG_AGO))
    _message(
        session,
        cid,
        at=NOW,
        text="in coda",
        direction=Direction.outbound,
        status=Status.queued,
    )
    _, photo = _attachment(session, uploads, inbound, cid, LONG_AGO)
    subscription = Subscription(conversation_id=cid, channel="telegram", created_at=LONG_AGO)
    session.add(subscription)
    session.flush()
    assert subscription.id is not None
    session.add(
        SubscriptionTopic(subscription_id=subscription.id, kind=TopicKind.quartiere, value="Q5")
    )
    handoff = Handoff(
        conversation_id=cid, status=HandoffStatus.closed, requested_at=LONG_AGO, closed_at=NOW
    )
    session.add(handoff)
    session.flush()
    assert handoff.id is not None
    session.add(HandoffNote(handoff_id=handoff.id, conversation_id=cid, text=f"{tag}: sfratto"))
    label = Label(name=f"casa-{tag}")
    session.add(label)
    session.flush()
    assert label.id is not None
    session.add(HandoffLabel(handoff_id=handoff.id, label_id=label.id))
    session.add(CsatAnswer(handoff_id=handoff.id, conversation_id=cid, score=3))
    session.add(UnmetNeed(conversation_id=cid, text=f"badante per {tag}"))
    session.add(LinkAttempt(conversation_id=cid, attempted_at=LONG_AGO, outcome="invalid"))
    session.add(ConversationLink(conversation_id=cid, citizen_id=citizen_id, linked_at=LONG_AGO))
    return photo


def build(engine: Engine, uploads: Path, tracker: Engine) -> World:
    with session_scope(engine) as session:
        me = _conversation(session, "111111")
        other = _conversation(session, "222222")
        citizen = create_citizen(session, first_name="Anna", family_name="Rossi", now=LONG_AGO)
        source = upsert_source(session, code="comune-2026", kind=SourceKind.public, name="Comune")
        assert citizen.id is not None and source.id is not None
        account = open_account(
            session, citizen_id=citizen.id, source_id=source.id, expires_at=NOW + timedelta(days=90)
        )
        assert account.id is not None
        credit(
            session,
            account_id=account.id,
            amount_cents=50_000,
            idempotency_key="test:credit",
            caused_by="system:test",
            now=LONG_AGO,
        )
        photo = _data_of(session, uploads, me, "Anna", citizen.id)
        other_photo = _data_of(session, uploads, other, "Bruno", citizen.id)
        # a reimbursement with its receipt: a financial record, kept
        receipt_message = _message(session, me, at=LONG_AGO, text="ricevuta del nido di Marco")
        receipt_attachment, receipt = _attachment(session, uploads, receipt_message, me, LONG_AGO)
        session.add(
            Reimbursement(
                number="RIM-ERAS01",
                idempotency_key=f"test:{me}",
                citizen_id=citizen.id,
                conversation_id=me,
                attachment_id=receipt_attachment,
                amount_cents=12_000,
                paid_on=date(2026, 10, 1),
                provider_name="Nido Le Coccinelle",
                beneficiary="Marco",
                created_at=LONG_AGO,
            )
        )
        # an announcement: delivered once, one more still to deliver
        for status in (BroadcastStatus.done, BroadcastStatus.running):
            broadcast = Broadcast(title="Festa", body="Festa al parco", scheduled_at=LONG_AGO)
            broadcast.status = status
            session.add(broadcast)
            session.flush()
            assert broadcast.id is not None
            done = status == BroadcastStatus.done
            for cid in (me, other):
                session.add(
                    Delivery(
                        broadcast_id=broadcast.id,
                        conversation_id=cid,
                        channel="telegram",
                        status=DeliveryStatus.sent if done else DeliveryStatus.pending,
                    )
                )
        request_id = erasure.request_erasure(session, conversation_id=me, source="rasa_action").id
    events = _rasa_events(tracker)
    with tracker.begin() as conn:
        for sender in (me, other):
            conn.execute(
                insert(events),
                [
                    {"sender_id": sender, "type_name": "user", "timestamp": NOW.timestamp()},
                    {"sender_id": sender, "type_name": "bot", "timestamp": NOW.timestamp()},
                ],
            )
    with Session(engine) as session:
        receipt_row = session.get(Attachment, receipt_attachment)
        assert receipt_row is not None
    return World(
        engine,
        uploads,
        me,
        other,
        request_id,
        photo,
        receipt,
        receipt_attachment,
        receipt_message,
        other_photo,
    )


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _tracker(engine: Engine) -> dict[str, int]:
    events = Table("events", MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.sender_id)).scalars().all()
    return {sender: rows.count(sender) for sender in set(rows)}


def _rows(session: Session, model: Any, cid: str) -> list[Any]:
    return list(session.exec(sm_select(model).where(model.conversation_id == cid)))


def snapshot(world: World, cid: str, tracker: Engine) -> dict[str, Any]:
    """Everything stored about ``cid`` (as comparable values)."""
    with Session(world.engine) as session:
        handoff_ids = [h.id for h in _rows(session, Handoff, cid)]
        return {
            "messages": [(m.id, m.text, m.status, m.data) for m in _rows(session, Message, cid)],
            "attachments": [a.id for a in _rows(session, Attachment, cid)],
            "conversation": [(c.chat_key, c.consent_at) for c in _rows(session, Conversation, cid)],
            "subscriptions": [s.id for s in _rows(session, Subscription, cid)],
            "topics": len(session.exec(sm_select(SubscriptionTopic)).all()),
            "deliveries": sorted((d.id, d.status) for d in _rows(session, Delivery, cid)),
            "notes": [n.text for n in _rows(session, HandoffNote, cid)],
            "labels": len(
                session.exec(
                    sm_select(HandoffLabel).where(col(HandoffLabel.handoff_id).in_(handoff_ids))
                ).all()
            ),
            "handoffs": handoff_ids,
            "csat": [c.score for c in _rows(session, CsatAnswer, cid)],
            "unmet": [u.text for u in _rows(session, UnmetNeed, cid)],
            "attempts": len(_rows(session, LinkAttempt, cid)),
            "links": [link.unlinked_at for link in _rows(session, ConversationLink, cid)],
            "flags": [(f.kind, f.resolved_at) for f in _rows(session, ConversationFlag, cid)],
            "tracker": _tracker(tracker).get(cid, 0),
            "files": sorted(p.name for p in world.uploads.rglob("*.jpg")),
            "ledger": session.exec(sm_select(func.count()).select_from(LedgerEntry)).one(),
        }


def _erase(world: World, tracker: Engine, *, now: datetime = NOW) -> erasure.ErasureOutcome | None:
    with session_scope(world.engine) as session:
        return erasure.erase(
            session,
            request_id=world.request_id,
            uploads_root=world.uploads,
            now=now,
            tracker_url=_url(tracker),
        )


@pytest.mark.parametrize("tracker_store", ["same database", "own database"])
def test_erasure_deletes_the_conversation_and_keeps_the_financial_records(
    engine: Engine, tmp_path: Path, tracker_store: str
) -> None:
    tracker = (
        engine
        if tracker_store == "same database"
        else make_engine(f"sqlite:///{tmp_path / 'rasa-tracker.db'}")
    )
    world = build(engine, tmp_path / "uploads", tracker)
    other_before = snapshot(world, world.other, tracker)
    with Session(engine) as session:
        request = erasure.get_open_request(session, request_id=world.request_id)
        assert request is not None
        plan = erasure.erasure_plan(session, request=request, tracker_url=_url(tracker))
    deleted = {item.label.split(" (")[0]: item.count for item in plan.deleted}
    assert deleted["Messaggi della chat"] == 4  # the receipt's message is emptied instead
    assert deleted["Foto e documenti mandati dal cittadino"] == 1
    assert deleted["Storico della conversazione con l'assistente"] == 2
    assert deleted["Avvisi ancora da consegnare"] == 1
    kept = {item.label: item.count for item in plan.kept}
    assert kept["Movimenti del budget welfare del cittadino collegato"] == 1
    assert kept["Richieste di rimborso, con la foto della ricevuta"] == 1
    assert plan.handoff_id is None

    outcome = _erase(world, tracker)
    assert outcome is not None
    assert outcome.counts["messages_deleted"] == 4
    assert outcome.counts["messages_anonymised"] == 1
    assert outcome.counts["files_deleted"] == 1
    assert outcome.counts["tracker_events_deleted"] == 2
    assert outcome.counts["subscriptions_deleted"] == 1

    after = snapshot(world, world.me, tracker)
    with Session(engine) as session:
        (receipt,) = _rows(session, Message, world.me)
        assert receipt.id == world.receipt_message
        assert receipt.text == "" and receipt.payload is None and receipt.data["purged"] is True
        assert session.exec(sm_select(DeliveryEvent)).all() != []  # the other's stays
    assert after["attachments"] == [world.receipt_attachment]
    assert not world.photo.exists()
    assert world.receipt.exists() and world.other_photo.exists()
    ((chat_key, consent_at),) = after["conversation"]
    assert chat_key == PURGED_PREFIX + world.me and consent_at is not None
    assert after["subscriptions"] == [] and after["topics"] == 1  # the other's topic
    assert [status for _, status in after["deliveries"]] == ["sent", "skipped"]
    assert after["notes"] == [] and after["labels"] == 0
    assert len(after["handoffs"]) == 1 and after["csat"] == [3]
    assert after["unmet"] == [] and after["attempts"] == 0
    ((unlinked_at,),) = [after["links"]]
    assert unlinked_at is not None and unlinked_at.tzinfo is not None
    assert after["tracker"] == 0
    assert after["ledger"] == 1
    ((kind, resolved_at),) = after["flags"]
    assert kind == "erasure_request" and resolved_at == NOW
    with Session(engine) as session:
        (reimbursement,) = session.exec(sm_select(Reimbursement)).all()
        assert reimbursement.attachment_id == world.receipt_attachment
        assert erasure.open_requests(session) == []
    other_after = snapshot(world, world.other, tracker)
    assert other_after == {**other_before, "topics": 1, "files": other_after["files"]}
    assert world.other_photo.name in other_after["files"]

    # erasing twice is harmless: the request is done, nothing changes
    assert _erase(world, tracker, now=NOW + timedelta(hours=1)) is None
    assert snapshot(world, world.me, tracker) == after
    if tracker is not engine:
        tracker.dispose()


def test_an_open_handoff_refuses_the_erasure_and_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    world = build(engine, tmp_path / "uploads", engine)
    with session_scope(engine) as session:
        handoff = Handoff(conversation_id=world.me, status=HandoffStatus.assigned)
        session.add(handoff)
        session.flush()
        handoff_id = handoff.id
    before = snapshot(world, world.me, engine)
    with pytest.raises(erasure.HandoffStillOpen) as refused:
        _erase(world, engine)
    assert refused.value.handoff_id == handoff_id
    assert "Chiudila prima di cancellare i dati" in refused.value.message
    assert snapshot(world, world.me, engine) == before
    assert world.photo.exists()
    with Session(engine) as session:
        assert [r.id for r in erasure.open_requests(session)] == [world.request_id]
