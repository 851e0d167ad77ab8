"""The hand-off's data layer: request, claim, transfer, close, notes, labels, canned replies,
CSAT. Every function works inside the caller's session (keyword-only arguments, ``now``
passed in); the caller commits.

One owner at a time: ``claim`` and ``transfer`` are single conditional UPDATEs
(``... WHERE assigned_to IS NULL``), so of two Care Managers claiming at once exactly one
wins, on SQLite and on PostgreSQL. ``request_handoff`` is idempotent: a conversation has at
most one open hand-off (a partial unique index), a second request may only raise its priority.

The async protocol around it (the router's mode switch, Rasa's tracker, the messages to the
citizen, the console's live events) is bot.handoff.service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from care.handoff_models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    CannedReply,
    CsatAnswer,
    Handoff,
    HandoffLabel,
    HandoffNote,
    HandoffSetting,
    HandoffStatus,
    HandoffTransfer,
    Label,
    Outcome,
)
from care.models import HANDOFF_KINDS, ConversationFlag
from care.sla import OfficeHours, sla_due_at

NOTE_MAX = 4000
LABEL_MAX = 40
CANNED_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
CSAT_PREFIX = "csat:"
CSAT_SCORES = (3, 2, 1)


class HandoffError(ValueError):
    """A request the hand-off cannot honour; the message is Italian, fit for staff."""


def normalize_priority(priority: str | None) -> str:
    return priority if priority in PRIORITY_RANK else "normal"


# --- requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Requested:
    handoff: Handoff
    created: bool  # a new hand-off (False: the conversation already had an open one)
    escalated: bool  # the open one's priority went up


def open_handoff(session: Session, *, conversation_id: str) -> Handoff | None:
    return session.exec(
        select(Handoff).where(
            Handoff.conversation_id == conversation_id, col(Handoff.status).in_(OPEN_STATUSES)
        )
    ).first()


def latest_handoff(session: Session, *, conversation_id: str) -> Handoff | None:
    return session.exec(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(col(Handoff.id).desc())
    ).first()


def get_handoff(session: Session, *, handoff_id: int) -> Handoff | None:
    return session.get(Handoff, handoff_id)


def request_handoff(
    session: Session,
    *,
    conversation_id: str,
    priority: str = "normal",
    reason: str = "requested",
    now: datetime,
    office: OfficeHours,
) -> Requested:
    """Put the conversation in the queue (or return its open hand-off, raising its priority)."""
    priority = normalize_priority(priority)
    existing = open_handoff(session, conversation_id=conversation_id)
    if existing is None:
        handoff = Handoff(
            conversation_id=conversation_id,
            status=HandoffStatus.waiting,
            priority=priority,
            priority_rank=PRIORITY_RANK[priority],
            reason=reason[:60],
            requested_at=now,
            sla_due_at=sla_due_at(office, requested_at=now, priority=priority),
            office_open=office.is_open(now),
        )
        try:
            with session.begin_nested():
                session.add(handoff)
        except IntegrityError:  # a concurrent request won the partial unique index
            existing = open_handoff(session, conversation_id=conversation_id)
            if existing is None:
                raise
        else:
            return Requested(handoff, created=True, escalated=False)
    if PRIORITY_RANK[priority] < existing.priority_rank:
        existing.priority = priority
        existing.priority_rank = PRIORITY_RANK[priority]
        existing.reason = reason[:60]
        due = sla_due_at(office, requested_at=now, priority=priority)
        if due is not None and (existing.sla_due_at is None or due < existing.sla_due_at):
            existing.sla_due_at = due
        session.add(existing)
        return Requested(existing, created=False, escalated=True)
    return Requested(existing, created=False, escalated=False)


def priority_from_flags(session: Session, *, conversation_id: str, since: datetime | None) -> str:
    """The most urgent unresolved flag's priority (raised after ``since``), else normal."""
    query = select(ConversationFlag.priority).where(
        ConversationFlag.conversation_id == conversation_id,
        col(ConversationFlag.resolved_at).is_(None),
        col(ConversationFlag.kind).in_(HANDOFF_KINDS),
    )
    if since is not None:
        query = query.where(col(ConversationFlag.created_at) > since)
    priorities = [normalize_priority(p) for p in session.exec(query)]
    return min(priorities, key=PRIORITY_RANK.__getitem__, default="normal")


