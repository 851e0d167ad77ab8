"""A small, hand-counted month of activity (November 2026) for the monitoring tests.

Every figure the tests expect is counted by hand from what is written here; the comments
say how. Thirteen conversations: T1..T8 on Telegram and W1..W3 on WhatsApp, started in
November; C1, C2 on the web chat, started in October (they come back in November).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from broadcast.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Subscription
from care.handoff_models import CsatAnswer, Handoff, HandoffStatus
from care.models import ConversationFlag, FlagKind, FlagPriority
from catalog.models import PlaceKind, UnmetNeed, WelcomePlace
from conversations.models import Author, Channel, Conversation, Direction, Message, Status
from monitoring.period import ROME, Period
from monitoring.summaries.refresh import backfill
from monitoring.tracker import EVENTS
from welfare.ledger.models import (
    BudgetAccount,
    Citizen,
    ConversationLink,
    EntryKind,
    FundingSource,
    LedgerEntry,
    SourceKind,
)
from welfare.models import (
    Appointment,
    AppointmentSlot,
    Reimbursement,
    ReimbursementStatus,
    Voucher,
    VoucherStatus,
)

NOVEMBER = Period.month("2026-11")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T = [f"{'t' * 2}{i:030d}" for i in range(1, 9)]
W = [f"ww{i:030d}" for i in range(1, 4)]
C = [f"cc{i:030d}" for i in range(1, 3)]


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def seed(engine: Engine, *, tracker: Engine | None = None) -> None:
    with Session(engine) as s:
        _conversations(s)
        _care(s)
        _needs(s)
        _budget(s)
        _points(s)
        _broadcasts(s)
        s.commit()
    _tracker(tracker or engine)
    summarise(engine, tracker or engine)


def summarise(engine: Engine, tracker: Engine | None = None) -> None:
    """What migration 0016 and the gateway's job do: the summaries the views read."""
    with Session(engine) as s:
        backfill(s, NOW.astimezone(ROME).date(), tracker=tracker or engine)
        s.commit()


def _conversations(s: Session) -> None:
    for cid in T:
        s.add(
            Conversation(
                conversation_id=cid, channel=Channel.telegram, chat_key=cid, created_at=at(2, 10)
            )
        )
    for cid in W:
        s.add(
            Conversation(
                conversation_id=cid, channel=Channel.whatsapp, chat_key=cid, created_at=at(3, 10)
            )
        )
    for cid in C:
        s.add(
            Conversation(
                conversation_id=cid,
                channel=Channel.webchat,
                chat_key=cid,
                created_at=at(20, 10, month=10),
            )
        )
    s.flush()
    # consent: T1..T6 accepted in November, W1 declined
    for cid in T[:6]:
        s.get_one(Conversation, _pk(s, cid)).consent_at = at(2, 10, 1)
    s.get_one(Conversation, _pk(s, W[0])).consent_declined_at = at(3, 10, 1)

    def message(cid: str, channel: Channel, when: datetime, inbound: bool = True) -> None:
        s.add(
            Message(
                conversation_id=cid,
                channel=channel,
                direction=Direction.inbound if inbound else Direction.outbound,
                author=Author.citizen if inbound else Author.bot,
                text="testo che non deve mai apparire",
                status=Status.processed if inbound else Status.sent,
                created_at=when,
            )
        )

    # Telegram: 2 messages each on 5 Nov, 10:15 and 10:45 in Rome (16 messages, 8 people)
    for cid in T:
        for minute in (15, 45):
            message(cid, Channel.telegram, at(5, 9, minute))
            message(cid, Channel.telegram, at(5, 9, minute + 1), inbound=False)
    # WhatsApp: one each on 10 Nov 23:30 UTC = 11 Nov 00:30 in Rome (3 messages, 3 people)
    for cid in W:
        message(cid, Channel.whatsapp, at(10, 23, 30))
        message(cid, Channel.whatsapp, at(10, 23, 31), inbound=False)
    # web chat: one each on 20 Nov 16:00 in Rome, and one each in October (previous period)
    for cid in C:
        message(cid, Channel.webchat, at(20, 15))
        message(cid, Channel.webchat, at(20, 15, 1), inbound=False)
        message(cid, Channel.webchat, at(21, 15, month=10))
    # announcements: T1..T8 and W1 subscribed on 1 Nov; T7, T8 stopped later
    for cid in [*T, W[0]]:
        s.add(Subscription(conversation_id=cid, channel="telegram", created_at=at(1, 12)))
    s.flush()


