"""What the hand-off pages show, assembled from the database (no web framework here).

Scope: a Care Manager sees the hand-offs waiting in the queue and those assigned to them
(console.scope); nothing else, not even to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.views import message_view
from care import handoff as core
from care.handoff_models import (
    OUTCOME_LABELS,
    PRIORITY_LABELS,
    CannedReply,
    CsatAnswer,
    Handoff,
    HandoffNote,
    HandoffStatus,
    HandoffTransfer,
    Label,
    Outcome,
)
from care.models import ConversationFlag
from care.sla import OfficeHours, SlaClock, clock
from catalog.models import UnmetNeed
from console.auth import CurrentStaff
from console.erasure.views import ErasureRow, data_copy_rows, erasure_rows
from console.scope import can_act_on_conversation, can_see_conversation, visible_conversations
from console.staff import StaffView, get_view, staff_with_role
from conversations import repository as repo
from conversations.models import Conversation, Direction, Message
from core.i18n import language_name, languages
from staff.roles import Role
from welfare.ledger.accounts import AccountBalance, balances
from welfare.ledger.linking import citizen_for_conversation
from welfare.ledger.money import format_eur

REASONS = {
    "requested": "Ha chiesto un operatore",
    "emergency": "Possibile emergenza",
    "bot_failure": "L'assistente non ha capito due volte",
    "two_fallbacks": "L'assistente non ha capito due volte",
    "recovered": "Ripresa dopo un riavvio",
    "handoff": "Ha chiesto un operatore",
}
CHANNELS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "webchat": "Web chat"}
CSAT_LABELS = {3: "😊 Bene", 2: "😐 Così così", 1: "🙁 Male"}
STATUS_LABELS = {
    HandoffStatus.waiting: "In attesa",
    HandoffStatus.assigned: "In carico",
    HandoffStatus.closed: "Chiusa",
}


FLAG_KINDS = {
    "emergency": "possibile emergenza",
    "handoff": "ha chiesto un operatore",
    "bot_failure": "l'assistente non ha capito due volte",
    "erasure_request": "ha chiesto di cancellare i suoi dati",
    "data_copy_request": "ha chiesto una copia dei suoi dati",
}


def flag_label(flag: ConversationFlag) -> str:
    kind = FLAG_KINDS.get(str(flag.kind), str(flag.kind))
    return f"{kind} (priorità {PRIORITY_LABELS.get(str(flag.priority), flag.priority).lower()})"


def reason_label(reason: str) -> str:
    if reason.startswith("safety_net") or reason.startswith("intent:emergency"):
        return REASONS["emergency"]
    return REASONS.get(reason, reason or "—")


def visible(staff: CurrentStaff, handoff: Handoff) -> bool:
    return can_see_conversation(
        staff,
        assignee_id=handoff.assigned_to,
        in_queue=handoff.status == HandoffStatus.waiting,
    )


def can_act(staff: CurrentStaff, handoff: Handoff) -> bool:
    return handoff.status == HandoffStatus.assigned and can_act_on_conversation(
        staff, assignee_id=handoff.assigned_to
    )


def visible_handoff(session: Session, staff: CurrentStaff, handoff_id: int) -> Handoff | None:
    handoff = core.get_handoff(session, handoff_id=handoff_id)
    if handoff is None or not visible(staff, handoff):
        return None
    return handoff


# --- the queue ------------------------------------------------------------------------------


@dataclass
class QueueRow:
    handoff: Handoff
    channel: str
    reason: str
    priority_label: str
    sla: SlaClock
    labels: list[Label]
    last_citizen_at: datetime | None
    citizen_messages: int
    language: str = ""  # the citizen's language when it is not Italian ("inglese")

    @property
    def emergency(self) -> bool:
        return self.handoff.priority == "top"


@dataclass
class Queue:
    waiting: list[QueueRow]
    mine: list[QueueRow]
    office_open: bool
    next_opening: datetime | None
    office_hours: str
    erasure: list[ErasureRow] = field(default_factory=list)  # apart from the hand-offs
    data_copies: list[ErasureRow] = field(default_factory=list)  # beside the erasures


def queue(session: Session, staff: CurrentStaff, *, now: datetime, office: OfficeHours) -> Queue:
    rows = list(
        session.exec(
            select(Handoff)
            .where(
                col(Handoff.status) != HandoffStatus.closed.value,
                visible_conversations(
                    staff,
                    assignee=Handoff.assigned_to,
                    in_queue=col(Handoff.status) == HandoffStatus.waiting.value,
                ),
            )
            .order_by(col(Handoff.priority_rank), col(Handoff.requested_at))
            .limit(500)
        )
    )
    ids = [h.conversation_id for h in rows]
    found = session.exec(
        select(Conversation.conversation_id, Conversation.channel, Conversation.language).where(
            col(Conversation.conversation_id).in_(ids)
        )
    ).all()
    channels = {cid: channel for cid, channel, _ in found}
    languages_of = {cid: code for cid, _, code in found if code and code != languages().source}
    activity = {
        cid: (last, count)
        for cid, last, count in session.exec(
            select(Message.conversation_id, func.max(Message.created_at), func.count())
            .where(
                col(Message.conversation_id).in_(ids),
                Message.direction == Direction.inbound.value,
            )
            .group_by(col(Message.conversation_id))
        ).all()
    }
    labels = core.labels_of(session, handoff_ids=[h.id for h in rows if h.id is not None])
    built = []
    for handoff in rows:
        assert handoff.id is not None
        last, count = activity.get(handoff.conversation_id, (None, 0))
        built.append(
            QueueRow(
                handoff=handoff,
                channel=CHANNELS.get(str(channels.get(handoff.conversation_id, "")), "—"),
                language=language_name(languages_of.get(handoff.conversation_id)).lower()
                if handoff.conversation_id in languages_of
                else "",
                reason=reason_label(handoff.reason),
                priority_label=PRIORITY_LABELS.get(handoff.priority, handoff.priority),
                sla=clock(
                    office,
                    requested_at=handoff.requested_at,
                    due_at=handoff.sla_due_at,
                    priority=handoff.priority,
                    now=now,
                ),
                labels=labels.get(handoff.id, []),
                last_citizen_at=_aware(last),
                citizen_messages=int(count or 0),
            )
        )
    return Queue(
        waiting=[r for r in built if r.handoff.status == HandoffStatus.waiting],
        mine=[r for r in built if r.handoff.assigned_to == staff.id],
        office_open=office.is_open(now),
        next_opening=office.next_opening(now),
        office_hours=office.describe(),
        erasure=erasure_rows(session, staff, now=now),
        data_copies=data_copy_rows(session, staff, now=now),
    )


def _aware(value: Any) -> datetime | None:
    """SQLite returns aggregates as naive text/datetimes: make them aware (UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


# --- one conversation ------------------------------------------------------------------------


@dataclass
class Profile:
    linked: bool
    public_ref: str = ""
    name: str = ""
    quartiere: str = ""
    budgets: list[AccountBalance] = field(default_factory=list)


@dataclass
class PastHandoff:
    handoff: Handoff
    outcome: str
    csat: str


@dataclass
class ConversationPage:
    handoff: Handoff
    conversation: Conversation | None
    channel: str
    language: str  # the citizen's language, for staff ("italiano", "inglese")
    status_label: str
    priority_label: str
    reason: str
    assignee: StaffView | None
    mine: bool
    can_act: bool
    sla: SlaClock
    messages: list[dict[str, Any]]
    staff_names: dict[int, str]
    notes: list[tuple[HandoffNote, str]]
    labels: list[Label]
    known_labels: list[Label]
    transfers: list[tuple[HandoffTransfer, str, str]]
    past: list[PastHandoff]
    flags: list[ConversationFlag]
    unmet: list[UnmetNeed]
    profile: Profile
    colleagues: list[StaffView]
    canned: list[CannedReply]
    csat: CsatAnswer | None
    outcome_label: str


def console_view(message: Message) -> dict[str, Any]:
    """The gateway's public message view, plus what staff may know (the staff author)."""
    view = message_view(message)
    view["staff_user_id"] = message.staff_user_id
    if (message.data or {}).get("safety"):
        view["safety"] = True
    return view


def conversation_page(
    session: Session,
    staff: CurrentStaff,
    handoff: Handoff,
    *,
    now: datetime,
    office: OfficeHours,
) -> ConversationPage:
    assert handoff.id is not None
    cid = handoff.conversation_id
    conversation = repo.get_conversation(session, conversation_id=cid)
    messages = repo.history(session, conversation_id=cid, limit=300)
    names: dict[int, str] = {}

    def name(staff_id: int | None) -> str:
        if staff_id is None:
            return "—"
        if staff_id not in names:
            view = get_view(session, staff_id=staff_id)
            names[staff_id] = view.full_name if view else f"n. {staff_id}"
        return names[staff_id]

    for message in messages:
        if message.staff_user_id is not None:
            name(message.staff_user_id)
    notes = [(note, name(note.author_id)) for note in core.notes_of(session, conversation_id=cid)]
    transfers = [
        (
            t,
            name(t.from_staff_id) if t.from_staff_id else "coda",
            name(t.to_staff_id) if t.to_staff_id else "coda",
        )
        for t in core.transfers_of(session, handoff_id=handoff.id)
    ]
    history = core.handoffs_of_conversation(session, conversation_id=cid)
    answers = core.csat_of(session, handoff_ids=[h.id for h in history if h.id is not None])
    past = [
        PastHandoff(
            handoff=h,
            outcome=OUTCOME_LABELS.get(Outcome(h.outcome), h.outcome) if h.outcome else "—",
            csat=_csat_label(answers.get(h.id or 0)),
        )
        for h in history
        if h.id != handoff.id
    ]
    flags = list(
        session.exec(
            select(ConversationFlag)
            .where(ConversationFlag.conversation_id == cid)
            .order_by(col(ConversationFlag.id).desc())
            .limit(20)
        )
    )
    unmet = list(
        session.exec(
            select(UnmetNeed)
            .where(UnmetNeed.conversation_id == cid)
            .order_by(col(UnmetNeed.id).desc())
            .limit(10)
        )
    )
    assignee = get_view(session, staff_id=handoff.assigned_to) if handoff.assigned_to else None
    colleagues = [
        v for v in staff_with_role(session, role=Role.care_manager) if v.active and v.id != staff.id
    ]
    channel = str(conversation.channel) if conversation else ""
    return ConversationPage(
        handoff=handoff,
        conversation=conversation,
        channel=CHANNELS.get(channel, channel or "—"),
        language=language_name(conversation.language if conversation else None).lower(),
        status_label=STATUS_LABELS.get(HandoffStatus(handoff.status), handoff.status),
        priority_label=PRIORITY_LABELS.get(handoff.priority, handoff.priority),
        reason=reason_label(handoff.reason),
        assignee=assignee,
        mine=handoff.assigned_to == staff.id,
        can_act=can_act(staff, handoff),
        sla=clock(
            office,
            requested_at=handoff.requested_at,
            due_at=handoff.sla_due_at,
            priority=handoff.priority,
            now=now,
        ),
        messages=[console_view(m) for m in messages],
        staff_names=names,
        notes=notes,
        labels=core.labels_of(session, handoff_ids=[handoff.id])[handoff.id],
        known_labels=core.all_labels(session),
        transfers=transfers,
        past=past,
        flags=flags,
        unmet=unmet,
        profile=profile(session, conversation_id=cid, now=now),
        colleagues=colleagues,
        canned=core.canned_replies(session),
        csat=answers.get(handoff.id),
        outcome_label=OUTCOME_LABELS.get(Outcome(handoff.outcome), "") if handoff.outcome else "",
    )


def _csat_label(answer: CsatAnswer | None) -> str:
    if answer is None:
        return "non chiesto"
    if answer.score is not None:
        return CSAT_LABELS.get(answer.score, str(answer.score))
    if answer.skipped_at is not None:
        return "non ha risposto"
    return "in attesa di risposta"


def csat_label(answer: CsatAnswer | None) -> str:
    return _csat_label(answer)


def profile(session: Session, *, conversation_id: str, now: datetime) -> Profile:
    citizen = citizen_for_conversation(session, conversation_id=conversation_id)
    if citizen is None or citizen.id is None:
        return Profile(linked=False)
    return Profile(
        linked=True,
        public_ref=citizen.public_ref,
        name=f"{citizen.first_name} {citizen.family_name}".strip(),
        quartiere=citizen.quartiere or "",
        budgets=balances(session, citizen_id=citizen.id, now=now),
    )


def eur(cents: int) -> str:
    return format_eur(cents)


def slots_for_display(slots: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The slots the bot filled (None and empty left out), as (name, value) text."""
    if not slots:
        return []
    shown = []
    for name, value in sorted(slots.items()):
        if value in (None, "", [], {}) or name.startswith(("requested_slot", "session_started")):
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        shown.append((name, text[:200]))
    return shown