def resolve_flags(session: Session, *, conversation_id: str, now: datetime) -> int:
    """The hand-off's flags are over (not an erasure request: it has its own handling)."""
    result = session.execute(
        update(ConversationFlag)
        .where(
            col(ConversationFlag.conversation_id) == conversation_id,
            col(ConversationFlag.resolved_at).is_(None),
            col(ConversationFlag.kind).in_(HANDOFF_KINDS),
        )
        .values(resolved_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- one owner at a time -----------------------------------------------------------------


def claim(session: Session, *, handoff_id: int, staff_id: int, now: datetime) -> bool:
    """Take a waiting hand-off. True for exactly one of several concurrent claims."""
    result = session.execute(
        update(Handoff)
        .where(
            col(Handoff.id) == handoff_id,
            col(Handoff.assigned_to).is_(None),
            col(Handoff.status) == HandoffStatus.waiting.value,
        )
        .values(status=HandoffStatus.assigned.value, assigned_to=staff_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    won = result.rowcount == 1  # type: ignore[attr-defined]
    if won:
        session.add(
            HandoffTransfer(
                handoff_id=handoff_id,
                to_staff_id=staff_id,
                by_staff_id=staff_id,
                kind="claim",
                at=now,
            )
        )
    return won


def transfer(
    session: Session,
    *,
    handoff_id: int,
    from_staff_id: int,
    to_staff_id: int | None,
    now: datetime,
) -> bool:
    """Hand a held conversation to a colleague, or back to the queue (``to_staff_id`` None).
    False when ``from_staff_id`` does not hold it (any more)."""
    if to_staff_id == from_staff_id:
        raise HandoffError("La conversazione è già tua.")
    values: dict[str, object] = {"assigned_to": to_staff_id, "claimed_at": now}
    if to_staff_id is None:
        values = {"assigned_to": None, "claimed_at": None, "status": HandoffStatus.waiting.value}
    result = session.execute(
        update(Handoff)
        .where(
            col(Handoff.id) == handoff_id,
            col(Handoff.assigned_to) == from_staff_id,
            col(Handoff.status) == HandoffStatus.assigned.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    moved = result.rowcount == 1  # type: ignore[attr-defined]
    if moved:
        session.add(
            HandoffTransfer(
                handoff_id=handoff_id,
                from_staff_id=from_staff_id,
                to_staff_id=to_staff_id,
                by_staff_id=from_staff_id,
                kind="transfer" if to_staff_id is not None else "release",
                at=now,
            )
        )
    return moved


def close(
    session: Session, *, handoff_id: int, staff_id: int, outcome: Outcome, now: datetime
) -> bool:
    """Close a hand-off held by ``staff_id`` with an outcome; resolves the conversation's flags."""
    result = session.execute(
        update(Handoff)
        .where(
            col(Handoff.id) == handoff_id,
            col(Handoff.assigned_to) == staff_id,
            col(Handoff.status) == HandoffStatus.assigned.value,
        )
        .values(
            status=HandoffStatus.closed.value,
            closed_at=now,
            closed_by=staff_id,
            outcome=outcome.value,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    handoff = session.get(Handoff, handoff_id)
    if handoff is not None:
        session.refresh(handoff)
        resolve_flags(session, conversation_id=handoff.conversation_id, now=now)
    return True


STEPS = ("citizen_told_at", "rasa_paused_at", "rasa_resumed_at", "returned_at", "notified_at")


def mark_step(session: Session, *, handoff_id: int, step: str, now: datetime) -> None:
    """Record that a step of the protocol is done (so a restart does not repeat it)."""
    if step not in STEPS:
        raise ValueError(step)
    session.execute(
        update(Handoff)
        .where(col(Handoff.id) == handoff_id)
        .values({step: now})
        .execution_options(synchronize_session=False)
    )


def record_reply(session: Session, *, handoff_id: int, now: datetime) -> None:
    session.execute(
        update(Handoff)
        .where(col(Handoff.id) == handoff_id, col(Handoff.first_reply_at).is_(None))
        .values(first_reply_at=now)
        .execution_options(synchronize_session=False)
    )


def transfers_of(session: Session, *, handoff_id: int) -> list[HandoffTransfer]:
    return list(
        session.exec(
            select(HandoffTransfer)
            .where(HandoffTransfer.handoff_id == handoff_id)
            .order_by(col(HandoffTransfer.id))
        )
    )


def handoffs_of_conversation(session: Session, *, conversation_id: str) -> list[Handoff]:
    """Every hand-off of a conversation, newest first (the citizen's past requests)."""
    return list(
        session.exec(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(col(Handoff.id).desc())
        )
    )


# --- notes ------------------------------------------------------------------------------


def add_note(
    session: Session, *, handoff_id: int, author_id: int, text: str, now: datetime
) -> HandoffNote:
    text = text.strip()
    if not text:
        raise HandoffError("La nota è vuota.")
    if len(text) > NOTE_MAX:
        raise HandoffError(f"La nota può avere al massimo {NOTE_MAX} caratteri.")
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffError("Conversazione non trovata.")
    note = HandoffNote(
        handoff_id=handoff_id,
        conversation_id=handoff.conversation_id,
        author_id=author_id,
        text=text,
        created_at=now,
    )
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, *, conversation_id: str) -> list[HandoffNote]:
    """Every note on the conversation (all its hand-offs), oldest first."""
    return list(
        session.exec(
            select(HandoffNote)
            .where(HandoffNote.conversation_id == conversation_id)
            .order_by(col(HandoffNote.id))
        )
    )


# --- labels -----------------------------------------------------------------------------


def add_label(session: Session, *, handoff_id: int, name: str) -> Label:
    name = " ".join(name.split())
    if not name:
        raise HandoffError("Scrivi il nome dell'etichetta.")
    if len(name) > LABEL_MAX:
        raise HandoffError(f"L'etichetta può avere al massimo {LABEL_MAX} caratteri.")
    label = session.exec(select(Label).where(Label.name == name)).first()
    if label is None:
        label = Label(name=name)
        try:
            with session.begin_nested():
                session.add(label)
        except IntegrityError:
            label = session.exec(select(Label).where(Label.name == name)).one()
    assert label.id is not None
    if session.get(HandoffLabel, (handoff_id, label.id)) is None:
        session.add(HandoffLabel(handoff_id=handoff_id, label_id=label.id))
        session.flush()
    return label


def remove_label(session: Session, *, handoff_id: int, label_id: int) -> bool:
    link = session.get(HandoffLabel, (handoff_id, label_id))
    if link is None:
        return False
    session.delete(link)
    session.flush()
    return True


def labels_of(session: Session, *, handoff_ids: Iterable[int]) -> dict[int, list[Label]]:
    ids = list(handoff_ids)
    found: dict[int, list[Label]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.exec(
        select(HandoffLabel.handoff_id, Label)
        .join(Label, col(Label.id) == col(HandoffLabel.label_id))
        .where(col(HandoffLabel.handoff_id).in_(ids))
        .order_by(col(Label.name))
    )
    for handoff_id, label in rows:
        found[handoff_id].append(label)
    return found


def all_labels(session: Session) -> list[Label]:
    return list(session.exec(select(Label).order_by(col(Label.name))))


# --- canned replies ----------------------------------------------------------------------


def canned_replies(session: Session, *, active_only: bool = True) -> list[CannedReply]:
    query = select(CannedReply).order_by(col(CannedReply.code))
    if active_only:
        query = query.where(col(CannedReply.active).is_(True))
    return list(session.exec(query))


def save_canned(
    session: Session, *, code: str, title: str, text: str, staff_id: int, now: datetime
) -> CannedReply:
    """Create or update (by code) a canned reply."""
    code = code.strip().lstrip("/").lower()
    if not CANNED_CODE.match(code):
        raise HandoffError(
            "Il codice può avere lettere minuscole, cifre, - e _ (al massimo 30), es. «orari»."
        )
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise HandoffError("Indica un titolo e il testo della risposta.")
    if len(title) > 80:
        raise HandoffError("Il titolo può avere al massimo 80 caratteri.")
    reply = session.exec(select(CannedReply).where(CannedReply.code == code)).first()
    if reply is None:
        reply = CannedReply(code=code, title=title, text=text)
    reply.title, reply.text, reply.active = title, text, True
    reply.updated_by, reply.updated_at = staff_id, now
    session.add(reply)
    session.flush()
    return reply


def set_canned_active(
    session: Session, *, reply_id: int, active: bool, staff_id: int, now: datetime
) -> None:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise HandoffError("Risposta rapida non trovata.")
    reply.active, reply.updated_by, reply.updated_at = active, staff_id, now
    session.add(reply)


def expand_canned(session: Session, text: str) -> str:
    """``/code`` (alone) becomes the canned reply's text; anything else is returned as is.
    An unknown code raises HandoffError (never sent to the citizen by mistake)."""
    stripped = text.strip()
    if not stripped.startswith("/") or " " in stripped or "\n" in stripped:
        return text
    code = stripped[1:].lower()
    reply = session.exec(
        select(CannedReply).where(CannedReply.code == code, col(CannedReply.active).is_(True))
    ).first()
    if reply is None:
        raise HandoffError(f"Nessuna risposta rapida «/{code}». Controlla il codice.")
    return reply.text


# --- CSAT ------------------------------------------------------------------------------


def csat_payload(handoff_id: int, score: int) -> str:
    return f"{CSAT_PREFIX}{handoff_id}:{score}"


def parse_csat_payload(payload: str | None) -> tuple[int, int] | None:
    if not payload or not payload.startswith(CSAT_PREFIX):
        return None
    parts = payload[len(CSAT_PREFIX) :].split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    handoff_id, score = int(parts[0]), int(parts[1])
    return (handoff_id, score) if score in CSAT_SCORES else None


def ask_csat(
    session: Session, *, handoff_id: int, conversation_id: str, now: datetime
) -> CsatAnswer:
    existing = session.exec(select(CsatAnswer).where(CsatAnswer.handoff_id == handoff_id)).first()
    if existing is not None:
        return existing
    answer = CsatAnswer(handoff_id=handoff_id, conversation_id=conversation_id, asked_at=now)
    session.add(answer)
    session.flush()
    return answer


def set_csat_question(session: Session, *, handoff_id: int, message_id: int) -> None:
    session.execute(
        update(CsatAnswer)
        .where(col(CsatAnswer.handoff_id) == handoff_id)
        .values(question_message_id=message_id)
        .execution_options(synchronize_session=False)
    )


def pending_csat(session: Session, *, conversation_id: str) -> CsatAnswer | None:
    """The unanswered question of the conversation's latest closed hand-off, if any."""
    latest = latest_handoff(session, conversation_id=conversation_id)
    if latest is None or latest.status != HandoffStatus.closed:
        return None
    answer = session.exec(select(CsatAnswer).where(CsatAnswer.handoff_id == latest.id)).first()
    if answer is None or answer.answered_at is not None or answer.skipped_at is not None:
        return None
    return answer


def answer_csat(
    session: Session, *, handoff_id: int, conversation_id: str, score: int, now: datetime
) -> bool:
    """Store the citizen's tap (first answer wins). False for a stale or foreign question."""
    if score not in CSAT_SCORES:
        return False
    result = session.execute(
        update(CsatAnswer)
        .where(
            col(CsatAnswer.handoff_id) == handoff_id,
            col(CsatAnswer.conversation_id) == conversation_id,
            col(CsatAnswer.answered_at).is_(None),
        )
        .values(score=score, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def skip_csat(session: Session, *, handoff_id: int, now: datetime) -> None:
    session.execute(
        update(CsatAnswer)
        .where(
            col(CsatAnswer.handoff_id) == handoff_id,
            col(CsatAnswer.answered_at).is_(None),
            col(CsatAnswer.skipped_at).is_(None),
        )
        .values(skipped_at=now)
        .execution_options(synchronize_session=False)
    )


def csat_of(session: Session, *, handoff_ids: Iterable[int]) -> dict[int, CsatAnswer]:
    ids = list(handoff_ids)
    if not ids:
        return {}
    rows = session.exec(select(CsatAnswer).where(col(CsatAnswer.handoff_id).in_(ids)))
    return {row.handoff_id: row for row in rows}


# --- settings ----------------------------------------------------------------------------


def get_setting(session: Session, *, key: str, default: str = "") -> str:
    row = session.get(HandoffSetting, key)
    return row.value if row is not None else default


def set_setting(
    session: Session, *, key: str, value: str, staff_id: int | None, now: datetime
) -> None:
    row = session.get(HandoffSetting, key) or HandoffSetting(key=key)
    row.value, row.updated_by, row.updated_at = value[:200], staff_id, now
    session.add(row)
