"""The public page where an organisation applies to join (``/aderisci``), reads its
application's state with the tracking code and answers the commission (included by the
gateway, server.app).

Every submission is checked whole before anything is written: bad input re-renders the
form with Italian messages and saves nothing; documents must be PDF (recognised by their
content, like the citizens' uploads) within UPLOAD_MAX_BYTES. Spam meets a per-address limit
(ADHESION_APPLICATIONS_PER_ADDRESS_PER_HOUR) and a honeypot field people never see; no
third-party captcha. The tracking code travels only in POST bodies, never in a URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORY_LABELS, COST_LABELS, TARGET_LABELS
from conversations.uploads import SavedFile, UploadStore
from core.database import Database
from core.net import client_address
from core.timeutil import utcnow
from providers.application_form import LEGAL_FORMS, parse_application
from providers.applications import (
    DOCUMENT_KINDS,
    STATUS_LABELS,
    ApplicationError,
    applicant_reply,
    by_tracking_code,
    messages_of,
    pdf_problem,
    submit_application,
)
from providers.ethics import EthicalCode, current_code
from providers.service_form import parse_service

PATH = "/aderisci"
HONEYPOT = "sito_secondario"  # hidden from people by CSS; bots fill it in
TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = Path(__file__).parent / "static" / "aderisci.css"
TOO_MANY = (
    "Abbiamo ricevuto troppe richieste da questa connessione. Riprova tra un'ora; se il "
    "problema continua, scrivi a un Welcome Point."
)


class Limiter(Protocol):
    async def allow(self, key: str) -> bool: ...


@dataclass
class AdhesionPage:
    """What the page needs, set by the gateway as ``app.state.adhesion``."""

    db: Database
    store: UploadStore  # the documents, under VAR_DIR/adhesions
    limiter: Limiter
    trusted_proxies: str = ""


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter()


def _page(request: Request) -> AdhesionPage:
    page: AdhesionPage = request.app.state.adhesion
    return page


def _render(template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    base = {
        "path": PATH,
        "code": current_code(),
        "quartieri": QUARTIERI,
        "categories": CATEGORY_LABELS,
        "targets": TARGET_LABELS,
        "costs": COST_LABELS,
        "legal_forms": LEGAL_FORMS,
        "documents": DOCUMENT_KINDS,
        "honeypot": HONEYPOT,
    }
    html = _env.get_template(template).render({**base, **context})
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _form_page(values: dict[str, Any], errors: dict[str, str], status_code: int) -> Response:
    return _render("aderisci.html", {"values": values, "errors": errors}, status_code)


async def _allowed(request: Request) -> bool:
    page = _page(request)
    peer = request.client.host if request.client else ""
    return await page.limiter.allow(client_address(peer, request.headers, page.trusted_proxies))


def _values(form: FormData) -> dict[str, Any]:
    """The text fields as typed (to fill the form again), lists for the boxes."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    for name in ("quartieri", "target_groups", "points"):
        values[name] = [v for v in form.getlist(name) if isinstance(v, str)]
    return values


