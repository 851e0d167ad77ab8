"""Read side of the ledger (balances, statements) and the records behind it
(citizens, funding sources, accounts)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.timeutil import utcnow
from welfare.ledger.codes import random_code
from welfare.ledger.models import (
    BudgetAccount,
    Citizen,
    EntryKind,
    FundingSource,
    LedgerEntry,
    SourceKind,
)

ENTRY_LABELS: dict[EntryKind, str] = {
    EntryKind.credit: "Accredito",
    EntryKind.hold: "Importo bloccato per una prenotazione",
    EntryKind.capture: "Pagamento servizio",
    EntryKind.release: "Prenotazione annullata",
    EntryKind.reimbursement: "Rimborso spesa",
    EntryKind.expiry: "Budget scaduto",
    EntryKind.adjustment: "Rettifica",
}


@dataclass(frozen=True)
class AccountBalance:
    """One budget of a citizen, as of ``now``.

    ``available_cents`` is what can be spent now: balance minus open holds, and 0 once
    the account has expired (even before ``expire_accounts`` has written the expiry).
    """

    account_id: int
    label: str
    source_kind: SourceKind
    balance_cents: int
    held_cents: int
    available_cents: int
    expires_at: datetime
    expired: bool
    allowed_categories: tuple[str, ...]
    max_per_service_cents: int | None


@dataclass(frozen=True)
class EntryView:
    """One line of a statement."""

    entry_id: int
    account_id: int
    created_at: datetime
    kind: EntryKind
    description: str  # Italian
    source_label: str
    amount_cents: int  # effect on the balance
    held_cents: int  # effect on the money set aside by holds
    service_code: str | None
    hold_ref: str | None
    memo: str
    caused_by: str


# --- citizens, sources, accounts ---------------------------------------------------------


def new_citizen_ref() -> str:
    return f"CIT-{random_code(6)}"


def create_citizen(
    session: Session,
    *,
    first_name: str,
    family_name: str,
    tax_code: str | None = None,
    quartiere: str | None = None,
    employer: str | None = None,
    public_ref: str | None = None,
    now: datetime | None = None,
) -> Citizen:
    citizen = Citizen(
        public_ref=public_ref or new_citizen_ref(),
        first_name=first_name,
        family_name=family_name,
        tax_code=tax_code.upper() if tax_code else None,
        quartiere=quartiere,
        employer=employer,
        created_at=now or utcnow(),
    )
    session.add(citizen)
    session.flush()
    return citizen


def get_citizen(session: Session, *, public_ref: str) -> Citizen | None:
    return session.exec(select(Citizen).where(Citizen.public_ref == public_ref.upper())).first()


def upsert_source(
    session: Session,
    *,
    code: str,
    kind: SourceKind,
    name: str,
    employer_name: str | None = None,
    allowed_categories: Sequence[str] = (),
    max_per_service_cents: int | None = None,
) -> FundingSource:
    """The funding source with this code, created or brought up to date."""
    source = session.exec(select(FundingSource).where(FundingSource.code == code)).first()
    if source is None:
        source = FundingSource(code=code, kind=kind, name=name)
        session.add(source)
    source.kind = kind
    source.name = name
    source.employer_name = employer_name
    source.allowed_categories = list(allowed_categories)
    source.max_per_service_cents = max_per_service_cents
    session.flush()
    return source


def open_account(
    session: Session,
    *,
    citizen_id: int,
    source_id: int,
    expires_at: datetime,
    now: datetime | None = None,
) -> BudgetAccount:
    """The citizen's account with this source, opened if absent (money comes by ``credit``)."""
    account = session.exec(
        select(BudgetAccount).where(
            BudgetAccount.citizen_id == citizen_id, BudgetAccount.source_id == source_id
        )
    ).first()
    if account is None:
        account = BudgetAccount(
            citizen_id=citizen_id,
            source_id=source_id,
            expires_at=expires_at,
            created_at=now or utcnow(),
        )
        session.add(account)
        session.flush()
    return account


# --- balances --------------------------------------------------------------------------


