"""The console's "Avvisi" section (hub_staff): compose, preview, schedule, follow, cancel,
export, mounted at /avvisi (the section is ``console.broadcasts.SECTION``, listed in
``console.app.SECTIONS``).

Pages (names for ``path_for``): ``broadcasts`` (list), ``broadcast_new`` (composer),
``broadcast_create`` (POST, multipart), ``broadcast_preview`` (POST JSON: sanitised HTML and
length), ``broadcast_audience`` (GET JSON: live recipient count), ``broadcast_detail``,
``broadcast_progress`` (GET JSON, polled by the progress bar), ``broadcast_cancel`` (POST),
``broadcast_csv``, ``broadcast_image``, ``broadcast_js``, ``broadcast_css``. Every route
requires hub_staff (and CSRF on POST) through ``console.auth.require_roles``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from broadcast import broadcasts as service
from broadcast.audience import count_audience
from broadcast.formatting import compose
from broadcast.models import Broadcast
from broadcast.report import BROADCAST_STATUS_LABELS, Progress, deliveries_csv, progress
from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORY_LABELS
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.web import console_path, render
from core.i18n import language_name, languages
from core.settings import Settings, get_settings
from core.timeutil import utcnow
from staff.roles import Role

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
IMAGE_TYPES = {b"\xff\xd8\xff": ("image/jpeg", "jpg"), b"\x89PNG\r\n\x1a\n": ("image/png", "png")}

router = APIRouter()
HubStaff = Annotated[CurrentStaff, Depends(require_roles(Role.hub_staff))]
_settings: Settings | None = None

# the wording of this section's audit actions (its Section.audit_labels)
AUDIT_LABELS: dict[str, str] = {
    "broadcast.create": "avviso programmato",
    "broadcast.cancel": "avviso annullato",
}


def configure(settings: Settings) -> None:
    """Use these settings (VAR_DIR for pictures, limits, time zone) instead of the
    environment's; the gateway passes the ones it runs with."""
    global _settings
    _settings = settings


def settings() -> Settings:
    return _settings or get_settings()


# --- helpers --------------------------------------------------------------------------


def _picked(values: list[str] | None, allowed: dict[str, str]) -> list[str]:
    return [v for v in (values or []) if v in allowed]


def parse_local_time(value: str, tz: ZoneInfo) -> datetime:
    """ "2026-12-01T16:30" in Rome time -> aware UTC; a time skipped by the clock change
    raises ValueError."""
    naive = datetime.fromisoformat(value.strip())
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    local = naive.replace(tzinfo=tz)
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError("nonexistent local time")
    return local.astimezone(UTC)


async def _store_image(upload: UploadFile, *, limit: int, var_dir: Path) -> tuple[str, str]:
    """Check and keep an uploaded picture; returns (path under VAR_DIR, mime type)."""
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise service.BroadcastError(
            f"L'immagine è troppo grande: al massimo {limit // (1024 * 1024)} MB."
        )
    kind = next((v for k, v in IMAGE_TYPES.items() if content.startswith(k)), None)
    if kind is None:
        raise service.BroadcastError("L'immagine deve essere un file JPEG o PNG.")
    try:
        from PIL import Image

        with Image.open(BytesIO(content)) as image:
            image.verify()
            width, height = image.size
    except Exception:
        raise service.BroadcastError("L'immagine non è leggibile.") from None
    if width + height > 10_000 or max(width, height) > 20 * min(width, height):
        raise service.BroadcastError("Le proporzioni dell'immagine non sono accettate da Telegram.")
    mime, extension = kind
    name = f"broadcasts/{secrets.token_hex(12)}.{extension}"
    target = var_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return name, mime


def _other_languages() -> list[dict[str, str]]:
    """The languages besides Italian a broadcast can have a version in (locale/)."""
    config = languages()
    return [
        {"code": code, "label": language_name(code)}
        for code in config.codes
        if code != config.source
    ]


def _form_context(**values: Any) -> dict[str, Any]:
    return {
        "quartieri": QUARTIERI,
        "categories": CATEGORY_LABELS,
        "other_languages": _other_languages(),
        "form": {"quartieri": [], "interests": [], "when": "now", **values},
    }


async def _versions(request: Request) -> dict[str, tuple[str, str]]:
    """The other languages' title and body as typed (title_en, body_en, ...)."""
    form = await request.form()
    found = {}
    for language in _other_languages():
        code = language["code"]
        title = str(form.get(f"title_{code}") or "")[:500]
        body = str(form.get(f"body_{code}") or "")[:20_000]
        found[code] = (title, body)
    return found


