"""A copy of a citizen's own data (GDPR art. 15 and 20): the request and what the copy holds.

A citizen asks in the chat («voglio una copia dei miei dati», /dati; intent
``request_data_copy``): after a «Sei sicuro?» the action stores a ``data_copy_request`` flag
(privacy.requests, the same shape and one-month deadline as the erasure requests). A Care
Manager or an admin opens it in the console («Copie dei dati»), sees the sections and their
counts, and sends the copy into the same conversation (console/data_copy/).

``collect`` reads everything kept about the conversation, and about the citizen it is linked
to, in sections; ``privacy.copy_files`` turns it into the readable PDF and the JSON. A
conversation erased or purged meanwhile (its chat address gone) cannot receive a copy:
``ConversationGone``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from broadcast.models import Subscription, SubscriptionTopic
from care.handoff_models import Handoff, HandoffNote
from care.models import FlagKind
from catalog.hours import ROME
from catalog.models import WelcomePlace
from conversations.models import PURGED_PREFIX, Attachment, Author, Conversation, Message
from core.i18n import supported
from privacy import requests
from privacy.copy_wording import AUTHORS, SECTION_LABELS
from privacy.requests import PrivacyRequest
from staff.models import AuditLog
from welfare.ledger.linking import citizen_for_conversation
from welfare.ledger.models import BudgetAccount, FundingSource, LedgerEntry
from welfare.models import Appointment, AppointmentSlot, Reimbursement, Voucher

KIND = FlagKind.data_copy_request
REASON = "request_data_copy"
#: the JSON's schema name and version (docs/contracts.md); bump it when a field changes
SCHEMA = "welcome.data-copy"
SCHEMA_VERSION = 1


def request_copy(session: Session, *, conversation_id: str, source: str) -> PrivacyRequest:
    """Store the request with its audit line (asking again while one is open returns the
    open one and records nothing)."""
    existing = requests.open_request_of(session, kind=KIND, conversation_id=conversation_id)
    if existing is not None:
        return existing
    request = requests.store_request(
        session, kind=KIND, conversation_id=conversation_id, source=source, reason=REASON
    )
    session.add(
        AuditLog(
            at=request.requested_at,
            action="data_copy.requested",
            object_type="data_copy_request",
            object_id=str(request.id),
            detail=f"chiesta dal cittadino in chat ({source})",
        )
    )
    return request


def open_requests(session: Session, *, limit: int = 200) -> list[PrivacyRequest]:
    return requests.open_requests(session, kind=KIND, limit=limit)


def get_open_request(session: Session, *, request_id: int) -> PrivacyRequest | None:
    return requests.get_open_request(session, kind=KIND, request_id=request_id)


def mark_done(session: Session, *, request_id: int, now: datetime) -> bool:
    return requests.mark_done(session, kind=KIND, request_id=request_id, now=now)


class ConversationGone(Exception):
    """The conversation was erased or purged: no chat to send the copy to."""

    message = (
        "La chat di questa richiesta non esiste più (dati cancellati o scaduti): "
        "la copia non può essere mandata. Nessun dato è stato mandato."
    )


@dataclass(frozen=True)
class Section:
    key: str  # the JSON's key
    label: str  # Italian, as the console's preview shows it (the PDF translates it)
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DataCopy:
    conversation_id: str
    channel: str
    created_at: datetime
    sections: list[Section]
    language: str = "it"  # the conversation's: the PDF's and the messages' language

    def counts(self) -> list[tuple[str, int]]:
        return [(s.label, len(s.items)) for s in self.sections]


def iso(value: datetime | None) -> str | None:
    """ISO-8601 with the Europe/Rome offset (the copy's one time format)."""
    return value.astimezone(ROME).isoformat() if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def live_conversation(session: Session, *, conversation_id: str) -> Conversation:
    """The conversation, still reachable; raises ``ConversationGone`` otherwise."""
    conversation = session.exec(
        select(Conversation).where(col(Conversation.conversation_id) == conversation_id)
    ).first()
    if conversation is None or conversation.chat_key.startswith(PURGED_PREFIX):
        raise ConversationGone(conversation_id)
    return conversation


def _messages(session: Session, cid: str) -> list[dict[str, Any]]:
    files = {
        a.message_id: a
        for a in session.exec(select(Attachment).where(col(Attachment.conversation_id) == cid))
    }
    rows = session.exec(
        select(Message)
        .where(col(Message.conversation_id) == cid)
        .order_by(col(Message.created_at), col(Message.id))
    )
    items = []
    for m in rows:
        item: dict[str, Any] = {
            "at": iso(m.created_at),
            "from": AUTHORS.get(Author(m.author), str(m.author)),
            "kind": str(m.kind),
            "text": m.text,
        }
        attached = files.get(m.id or 0)
        if attached is not None:
            item["file"] = {"type": attached.mime_type, "bytes": attached.size_bytes}
        items.append(item)
    return items


def _consent(conversation: Conversation) -> list[dict[str, Any]]:
    return [
        {
            "channel": str(conversation.channel),
            "chat_started_at": iso(conversation.created_at),
            "consent_version": conversation.consent_version,
            "consent_given_at": iso(conversation.consent_at),
            "consent_declined_at": iso(conversation.consent_declined_at),
        }
    ]


def _subscriptions(session: Session, cid: str) -> list[dict[str, Any]]:
    items = []
    for sub in session.exec(select(Subscription).where(col(Subscription.conversation_id) == cid)):
        topics = session.exec(
            select(SubscriptionTopic).where(col(SubscriptionTopic.subscription_id) == sub.id)
        )
        items.append(
            {
                "active": sub.active,
                "since": iso(sub.created_at),
                "stopped_at": iso(sub.stopped_at),
                "topics": sorted(f"{t.kind}:{t.value}" for t in topics),
            }
        )
    return items


def _appointments(session: Session, cid: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Appointment, AppointmentSlot, WelcomePlace)
        .join(AppointmentSlot, col(AppointmentSlot.id) == col(Appointment.slot_id))
        .join(
            WelcomePlace,
            col(WelcomePlace.code) == col(AppointmentSlot.place_code),
            isouter=True,
        )
        .where(col(Appointment.conversation_id) == cid)
        .order_by(col(AppointmentSlot.starts_at))
    )
    return [
        {
            "number": appointment.number,
            "place": place.name if place is not None else slot.place_code,
            "starts_at": iso(slot.starts_at),
            "ends_at": iso(slot.ends_at),
            "booked_at": iso(appointment.created_at),
            "cancelled_at": iso(appointment.cancelled_at),
        }
        for appointment, slot, place in rows
    ]


