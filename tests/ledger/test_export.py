"""The statement as CSV: Italian headers, semicolons, decimal commas, running balance."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlmodel import Session

from welfare.ledger.export import HEADERS, statement_csv
from welfare.ledger.payments import choose_sources, place_hold, reimburse

from .conftest import NOW, Budget


def test_statement_csv(session: Session, budget: Budget):
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=123_45, now=NOW
    )
    place_hold(session, plan=plan, idempotency_key="h", caused_by="c", now=NOW, memo="Nido; ok")
    refund = choose_sources(
        session, citizen_id=budget.citizen_id, category="health", amount_cents=20_00, now=NOW
    )
    reimburse(
        session, plan=refund, idempotency_key="r", caused_by="w", now=NOW + timedelta(hours=1)
    )
    text = statement_csv(session, citizen_id=budget.citizen_id)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == list(HEADERS)
    assert rows[0][3] == "Importo (€)"
    assert [r[2] for r in rows[1:]] == [
        "Accredito",
        "Accredito",
        "Importo bloccato per una prenotazione",
        "Importo bloccato per una prenotazione",
        "Rimborso spesa",
    ]
    hold_public = rows[3]
    assert hold_public[0] == "25/11/2026 11:00"  # Europe/Rome
    assert hold_public[1] == "Budget pubblico del Comune"
    assert hold_public[3:6] == ["0,00", "100,00", "100,00"]
    assert hold_public[8] == "Nido; ok"  # quoted, not split
    assert rows[5][3] == "-20,00" and rows[5][5] == "30,00"  # employer: 50 - 20
    assert text.endswith("\r\n")


def test_statement_csv_since_keeps_the_running_balance(session: Session, budget: Budget):
    refund = choose_sources(
        session, citizen_id=budget.citizen_id, category="health", amount_cents=10_00, now=NOW
    )
    reimburse(session, plan=refund, idempotency_key="r", caused_by="w", now=NOW)
    rows = list(
        csv.reader(
            io.StringIO(statement_csv(session, citizen_id=budget.citizen_id, since=NOW)),
            delimiter=";",
        )
    )
    assert len(rows) == 2 and rows[1][5] == "40,00"
    assert statement_csv(session, citizen_id=budget.citizen_id, bom=True).startswith("\ufeff")


def test_statement_csv_never_holds_a_formula(session: Session, budget: Budget):
    """A memo (typed by staff, or copied from a provider's text) starting with = + - @ is
    shown as text by spreadsheets; negative amounts stay numbers."""
    for key, memo in enumerate(('=HYPERLINK("http://x";"y")', "+1+1", "@SUM(A1)", "-2+3")):
        plan = choose_sources(
            session, citizen_id=budget.citizen_id, category="childcare", amount_cents=100, now=NOW
        )
        place_hold(session, plan=plan, idempotency_key=f"f{key}", caused_by="c", now=NOW, memo=memo)
    refund = choose_sources(
        session, citizen_id=budget.citizen_id, category="health", amount_cents=20_00, now=NOW
    )
    reimburse(session, plan=refund, idempotency_key="r", caused_by="w", now=NOW)
    rows = list(
        csv.reader(io.StringIO(statement_csv(session, citizen_id=budget.citizen_id)), delimiter=";")
    )
    memos = {r[8] for r in rows[1:] if r[8]}
    assert memos == {'\'=HYPERLINK("http://x";"y")', "'+1+1", "'@SUM(A1)", "'-2+3"}
    assert "-20,00" in [r[3] for r in rows]  # a number, untouched
