"""A citizen's statement as CSV for the console: Italian headers, ``;`` separated (the
separator Italian spreadsheets expect, since the comma is the decimal mark), amounts in
euro with a decimal comma, times in Europe/Rome, oldest movement first."""

from __future__ import annotations

import io
from datetime import datetime

from sqlmodel import Session

from core.csv_safe import safe_writer
from core.settings import get_settings
from welfare.ledger.accounts import statement
from welfare.ledger.money import format_cents

HEADERS = (
    "Data",
    "Budget",
    "Movimento",
    "Importo (€)",
    "Variazione bloccato (€)",
    "Saldo del budget (€)",
    "Servizio",
    "Prenotazione",
    "Note",
)


def statement_csv(
    session: Session,
    *,
    citizen_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    bom: bool = False,
) -> str:
    """The CSV text; ``bom=True`` prefixes a UTF-8 BOM so that Excel reads the € sign."""
    tz = get_settings().tz
    entries = list(reversed(statement(session, citizen_id=citizen_id, limit=None, until=until)))
    out = io.StringIO()
    writer = safe_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    running: dict[int, int] = {}
    for entry in entries:
        running[entry.account_id] = running.get(entry.account_id, 0) + entry.amount_cents
        if since is not None and entry.created_at < since:
            continue  # still counted in the running balance
        writer.writerow(
            (
                entry.created_at.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
                entry.source_label,
                entry.description,
                format_cents(entry.amount_cents, thousands=False),
                format_cents(entry.held_cents, thousands=False) if entry.held_cents else "",
                format_cents(running[entry.account_id], thousands=False),
                entry.service_code or "",
                entry.hold_ref or "",
                entry.memo,
            )
        )
    text = out.getvalue()
    return "\ufeff" + text if bom else text
