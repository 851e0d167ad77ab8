"""Demo citizens with budgets and a few past movements, from data/demo/citizens.yaml.

Idempotent: citizens are found by their reference, sources by code, accounts by
(citizen, source), and every movement goes through the ledger with an idempotency key
derived from its position (``demo:<ref>:<source>:<n>``), so seeding twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session

from core.settings import PROJECT_ROOT, get_settings
from welfare.ledger import payments
from welfare.ledger.accounts import create_citizen, get_citizen, open_account, upsert_source
from welfare.ledger.models import BudgetAccount, FundingSource, SourceKind
from welfare.ledger.plans import PaymentPlan, PlanPart

DEMO_FILE = PROJECT_ROOT / "data" / "demo" / "citizens.yaml"
CAUSED_BY = "system:seed-demo"


@dataclass
class SeedReport:
    citizens: int = 0
    citizens_created: int = 0
    operations_written: int = 0


def _end_of_day(day: date) -> datetime:
    """The last second of ``day`` in Florence (so the day shown is the last valid one)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=get_settings().tz)


def _expiry(spec: dict[str, Any], now: datetime) -> datetime:
    if "expires_at" in spec:
        return _end_of_day(date.fromisoformat(str(spec["expires_at"])))
    today = now.astimezone(get_settings().tz).date()
    return _end_of_day(today + timedelta(days=int(spec["expires_in_days"])))


def _one_part_plan(
    account: BudgetAccount, source: FundingSource, category: str | None, cents: int
) -> PaymentPlan:
    assert account.id is not None
    part = PlanPart(
        account_id=account.id,
        label=source.label,
        source_kind=SourceKind(source.kind),
        amount_cents=cents,
        expires_at=account.expires_at,
    )
    return PaymentPlan(
        citizen_id=account.citizen_id, category=category, amount_cents=cents, parts=(part,)
    )


def _movement(
    session: Session,
    account: BudgetAccount,
    source: FundingSource,
    move: dict[str, Any],
    key: str,
    now: datetime,
) -> int:
    """Write one movement; returns how many operations were new."""
    assert account.id is not None
    kind = move["kind"]
    cents = int(move["cents"])
    at = now - timedelta(days=int(move.get("days_ago", 0)))
    memo = str(move.get("memo", ""))
    common = {"caused_by": CAUSED_BY, "memo": memo}
    if kind == "credit":
        r = payments.credit(
            session,
            account_id=account.id,
            amount_cents=cents,
            idempotency_key=key,
            now=at,
            **common,
        )
        return int(not r.replayed)
    if kind == "adjustment":
        r = payments.adjust(
            session,
            account_id=account.id,
            amount_cents=cents,
            idempotency_key=key,
            now=at,
            **common,
        )
        return int(not r.replayed)
    plan = _one_part_plan(account, source, move.get("category"), cents)
    if kind == "reimbursement":
        r = payments.reimburse(session, plan=plan, idempotency_key=key, now=at, **common)
        return int(not r.replayed)
    hold = payments.place_hold(session, plan=plan, idempotency_key=key, now=at, **common)
    written = int(not hold.replayed)
    assert hold.hold_ref is not None
    later = at + timedelta(hours=2)
    if kind == "payment":
        closed = payments.capture_hold(
            session, hold_ref=hold.hold_ref, idempotency_key=f"{key}:capture", now=later, **common
        )
        written += int(not closed.replayed)
    elif kind == "cancelled":
        closed = payments.release_hold(
            session, hold_ref=hold.hold_ref, idempotency_key=f"{key}:release", now=later, **common
        )
        written += int(not closed.replayed)
    elif kind != "hold":
        raise ValueError(f"unknown movement kind {kind!r}")
    return written


def seed_demo(session: Session, *, now: datetime, path: Path = DEMO_FILE) -> SeedReport:
    """Load the demo file into the ledger (the caller commits)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    report = SeedReport()
    sources: dict[str, FundingSource] = {}
    for spec in data["sources"]:
        sources[spec["code"]] = upsert_source(
            session,
            code=spec["code"],
            kind=SourceKind(spec["kind"]),
            name=spec["name"],
            employer_name=spec.get("employer_name"),
            allowed_categories=spec.get("allowed_categories") or [],
            max_per_service_cents=spec.get("max_per_service_cents"),
        )
    for person in data["citizens"]:
        report.citizens += 1
        citizen = get_citizen(session, public_ref=person["ref"])
        if citizen is None:
            citizen = create_citizen(
                session,
                public_ref=person["ref"],
                first_name=person["first_name"],
                family_name=person["family_name"],
                quartiere=person.get("quartiere"),
                employer=person.get("employer"),
                now=now,
            )
            report.citizens_created += 1
        assert citizen.id is not None
        for spec in person["accounts"]:
            source = sources[spec["source"]]
            assert source.id is not None
            moves = spec.get("movements", [])
            first_day = max((int(m.get("days_ago", 0)) for m in moves), default=0)
            account = open_account(
                session,
                citizen_id=citizen.id,
                source_id=source.id,
                expires_at=_expiry(spec, now),
                now=now - timedelta(days=first_day),
            )
            for n, move in enumerate(moves, start=1):
                key = f"demo:{person['ref']}:{spec['source']}:{n}"
                report.operations_written += _movement(session, account, source, move, key, now)
    report.operations_written += len(payments.expire_accounts(session, now=now))
    return report
