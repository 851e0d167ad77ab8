"""The commission's checklist: one line per point of the ethical code and per document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from providers.applications import DOCUMENT_KINDS, ApplicationError
from providers.ethics import EthicalCode
from providers.models import AdhesionCheck

VERDICTS = {"": "Da controllare", "ok": "Conforme", "ko": "Non conforme"}


@dataclass(frozen=True)
class Line:
    item: str  # code:<point id> | doc:<kind>
    label: str
    verdict: str
    note: str


def items(code: EthicalCode) -> list[tuple[str, str]]:
    """``(item, Italian label)`` of every line, in order."""
    lines = [(f"code:{p.id}", f"Codice etico – {p.title}") for p in code.points]
    lines += [(f"doc:{kind}", f"Documento – {label}") for kind, label in DOCUMENT_KINDS.items()]
    return lines


def lines_of(session: Session, *, application_id: int, code: EthicalCode) -> list[Line]:
    stored = {
        c.item: c
        for c in session.exec(
            select(AdhesionCheck).where(AdhesionCheck.application_id == application_id)
        )
    }
    return [
        Line(
            item,
            label,
            stored[item].verdict if item in stored else "",
            stored[item].note if item in stored else "",
        )
        for item, label in items(code)
    ]


def set_line(
    session: Session,
    *,
    application_id: int,
    item: str,
    verdict: str,
    note: str,
    code: EthicalCode,
    staff_id: int,
    now: datetime,
) -> AdhesionCheck:
    if item not in dict(items(code)):
        raise ApplicationError("Voce della lista di controllo sconosciuta.")
    if verdict not in VERDICTS:
        raise ApplicationError("Scegli «Conforme», «Non conforme» o «Da controllare».")
    row = session.exec(
        select(AdhesionCheck).where(
            AdhesionCheck.application_id == application_id, AdhesionCheck.item == item
        )
    ).first()
    if row is None:
        row = AdhesionCheck(application_id=application_id, item=item, code_version=code.version)
    row.verdict = verdict
    row.note = note.strip()[:2000]
    row.code_version = code.version
    row.staff_user_id = staff_id
    row.updated_at = now
    session.add(row)
    session.flush()
    return row


def unchecked(session: Session, *, application_id: int, code: EthicalCode) -> list[str]:
    """Labels of the lines not yet marked «Conforme» (an approval needs none)."""
    return [
        line.label
        for line in lines_of(session, application_id=application_id, code=code)
        if line.verdict != "ok"
    ]