def account_totals(session: Session, account_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """``{account_id: (balance_cents, held_cents)}``: two sums over the entries."""
    ids = list(set(account_ids))
    totals = {i: (0, 0) for i in ids}
    if not ids:
        return totals
    rows = session.exec(
        select(
            LedgerEntry.account_id,
            func.coalesce(func.sum(LedgerEntry.amount_cents), 0),
            func.coalesce(func.sum(LedgerEntry.held_cents), 0),
        )
        .where(col(LedgerEntry.account_id).in_(ids))
        .group_by(col(LedgerEntry.account_id))
    ).all()
    for account_id, balance, held in rows:
        totals[account_id] = (int(balance), int(held))
    return totals


def _accounts_with_sources(
    session: Session, citizen_id: int
) -> list[tuple[BudgetAccount, FundingSource]]:
    rows = session.exec(
        select(BudgetAccount, FundingSource)
        .join(FundingSource, col(FundingSource.id) == col(BudgetAccount.source_id))
        .where(BudgetAccount.citizen_id == citizen_id)
        .order_by(col(BudgetAccount.expires_at), col(BudgetAccount.id))
    ).all()
    return [(account, source) for account, source in rows]


def balances(
    session: Session, *, citizen_id: int, now: datetime, include_expired: bool = False
) -> list[AccountBalance]:
    """The citizen's budgets, the one expiring first first."""
    pairs = _accounts_with_sources(session, citizen_id)
    totals = account_totals(session, [a.id for a, _ in pairs if a.id is not None])
    result = []
    for account, source in pairs:
        assert account.id is not None
        expired = account.is_expired(now)
        if expired and not include_expired:
            continue
        balance, held = totals[account.id]
        result.append(
            AccountBalance(
                account_id=account.id,
                label=source.label,
                source_kind=SourceKind(source.kind),
                balance_cents=balance,
                held_cents=held,
                available_cents=0 if expired else balance - held,
                expires_at=account.expires_at,
                expired=expired,
                allowed_categories=tuple(source.allowed_categories),
                max_per_service_cents=source.max_per_service_cents,
            )
        )
    return result


# --- statements ------------------------------------------------------------------------


def _entry_query(
    account_ids: list[int], since: datetime | None, until: datetime | None
) -> SelectOfScalar[LedgerEntry]:
    query = (
        select(LedgerEntry)
        .where(col(LedgerEntry.account_id).in_(account_ids))
        .order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc())
    )
    if since is not None:
        query = query.where(col(LedgerEntry.created_at) >= since)
    if until is not None:
        query = query.where(col(LedgerEntry.created_at) < until)
    return query


def statement(
    session: Session,
    *,
    citizen_id: int,
    limit: int | None = 10,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[EntryView]:
    """The citizen's movements, newest first (``limit=None``: all of them).

    With a limit, each account's newest entries come from the index
    (account_id, created_at, id) and are merged here, so the cost does not grow with the
    length of the history.
    """
    sources = {a.id: src for a, src in _accounts_with_sources(session, citizen_id)}
    if not sources:
        return []
    if limit is None:
        entries = list(session.exec(_entry_query(list(sources), since, until)).all())
    else:
        entries = [
            entry
            for account_id in sources
            for entry in session.exec(_entry_query([account_id], since, until).limit(limit)).all()
        ]
        entries.sort(key=lambda e: (e.created_at, e.id or 0), reverse=True)
        entries = entries[:limit]
    views = []
    for entry in entries:
        assert entry.id is not None
        kind = EntryKind(entry.kind)
        views.append(
            EntryView(
                entry_id=entry.id,
                account_id=entry.account_id,
                created_at=entry.created_at,
                kind=kind,
                description=ENTRY_LABELS[kind],
                source_label=sources[entry.account_id].label,
                amount_cents=entry.amount_cents,
                held_cents=entry.held_cents,
                service_code=entry.service_code,
                hold_ref=entry.hold_ref,
                memo=entry.memo,
                caused_by=entry.caused_by,
            )
        )
    return views
