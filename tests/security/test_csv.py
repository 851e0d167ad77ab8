"""core.csv_safe: cells a spreadsheet would run as formulas become text."""

from __future__ import annotations

import csv
import io

from core.csv_safe import safe_cell, safe_writer


def test_formula_cells_are_neutralised_numbers_kept() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("+39 333") == "'+39 333"
    assert safe_cell("@cmd") == "'@cmd"
    assert safe_cell("-cmd") == "'-cmd"
    assert safe_cell("\t=1") == "'\t=1"
    assert safe_cell("-12,50") == "-12,50" and safe_cell("-3") == "-3"
    assert safe_cell("Nido") == "Nido" and safe_cell(5) == 5 and safe_cell("") == ""


def test_the_writer_neutralises_every_row() -> None:
    out = io.StringIO()
    safe_writer(out, delimiter=";").writerow(['=HYPERLINK("x")', "ok", -1])
    assert next(csv.reader(io.StringIO(out.getvalue()), delimiter=";")) == [
        '\'=HYPERLINK("x")',
        "ok",
        "-1",
    ]