def _pk(s: Session, cid: str) -> int:
    from sqlmodel import select

    row = s.exec(select(Conversation).where(Conversation.conversation_id == cid)).one()
    assert row.id is not None
    return row.id


def _care(s: Session) -> None:
    # T1..T6: asked for a person on 6 Nov 10:00 UTC; claimed after 1,2,3,4,5,10 minutes,
    # first reply after 2,3,4,5,6,20 minutes; SLA 15 minutes (T6 late)
    waits = [1, 2, 3, 4, 5, 10]
    replies = [2, 3, 4, 5, 6, 20]
    start = at(6, 10)
    for i, cid in enumerate(T[:6]):
        h = Handoff(
            conversation_id=cid,
            status=HandoffStatus.closed,
            priority="normal",
            priority_rank=2,
            reason="requested",
            requested_at=start,
            sla_due_at=start + timedelta(minutes=15),
            claimed_at=start + timedelta(minutes=waits[i]),
            first_reply_at=start + timedelta(minutes=replies[i]),
            closed_at=at(6, 12),
            outcome="resolved" if i < 5 else "referred",
        )
        s.add(h)
        s.flush()
        s.add(
            CsatAnswer(
                handoff_id=h.id,
                conversation_id=cid,
                asked_at=at(6, 12),
                score=3 if i < 5 else 1,
                answered_at=at(6, 13),
            )
        )
    # W1: an emergency, claimed after 4 minutes
    s.add(
        Handoff(
            conversation_id=W[0],
            status=HandoffStatus.closed,
            priority="top",
            priority_rank=0,
            reason="emergency",
            requested_at=start,
            sla_due_at=start + timedelta(minutes=5),
            claimed_at=start + timedelta(minutes=4),
            first_reply_at=start + timedelta(minutes=5),
            closed_at=at(6, 11),
            outcome="emergency_handled",
        )
    )
    # bot failures: W1..W3 on 11 Nov
    for cid in W:
        s.add(
            ConversationFlag(
                conversation_id=cid,
                kind=FlagKind.bot_failure,
                priority=FlagPriority.normal,
                source="rasa_action",
                reason="two_fallbacks",
                created_at=at(11, 8),
            )
        )


def _needs(s: Session) -> None:
    rows = (
        [(cid, "childcare", "Q5") for cid in T[:6]]
        + [(cid, "childcare", "Q1") for cid in T[6:]]
        + [(cid, "after_school", "Q5") for cid in [*W, *C]]
        + [(T[0], "housing", None)]
    )
    for cid, category, quartiere in rows:
        s.add(
            UnmetNeed(
                conversation_id=cid,
                text="mario.rossi@example.org cerca",
                category=category,
                quartiere=quartiere,
                created_at=at(12, 10),
            )
        )


