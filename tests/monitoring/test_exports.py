"""CSV exports (formula neutralisation, small counts), charts under the CSP, the monthly report."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitoring import charts
from monitoring.export import neutralise, table_csv
from monitoring.html import table_html
from monitoring.report import write_report
from monitoring.tables import Cell, Column, Row, Table, protect_table
from monitoring.views import Context, build_all
from tests.monitoring import data


def test_neutralise() -> None:
    assert neutralise('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert neutralise("+39 055") == "'+39 055"
    assert neutralise("-1") == "'-1"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("Festa") == "Festa"


@pytest.fixture
def views(sqlite_engine: Engine) -> list:
    data.seed(sqlite_engine)
    with Session(sqlite_engine) as session:
        ctx = Context(
            session=session, period=data.NOVEMBER, now=data.NOW, min_count=5, tracker=sqlite_engine
        )
        return build_all(ctx)


def test_csv_shows_what_the_page_shows(views: list) -> None:
    for view in views:
        for t in view.tables:
            text = table_csv(t, period=data.NOVEMBER, min_count=5)
            assert text.startswith("\ufeff")
            rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
            body = rows[3 : 3 + len(t.rows) + (1 if t.total else 0)]
            for row, line in zip([*t.rows, *([t.total] if t.total else [])], body, strict=True):
                for cell, text_cell in zip(row.cells, line[1:], strict=True):
                    if cell.suppressed:
                        assert text_cell == "<5"
                    elif cell.value:
                        assert cell.people >= 5
            for line in rows:
                for value in line:
                    assert not value.startswith(("=", "+", "-", "@")), value


def test_broadcast_title_is_neutralised(views: list) -> None:
    t = next(t for v in views for t in v.tables if t.key == "avvisi")
    text = table_csv(t, period=data.NOVEMBER, min_count=5)
    assert "'=Festa di quartiere" in text
    assert "\n=Festa" not in text


def test_chart_passes_the_csp() -> None:
    t = Table(
        key="k",
        title="Prova <grafico>",
        dimension="Canale",
        columns=[Column("a", "Nel periodo"), Column("b", "Prima")],
        rows=[
            Row("x", "Telegram", [Cell(10, 10), Cell(3, 3)]),
            Row("y", "WhatsApp", [Cell(7, 7), Cell(8, 8)]),
        ],
        chart="bar",
        chart_columns=(0, 1),
    )
    protect_table(t, 5)
    svg = charts.render(t, 5)
    assert svg is not None
    assert "<style" not in svg and "style=" not in svg  # style-src 'self': no inline CSS
    assert "<script" not in svg and 'href="http' not in svg
    assert "<title>Prova &lt;grafico&gt;</title>" in svg
    assert "non sono disegnati" in svg  # the 3 of «Prima» is hidden, and said so
    html = table_html(t, 5)
    assert re.search(r'<td class="num hidden"[^>]*>&lt;5</td>', html)


@pytest.mark.slow
def test_monthly_report_html_and_pdf(sqlite_engine: Engine, tmp_path: Path) -> None:
    data.seed(sqlite_engine)
    files = write_report(
        sqlite_engine,
        month="2026-11",
        out_dir=tmp_path,
        now=data.NOW,
        min_count=5,
        tracker=sqlite_engine,
    )
    html = files.html.read_text(encoding="utf-8")
    assert "Monitoraggio WEL.CO.ME - novembre 2026" in html
    assert "dal 1 novembre 2026 al 30 novembre 2026" in html
    assert "<svg" in html
    for secret in ("testo che non deve", "mario.rossi", "Cognome", data.T[0]):
        assert secret not in html
    assert files.pdf is not None
    assert files.pdf.read_bytes().startswith(b"%PDF-")


def test_console_report_command(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python -m console report --month (HTML only here: the PDF is the test above)."""
    from console.cli import main
    from core.settings import get_settings

    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    data.seed(sqlite_engine)
    out = io.StringIO()
    code = main(
        ["report", "--month", "2026-11", "--no-pdf", "--out", str(tmp_path / "r")],
        engine=sqlite_engine,
        stdout=out,
    )
    get_settings.cache_clear()
    assert code == 0
    assert out.getvalue().strip() == str(tmp_path / "r" / "monitoraggio-2026-11.html")
    assert "Mappa dei bisogni" in (tmp_path / "r" / "monitoraggio-2026-11.html").read_text()
    assert main(["report", "--month", "2026-13", "--no-pdf"], engine=sqlite_engine) == 1
