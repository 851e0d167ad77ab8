"""The hand-drawn SVG charts: well-formed, a text alternative, the table's own numbers, the CSP."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from monitoring import chart_svg, charts
from monitoring.html import number
from monitoring.tables import Cell, Column, Row, Table, Unit, protect_grid, protect_table

SVG = "{http://www.w3.org/2000/svg}"


def _table(chart: str, rows: list[tuple[str, list[int]]], **kwargs: object) -> Table:
    width = len(rows[0][1])
    columns = [Column(f"c{i}", f"Colonna {i + 1}") for i in range(width)]
    for key, value in kwargs.items():
        setattr(columns[0], key, value)
    table = Table(
        key="t",
        title="Prova",
        dimension="Voce",
        columns=columns,
        rows=[
            Row(f"r{n}", label, [Cell(v, v) for v in values])
            for n, (label, values) in enumerate(rows)
        ],
        chart=chart,
        chart_columns=tuple(range(width)),
    )
    return protect_table(table, 5)


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything not well-formed
    assert root.tag == f"{SVG}svg"
    return root


def _titles(root: ET.Element, tag: str) -> list[str]:
    """The titles of the bars or points (the legend's swatches have none)."""
    return [t for e in root.iter(f"{SVG}{tag}") if (t := e.findtext(f"{SVG}title"))]


@pytest.mark.parametrize("chart", ["bar", "hbar"])
def test_bars_carry_the_numbers_of_the_table(chart: str) -> None:
    table = _table(
        chart,
        [("Telegram", [1200, 40]), ("WhatsApp", [3, 75]), ("Chat web", [0, 9])],
    )
    svg = charts.render(table, 5)
    assert svg is not None
    root = _parse(svg)
    assert root.get("role") == "img" and root.get("class") == "chart"
    assert root.findtext(f"{SVG}title") == "Prova"
    assert "1 valori con meno di 5 persone non sono disegnati" in (
        root.findtext(f"{SVG}desc") or ""
    )
    # one bar per visible, non-zero cell, each titled with its label and Italian number
    assert _titles(root, "rect") == [
        "Telegram, Colonna 1: 1.200",
        "Telegram, Colonna 2: 40",
        "WhatsApp, Colonna 2: 75",
        "Chat web, Colonna 2: 9",
    ]
    texts = [e.text for e in root.iter(f"{SVG}text")]
    assert {"Telegram", "WhatsApp", "Chat web", "Colonna 1", "Colonna 2"} <= set(texts)
    assert "1.200" not in texts and "1.250" in texts  # the axis ends on a round step


def test_bar_heights_are_proportional_to_the_values() -> None:
    table = _table("bar", [("A", [100]), ("B", [50]), ("C", [25])])
    root = _parse(chart_svg.vertical(table))
    heights = [float(r.get("height") or 0) for r in root.iter(f"{SVG}rect")]
    assert heights[0] == pytest.approx(2 * heights[1], rel=0.01)
    assert heights[1] == pytest.approx(2 * heights[2], rel=0.01)


def test_money_is_drawn_in_euro() -> None:
    table = _table("hbar", [("Alimenti", [123456]), ("Trasporti", [98700])], unit=Unit.cents)
    root = _parse(chart_svg.horizontal(table))
    assert _titles(root, "rect") == [
        "Alimenti, Colonna 1: 1.234,56 €",
        "Trasporti, Colonna 1: 987,00 €",
    ]
    texts = [e.text for e in root.iter(f"{SVG}text")]
    assert "euro" in texts and "1.250" in texts  # 1,234.56 euro: the axis to 1.250


def test_line_breaks_where_a_value_is_hidden() -> None:
    days = [(f"{d:02d}/11", [v]) for d, v in enumerate([20, 30, 2, 40, 50, 60], start=1)]
    table = _table("line", days)
    root = _parse(chart_svg.vertical(table))
    lines = list(root.iter(f"{SVG}polyline"))
    assert [len((p.get("points") or "").split()) for p in lines] == [2, 3]
    assert _titles(root, "circle") == [
        "01/11, Colonna 1: 20",
        "02/11, Colonna 1: 30",
        "04/11, Colonna 1: 40",
        "05/11, Colonna 1: 50",
        "06/11, Colonna 1: 60",
    ]


def test_grid_writes_every_cell_and_hides_small_ones() -> None:
    columns = [Column("q1", "Q1"), Column("q2", "Q2"), Column("tot", "Totale")]
    rows = [
        Row("casa", "Casa", [Cell(12, 12), Cell(3, 3), Cell(15, 15)]),
        Row("lavoro", "Lavoro", [Cell(1500, 1500), Cell(20, 20), Cell(1520, 1520)]),
        Row("scuola", "Scuola", [Cell(40, 40), Cell(2, 2), Cell(42, 42)]),
    ]
    table = Table(
        key="g",
        title="Mappa",
        dimension="Categoria",
        columns=columns,
        rows=rows,
        chart="grid",
        chart_columns=(0, 1),
    )
    totals = [Cell(1552, 1552), Cell(25, 25), Cell(1577, 1577)]
    protect_grid(table, totals, 5)
    root = _parse(chart_svg.grid(table, 5))
    texts = [e.text for e in root.iter(f"{SVG}text")]
    hidden = [c for r in rows for c in r.cells[:2] if c.suppressed]
    assert hidden and texts.count("<5") == len(hidden)
    assert "3" not in texts  # never the value of a hidden cell
    for row in rows:
        for cell in row.cells[:2]:
            if not cell.suppressed:
                assert number(cell.value, Unit.count) in texts
    assert {"Q1", "Q2", "Casa", "Lavoro"} <= set(texts)
    assert "&lt;5" in chart_svg.grid(table, 5)


def test_long_labels_are_slanted_and_stay_in_the_picture() -> None:
    names = [
        "Q1 Centro Storico",
        "Q2 Campo di Marte",
        "Q3 Gavinana-Galluzzo",
        "Q4 Isolotto-Legnaia",
        "Q5 Rifredi",
        "Non indicato",
    ]
    root = _parse(chart_svg.vertical(_table("bar", [(n, [10]) for n in names])))
    slanted = [e for e in root.iter(f"{SVG}text") if e.text in names]
    assert len(slanted) == 6 and all("rotate(-30" in (e.get("transform") or "") for e in slanted)
    first_x = float(slanted[0].get("x") or 0)
    assert first_x - 0.87 * 12 * 0.58 * len(names[0]) >= 0  # its left end inside the picture
    short = _parse(chart_svg.vertical(_table("bar", [("Sì", [10]), ("No", [20])])))
    assert not any(e.get("transform") for e in short.iter(f"{SVG}text"))


def test_no_inline_style_script_or_link() -> None:
    for chart in ("bar", "hbar", "line"):
        svg = charts.render(_table(chart, [("<a>", [10, 20]), ("b&c", [30, 40])]), 5)
        assert svg is not None
        _parse(svg)
        assert "style" not in svg and "<script" not in svg and "href" not in svg
        assert "&lt;a&gt;" in svg and "b&amp;c" in svg


def test_empty_and_zero_tables() -> None:
    assert charts.render(_table("none", [("a", [10])]), 5) is None
    zero = _table("bar", [("a", [0]), ("b", [0])])
    root = _parse(chart_svg.vertical(zero))
    assert list(root.iter(f"{SVG}rect")) == []


def test_nice_ticks() -> None:
    assert chart_svg.nice_ticks(4109) == [0, 1000, 2000, 3000, 4000, 5000]
    assert chart_svg.nice_ticks(27.4) == [0, 10, 20, 30]
    assert chart_svg.nice_ticks(3) == [0, 1, 2, 3]
    assert chart_svg.nice_ticks(0.8) == [0, 0.2, 0.4, 0.6, 0.8]
    assert chart_svg.nice_ticks(0) == [0, 1]
    assert number(0.2, Unit.count) == "0,2"
