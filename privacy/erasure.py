"""Requests to erase a citizen's data: their own flag kind, their own item for the team,
and the erasure itself (GDPR art. 17).

A citizen asks in the chat («cancellate i miei dati», intent ``forget_me``): the action
stores an ``erasure_request`` flag (care.flags). It is not a hand-off: it neither starts one
nor changes the priority of a running one, and closing a hand-off does not resolve it
(care.handoff.resolve_flags touches only the hand-off's kinds). A Care Manager or an admin
sees the open requests in the console (queue page and /cancellazioni); the law gives one
month to answer (GDPR art. 12(3)).

``erasure_plan`` is the console's confirmation step (what goes, what stays and why, counts
only); ``erase`` does it in the caller's transaction and marks the request done: the
retention passes for the conversation (privacy.retention.erase_conversation: messages, files,
Rasa tracker events, chat address, budget link), the announcements subscription (pending
announcements skipped), hand-off notes and labels, unmet needs, linking attempts. Kept, by
legal obligation (art. 17(3)(b)): ledger entries, vouchers, reimbursement requests with
their receipts (they stay with the citizen, no longer reachable through the chat); kept as
proof: the consent time and version, flags and hand-off records (codes and times), this
request and the console's audit line. Refused while a hand-off is open; a second call does
nothing. ``mark_done`` closes a request by hand (the data erased some other way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, delete, func, inspect, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from broadcast.models import Delivery, DeliveryStatus, Subscription, SubscriptionTopic
from care.handoff_models import OPEN_STATUSES, Handoff, HandoffLabel, HandoffNote
from care.models import ConversationFlag, FlagKind
from catalog.models import UnmetNeed
from conversations.models import PURGED_PREFIX, Attachment, Conversation, Message
from core.db import make_engine
from privacy import requests, retention
from privacy.requests import PrivacyRequest
from welfare.ledger.models import BudgetAccount, ConversationLink, LedgerEntry, LinkAttempt
from welfare.models import Appointment, Reimbursement, Voucher

REASON = "forget_me"
KIND = FlagKind.erasure_request
#: an erasure request (the shared shape of privacy.requests)
ErasureRequest = PrivacyRequest


def request_erasure(session: Session, *, conversation_id: str, source: str) -> ErasureRequest:
    """Store the request (asking again while one is open returns the open one)."""
    return requests.store_request(
        session, kind=KIND, conversation_id=conversation_id, source=source, reason=REASON
    )


def open_requests(session: Session, *, limit: int = 200) -> list[ErasureRequest]:
    """The requests nobody has marked done yet, oldest (closest to the deadline) first."""
    return requests.open_requests(session, kind=KIND, limit=limit)


def get_open_request(session: Session, *, request_id: int) -> ErasureRequest | None:
    return requests.get_open_request(session, kind=KIND, request_id=request_id)


def mark_done(session: Session, *, request_id: int, now: datetime) -> bool:
    """Close one request. True for exactly one of several concurrent callers; only an
    erasure request is ever touched (never the conversation's other flags)."""
    return requests.mark_done(session, kind=KIND, request_id=request_id, now=now)


# --- the erasure itself (GDPR art. 17) ----------------------------------------------------

#: the citizen's last message on their channel, sent before the erasure (and erased with it)
CONFIRMATION_TEXT = (
    "Come ci hai chiesto, abbiamo cancellato i tuoi dati: i messaggi di questa chat, "
    "le foto e i documenti che ci hai mandato e la tua iscrizione agli avvisi. "
    "Teniamo solo quello che la legge ci obbliga a conservare: i movimenti del budget "
    "welfare, i voucher e le richieste di rimborso. Se ci scrivi di nuovo, ricominciamo "
    "da capo."
)

_FINANCIAL = (
    "Documenti contabili: la legge obbliga a conservarli (GDPR art. 17, par. 3, lett. b). "
    "Restano legati al cittadino, non più a questa chat."
)


class RequestGone(Exception):
    """The request was closed meanwhile (a colleague erased at the same moment)."""


class HandoffStillOpen(Exception):
    """A hand-off of the conversation is open: it must be closed before the erasure."""

    def __init__(self, handoff_id: int) -> None:
        super().__init__(handoff_id)
        self.handoff_id = handoff_id
        self.message = (
            f"C'è una conversazione con un operatore ancora aperta (n. {handoff_id}). "
            "Chiudila prima di cancellare i dati: nessun dato è stato cancellato."
        )


@dataclass(frozen=True)
class PlanItem:
    label: str
    count: int | None  # None: not countable here (e.g. the tracker store is not reachable)
    why: str = ""


@dataclass(frozen=True)
class ErasurePlan:
    """What an erasure of the request's conversation deletes and keeps (counts only)."""

    request: ErasureRequest
    handoff_id: int | None  # an open hand-off: the erasure is refused until it is closed
    deleted: list[PlanItem]
    kept: list[PlanItem]


@dataclass(frozen=True)
class ErasureOutcome:
    request: ErasureRequest
    counts: dict[str, int]


def _count(session: Session, query: Any) -> int:
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def _tracker_count(tracker_url: str | None, conversation_id: str) -> int | None:
    if not tracker_url:
        return 0
    try:
        engine = make_engine(tracker_url)
        try:
            if not inspect(engine).has_table("events"):
                return 0
            events = Table("events", MetaData(), Column("sender_id", String(255)))
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        sa_select(func.count()).where(events.c.sender_id == conversation_id)
                    ).scalar_one()
                )
        finally:
            engine.dispose()
    except Exception:  # shown as "not countable"; the erasure itself reports errors
        return None


