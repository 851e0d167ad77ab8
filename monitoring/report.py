"""The monthly monitoring report for the Tavolo di coordinamento: HTML and PDF.

``python -m console report --month 2026-11`` (or ``python -m monitoring report``) writes
``monitoraggio-2026-11.html`` and ``.pdf`` under ``VAR_DIR/reports`` (or ``--out``). The PDF
comes from WeasyPrint (Pango draws the text; scripts/setup.sh checks the system libraries).
Every figure is a view of the console section, with the same small-count rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitoring.html import cell_text, table_html
from monitoring.period import MONTHS_IT, ROME, Period
from monitoring.views import Context, build_all

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path | None


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals.update(cell_text=cell_text, table_html=table_html)
    return env


def render_html(
    engine: Engine,
    *,
    month: str,
    now: datetime,
    min_count: int,
    tracker: Engine | None = None,
) -> str:
    period = Period.month(month)
    with Session(engine) as session:
        ctx = Context(session=session, period=period, now=now, min_count=min_count, tracker=tracker)
        views = build_all(ctx)
    month_label = f"{MONTHS_IT[period.first_day.month - 1]} {period.first_day.year}"
    return (
        _environment()
        .get_template("report.html")
        .render(
            title=f"Monitoraggio WEL.CO.ME - {month_label}",
            month_label=month_label,
            period_label=period.label(),
            previous_label=f"il periodo {period.previous().label()}",
            min_count=min_count,
            generated=now.astimezone(ROME).strftime("%d/%m/%Y %H:%M"),
            views=views,
        )
    )


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def write_report(
    engine: Engine,
    *,
    month: str,
    out_dir: Path,
    now: datetime,
    min_count: int,
    tracker: Engine | None = None,
    pdf: bool = True,
) -> ReportFiles:
    kwargs: dict[str, Any] = {"month": month, "now": now, "min_count": min_count}
    html = render_html(engine, tracker=tracker, **kwargs)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"monitoraggio-{month}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = out_dir / f"monitoraggio-{month}.pdf"
        pdf_path.write_bytes(html_to_pdf(html))
    return ReportFiles(html_path, pdf_path)
