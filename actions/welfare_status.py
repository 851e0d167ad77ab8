"""``action_request_status``: where the citizen's requests stand, only their own.

Vouchers and reimbursement requests of the linked citizen (``citizen_for_conversation``),
and this conversation's upcoming appointments (no link needed). It answers the
``request_status`` intent (data/rules.yml).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlmodel import Session, col, select

from actions.appointments import slot_label
from actions.common import HANDOFF_BUTTON, db_session, logger, money, now, short_date
from catalog.models import WelcomePlace
from welfare.ledger.linking import citizen_for_conversation
from welfare.models import (
    REIMBURSEMENT_STATUS_LABELS,
    VOUCHER_STATUS_LABELS,
    Appointment,
    AppointmentSlot,
)
from welfare.reimbursements import requests_of
from welfare.vouchers import format_voucher_code, vouchers_of

NOTHING_TEXT = "Non hai richieste, voucher o appuntamenti in corso."
DB_ERROR_TEXT = "Scusa, in questo momento non riesco a controllare le tue richieste."


def status_lines(session: Session, conversation_id: str) -> list[str]:
    lines: list[str] = []
    rows = session.exec(
        select(Appointment, AppointmentSlot)
        .join(AppointmentSlot, AppointmentSlot.id == Appointment.slot_id)  # type: ignore[arg-type]
        .where(
            Appointment.conversation_id == conversation_id,
            col(Appointment.cancelled_at).is_(None),
            col(AppointmentSlot.starts_at) > now(),
        )
        .order_by(col(AppointmentSlot.starts_at))
    ).all()
    if rows:
        names = {p.code: p.name for p in session.exec(select(WelcomePlace)).all()}
        lines.append("Appuntamenti:")
        lines += [
            f"- {a.number}: {slot_label(s)} al {names.get(s.place_code, 'Welcome Point')}"
            for a, s in rows
        ]
    citizen = citizen_for_conversation(session, conversation_id=conversation_id)
    if citizen is None or citizen.id is None:
        return lines
    requests = requests_of(session, citizen_id=citizen.id, limit=5)
    if requests:
        lines.append("Richieste di rimborso:")
        for r in requests:
            line = (
                f"- {r.number} del {short_date(r.created_at)}, {money(r.amount_cents)}: "
                f"{REIMBURSEMENT_STATUS_LABELS[r.status]}"
            )
            if r.approved_cents:
                line += f" ({money(r.approved_cents)} rimborsati)"
            if r.reason:
                line += f". Motivo: {r.reason}"
            lines.append(line)
    vouchers = vouchers_of(session, citizen_id=citizen.id, limit=5)
    if vouchers:
        lines.append("Voucher:")
        lines += [
            f"- {format_voucher_code(v.code)} ({v.service_code}), {money(v.covered_cents)} "
            f"dal budget: {VOUCHER_STATUS_LABELS[v.status]}"
            for v in vouchers
        ]
    return lines


class ActionRequestStatus(Action):
    def name(self) -> str:
        return "action_request_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            with db_session() as session:
                lines = status_lines(session, tracker.sender_id)
        except Exception:
            logger.exception("action_request_status: database error")
            dispatcher.utter_message(text=DB_ERROR_TEXT, buttons=[HANDOFF_BUTTON])
            return []
        dispatcher.utter_message(text="\n".join(lines) if lines else NOTHING_TEXT)
        return []
