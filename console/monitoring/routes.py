"""The «Monitoraggio» pages (mounted at /monitoraggio; data_analyst and admin).

``/monitoraggio``: the overview (the headline figures of every view and three key charts).
``/monitoraggio/{view}``: one view (bisogni, uso, comprensione, assistenza, budget, punti,
avvisi) with its charts and tables. ``/monitoraggio/{view}/{table}.csv``: one table as CSV
(audited as ``monitoring.export``). Every page takes ``dal``, ``al`` (ISO dates, default the
last 90 days) and ``quartiere`` (Q1..Q5). Only aggregates reach these pages
(monitoring.views); cells of fewer than MONITORING_MIN_COUNT people read «<5».
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.areas import QUARTIERI
from console import audit
from console.auth import CurrentStaff, Db, client_ip, require_roles
from console.state import console_state
from console.web import console_path, render
from core.db import make_engine
from core.timeutil import utcnow
from monitoring.export import table_csv
from monitoring.html import cell_text, delta, table_html
from monitoring.period import ROME, Period
from monitoring.tables import Table, View
from monitoring.views import VIEWS, Context, build_cached
from privacy.retention import tracker_engine_url
from staff.roles import Role

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
ROLES = frozenset({Role.data_analyst, Role.admin})
AUDIT_LABELS = {"monitoring.export": "tabella del monitoraggio scaricata (CSV)"}
# the overview: each view's headline figures, and these charts
OVERVIEW_TABLES = (
    ("uso", "messaggi_giorno"),
    ("bisogni", "mappa_bisogni"),
    ("assistenza", "motivi"),
)

router = APIRouter()
Analyst = Annotated[CurrentStaff, Depends(require_roles(*ROLES))]
_trackers: dict[str, Engine] = {}


def _tracker(request: Request) -> Engine:
    """Rasa's tracker store (one engine per URL for the process)."""
    url = tracker_engine_url(console_state(request).settings)
    if url not in _trackers:
        _trackers[url] = make_engine(url)
    return _trackers[url]


def _period(dal: str | None, al: str | None) -> Period:
    try:
        return Period.parse(dal, al, today=utcnow().astimezone(ROME).date())
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


def _quartiere(quartiere: str | None) -> str | None:
    if not quartiere:
        return None
    if quartiere not in QUARTIERI:
        raise HTTPException(422, "Quartiere sconosciuto: scegli tra Q1 e Q5.")
    return quartiere


def _views(
    session: Session,
    *,
    keys: list[str],
    period: Period,
    quartiere: str | None,
    min_count: int,
    tracker: Engine,
) -> list[View]:
    ctx = Context(
        session=session,
        period=period,
        now=utcnow(),
        min_count=min_count,
        quartiere=quartiere,
        tracker=tracker,
    )
    return [build_cached(key, ctx) for key in keys]


def _page(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    *,
    keys: list[str],
    current: str,
    dal: str | None,
    al: str | None,
    quartiere: str | None,
) -> Response:
    period = _period(dal, al)
    q = _quartiere(quartiere)
    min_count = console_state(request).settings.monitoring_min_count
    views = db.run_sync(
        _views,
        keys=keys,
        period=period,
        quartiere=q,
        min_count=min_count,
        tracker=_tracker(request),
    )
    query = {"dal": period.first_day.isoformat(), "al": period.last_day.isoformat()}
    if q:
        query["quartiere"] = q
    suffix = "?" + urlencode(query)

    def csv_url(view: str, table: str) -> str:
        return console_path(request, "monitoring_csv", view=view, table=table) + suffix

    overview: list[tuple[View, Table]] = []
    if current == "panoramica":
        wanted = dict(OVERVIEW_TABLES)
        overview = [(v, t) for v in views for t in v.tables if wanted.get(v.key) == t.key]
    return render(
        request,
        "monitoring.html",
        {
            "views": views,
            "overview": overview,
            "current": current,
            "tabs": [("panoramica", "Panoramica"), *[(k, v[0]) for k, v in VIEWS.items()]],
            "period": period,
            "previous": period.previous(),
            "quartiere": q,
            "quartieri": QUARTIERI,
            "min_count": min_count,
            "suffix": suffix,
            "csv_url": csv_url,
            "table_html": table_html,
            "cell_text": cell_text,
            "delta": delta,
        },
        staff=staff,
    )


@router.get("", name="monitoring")
def overview(
    request: Request,
    db: Db,
    staff: Analyst,
    dal: str | None = None,
    al: str | None = None,
    quartiere: str | None = None,
) -> Response:
    return _page(
        request,
        db,
        staff,
        keys=list(VIEWS),
        current="panoramica",
        dal=dal,
        al=al,
        quartiere=quartiere,
    )


@router.get("/static/monitoraggio.css", name="monitoring_css")
def monitoring_css(staff: Analyst) -> Response:
    return FileResponse(STATIC_DIR / "monitoraggio.css", media_type="text/css")


@router.get("/{view}", name="monitoring_view")
def one_view(
    request: Request,
    view: str,
    db: Db,
    staff: Analyst,
    dal: str | None = None,
    al: str | None = None,
    quartiere: str | None = None,
) -> Response:
    if view not in VIEWS:
        raise HTTPException(404, "Questa pagina del monitoraggio non esiste.")
    return _page(request, db, staff, keys=[view], current=view, dal=dal, al=al, quartiere=quartiere)


def _export(
    session: Session,
    *,
    view: str,
    table: str,
    period: Period,
    quartiere: str | None,
    min_count: int,
    tracker: Engine,
    actor_id: int,
    ip: str,
) -> tuple[str, Any]:
    (built,) = _views(
        session,
        keys=[view],
        period=period,
        quartiere=quartiere,
        min_count=min_count,
        tracker=tracker,
    )
    found = next((t for t in built.tables if t.key == table), None)
    if found is None:
        raise HTTPException(404, "Questa tabella non esiste.")
    audit.record(
        session,
        action="monitoring.export",
        actor_id=actor_id,
        object_type="monitoring",
        object_id=f"{view}/{table}",
        detail=f"{period.first_day.isoformat()}..{period.last_day.isoformat()}"
        + (f" {quartiere}" if quartiere else ""),
        ip=ip,
    )
    return table_csv(found, period=period, min_count=min_count), found


@router.get("/{view}/{table}.csv", name="monitoring_csv")
def table_export(
    request: Request,
    view: str,
    table: str,
    db: Db,
    staff: Analyst,
    dal: str | None = None,
    al: str | None = None,
    quartiere: str | None = None,
) -> Response:
    if view not in VIEWS:
        raise HTTPException(404, "Questa pagina del monitoraggio non esiste.")
    period = _period(dal, al)
    q = _quartiere(quartiere)
    text, _ = db.run_sync(
        _export,
        view=view,
        table=table,
        period=period,
        quartiere=q,
        min_count=console_state(request).settings.monitoring_min_count,
        tracker=_tracker(request),
        actor_id=staff.id,
        ip=client_ip(request),
    )
    name = f"monitoraggio-{view}-{table}-{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