def erasure_plan(
    session: Session, *, request: ErasureRequest, tracker_url: str | None = None
) -> ErasurePlan:
    """The confirmation step: what ``erase`` deletes and what it keeps, and why."""
    cid = request.conversation_id
    scope = retention.Scope.conversation(cid)
    receipts = select(Reimbursement.attachment_id).where(
        col(Reimbursement.attachment_id).is_not(None)
    )
    receipt_messages = select(Attachment.message_id).where(
        col(Attachment.conversation_id) == cid, col(Attachment.id).in_(receipts)
    )
    handoff_ids = select(Handoff.id).where(col(Handoff.conversation_id) == cid)
    citizen_ids = select(ConversationLink.citizen_id).where(
        col(ConversationLink.conversation_id) == cid
    )
    accounts = select(BudgetAccount.id).where(col(BudgetAccount.citizen_id).in_(citizen_ids))
    conversation = session.exec(
        select(Conversation).where(col(Conversation.conversation_id) == cid)
    ).first()
    address = int(conversation is not None and not conversation.chat_key.startswith(PURGED_PREFIX))
    open_handoff = session.exec(
        select(Handoff.id).where(
            col(Handoff.conversation_id) == cid, col(Handoff.status).in_(OPEN_STATUSES)
        )
    ).first()
    deleted = [
        PlanItem(
            "Messaggi della chat (del cittadino, dell'assistente e degli operatori)",
            _count(
                session,
                select(Message.id).where(
                    scope.messages(), col(Message.id).not_in(receipt_messages)
                ),
            ),
        ),
        PlanItem(
            "Foto e documenti mandati dal cittadino (anche i file sul server)",
            _count(
                session,
                select(Attachment.id).where(
                    scope.attachments(), col(Attachment.id).not_in(receipts)
                ),
            ),
        ),
        PlanItem(
            "Testo dei messaggi con la ricevuta di un rimborso (resta solo il file)",
            _count(session, select(Message.id).where(col(Message.id).in_(receipt_messages))),
        ),
        PlanItem(
            "Storico della conversazione con l'assistente (eventi di Rasa)",
            _tracker_count(tracker_url, cid),
        ),
        PlanItem("Indirizzo della chat (numero o identificativo del canale)", address),
        PlanItem(
            "Iscrizione agli avvisi, con quartieri e interessi scelti",
            _count(
                session, select(Subscription.id).where(col(Subscription.conversation_id) == cid)
            ),
        ),
        PlanItem(
            "Avvisi ancora da consegnare",
            _count(
                session,
                select(Delivery.id).where(
                    col(Delivery.conversation_id) == cid,
                    col(Delivery.status) == DeliveryStatus.pending,
                ),
            ),
        ),
        PlanItem(
            "Note degli operatori e etichette delle conversazioni",
            _count(session, select(HandoffNote.id).where(col(HandoffNote.conversation_id) == cid))
            + _count(
                session,
                select(HandoffLabel.label_id).where(col(HandoffLabel.handoff_id).in_(handoff_ids)),
            ),
        ),
        PlanItem(
            "Richieste a cui il catalogo non ha trovato risposta (testo della richiesta)",
            _count(session, select(UnmetNeed.id).where(col(UnmetNeed.conversation_id) == cid)),
        ),
        PlanItem(
            "Tentativi falliti di collegare la chat al budget",
            _count(session, select(LinkAttempt.id).where(col(LinkAttempt.conversation_id) == cid)),
        ),
        PlanItem(
            "Collegamento della chat al budget welfare (viene chiuso)",
            _count(session, select(ConversationLink.id).where(scope.links([]))),
        ),
    ]
    kept = [
        PlanItem(
            "Movimenti del budget welfare del cittadino collegato",
            _count(
                session, select(LedgerEntry.id).where(col(LedgerEntry.account_id).in_(accounts))
            ),
            _FINANCIAL,
        ),
        PlanItem(
            "Voucher",
            _count(session, select(Voucher.id).where(col(Voucher.conversation_id) == cid)),
            _FINANCIAL,
        ),
        PlanItem(
            "Richieste di rimborso, con la foto della ricevuta",
            _count(
                session, select(Reimbursement.id).where(col(Reimbursement.conversation_id) == cid)
            ),
            _FINANCIAL,
        ),
        PlanItem(
            "Consenso all'informativa privacy (data e versione)",
            int(conversation is not None and conversation.consent_at is not None),
            "Prova del consenso dato (GDPR art. 7, par. 1).",
        ),
        PlanItem(
            "Questa richiesta e la registrazione della cancellazione (chi e quando)",
            1,
            "Prova di aver risposto alla richiesta (GDPR art. 5, par. 2 e art. 12).",
        ),
        PlanItem(
            "Conversazioni con gli operatori e segnalazioni: solo date, priorità ed esiti",
            _count(session, handoff_ids)
            + _count(
                session,
                select(ConversationFlag.id).where(col(ConversationFlag.conversation_id) == cid),
            ),
            "Nessun testo: servono a rendere conto del servizio dato.",
        ),
        PlanItem(
            "Appuntamenti ai Welcome Point",
            _count(session, select(Appointment.id).where(col(Appointment.conversation_id) == cid)),
            "Il cittadino può ancora presentarsi; il promemoria in chat non viene più mandato.",
        ),
        PlanItem(
            "Esiti degli avvisi già mandati",
            _count(
                session,
                select(Delivery.id).where(
                    col(Delivery.conversation_id) == cid,
                    col(Delivery.status) != DeliveryStatus.pending,
                ),
            ),
            "Solo conteggi per i resoconti degli avvisi, senza testo né indirizzo.",
        ),
    ]
    return ErasurePlan(request=request, handoff_id=open_handoff, deleted=deleted, kept=kept)


