"""Command line of the ledger.

python -m welfare.ledger seed-demo [--file PATH]
python -m welfare.ledger issue-code CIT-XXXXXX [--by STAFF]
python -m welfare.ledger balances CIT-XXXXXX
python -m welfare.ledger statement CIT-XXXXXX [--csv] [--limit N]
python -m welfare.ledger expire
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from core.db import session_scope
from core.settings import get_settings
from core.timeutil import utcnow
from welfare.ledger.accounts import balances, get_citizen, statement
from welfare.ledger.demo import DEMO_FILE, seed_demo
from welfare.ledger.export import statement_csv
from welfare.ledger.linking import format_code, issue_link_code
from welfare.ledger.money import format_eur
from welfare.ledger.payments import expire_accounts


def _citizen_id(session: Session, ref: str) -> int:
    citizen = get_citizen(session, public_ref=ref)
    if citizen is None or citizen.id is None:
        raise SystemExit(f"nessun cittadino con riferimento {ref}")
    return citizen.id


def _seed(session: Session, args: argparse.Namespace, now: datetime) -> None:
    report = seed_demo(session, now=now, path=args.file)
    print(
        f"{report.citizens} demo citizens ({report.citizens_created} new), "
        f"{report.operations_written} new ledger operations"
    )


def _issue(session: Session, args: argparse.Namespace, now: datetime) -> None:
    citizen_id = _citizen_id(session, args.ref)
    code = issue_link_code(session, citizen_id=citizen_id, issued_by=args.by, now=now)
    hours = get_settings().link_code_ttl_hours
    print(f"{format_code(code)}  (valido {hours} ore, una sola volta)")


def _balances(session: Session, args: argparse.Namespace, now: datetime) -> None:
    tz = get_settings().tz
    citizen_id = _citizen_id(session, args.ref)
    for b in balances(session, citizen_id=citizen_id, now=now, include_expired=True):
        when = b.expires_at.astimezone(tz)
        state = "scaduto" if b.expired else f"scade il {when:%d/%m/%Y}"
        print(
            f"{b.label}: disponibili {format_eur(b.available_cents)}, "
            f"bloccati {format_eur(b.held_cents)}, saldo {format_eur(b.balance_cents)} ({state})"
        )


def _statement(session: Session, args: argparse.Namespace, now: datetime) -> None:
    citizen_id = _citizen_id(session, args.ref)
    if args.csv:
        sys.stdout.write(statement_csv(session, citizen_id=citizen_id))
        return
    tz = get_settings().tz
    for e in statement(session, citizen_id=citizen_id, limit=args.limit):
        held = ""
        if e.held_cents:
            verb = "bloccati" if e.held_cents > 0 else "sbloccati"
            held = f" ({verb} {format_eur(abs(e.held_cents))})"
        print(
            f"{e.created_at.astimezone(tz):%d/%m/%Y %H:%M}  {e.description:<38} "
            f"{format_eur(e.amount_cents):>12}{held}  {e.source_label}  {e.memo}"
        )


def _expire(session: Session, args: argparse.Namespace, now: datetime) -> None:
    receipts = expire_accounts(session, now=now)
    print(f"{len(receipts)} budget scaduti azzerati")


COMMANDS = {
    "seed-demo": _seed,
    "issue-code": _issue,
    "balances": _balances,
    "statement": _statement,
    "expire": _expire,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m welfare.ledger")
    commands = p.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed-demo", help="load the demo citizens (idempotent)")
    seed.add_argument("--file", type=Path, default=DEMO_FILE)
    code = commands.add_parser("issue-code", help="print a fresh one-time linking code")
    code.add_argument("ref")
    code.add_argument("--by", default="staff:cli", help="who issues it")
    commands.add_parser("balances", help="a citizen's budgets").add_argument("ref")
    stm = commands.add_parser("statement", help="a citizen's movements")
    stm.add_argument("ref")
    stm.add_argument("--csv", action="store_true", help="the whole statement as CSV")
    stm.add_argument("--limit", type=int, default=20)
    commands.add_parser("expire", help="write off what is left on expired budgets")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with session_scope() as session:
        COMMANDS[args.command](session, args, utcnow())
    return 0


if __name__ == "__main__":
    sys.exit(main())