# --- pages ----------------------------------------------------------------------------


def _list(session: Session) -> list[tuple[Broadcast, Progress | None]]:
    return [
        (broadcast, progress(session, broadcast_id=broadcast.id or 0))
        for broadcast in service.list_broadcasts(session)
    ]


@router.get("", name="broadcasts")
def broadcast_list(request: Request, db: Db, staff: HubStaff) -> Response:
    return render(
        request,
        "avvisi_list.html",
        {"items": db.run_sync(_list), "status_labels": BROADCAST_STATUS_LABELS},
        staff=staff,
    )


@router.get("/nuovo", name="broadcast_new")
def broadcast_new(request: Request, staff: HubStaff) -> Response:
    return render(request, "avvisi_new.html", _form_context(), staff=staff)


def _create(
    session: Session, *, draft: service.Draft, staff: CurrentStaff, now: datetime, ip: str
) -> Broadcast:
    """The broadcast and its audit record, in one transaction."""
    broadcast = service.create_broadcast(session, draft=draft, created_by=staff.id, now=now)
    audit.record(
        session,
        action="broadcast.create",
        actor_id=staff.id,
        object_type="broadcast",
        object_id=broadcast.id or 0,
        detail=f"quartieri={','.join(broadcast.quartieri) or 'tutti'}",
        ip=ip,
    )
    return broadcast


@router.post("/nuovo", name="broadcast_create")
async def broadcast_create(
    request: Request,
    db: Db,
    staff: HubStaff,
    title: Annotated[str, Form(max_length=500)] = "",
    body: Annotated[str, Form(max_length=20_000)] = "",
    link_url: Annotated[str, Form(max_length=1000)] = "",
    link_label: Annotated[str, Form(max_length=200)] = "",
    quartieri: Annotated[list[str] | None, Form()] = None,
    interests: Annotated[list[str] | None, Form()] = None,
    when: Annotated[str, Form()] = "now",
    scheduled_at: Annotated[str, Form(max_length=40)] = "",
    image: Annotated[UploadFile | None, File()] = None,
) -> Response:
    config = settings()
    now = utcnow()
    versions = await _versions(request)
    values = {
        "title": title,
        "body": body,
        **{f"title_{code}": pair[0] for code, pair in versions.items()},
        **{f"body_{code}": pair[1] for code, pair in versions.items()},
        "link_url": link_url,
        "link_label": link_label,
        "quartieri": _picked(quartieri, QUARTIERI),
        "interests": _picked(interests, CATEGORY_LABELS),
        "when": when,
        "scheduled_at": scheduled_at,
    }
    try:
        at = now
        if when == "later":
            try:
                at = parse_local_time(scheduled_at, config.tz)
            except ValueError:
                raise service.BroadcastError("Indica una data e un'ora valide.") from None
            if at < now - timedelta(minutes=1):
                raise service.BroadcastError("La data di invio è già passata.")
        image_path = image_mime = None
        if image is not None and image.filename:
            image_path, image_mime = await _store_image(
                image, limit=config.broadcast_image_max_bytes, var_dir=config.var_dir
            )
        draft = service.Draft(
            title=title,
            body=body,
            quartieri=values["quartieri"],
            interests=values["interests"],
            scheduled_at=at,
            link_url=link_url,
            link_label=link_label,
            image_path=image_path,
            image_mime=image_mime,
            translations=versions,
        )
        broadcast = await db.run(_create, draft=draft, staff=staff, now=now, ip=client_ip(request))
    except service.BroadcastError as problem:
        context = _form_context(**values)
        context["error"] = problem.message
        return render(request, "avvisi_new.html", context, staff=staff, status_code=400)
    target = console_path(request, "broadcast_detail", broadcast_id=broadcast.id)
    return RedirectResponse(target, status_code=303)


@router.post("/anteprima", name="broadcast_preview")
async def broadcast_preview(request: Request, staff: HubStaff) -> JSONResponse:
    data: dict[str, Any] = {}
    if request.headers.get("content-type", "").startswith("application/json"):
        data = await request.json()
    else:
        data = dict(await request.form())
    title = str(data.get("title") or "")[:500]
    body = str(data.get("body") or "")[:20_000]
    with_image = str(data.get("with_image") or "") in ("1", "true", "on")
    composed = compose(title, body, with_image=with_image)
    return JSONResponse(
        {
            "html": composed.telegram_html,
            "length": composed.length,
            "limit": composed.limit,
            "too_long": composed.length > composed.limit,
        }
    )


