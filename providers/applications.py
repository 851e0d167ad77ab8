"""Applications: submitted from the public page, followed and answered with a tracking code.

Functions take a ``Session`` and keyword arguments, flush, and let the caller commit. The
tracking code is shown once to the applicant; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from conversations.uploads import SavedFile, sniff_mime
from providers.application_form import ApplicationForm
from providers.models import (
    AdhesionApplication,
    AdhesionDocument,
    AdhesionMessage,
    ApplicationStatus,
    DraftStatus,
    ServiceDraft,
)
from providers.service_form import ServiceForm

DOCUMENT_KINDS: dict[str, str] = {
    "statute": "Statuto o atto costitutivo",
    "insurance": "Polizza assicurativa",
}
STATUS_LABELS: dict[ApplicationStatus, str] = {
    ApplicationStatus.submitted: "In esame dalla Commissione",
    ApplicationStatus.changes_requested: "La Commissione vi ha chiesto delle modifiche",
    ApplicationStatus.approved: "Approvata",
    ApplicationStatus.rejected: "Respinta",
}
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class ApplicationError(ValueError):
    """A request about an application that cannot be honoured (Italian message)."""


def new_tracking_code() -> str:
    groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "ADE-" + "-".join(groups)


def tracking_hash(code: str) -> str:
    cleaned = re.sub(r"[^A-Z0-9]", "", code.upper()).removeprefix("ADE")
    return hashlib.sha256(cleaned.encode()).hexdigest()


def pdf_problem(content: bytes, *, max_bytes: int, label: str) -> str | None:
    """Why ``content`` cannot be one of the application's documents (Italian), or None."""
    if not content:
        return f"{label}: allega il file in formato PDF."
    if len(content) > max_bytes:
        return f"{label}: il file è troppo grande (al massimo {max_bytes // (1024 * 1024)} MB)."
    if sniff_mime(content) != "application/pdf":
        return f"{label}: il file deve essere un PDF."
    return None


@dataclass(frozen=True)
class Submitted:
    application_id: int
    tracking_code: str


def submit_application(
    session: Session,
    *,
    form: ApplicationForm,
    services: Sequence[ServiceForm],
    documents: Sequence[tuple[str, SavedFile]],
    now: datetime,
) -> Submitted:
    """Store a checked application with its proposed services and documents."""
    if not form.ok or not services or any(not s.ok for s in services):
        raise ApplicationError("La domanda contiene errori: nulla è stato salvato.")
    code = new_tracking_code()
    application = AdhesionApplication(
        tracking_hash=tracking_hash(code),
        status=ApplicationStatus.submitted,
        created_at=now,
        updated_at=now,
        **form.data,
    )
    session.add(application)
    session.flush()
    assert application.id is not None
    for service in services:
        session.add(
            ServiceDraft(
                application_id=application.id,
                data=service.data,
                centre_used=service.centre_used,
                status=DraftStatus.pending,
                created_at=now,
            )
        )
    for kind, saved in documents:
        session.add(_document(application.id, kind, saved, now))
    session.flush()
    return Submitted(application.id, code)


def _document(application_id: int, kind: str, saved: SavedFile, now: datetime) -> AdhesionDocument:
    return AdhesionDocument(
        application_id=application_id,
        kind=kind,
        relative_path=saved.relative_path,
        size_bytes=saved.size_bytes,
        sha256=saved.sha256,
        created_at=now,
    )


def by_tracking_code(session: Session, *, code: str) -> AdhesionApplication | None:
    if not code.strip():
        return None
    return session.exec(
        select(AdhesionApplication).where(AdhesionApplication.tracking_hash == tracking_hash(code))
    ).first()


def messages_of(session: Session, *, application_id: int) -> list[AdhesionMessage]:
    return list(
        session.exec(
            select(AdhesionMessage)
            .where(AdhesionMessage.application_id == application_id)
            .order_by(col(AdhesionMessage.created_at), col(AdhesionMessage.id))
        )
    )


def documents_of(session: Session, *, application_id: int) -> list[AdhesionDocument]:
    return list(
        session.exec(
            select(AdhesionDocument)
            .where(AdhesionDocument.application_id == application_id)
            .order_by(col(AdhesionDocument.id))
        )
    )


def drafts_of(session: Session, *, application_id: int) -> list[ServiceDraft]:
    return list(
        session.exec(
            select(ServiceDraft)
            .where(ServiceDraft.application_id == application_id)
            .order_by(col(ServiceDraft.id))
        )
    )


def applicant_reply(
    session: Session,
    *,
    code: str,
    text: str,
    document: SavedFile | None,
    now: datetime,
) -> AdhesionApplication:
    """The applicant answers the commission: the application goes back in the queue."""
    application = by_tracking_code(session, code=code)
    if application is None:
        raise ApplicationError("Codice della domanda non trovato: controllalo e riprova.")
    if application.status in (ApplicationStatus.approved, ApplicationStatus.rejected):
        raise ApplicationError("La domanda è già stata decisa: non si può più rispondere.")
    text = text.strip()[:4000]
    if not text and document is None:
        raise ApplicationError("Scrivi la risposta o allega un documento.")
    assert application.id is not None
    document_id = None
    if document is not None:
        row = _document(application.id, "other", document, now)
        session.add(row)
        session.flush()
        document_id = row.id
    session.add(
        AdhesionMessage(
            application_id=application.id,
            author="applicant",
            text=text,
            document_id=document_id,
            created_at=now,
        )
    )
    application.status = ApplicationStatus.submitted
    application.updated_at = now
    session.add(application)
    session.flush()
    return application


def queue(session: Session, *, status: ApplicationStatus | None) -> list[AdhesionApplication]:
    query = select(AdhesionApplication)
    if status is not None:
        query = query.where(AdhesionApplication.status == status)
    return list(session.exec(query.order_by(col(AdhesionApplication.updated_at))))
