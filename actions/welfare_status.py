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
from actions.wording import N_, button, language_of, tr
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

NOTHING_TEXT = N_("Non hai richieste, voucher o appuntamenti in corso.")
DB_ERROR_TEXT = N_("Scusa, in questo momento non riesco a controllare le tue richieste.")


def status_lines(session: Session, conversation_id: str, language: str | None = "it") -> list[str]:
    """Appointments, reimbursement requests and vouchers (the statuses' words are the
    welfare models' labels, translated here; a refusal's reason is staff's words)."""
    lang = language
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
        lines.append(tr(lang, N_("Appuntamenti:")))
        lines += [
            tr(
                lang,
                N_("- {number}: {when} al {place}"),
                number=a.number,
                when=slot_label(s, lang),
                place=names.get(s.place_code, "Welcome Point"),
            )
            for a, s in rows
        ]
    citizen = citizen_for_conversation(session, conversation_id=conversation_id)
    if citizen is None or citizen.id is None:
        return lines
    requests = requests_of(session, citizen_id=citizen.id, limit=5)
    if requests:
        lines.append(tr(lang, N_("Richieste di rimborso:")))
        for r in requests:
            line = tr(
                lang,
                N_("- {number} del {day}, {amount}: {status}"),
                number=r.number,
                day=short_date(r.created_at),
                amount=money(r.amount_cents, lang),
                status=tr(lang, REIMBURSEMENT_STATUS_LABELS[r.status]),
            )
            if r.approved_cents:
                paid = money(r.approved_cents, lang)
                line += tr(lang, N_(" ({amount} rimborsati)"), amount=paid)
            if r.reason:
                line += tr(lang, N_(". Motivo: {reason}"), reason=r.reason)
            lines.append(line)
    vouchers = vouchers_of(session, citizen_id=citizen.id, limit=5)
    if vouchers:
        lines.append(tr(lang, N_("Voucher:")))
        lines += [
            tr(
                lang,
                N_("- {code} ({service}), {amount} dal budget: {status}"),
                code=format_voucher_code(v.code),
                service=v.service_code,
                amount=money(v.covered_cents, lang),
                status=tr(lang, VOUCHER_STATUS_LABELS[v.status]),
            )
            for v in vouchers
        ]
    return lines


class ActionRequestStatus(Action):
    def name(self) -> str:
        return "action_request_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language_of(tracker)
        try:
            with db_session() as session:
                lines = status_lines(session, tracker.sender_id, lang)
        except Exception:
            logger.exception("action_request_status: database error")
            dispatcher.utter_message(
                text=tr(lang, DB_ERROR_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []
        dispatcher.utter_message(text="\n".join(lines) if lines else tr(lang, NOTHING_TEXT))
        return []
