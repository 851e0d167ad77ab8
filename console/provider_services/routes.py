"""«I miei servizi» (provider_staff): the services of the member's own provider, a new
service or a change, each sent to the commission (small edits published at once when
PROVIDER_TRUSTED_EDITS is on). A member sees and edits only their own provider's services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORY_LABELS, COST_LABELS, TARGET_LABELS
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.state import console_state
from console.web import render
from core.timeutil import utcnow
from providers import drafts
from providers.applications import ApplicationError
from providers.models import DraftStatus
from providers.service_form import parse_service
from staff.roles import Role

router = APIRouter()
ProviderStaff = Annotated[CurrentStaff, Depends(require_roles(Role.provider_staff))]
ROLES = frozenset({Role.provider_staff})
AUDIT_LABELS: dict[str, str] = {
    "service_draft.submit": "servizio inviato alla Commissione",
    "service_draft.trusted": "piccola modifica pubblicata subito",
}
CHOICES = {
    "quartieri": QUARTIERI,
    "categories": CATEGORY_LABELS,
    "targets": TARGET_LABELS,
    "costs": COST_LABELS,
}


def _overview(session: Session, *, provider_code: str) -> dict[str, Any]:
    return {
        "services": drafts.services_of(session, provider_code=provider_code),
        "drafts": drafts.drafts_of(session, provider_code=provider_code),
        "status_labels": drafts.STATUS_LABELS,
    }


@router.get("", name="my_services")
def services_page(request: Request, db: Db, staff: ProviderStaff) -> Response:
    context = db.run_sync(_overview, provider_code=staff.provider_code or "")
    return render(request, "my_services.html", context, staff=staff)


def _values_of(session: Session, *, provider_code: str, service_code: str) -> dict[str, Any]:
    try:
        service = drafts.own_service(
            session, provider_code=provider_code, service_code=service_code
        )
    except ApplicationError:
        raise HTTPException(404, "Servizio non trovato.") from None
    data = drafts.service_data(service)
    price = data.pop("price_cents")
    data["price"] = f"{price // 100},{price % 100:02d}" if price else ""
    data["coordinates"] = f"{data.pop('lat')}, {data.pop('lon')}"
    data["keywords"] = ", ".join(data["keywords"])
    return data


def _form(
    request: Request,
    staff: CurrentStaff,
    *,
    values: dict[str, Any],
    service_code: str | None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {**CHOICES, "values": values, "errors": errors or {}, "service_code": service_code}
    return render(request, "my_service_form.html", context, staff=staff, status_code=status_code)


@router.get("/nuovo", name="my_service_new")
def new_form(request: Request, staff: ProviderStaff) -> Response:
    return _form(request, staff, values={"target_groups": []}, service_code=None)


@router.get("/{service_code}", name="my_service_edit")
def edit_form(request: Request, db: Db, staff: ProviderStaff, service_code: str) -> Response:
    values = db.run_sync(
        _values_of, provider_code=staff.provider_code or "", service_code=service_code
    )
    return _form(request, staff, values=values, service_code=service_code)


def _submit(
    session: Session,
    *,
    staff: CurrentStaff,
    service_code: str | None,
    form: Any,
    trusted: bool,
    ip: str,
) -> DraftStatus:
    draft = drafts.submit_draft(
        session,
        provider_code=staff.provider_code or "",
        service_code=service_code,
        form=form,
        staff_id=staff.id,
        trusted_edits=trusted,
        now=utcnow(),
    )
    trusted_done = draft.status == DraftStatus.published_trusted
    audit.record(
        session,
        action="service_draft.trusted" if trusted_done else "service_draft.submit",
        actor_id=staff.id,
        object_type="service_draft",
        object_id=draft.id or "",
        detail=f"servizio {service_code or 'nuovo'}; ente {staff.provider_code}",
        ip=ip,
    )
    return draft.status


async def _save(request: Request, db: Db, staff: CurrentStaff, service_code: str | None):
    raw = await request.form()
    values: dict[str, Any] = {k: v for k, v in raw.items() if isinstance(v, str)}
    values["target_groups"] = [v for v in raw.getlist("target_groups") if isinstance(v, str)]
    form = parse_service(values, target_groups=values["target_groups"])
    if not form.ok:
        return _form(
            request, staff, values=values, service_code=service_code, errors=form.errors,
            status_code=422,
        )  # fmt: skip
    trusted = console_state(request).settings.provider_trusted_edits
    try:
        status = await db.run(
            _submit, staff=staff, service_code=service_code, form=form, trusted=trusted,
            ip=client_ip(request),
        )  # fmt: skip
    except ApplicationError as error:
        return _form(
            request, staff, values=values, service_code=service_code,
            errors={"form": str(error)}, status_code=409,
        )  # fmt: skip
    context = await db.run(_overview, provider_code=staff.provider_code or "")
    notice = (
        "Modifica pubblicata subito: la Commissione la vedrà dopo."
        if status == DraftStatus.published_trusted
        else "Inviato alla Commissione adesioni: lo pubblica dopo averlo controllato."
    )
    if form.centre_used:
        notice += " Non avete indicato le coordinate: useremo il centro del quartiere."
    return render(request, "my_services.html", {**context, "notice": notice}, staff=staff)


@router.post("/nuovo", name="my_service_create")
async def create(request: Request, db: Db, staff: ProviderStaff) -> Response:
    return await _save(request, db, staff, None)


@router.post("/{service_code}", name="my_service_update")
async def update(request: Request, db: Db, staff: ProviderStaff, service_code: str) -> Response:
    await db.run(_values_of, provider_code=staff.provider_code or "", service_code=service_code)
    return await _save(request, db, staff, service_code)