async def _pdf(form: FormData, name: str, label: str, store: UploadStore) -> tuple[bytes, str]:
    """The file's bytes and, when it is not acceptable, why (Italian)."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return b"", f"{label}: allega il file in formato PDF."
    content = await upload.read(store.max_bytes + 1)
    return content, pdf_problem(content, max_bytes=store.max_bytes, label=label) or ""


def _save_all(store: UploadStore, files: list[tuple[str, bytes]]) -> list[tuple[str, SavedFile]]:
    now = utcnow()
    return [(kind, store.save(content, now=now)) for kind, content in files]


def _forget(store: UploadStore, saved: list[tuple[str, SavedFile]]) -> None:
    for _kind, item in saved:
        with contextlib.suppress(OSError, ValueError):
            store.path_of(item.relative_path).unlink()


async def _stored_with_files(
    store: UploadStore,
    files: list[tuple[str, bytes]],
    write: Callable[[list[tuple[str, SavedFile]]], Any],
) -> Any:
    """Write the files, then the rows through ``write``; the files go if the rows fail."""
    saved = _save_all(store, files)
    try:
        return await write(saved)
    except BaseException:
        _forget(store, saved)
        raise


@router.get(PATH, include_in_schema=False)
async def application_form() -> Response:
    return _form_page({"points": [], "quartieri": [], "target_groups": []}, {}, 200)


@router.get(PATH + "/stile.css", include_in_schema=False)
async def stylesheet() -> Response:
    return FileResponse(STYLESHEET, media_type="text/css")


@router.get(PATH + "/codice-etico", include_in_schema=False)
async def ethical_code() -> Response:
    return _render("codice_etico.html", {})


@router.post(PATH, include_in_schema=False)
async def apply(request: Request) -> Response:
    if not await _allowed(request):
        return _render("messaggio.html", {"title": "Troppe richieste", "text": TOO_MANY}, 429)
    page = _page(request)
    form = await request.form()
    values = _values(form)
    if str(values.get(HONEYPOT, "")).strip():
        return _render("ricevuta.html", {"tracking_code": ""})  # a bot: nothing is saved
    code: EthicalCode = current_code()
    organisation = parse_application(
        values, quartieri=values["quartieri"], accepted=values["points"], code=code
    )
    service_values = {k.removeprefix("s_"): v for k, v in values.items() if k.startswith("s_")}
    service = parse_service(service_values, target_groups=values["target_groups"])
    errors = dict(organisation.errors)
    errors.update({f"s_{k}": v for k, v in service.errors.items()})
    files: list[tuple[str, bytes]] = []
    for kind, label in DOCUMENT_KINDS.items():
        content, problem = await _pdf(form, f"doc_{kind}", label, page.store)
        if problem:
            errors[f"doc_{kind}"] = problem
        files.append((kind, content))
    if errors:
        return _form_page(values, errors, 422)

    async def write(saved: list[tuple[str, SavedFile]]) -> Any:
        return await page.db.run(
            submit_application,
            form=organisation,
            services=[service],
            documents=saved,
            now=utcnow(),
        )

    submitted = await _stored_with_files(page.store, files, write)
    return _render("ricevuta.html", {"tracking_code": submitted.tracking_code})


@router.get(PATH + "/stato", include_in_schema=False)
async def status_form() -> Response:
    return _render("stato.html", {"application": None})


def _status_context(session: Any, *, code: str) -> dict[str, Any] | None:
    application = by_tracking_code(session, code=code)
    if application is None:
        return None
    return {
        "application": application,
        "status": STATUS_LABELS[application.status],
        "messages": messages_of(session, application_id=application.id or 0),
        "tracking_code": code.strip().upper(),
    }


@router.post(PATH + "/stato", include_in_schema=False)
async def status(request: Request) -> Response:
    if not await _allowed(request):
        return _render("messaggio.html", {"title": "Troppe richieste", "text": TOO_MANY}, 429)
    form = await request.form()
    code = str(form.get("tracking_code") or "")[:40]
    context = await _page(request).db.run(_status_context, code=code)
    if context is None:
        error = "Codice non trovato: controlla di averlo scritto come nella ricevuta."
        return _render("stato.html", {"application": None, "error": error}, 404)
    return _render("stato.html", context)


@router.post(PATH + "/rispondi", include_in_schema=False)
async def reply(request: Request) -> Response:
    if not await _allowed(request):
        return _render("messaggio.html", {"title": "Troppe richieste", "text": TOO_MANY}, 429)
    page = _page(request)
    form = await request.form()
    code = str(form.get("tracking_code") or "")[:40]
    text = str(form.get("text") or "")[:4000]
    files: list[tuple[str, bytes]] = []
    problem = ""
    upload = form.get("document")
    if isinstance(upload, UploadFile) and upload.filename:
        content, problem = await _pdf(form, "document", "Documento", page.store)
        files.append(("other", content))
    context = await page.db.run(_status_context, code=code)
    if context is None:
        error = "Codice non trovato: controlla di averlo scritto come nella ricevuta."
        return _render("stato.html", {"application": None, "error": error}, 404)
    if problem:
        return _render("stato.html", {**context, "error": problem, "text": text}, 422)

    async def write(saved: list[tuple[str, SavedFile]]) -> Any:
        return await page.db.run(
            applicant_reply,
            code=code,
            text=text,
            document=saved[0][1] if saved else None,
            now=utcnow(),
        )

    try:
        await _stored_with_files(page.store, files, write)
    except ApplicationError as error:
        return _render("stato.html", {**context, "error": str(error), "text": text}, 422)
    context = await page.db.run(_status_context, code=code)
    return _render("stato.html", {**context, "notice": "Risposta inviata alla Commissione."})