def _budget(s: Session) -> None:
    public = FundingSource(code="comune", kind=SourceKind.public, name="Budget pubblico")
    s.add(public)
    s.flush()
    citizens = []
    for i in range(6):
        c = Citizen(
            public_ref=f"CIT-TEST{i:02d}",
            first_name="Nome",
            family_name="Cognome",
            quartiere="Q5",
            created_at=at(1, 8),
        )
        s.add(c)
        s.flush()
        account = BudgetAccount(
            citizen_id=c.id, source_id=public.id, expires_at=datetime(2027, 1, 15, tzinfo=UTC)
        )
        s.add(account)
        s.flush()
        s.add(ConversationLink(conversation_id=T[i], citizen_id=c.id, linked_at=at(2, 11)))
        citizens.append((c, account))

    def entry(
        account: BudgetAccount,
        kind: EntryKind,
        amount: int,
        held: int,
        ref: str | None,
        key: str,
        when: datetime,
    ) -> None:
        s.add(
            LedgerEntry(
                account_id=account.id,
                kind=kind,
                amount_cents=amount,
                held_cents=held,
                hold_ref=ref,
                idempotency_key=key,
                caused_by="system:test",
                created_at=when,
            )
        )

    # each citizen: 1000 € credit; a voucher of 100 € (held); 5 redeemed, the 6th cancelled
    for i, (c, account) in enumerate(citizens):
        entry(account, EntryKind.credit, 100_000, 0, None, f"credit-{i}", at(1, 9))
        ref = f"hold{i}"
        entry(account, EntryKind.hold, 0, 10_000, ref, f"hold-{i}", at(8, 9))
        if i < 5:
            entry(account, EntryKind.capture, -10_000, -10_000, ref, f"cap-{i}", at(9, 9))
        else:
            entry(account, EntryKind.release, 0, -10_000, ref, f"rel-{i}", at(9, 9))
        s.add(
            Voucher(
                code=f"V{i:07d}",
                hold_ref=ref,
                idempotency_key=f"v-{i}",
                qr_token=f"qr{i}",
                citizen_id=c.id,
                conversation_id=T[i],
                service_code="SRV",
                provider_code="PRV",
                category="childcare",
                price_cents=10_000,
                covered_cents=10_000,
                status=VoucherStatus.redeemed if i < 5 else VoucherStatus.cancelled,
                created_at=at(8, 9),
                closed_at=at(9, 9),
            )
        )
    # reimbursements: citizens 1..5 asked 20 € each for after-school; 4 approved, 1 rejected
    for i, (c, account) in enumerate(citizens[:5]):
        approved = i < 4
        s.add(
            Reimbursement(
                number=f"RIM-{i:06d}",
                idempotency_key=f"r-{i}",
                citizen_id=c.id,
                conversation_id=T[i],
                amount_cents=2_000,
                paid_on=date(2026, 11, 1),
                provider_name="Coop",
                beneficiary="figlio",
                category="after_school",
                status=ReimbursementStatus.approved if approved else ReimbursementStatus.rejected,
                approved_cents=2_000 if approved else None,
                reviewed_at=at(15, 9),
                created_at=at(14, 9),
            )
        )
        if approved:
            entry(account, EntryKind.reimbursement, 2_000, 0, None, f"reimb-{i}", at(15, 9))


def _points(s: Session) -> None:
    s.add(
        WelcomePlace(
            code="WP-RIF",
            kind=PlaceKind.point,
            name="Welcome Point Rifredi",
            quartiere="Q5",
            lat=43.79,
            lon=11.24,
        )
    )
    slots = []
    for i in range(8):
        slot = AppointmentSlot(
            place_code="WP-RIF",
            starts_at=at(20, 8 + i),
            ends_at=at(20, 9 + i),
            created_by="staff:test",
            created_at=at(1, 8),
        )
        s.add(slot)
        s.flush()
        slots.append(slot)
    # T1..T6 booked on 7 Nov; T6 moved to another slot on 8 Nov; T5 cancelled on 9 Nov
    for i, cid in enumerate(T[:6]):
        s.add(
            Appointment(
                number=f"APP-{i:06d}",
                slot_id=slots[i].id,
                conversation_id=cid,
                created_at=at(7, 9),
                cancelled_at=at(8, 10) if i == 5 else (at(9, 10) if i == 4 else None),
            )
        )
    s.add(
        Appointment(
            number="APP-MOVED", slot_id=slots[7].id, conversation_id=T[5], created_at=at(8, 10)
        )
    )


def _broadcasts(s: Session) -> None:
    b = Broadcast(
        title="=Festa di quartiere",
        body="...",
        status=BroadcastStatus.done,
        scheduled_at=at(12, 9),
        started_at=at(12, 9),
        recipients=9,
    )
    s.add(b)
    s.flush()
    for cid in T:
        s.add(
            Delivery(
                broadcast_id=b.id,
                conversation_id=cid,
                channel="telegram",
                status=DeliveryStatus.sent,
            )
        )
    s.add(
        Delivery(
            broadcast_id=b.id,
            conversation_id=W[0],
            channel="telegram",
            status=DeliveryStatus.failed,
        )
    )
    s.flush()
    from sqlmodel import select

    for cid, when in ((T[7], at(13, 9)), (T[6], at(25, 9))):
        sub = s.exec(select(Subscription).where(Subscription.conversation_id == cid)).one()
        sub.active = False
        sub.stopped_at = when