def _citizen(session: Session, cid: str) -> tuple[int | None, list[dict[str, Any]]]:
    citizen = citizen_for_conversation(session, conversation_id=cid)
    if citizen is None:
        return None, []
    return citizen.id, [
        {
            "reference": citizen.public_ref,
            "first_name": citizen.first_name,
            "family_name": citizen.family_name,
            "tax_code": citizen.tax_code,
            "quartiere": citizen.quartiere,
            "employer": citizen.employer,
        }
    ]


def _ledger(session: Session, citizen_id: int | None) -> list[dict[str, Any]]:
    if citizen_id is None:
        return []
    rows = session.exec(
        select(LedgerEntry, FundingSource)
        .join(BudgetAccount, col(BudgetAccount.id) == col(LedgerEntry.account_id))
        .join(FundingSource, col(FundingSource.id) == col(BudgetAccount.source_id))
        .where(col(BudgetAccount.citizen_id) == citizen_id)
        .order_by(col(LedgerEntry.created_at), col(LedgerEntry.id))
    )
    return [
        {
            "at": iso(entry.created_at),
            "budget": source.name,
            "kind": str(entry.kind),
            "amount_cents": entry.amount_cents,
            "held_cents": entry.held_cents,
            "service_code": entry.service_code,
            "memo": entry.memo,
        }
        for entry, source in rows
    ]


def _vouchers(session: Session, cid: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Voucher).where(col(Voucher.conversation_id) == cid).order_by(col(Voucher.id))
    )
    return [
        {
            "code": v.code,
            "service_code": v.service_code,
            "provider_code": v.provider_code,
            "price_cents": v.price_cents,
            "covered_cents": v.covered_cents,
            "status": str(v.status),
            "created_at": iso(v.created_at),
            "closed_at": iso(v.closed_at),
        }
        for v in rows
    ]


def _reimbursements(session: Session, cid: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Reimbursement)
        .where(col(Reimbursement.conversation_id) == cid)
        .order_by(col(Reimbursement.id))
    )
    return [
        {
            "number": r.number,
            "amount_cents": r.amount_cents,
            "paid_on": _day(r.paid_on),
            "provider_name": r.provider_name,
            "beneficiary": r.beneficiary,
            "category": r.category,
            "status": str(r.status),
            "approved_cents": r.approved_cents,
            "reason": r.reason,
            "submitted_at": iso(r.created_at),
            "reviewed_at": iso(r.reviewed_at),
        }
        for r in rows
    ]


def _handoffs(session: Session, cid: str) -> list[dict[str, Any]]:
    items = []
    handoffs = session.exec(
        select(Handoff).where(col(Handoff.conversation_id) == cid).order_by(col(Handoff.id))
    )
    for h in handoffs:
        notes = session.exec(
            select(HandoffNote)
            .where(col(HandoffNote.handoff_id) == h.id)
            .order_by(col(HandoffNote.created_at))
        )
        items.append(
            {
                "requested_at": iso(h.requested_at),
                "reason": h.reason,
                "status": str(h.status),
                "taken_at": iso(h.claimed_at),
                "closed_at": iso(h.closed_at),
                "outcome": h.outcome,
                # the operators' notes about the citizen, without who wrote them
                "notes": [{"at": iso(n.created_at), "text": n.text} for n in notes],
            }
        )
    return items


def collect(session: Session, *, conversation_id: str, now: datetime) -> DataCopy:
    """Everything kept about the conversation and its linked citizen, in sections.
    Raises ``ConversationGone`` when the chat was erased or purged."""
    conversation = live_conversation(session, conversation_id=conversation_id)
    cid = conversation_id
    citizen_id, citizen = _citizen(session, cid)
    sections = [
        Section("messages", SECTION_LABELS["messages"], _messages(session, cid)),
        Section("consent", SECTION_LABELS["consent"], _consent(conversation)),
        Section("subscriptions", SECTION_LABELS["subscriptions"], _subscriptions(session, cid)),
        Section("appointments", SECTION_LABELS["appointments"], _appointments(session, cid)),
        Section("citizen", SECTION_LABELS["citizen"], citizen),
        Section("ledger_entries", SECTION_LABELS["ledger_entries"], _ledger(session, citizen_id)),
        Section("vouchers", SECTION_LABELS["vouchers"], _vouchers(session, cid)),
        Section("reimbursements", SECTION_LABELS["reimbursements"], _reimbursements(session, cid)),
        Section("handoffs", SECTION_LABELS["handoffs"], _handoffs(session, cid)),
    ]
    return DataCopy(
        conversation_id=cid,
        channel=str(conversation.channel),
        created_at=now,
        sections=sections,
        language=supported(conversation.language),
    )
