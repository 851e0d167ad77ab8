"""The review pages (mounted at /revisione; nlu_reviewer).

``GET /revisione``: the queue. ``GET /revisione/{id}``: one message. ``POST`` on
``/{id}/parole/nascondi`` (hide more words), ``/{id}/parole/entita`` (mark an entity span),
``/{id}/entita/{n}/togli`` (remove one), ``/{id}/decidi`` (confirm, out of scope, discard).
A request that cannot be done re-shows the page with a plain Italian message and changes
nothing (review.queue.ReviewError rolls the transaction back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session

from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.review.views import REASON_LABELS, VERDICT_LABELS, item_context, queue_rows
from console.web import console_path, render
from core.timeutil import utcnow
from review import queue
from review.masking import KIND_LABELS
from review.vocabulary import entities, intents
from staff.roles import Role

ROLES = frozenset({Role.nlu_reviewer})
router = APIRouter()
Staff = Annotated[CurrentStaff, Depends(require_roles(*ROLES))]
STATIC_DIR = Path(__file__).parent / "static"

AUDIT_LABELS: dict[str, str] = {
    "review.confirm": "esempio confermato per l'addestramento",
    "review.out_of_scope": "messaggio segnato come fuori tema",
    "review.discard": "messaggio scartato dalla revisione",
}
NOTICES = {"done": "Fatto. Ecco il prossimo messaggio da rivedere.", "empty": ""}


@router.get("/static/review.js", name="review_js")
def review_js(staff: Staff) -> FileResponse:
    return FileResponse(STATIC_DIR / "review.js", media_type="text/javascript")


@router.get("", name="review_queue")
def queue_page(request: Request, db: Db, staff: Staff, msg: str = "") -> Response:
    rows, counts = db.run_sync(queue_rows)
    return render(
        request,
        "review_queue.html",
        {"rows": rows, "counts": counts, "notice": NOTICES.get(msg, "")},
        staff=staff,
    )


def _page(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    item_id: int,
    *,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    context = db.run_sync(item_context, item_id=item_id)
    if context is None:
        url = console_path(request, "review_queue")
        return RedirectResponse(url, status_code=303)
    context.update(
        {
            "error": error,
            "notice": notice,
            "intents": intents(),
            "entity_names": entities(),
            "mask_kinds": KIND_LABELS,
            "reason_labels": REASON_LABELS,
            "verdict_labels": VERDICT_LABELS,
        }
    )
    return render(request, "review_item.html", context, staff=staff, status_code=status_code)


@router.get("/{item_id:int}", name="review_item")
def item_page(request: Request, db: Db, staff: Staff, item_id: int, msg: str = "") -> Response:
    return _page(request, db, staff, item_id, notice=NOTICES.get(msg, ""))


def _start(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _change(request: Request, db: Db, staff: CurrentStaff, item_id: int, **call: Any) -> Response:
    try:
        db.run_sync(call.pop("fn"), item_id=item_id, **call)
    except queue.ReviewError as exc:
        return _page(request, db, staff, item_id, error=str(exc), status_code=422)
    url = console_path(request, "review_item", item_id=item_id)
    return RedirectResponse(url, status_code=303)


# what the selected words become: hidden (a kind of personal data), or an entity (its name)
WORD_ACTIONS = {"nascondi": queue.widen_mask, "entita": queue.add_entity}


@router.post("/{item_id:int}/parole/{azione}", name="review_words")
def mark_words(
    request: Request,
    db: Db,
    staff: Staff,
    item_id: int,
    azione: str,
    parole: Annotated[str, Form(max_length=2000)] = "",
    inizio: Annotated[str, Form(max_length=10)] = "",
    tipo: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    fn = WORD_ACTIONS.get(azione)
    if fn is None:
        return _page(request, db, staff, item_id, error="Azione non riconosciuta.", status_code=404)
    return _change(
        request, db, staff, item_id, fn=fn, words=parole, start=_start(inizio), kind=tipo
    )


@router.post("/{item_id:int}/entita/{index:int}/togli", name="review_entity_remove")
def remove_entity(request: Request, db: Db, staff: Staff, item_id: int, index: int) -> Response:
    return _change(request, db, staff, item_id, fn=queue.remove_entity, index=index)


def _decide(
    session: Session,
    *,
    item_id: int,
    verdict: str,
    intent: str,
    staff: CurrentStaff,
    ip: str,
) -> int | None:
    """The verdict and its audit line in one transaction; the next pending item's id."""
    queue.decide(
        session, item_id=item_id, verdict=verdict, intent=intent, reviewer_id=staff.id,
        now=utcnow(),
    )  # fmt: skip
    audit.record(
        session,
        action=f"review.{verdict}",
        actor_id=staff.id,
        object_type="review_item",
        object_id=item_id,
        ip=ip,
    )
    following = queue.pending(session, limit=1)
    return following[0].id if following else None


@router.post("/{item_id:int}/decidi", name="review_decide")
def decide(
    request: Request,
    db: Db,
    staff: Staff,
    item_id: int,
    scelta: Annotated[str, Form(max_length=20)] = "",
    intento: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    try:
        following = db.run_sync(
            _decide,
            item_id=item_id,
            verdict=scelta,
            intent=intento,
            staff=staff,
            ip=client_ip(request),
        )
    except queue.ReviewError as exc:
        return _page(request, db, staff, item_id, error=str(exc), status_code=422)
    if following is None:
        return RedirectResponse(console_path(request, "review_queue") + "?msg=empty", 303)
    url = console_path(request, "review_item", item_id=following)
    return RedirectResponse(f"{url}?msg=done", status_code=303)