def _tracker(engine: Engine) -> None:
    """Rasa's events: T1..T8 searched childcare in Rifredi; W1..W3 were not understood (W1,
    W2 then clarified, W3 left); C1, C2 wrote something out of scope."""
    EVENTS.metadata.create_all(engine)
    rows: list[dict[str, object]] = []

    def add(
        sender: str,
        type_name: str,
        when: datetime,
        *,
        intent: str | None = None,
        action: str | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        rows.append(
            {
                "sender_id": sender,
                "type_name": type_name,
                "timestamp": when.timestamp(),
                "intent_name": intent,
                "action_name": action,
                "data": json.dumps(data or {"event": type_name}),
            }
        )

    for cid in T:
        add(cid, "user", at(5, 9, 15), intent="search_service")
        add(
            cid,
            "slot",
            at(5, 9, 15),
            data={"event": "slot", "name": "neighbourhood", "value": "Rifredi"},
        )
        add(
            cid,
            "slot",
            at(5, 9, 15),
            data={"event": "slot", "name": "service_category", "value": "childcare"},
        )
        add(cid, "action", at(5, 9, 15), action="action_search_services")
    for i, cid in enumerate(W):
        add(cid, "user", at(10, 23, 30), intent="nlu_fallback")
        add(cid, "action", at(10, 23, 30), action="action_two_stage_fallback")
        if i < 2:
            add(cid, "user", at(10, 23, 32), intent="search_service")
    for cid in C:
        add(cid, "user", at(20, 15), intent="out_of_scope")
    with engine.begin() as conn:
        conn.execute(insert(EVENTS), rows)


def seed_busy(engine: Engine, *, conversations: int = 240) -> None:
    """More of the same month, spread out (for the screenshot and the browser test): most
    cells then pass the small-count rule. Deterministic (no random numbers)."""
    channels = [Channel.telegram, Channel.whatsapp, Channel.webchat]
    categories = ["childcare", "after_school", "home_care", "housing", "job_search", "food_aid"]
    quartieri = ["Q1", "Q2", "Q3", "Q4", "Q5", None]
    with Session(engine) as s:
        for i in range(conversations):
            cid = f"bb{i:030d}"
            channel = channels[i % 3 if i % 5 else 0]
            day = 1 + (i * 7) % 30
            s.add(
                Conversation(
                    conversation_id=cid,
                    channel=channel,
                    chat_key=cid,
                    created_at=at(day, 8),
                    consent_at=at(day, 8, 1) if i % 9 else None,
                    consent_declined_at=None if i % 9 else at(day, 8, 1),
                )
            )
            for k in range(1 + i % 4):
                when = at(1 + (i * 3 + k * 5) % 30, 6 + (i + k * 4) % 14, k)
                for inbound in (True, False):
                    s.add(
                        Message(
                            conversation_id=cid,
                            channel=channel,
                            direction=Direction.inbound if inbound else Direction.outbound,
                            author=Author.citizen if inbound else Author.bot,
                            text="testo che non deve mai apparire",
                            status=Status.processed if inbound else Status.sent,
                            created_at=when + timedelta(seconds=0 if inbound else 2),
                        )
                    )
            s.add(
                UnmetNeed(
                    conversation_id=cid,
                    text="testo",
                    category=categories[(i // 2) % len(categories)],
                    quartiere=quartieri[i % len(quartieri)],
                    created_at=at(day, 9),
                )
            )
            if i % 3 == 0:
                start = at(day, 9)
                wait, reply = 2 + i % 25, 4 + i % 40
                s.add(
                    Handoff(
                        conversation_id=cid,
                        status=HandoffStatus.closed,
                        priority=("top", "normal", "normal", "high")[i % 4],
                        priority_rank=(0, 2, 2, 1)[i % 4],
                        reason=("emergency", "requested", "requested", "bot_failure")[i % 4],
                        requested_at=start,
                        sla_due_at=start + timedelta(minutes=30),
                        claimed_at=start + timedelta(minutes=wait),
                        first_reply_at=start + timedelta(minutes=reply),
                        closed_at=start + timedelta(hours=1),
                        outcome=("resolved", "referred", "appointment", "no_reply")[i % 4],
                    )
                )
        s.commit()
    rows = []
    intents = ["search_service", "inform", "greet", "check_budget", "nlu_fallback", "out_of_scope"]
    for i in range(conversations):
        cid = f"bb{i:030d}"
        when = at(1 + (i * 3) % 30, 10).timestamp()
        rows.append(
            {
                "sender_id": cid,
                "type_name": "user",
                "timestamp": when,
                "intent_name": intents[i % len(intents)],
                "action_name": None,
                "data": "{}",
            }
        )
        value = categories[(i // 2) % len(categories)]
        rows.append(
            {
                "sender_id": cid,
                "type_name": "slot",
                "timestamp": when + 1,
                "intent_name": None,
                "action_name": None,
                "data": json.dumps({"event": "slot", "name": "service_category", "value": value}),
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(EVENTS), rows)
    summarise(engine)
