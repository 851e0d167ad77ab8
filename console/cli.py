"""Staff accounts from the command line (the first administrator starts here).

    python -m console create-staff --email anna@comune.fi.it --name "Anna Rossi" \
        --roles care_manager,admin [--place WP-Q1] [--provider ENTE01] [--password-stdin]
    python -m console list-staff
    python -m console deactivate-staff --email anna@comune.fi.it
    python -m console reset-password --email anna@comune.fi.it [--password-stdin]
    python -m console report --month 2026-11 [--out DIR] [--no-pdf]   (console.monitoring.cli)
    python -m console tracker-index
    python -m console review-export   (the review inbox's accepted examples, review.export)

Without --password-stdin the password is asked twice, without echo.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine

from console import audit
from console.staff import (
    StaffError,
    create_staff,
    get_by_email,
    list_staff,
    set_active,
    set_password,
)
from core.timeutil import utcnow
from review.export import REVIEW_DIR
from review.export import export as export_review
from staff.roles import parse_roles


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m console", description="Account del personale")
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create-staff", help="crea un account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="nome e cognome")
    create.add_argument("--roles", required=True, help="es. care_manager,admin")
    create.add_argument("--place", default=None, help="codice del Welcome Point")
    create.add_argument("--provider", default=None, help="codice dell'ente (provider_staff)")
    create.add_argument("--password-stdin", action="store_true", help="legge la password da stdin")

    commands.add_parser("list-staff", help="elenca gli account")

    deactivate = commands.add_parser("deactivate-staff", help="disattiva un account")
    deactivate.add_argument("--email", required=True)

    reset = commands.add_parser("reset-password", help="imposta una nuova password")
    reset.add_argument("--email", required=True)
    reset.add_argument("--password-stdin", action="store_true")
    # the monitoring's commands (console.monitoring.cli, imported only when one of them runs)
    report = commands.add_parser("report", help="rapporto mensile del monitoraggio (HTML e PDF)")
    report.add_argument("--month", required=True, help="AAAA-MM, per es. 2026-11")
    report.add_argument("--out", default=None, help="cartella (predefinita VAR_DIR/reports)")
    report.add_argument("--no-pdf", action="store_true", help="solo l'HTML")
    commands.add_parser("tracker-index", help="indice del monitoraggio sugli eventi di Rasa")
    review = commands.add_parser(
        "review-export", help="scrive in data/nlu/review/ gli esempi confermati in «Revisione»"
    )
    review.add_argument("--out", default=None, help="cartella (predefinita data/nlu/review)")
    return parser


def _read_password(from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Ripeti la password: ") != first:
        raise StaffError("Le due password non coincidono.")
    return first


def main(
    argv: list[str] | None = None,
    *,
    engine: Engine | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    args = _parser().parse_args(argv)
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    if args.command in ("report", "tracker-index"):
        from console.monitoring.cli import run

        return run(args, engine=engine, out=out)
    from core.db import session_scope

    if args.command == "review-export":
        with session_scope(engine) as db:
            report = export_review(db, now=utcnow(), out_dir=Path(args.out or REVIEW_DIR))
        where = report.path or "nessun file"
        print(
            f"esempi scritti: {report.count} ({where}); già presenti: {report.already_known}; "
            f"esclusi perché nei test di valutazione: {report.held_out}",
            file=out,
        )
        return 0
    try:
        with session_scope(engine) as db:
            if args.command == "create-staff":
                roles = parse_roles(args.roles)
                password = _read_password(args.password_stdin, stdin)
                person = create_staff(
                    db,
                    email=args.email,
                    full_name=args.name,
                    roles=roles,
                    password=password,
                    welcome_place_code=args.place,
                    provider_code=args.provider,
                )
                audit.record(
                    db,
                    action="staff.create",
                    object_type="staff_user",
                    object_id=person.id,
                    detail="da riga di comando; ruoli: " + ", ".join(sorted(roles)),
                )
                print(f"creato l'account {person.id}: {person.email}", file=out)
            elif args.command == "list-staff":
                for p in list_staff(db):
                    state = "attivo" if p.active else "disattivato"
                    roles_text = ",".join(sorted(p.roles))
                    last = p.last_login_at.isoformat(timespec="minutes") if p.last_login_at else "-"
                    print(
                        f"{p.id}\t{p.email}\t{p.full_name}\t{roles_text}\t{state}\t{last}", file=out
                    )
            else:
                user = get_by_email(db, email=args.email)
                if user is None or user.id is None:
                    raise StaffError("Nessun account con questa email.")
                if args.command == "deactivate-staff":
                    set_active(db, staff_id=user.id, active=False, now=utcnow())
                    action = "staff.deactivate"
                else:
                    password = _read_password(args.password_stdin, stdin)
                    set_password(db, staff_id=user.id, password=password, now=utcnow())
                    action = "staff.password_reset"
                audit.record(
                    db,
                    action=action,
                    object_type="staff_user",
                    object_id=user.id,
                    detail="da riga di comando",
                )
                print("fatto", file=out)
    except (StaffError, ValueError) as problem:
        print(f"errore: {problem}", file=sys.stderr)
        return 1
    return 0
