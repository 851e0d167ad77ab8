"""Helpers of the adhesion tests: a valid application form, a PDF, an application stored
through the domain functions, and the commission's checklist all ticked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from console.staff import create_staff
from conversations.uploads import UploadStore
from providers.application_form import parse_application
from providers.applications import Submitted, submit_application
from providers.checklist import items, set_line
from providers.decisions import Outcome, decide, subject
from providers.ethics import current_code
from providers.models import DecisionKind
from providers.service_form import parse_service
from staff.roles import Role

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PASSWORD = "cavolo nero e ribollita"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

ORGANISATION: dict[str, Any] = {
    "org_name": "Cooperativa Il Girasole",
    "legal_form": "cooperative",
    "tax_code": "01234567890",
    "seat": "Via del Ponte di Mezzo 12, Firenze",
    "contact_name": "Giulia Bianchi",
    "email": "giulia@girasole.example.it",
    "phone": "055 123456",
    "website": "girasole.example.it",
    "description": "Cooperativa sociale che lavora con famiglie e ragazzi a Rifredi.",
}
SERVICE: dict[str, Any] = {
    "title": "Laboratorio di ceramica per ragazzi",
    "description": "Un laboratorio di ceramica e modellazione dell'argilla per ragazzi, "
    "il pomeriggio, con educatori esperti.",
    "category": "sport_leisure",
    "age_min": "11",
    "age_max": "17",
    "quartiere": "Q5",
    "address": "Via del Ponte di Mezzo 12",
    "coordinates": "43.7890, 11.2370",
    "opening_hours": "lun-ven 15:00-18:00",
    "cost_mode": "paid",
    "price": "30,00",
    "price_unit": "al mese",
    "budget_payable": "1",
    "how_to_access": "Iscrizione in sede o per telefono.",
    "contacts": "055 123456",
    "keywords": "ceramica, argilla",
}
TARGETS = ["teenagers"]


def submit(session: Session, var: Path, **changes: Any) -> Submitted:
    code = current_code()
    form = parse_application(
        {**ORGANISATION, **changes}, quartieri=["Q5"], accepted=code.point_ids, code=code
    )
    service = parse_service(SERVICE, target_groups=TARGETS)
    assert form.ok and service.ok, (form.errors, service.errors)
    store = UploadStore(var / "adhesions", 1_000_000)
    documents = [(kind, store.save(PDF, now=NOW)) for kind in ("statute", "insurance")]
    submitted = submit_application(
        session, form=form, services=[service], documents=documents, now=NOW
    )
    session.commit()
    return submitted


def tick_all(session: Session, *, application_id: int, staff_id: int) -> None:
    code = current_code()
    for item, _label in items(code):
        set_line(
            session,
            application_id=application_id,
            item=item,
            verdict="ok",
            note="",
            code=code,
            staff_id=staff_id,
            now=NOW,
        )
    session.commit()


def decide_on(
    session: Session,
    app_id: int,
    kind: DecisionKind,
    staff: int,
    *,
    reasons: str = "",
    two_members: bool = False,
    now: datetime = NOW,
) -> Outcome:
    """A decision on an application through the domain function, committed."""
    outcome = decide(
        session,
        about=subject(session, application_id=app_id),
        kind=kind,
        reasons=reasons,
        staff_id=staff,
        two_members=two_members,
        code=current_code(),
        now=now,
    )
    session.commit()
    return outcome


def commission_member(session: Session, n: int = 1) -> int:
    """A commission member's staff id (committed)."""
    view = create_staff(
        session,
        email=f"commissione{n}@welcome.example.it",
        full_name=f"Membro {n}",
        roles={Role.commission},
        password=PASSWORD,
    )
    session.commit()
    return view.id
