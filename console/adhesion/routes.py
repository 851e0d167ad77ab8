"""«Adesioni» (commission): the queue of applications, an application's detail with its
documents, messages and checklist, and the decisions (console/adhesion/__init__.py).

Every change and its audit record commit together; the audit detail names the ethical
code's version the action was taken under.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from catalog.models import Provider
from catalog.repository import get_provider, get_service
from console import audit
from console.adhesion.accounts import link_url, open_account, renew_link
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.state import console_state
from console.web import console_path, render
from conversations.uploads import UploadStore
from core.timeutil import utcnow
from providers import applications, checklist, decisions, drafts
from providers.applications import ApplicationError
from providers.ethics import current_code
from providers.models import (
    AdhesionApplication,
    AdhesionDocument,
    ApplicationStatus,
    DecisionKind,
    ServiceDraft,
)
from staff.models import StaffUser
from staff.roles import Role

router = APIRouter()
Commission = Annotated[CurrentStaff, Depends(require_roles(Role.commission))]
ROLES = frozenset({Role.commission})

AUDIT_LABELS: dict[str, str] = {
    "adhesion.check": "voce della lista di controllo segnata",
    "adhesion.propose": "decisione proposta (attende un secondo membro)",
    "adhesion.withdraw": "proposta ritirata",
    "adhesion.approve": "domanda approvata",
    "adhesion.request_changes": "modifiche chieste al richiedente",
    "adhesion.reject": "domanda respinta",
    "adhesion.suspend": "ente sospeso",
    "adhesion.reinstate": "ente riattivato",
    "adhesion.link": "link per la prima password creato",
    "service_draft.publish": "modifica a un servizio pubblicata",
    "service_draft.reject": "modifica a un servizio respinta",
    "service_draft.seen": "modifica già pubblicata vista",
}
PROVIDER_STATUS_LABELS = {
    "approved": "Attivo",
    "pending": "In attesa",
    "suspended": "Sospeso",
}
FILTERS: dict[str, tuple[ApplicationStatus, ...]] = {
    "da-esaminare": (ApplicationStatus.submitted,),
    "in-attesa": (ApplicationStatus.changes_requested,),
    "approvate": (ApplicationStatus.approved,),
    "respinte": (ApplicationStatus.rejected,),
}


def _store(request: Request) -> UploadStore:
    settings = console_state(request).settings
    return UploadStore(settings.var_dir / "adhesions", settings.upload_max_bytes)


def _application(session: Session, application_id: int) -> AdhesionApplication:
    found = session.get(AdhesionApplication, application_id)
    if found is None:
        raise HTTPException(404, "Domanda non trovata.")
    return found


def _audit(
    session: Session,
    action: str,
    staff: CurrentStaff,
    object_id: int | str,
    ip: str,
    detail: str = "",
) -> None:
    """An audit record about an application (its id) or a provider (its code)."""
    audit.record(
        session,
        action=action,
        actor_id=staff.id,
        object_type="adhesion" if isinstance(object_id, int) else "provider",
        object_id=object_id,
        detail=detail,
        ip=ip,
    )


def _queue(session: Session, *, stato: str) -> dict[str, Any]:
    wanted = FILTERS.get(stato, FILTERS["da-esaminare"])
    rows = [a for s in wanted for a in applications.queue(session, status=s)]
    pending = {
        a.id: decisions.awaiting(session, about=decisions.Subject(a, a.provider_code)) is not None
        for a in rows
    }
    return {
        "rows": rows,
        "pending": pending,
        "stato": stato if stato in FILTERS else "da-esaminare",
        "filters": FILTERS,
        "status_labels": applications.STATUS_LABELS,
        "drafts": drafts.waiting(session),
        "seen": drafts.published_unseen(session),
    }


@router.get("", name="adhesion_queue")
def queue_page(
    request: Request,
    db: Db,
    staff: Commission,
    stato: Annotated[str, Query(max_length=20)] = "da-esaminare",
) -> Response:
    return render(request, "adhesion_queue.html", db.run_sync(_queue, stato=stato), staff=staff)


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    found: dict[int, str] = {}
    for staff_id in ids:
        if staff_id is not None:
            user = session.get(StaffUser, staff_id)
            found[staff_id] = user.full_name if user else f"#{staff_id}"
    return found


def _decisions(session: Session, about: decisions.Subject) -> dict[str, Any]:
    """What the decision box and the history show, on an application's or a provider's page."""
    history = decisions.history(session, about=about)
    return {
        "history": history,
        "awaiting": decisions.awaiting(session, about=about),
        "allowed": decisions.allowed(session, about=about),
        "decision_labels": decisions.DECISION_LABELS,
        "state_labels": decisions.STATE_LABELS,
        "names": _names(
            session, {d.proposed_by for d in history} | {d.confirmed_by for d in history}
        ),
    }


def _page(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    template: str,
    load: Any,
    status_code: int,
    extra: dict[str, Any],
    **key: Any,
) -> Response:
    context = db.run_sync(load, **key)
    context["two_members"] = console_state(request).settings.adhesion_two_members
    return render(request, template, {**context, **extra}, staff=staff, status_code=status_code)


def _detail(session: Session, *, application_id: int) -> dict[str, Any]:
    application = _application(session, application_id)
    code = current_code()
    about = decisions.subject(session, application_id=application_id)
    return {
        **_decisions(session, about),
        "application": application,
        "status_label": applications.STATUS_LABELS[application.status],
        "drafts": applications.drafts_of(session, application_id=application_id),
        "documents": applications.documents_of(session, application_id=application_id),
        "document_labels": applications.DOCUMENT_KINDS,
        "messages": applications.messages_of(session, application_id=application_id),
        "lines": checklist.lines_of(session, application_id=application_id, code=code),
        "verdicts": checklist.VERDICTS,
        "code": code,
        "audit": audit.recent(session, object_type="adhesion", object_id=str(application_id)),
    }


def _show(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    application_id: int,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    return _page(request, db, staff, "adhesion_detail.html", _detail, status_code, extra,
                 application_id=application_id)  # fmt: skip


@router.get("/{application_id:int}", name="adhesion_detail")
def detail_page(request: Request, db: Db, staff: Commission, application_id: int) -> Response:
    return _show(request, db, staff, application_id)


def _document(session: Session, *, application_id: int, document_id: int) -> AdhesionDocument:
    document = session.get(AdhesionDocument, document_id)
    if document is None or document.application_id != application_id:
        raise HTTPException(404, "Documento non trovato.")
    return document


@router.get("/{application_id:int}/documenti/{document_id}", name="adhesion_document")
def document_file(
    request: Request, db: Db, staff: Commission, application_id: int, document_id: int
) -> Response:
    document = db.run_sync(_document, application_id=application_id, document_id=document_id)
    path = _store(request).path_of(document.relative_path)
    if not path.is_file():
        raise HTTPException(404, "Il file del documento non c'è più.")
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=f"domanda-{application_id}-{document.kind}.pdf",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _set_check(
    session: Session,
    *,
    application_id: int,
    item: str,
    verdict: str,
    note: str,
    staff: CurrentStaff,
    ip: str,
) -> None:
    _application(session, application_id)
    code = current_code()
    checklist.set_line(
        session,
        application_id=application_id,
        item=item,
        verdict=verdict,
        note=note,
        code=code,
        staff_id=staff.id,
        now=utcnow(),
    )
    _audit(
        session,
        "adhesion.check",
        staff,
        application_id,
        ip,
        detail=f"{item}: {verdict or '-'}; codice etico {code.version}",
    )


@router.post("/{application_id:int}/controllo", name="adhesion_check")
def check_line(
    request: Request,
    db: Db,
    staff: Commission,
    application_id: int,
    item: Annotated[str, Form(max_length=60)],
    verdict: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        db.run_sync(
            _set_check,
            application_id=application_id,
            item=item,
            verdict=verdict,
            note=note,
            staff=staff,
            ip=client_ip(request),
        )
    except ApplicationError as error:
        return _show(request, db, staff, application_id, 409, error=str(error))
    target = console_path(request, "adhesion_detail", application_id=application_id)
    return RedirectResponse(target + "#lista", status_code=303)


def _decide(
    session: Session,
    *,
    application_id: int | None = None,
    provider_code: str | None = None,
    kind: DecisionKind,
    reasons: str,
    staff: CurrentStaff,
    two_members: bool,
    link_hours: int,
    ip: str,
) -> tuple[decisions.Outcome, str | None]:
    code = current_code()
    now = utcnow()
    about = decisions.subject(session, application_id=application_id, provider_code=provider_code)
    outcome = decisions.decide(
        session,
        about=about,
        kind=kind,
        reasons=reasons,
        staff_id=staff.id,
        two_members=two_members,
        code=code,
        now=now,
    )
    token = None
    if outcome.applied and kind == DecisionKind.approve and about.application is not None:
        token = open_account(session, application=about.application, link_hours=link_hours, now=now)
    action = f"adhesion.{kind}" if outcome.applied else "adhesion.propose"
    detail = f"{kind}; codice etico {code.version}"
    if outcome.suspension is not None:
        detail += f"; voucher annullati {outcome.suspension.vouchers_released}"
    target = application_id if application_id is not None else str(provider_code)
    _audit(session, action, staff, target, ip, detail=detail)
    return outcome, token


@router.post("/{application_id:int}/decisione", name="adhesion_decide")
def decide(
    request: Request,
    db: Db,
    staff: Commission,
    application_id: int,
    kind: Annotated[str, Form(max_length=20)],
    reasons: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    if kind not in DecisionKind.__members__:
        return _show(request, db, staff, application_id, 422, error="Scegli una decisione.")
    settings = console_state(request).settings
    try:
        outcome, token = db.run_sync(
            _decide,
            application_id=application_id,
            kind=DecisionKind(kind),
            reasons=reasons,
            staff=staff,
            two_members=settings.adhesion_two_members,
            link_hours=settings.adhesion_link_hours,
            ip=client_ip(request),
        )
    except ApplicationError as error:
        return _show(request, db, staff, application_id, 409, error=str(error), reasons=reasons)
    link = link_url(request, token) if token else None
    return _show(request, db, staff, application_id, notice=_notice(outcome), account_link=link)


def _notice(outcome: decisions.Outcome) -> str:
    if not outcome.applied:
        return "Decisione proposta: diventa effettiva quando la conferma un altro membro."
    notice = f"Decisione registrata: {decisions.DECISION_LABELS[outcome.decision.kind]}."
    if outcome.suspension is not None:
        released = outcome.suspension.vouchers_released
        notice += f" Voucher annullati e cittadini avvisati: {released}."
    return notice


def _withdraw(
    session: Session,
    *,
    application_id: int | None = None,
    provider_code: str | None = None,
    staff: CurrentStaff,
    ip: str,
) -> None:
    about = decisions.subject(session, application_id=application_id, provider_code=provider_code)
    decision = decisions.withdraw(session, about=about, staff_id=staff.id)
    target = application_id if application_id is not None else str(provider_code)
    detail = f"{decision.kind}; codice etico {decision.code_version}"
    _audit(session, "adhesion.withdraw", staff, target, ip, detail=detail)


@router.post("/{application_id:int}/ritira", name="adhesion_withdraw")
def withdraw(request: Request, db: Db, staff: Commission, application_id: int) -> Response:
    try:
        db.run_sync(_withdraw, application_id=application_id, staff=staff, ip=client_ip(request))
    except ApplicationError as error:
        return _show(request, db, staff, application_id, 409, error=str(error))
    return _show(request, db, staff, application_id, notice="Proposta ritirata.")


def _new_link(
    session: Session, *, application_id: int, staff: CurrentStaff, hours: int, ip: str
) -> str:
    application = _application(session, application_id)
    token = renew_link(session, application=application, link_hours=hours, now=utcnow())
    _audit(session, "adhesion.link", staff, application_id, ip)
    return token


@router.post("/{application_id:int}/link", name="adhesion_link")
def new_link(request: Request, db: Db, staff: Commission, application_id: int) -> Response:
    hours = console_state(request).settings.adhesion_link_hours
    try:
        token = db.run_sync(
            _new_link, application_id=application_id, staff=staff, hours=hours,
            ip=client_ip(request),
        )  # fmt: skip
    except ApplicationError as error:
        return _show(request, db, staff, application_id, 409, error=str(error))
    return _show(
        request, db, staff, application_id,
        notice="Nuovo link creato: i link precedenti non valgono più.",
        account_link=link_url(request, token),
    )  # fmt: skip


# --- providers' service drafts --------------------------------------------------------


def _draft(session: Session, *, draft_id: int) -> dict[str, Any]:
    draft = session.get(ServiceDraft, draft_id)
    if draft is None or draft.application_id is not None:
        raise HTTPException(404, "Modifica non trovata.")
    before = None
    if draft.service_code:
        service = get_service(session, code=draft.service_code)
        before = drafts.service_data(service) if service else None
    return {
        "draft": draft,
        "before": before,
        "fields": drafts.DRAFT_FIELDS,
        "status_labels": drafts.STATUS_LABELS,
    }


@router.get("/servizi/{draft_id:int}", name="service_draft_detail")
def draft_page(request: Request, db: Db, staff: Commission, draft_id: int) -> Response:
    return render(
        request, "adhesion_draft.html", db.run_sync(_draft, draft_id=draft_id), staff=staff
    )


def _review(
    session: Session, *, draft_id: int, publish: bool, note: str, staff: CurrentStaff, ip: str
) -> str:
    draft = drafts.review(
        session, draft_id=draft_id, publish=publish, note=note, staff_id=staff.id, now=utcnow()
    )
    action = {
        "published": "service_draft.publish",
        "rejected": "service_draft.reject",
        "published_trusted": "service_draft.seen",
    }[str(draft.status)]
    audit.record(
        session,
        action=action,
        actor_id=staff.id,
        object_type="service_draft",
        object_id=draft_id,
        detail=f"servizio {draft.service_code or '-'}; ente {draft.provider_code or '-'}",
        ip=ip,
    )
    return action


@router.post("/servizi/{draft_id:int}", name="service_draft_review")
def draft_review(
    request: Request,
    db: Db,
    staff: Commission,
    draft_id: int,
    action: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        done = db.run_sync(
            _review, draft_id=draft_id, publish=action == "pubblica", note=note, staff=staff,
            ip=client_ip(request),
        )  # fmt: skip
    except ApplicationError as error:
        context = db.run_sync(_draft, draft_id=draft_id)
        return render(
            request, "adhesion_draft.html", {**context, "error": str(error), "note": note},
            staff=staff, status_code=409,
        )  # fmt: skip
    context = db.run_sync(_draft, draft_id=draft_id)
    notice = {
        "service_draft.publish": "Pubblicata: il servizio si trova già nella ricerca.",
        "service_draft.reject": "Modifica respinta: l'ente vede il motivo.",
        "service_draft.seen": "Segnata come vista.",
    }[done]
    return render(request, "adhesion_draft.html", {**context, "notice": notice}, staff=staff)


# --- every provider of the network: suspend, reinstate -----------------------------------


def _providers(session: Session) -> dict[str, Any]:
    rows = session.exec(select(Provider).order_by(col(Provider.name))).all()
    return {"providers": rows, "status_labels": PROVIDER_STATUS_LABELS}


@router.get("/enti", name="adhesion_providers")
def providers_page(request: Request, db: Db, staff: Commission) -> Response:
    return render(request, "adhesion_providers.html", db.run_sync(_providers), staff=staff)


def _provider_detail(session: Session, *, provider_code: str) -> dict[str, Any]:
    provider = get_provider(session, code=provider_code)
    if provider is None:
        raise HTTPException(404, "Ente non trovato.")
    about = decisions.subject(session, provider_code=provider_code)
    return {
        **_decisions(session, about),
        "provider": provider,
        "status_labels": PROVIDER_STATUS_LABELS,
        "application": about.application,
        "audit": audit.recent(session, object_type="provider", object_id=provider_code),
    }


def _show_provider(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    provider_code: str,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    return _page(request, db, staff, "adhesion_provider.html", _provider_detail, status_code,
                 extra, provider_code=provider_code)  # fmt: skip


@router.get("/enti/{provider_code}", name="adhesion_provider")
def provider_page(request: Request, db: Db, staff: Commission, provider_code: str) -> Response:
    return _show_provider(request, db, staff, provider_code)


@router.post("/enti/{provider_code}/decisione", name="adhesion_provider_decide")
def provider_decide(
    request: Request,
    db: Db,
    staff: Commission,
    provider_code: str,
    kind: Annotated[str, Form(max_length=20)],
    reasons: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    if kind not in (DecisionKind.suspend, DecisionKind.reinstate):
        return _show_provider(request, db, staff, provider_code, 422, error="Scegli una decisione.")
    settings = console_state(request).settings
    try:
        outcome, _token = db.run_sync(
            _decide, provider_code=provider_code, kind=DecisionKind(kind), reasons=reasons,
            staff=staff, two_members=settings.adhesion_two_members,
            link_hours=settings.adhesion_link_hours, ip=client_ip(request),
        )  # fmt: skip
    except ApplicationError as error:
        return _show_provider(
            request, db, staff, provider_code, 409, error=str(error), reasons=reasons
        )
    return _show_provider(request, db, staff, provider_code, notice=_notice(outcome))


@router.post("/enti/{provider_code}/ritira", name="adhesion_provider_withdraw")
def provider_withdraw(request: Request, db: Db, staff: Commission, provider_code: str) -> Response:
    try:
        db.run_sync(_withdraw, provider_code=provider_code, staff=staff, ip=client_ip(request))
    except ApplicationError as error:
        return _show_provider(request, db, staff, provider_code, 409, error=str(error))
    return _show_provider(request, db, staff, provider_code, notice="Proposta ritirata.")