def erase(
    session: Session,
    *,
    request_id: int,
    uploads_root: Path,
    now: datetime,
    tracker_url: str | None = None,
) -> ErasureOutcome | None:
    """Erase the request's conversation and mark the request done, in ``session``'s
    transaction (the caller commits, with its audit line). None when the request is not
    open (already done: nothing happens). Raises ``HandoffStillOpen`` (nothing changed)
    while a hand-off of the conversation is open."""
    request = get_open_request(session, request_id=request_id)
    if request is None:
        return None
    cid = request.conversation_id
    open_handoff = session.exec(
        select(Handoff.id).where(
            col(Handoff.conversation_id) == cid, col(Handoff.status).in_(OPEN_STATUSES)
        )
    ).first()
    if open_handoff is not None:
        raise HandoffStillOpen(open_handoff)
    report = retention.erase_conversation(
        session, conversation_id=cid, uploads_root=uploads_root, now=now, tracker_url=tracker_url
    )
    extra = report.extra
    subscriptions = select(Subscription.id).where(col(Subscription.conversation_id) == cid)
    session.execute(
        delete(SubscriptionTopic).where(col(SubscriptionTopic.subscription_id).in_(subscriptions))
    )
    extra["subscriptions_deleted"] = _rowcount(
        session.execute(delete(Subscription).where(col(Subscription.conversation_id) == cid))
    )
    extra["announcements_skipped"] = _rowcount(
        session.execute(
            update(Delivery)
            .where(
                col(Delivery.conversation_id) == cid,
                col(Delivery.status) == DeliveryStatus.pending,
            )
            .values(status=DeliveryStatus.skipped, last_error="erased", updated_at=now)
        )
    )
    handoff_ids = select(Handoff.id).where(col(Handoff.conversation_id) == cid)
    extra["handoff_notes_deleted"] = _rowcount(
        session.execute(delete(HandoffNote).where(col(HandoffNote.conversation_id) == cid))
    )
    extra["handoff_labels_removed"] = _rowcount(
        session.execute(delete(HandoffLabel).where(col(HandoffLabel.handoff_id).in_(handoff_ids)))
    )
    extra["unmet_needs_deleted"] = _rowcount(
        session.execute(delete(UnmetNeed).where(col(UnmetNeed.conversation_id) == cid))
    )
    extra["link_attempts_deleted"] = _rowcount(
        session.execute(delete(LinkAttempt).where(col(LinkAttempt.conversation_id) == cid))
    )
    if not mark_done(session, request_id=request_id, now=now):
        raise RequestGone(request_id)  # a colleague's erasure committed first: roll back
    session.flush()
    return ErasureOutcome(request=request, counts=report.counts())


def _rowcount(result: Any) -> int:
    return int(result.rowcount)