@router.get("/destinatari", name="broadcast_audience")
def broadcast_audience(request: Request, db: Db, staff: HubStaff) -> JSONResponse:
    quartieri = _picked(request.query_params.getlist("quartieri"), QUARTIERI)
    interests = _picked(request.query_params.getlist("interests"), CATEGORY_LABELS)
    return JSONResponse(db.run_sync(count_audience, quartieri=quartieri, interests=interests))


def _broadcast(session: Session, broadcast_id: int) -> Broadcast:
    broadcast = service.get_broadcast(session, broadcast_id=broadcast_id)
    if broadcast is None:
        raise HTTPException(404, "Avviso non trovato.")
    return broadcast


def _detail(session: Session, *, broadcast_id: int) -> dict[str, Any]:
    return {
        "broadcast": _broadcast(session, broadcast_id),
        "report": progress(session, broadcast_id=broadcast_id),
    }


@router.get("/{broadcast_id}", name="broadcast_detail")
def broadcast_detail(request: Request, broadcast_id: int, db: Db, staff: HubStaff) -> Response:
    notice = "Avviso annullato." if request.query_params.get("annullato") else ""
    return render(
        request,
        "avvisi_detail.html",
        {
            **db.run_sync(_detail, broadcast_id=broadcast_id),
            "quartieri": QUARTIERI,
            "categories": CATEGORY_LABELS,
            "notice": notice,
        },
        staff=staff,
    )


@router.get("/{broadcast_id}/stato", name="broadcast_progress")
def broadcast_progress(broadcast_id: int, db: Db, staff: HubStaff) -> JSONResponse:
    report = db.run_sync(progress, broadcast_id=broadcast_id)
    if report is None:
        raise HTTPException(404, "Avviso non trovato.")
    return JSONResponse(report.as_dict())


def _cancel(session: Session, *, staff: CurrentStaff, broadcast_id: int, ip: str) -> None:
    _broadcast(session, broadcast_id)
    if not service.cancel(session, broadcast_id=broadcast_id, by=staff.id, now=utcnow()):
        raise HTTPException(409, "L'avviso è già concluso o annullato.")
    audit.record(
        session,
        action="broadcast.cancel",
        actor_id=staff.id,
        object_type="broadcast",
        object_id=broadcast_id,
        ip=ip,
    )


@router.post("/{broadcast_id}/annulla", name="broadcast_cancel")
def broadcast_cancel(request: Request, broadcast_id: int, db: Db, staff: HubStaff) -> Response:
    db.run_sync(_cancel, staff=staff, broadcast_id=broadcast_id, ip=client_ip(request))
    target = console_path(request, "broadcast_detail", broadcast_id=broadcast_id)
    return RedirectResponse(f"{target}?annullato=1", status_code=303)


def _csv(session: Session, *, broadcast_id: int, tz: ZoneInfo) -> str:
    _broadcast(session, broadcast_id)
    return deliveries_csv(session, broadcast_id=broadcast_id, tz=tz, bom=True)


@router.get("/{broadcast_id}/report.csv", name="broadcast_csv")
def broadcast_csv(broadcast_id: int, db: Db, staff: HubStaff) -> Response:
    content = db.run_sync(_csv, broadcast_id=broadcast_id, tz=settings().tz)
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="avviso-{broadcast_id}.csv"'},
    )


@router.get("/{broadcast_id}/immagine", name="broadcast_image")
def broadcast_image(broadcast_id: int, db: Db, staff: HubStaff) -> Response:
    broadcast = db.run_sync(_broadcast, broadcast_id=broadcast_id)
    if not broadcast.image_path:
        raise HTTPException(404, "Nessuna immagine.")
    path = settings().var_dir / broadcast.image_path
    if not path.is_file():
        raise HTTPException(404, "Immagine non trovata.")
    return FileResponse(path, media_type=broadcast.image_mime or "application/octet-stream")


@router.get("/static/composer.js", name="broadcast_js")
def broadcast_js(staff: HubStaff) -> Response:
    return FileResponse(STATIC_DIR / "composer.js", media_type="text/javascript")


@router.get("/static/avvisi.css", name="broadcast_css")
def broadcast_css(staff: HubStaff) -> Response:
    return FileResponse(STATIC_DIR / "avvisi.css", media_type="text/css")
