"""Providers keep their own services: a provider_staff member's new service or change is a
draft the commission publishes or rejects; with PROVIDER_TRUSTED_EDITS a change of the
hours or contacts only is published at once and the commission sees it afterwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from catalog.models import AdhesionStatus, Provider, Service
from catalog.repository import get_provider, get_service
from providers.applications import ApplicationError
from providers.models import DraftStatus, ServiceDraft
from providers.publishing import publish_draft
from providers.service_form import ServiceForm, is_small_edit

DRAFT_FIELDS = (
    "title",
    "description",
    "category",
    "target_groups",
    "age_min",
    "age_max",
    "quartiere",
    "address",
    "lat",
    "lon",
    "opening_hours",
    "cost_mode",
    "price_cents",
    "price_unit",
    "budget_payable",
    "how_to_access",
    "contacts",
    "keywords",
)
STATUS_LABELS: dict[DraftStatus, str] = {
    DraftStatus.pending: "In attesa della Commissione",
    DraftStatus.published: "Pubblicata",
    DraftStatus.published_trusted: "Pubblicata subito (piccola modifica)",
    DraftStatus.rejected: "Respinta",
}


def service_data(service: Service) -> dict[str, Any]:
    return {name: getattr(service, name) for name in DRAFT_FIELDS}


def _active_provider(session: Session, provider_code: str) -> Provider:
    provider = get_provider(session, code=provider_code)
    if provider is None or provider.adhesion_status != AdhesionStatus.approved:
        raise ApplicationError(
            "L'ente non è attivo nella rete: non può pubblicare servizi. Per informazioni "
            "scrivete alla Commissione adesioni."
        )
    return provider


def own_service(session: Session, *, provider_code: str, service_code: str) -> Service:
    provider = get_provider(session, code=provider_code)
    service = get_service(session, code=service_code)
    if provider is None or service is None or service.provider_id != provider.id:
        raise ApplicationError("Servizio non trovato.")
    return service


def services_of(session: Session, *, provider_code: str) -> list[Service]:
    provider = get_provider(session, code=provider_code)
    if provider is None:
        return []
    return list(
        session.exec(
            select(Service).where(Service.provider_id == provider.id).order_by(col(Service.title))
        )
    )


def submit_draft(
    session: Session,
    *,
    provider_code: str,
    service_code: str | None,
    form: ServiceForm,
    staff_id: int,
    trusted_edits: bool,
    now: datetime,
) -> ServiceDraft:
    if not form.ok:
        raise ApplicationError("Il servizio contiene errori: nulla è stato salvato.")
    provider = _active_provider(session, provider_code)
    before = None
    if service_code is not None:
        before = service_data(
            own_service(session, provider_code=provider_code, service_code=service_code)
        )
        if before == {**before, **form.data}:
            raise ApplicationError("Non hai cambiato niente.")
    draft = ServiceDraft(
        provider_code=provider_code,
        service_code=service_code,
        data=form.data,
        centre_used=form.centre_used,
        status=DraftStatus.pending,
        submitted_by=staff_id,
        created_at=now,
    )
    session.add(draft)
    session.flush()
    if trusted_edits and before is not None and is_small_edit(before, form.data):
        publish_draft(
            session,
            draft=draft,
            provider=provider,
            status=DraftStatus.published_trusted,
            reviewer_id=None,
            now=now,
        )
    return draft


def drafts_of(session: Session, *, provider_code: str, limit: int = 30) -> list[ServiceDraft]:
    return list(
        session.exec(
            select(ServiceDraft)
            .where(ServiceDraft.provider_code == provider_code)
            .order_by(col(ServiceDraft.created_at).desc(), col(ServiceDraft.id).desc())
            .limit(limit)
        )
    )


def _oldest_first(session: Session, *where: Any) -> list[ServiceDraft]:
    query = select(ServiceDraft).where(*where)
    return list(session.exec(query.order_by(col(ServiceDraft.created_at), col(ServiceDraft.id))))


def waiting(session: Session) -> list[ServiceDraft]:
    """Providers' drafts waiting for the commission (an application's are in its page)."""
    return _oldest_first(
        session,
        ServiceDraft.status == DraftStatus.pending,
        col(ServiceDraft.application_id).is_(None),
    )


def published_unseen(session: Session) -> list[ServiceDraft]:
    """Small edits published at once that no member of the commission has looked at yet."""
    return _oldest_first(
        session,
        ServiceDraft.status == DraftStatus.published_trusted,
        col(ServiceDraft.reviewed_by).is_(None),
    )


def review(
    session: Session, *, draft_id: int, publish: bool, note: str, staff_id: int, now: datetime
) -> ServiceDraft:
    """Publish or reject a waiting draft; for a small edit already published, mark it seen."""
    draft = session.get(ServiceDraft, draft_id)
    if draft is None or draft.application_id is not None:
        raise ApplicationError("Modifica non trovata.")
    draft.review_note = note.strip()[:2000]
    if draft.status == DraftStatus.published_trusted and draft.reviewed_by is None:
        draft.reviewed_by, draft.reviewed_at = staff_id, now
    elif draft.status != DraftStatus.pending:
        raise ApplicationError("Questa modifica è già stata decisa.")
    elif publish:
        provider = _active_provider(session, draft.provider_code or "")
        publish_draft(
            session,
            draft=draft,
            provider=provider,
            status=DraftStatus.published,
            reviewer_id=staff_id,
            now=now,
        )
    else:
        if len(draft.review_note) < 5:
            raise ApplicationError("Scrivi il motivo: lo legge l'ente.")
        draft.status, draft.reviewed_by, draft.reviewed_at = DraftStatus.rejected, staff_id, now
    session.add(draft)
    session.flush()
    return draft
