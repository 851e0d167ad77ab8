"""Serialising writers, so that no account goes below zero under concurrent requests.

PostgreSQL: the accounts an operation touches are locked with ``SELECT ... FOR UPDATE``
(in id order, so two operations on the same accounts cannot deadlock); READ COMMITTED
then shows each statement the latest committed entries.

SQLite: row locks do not exist, so a write transaction starts with ``BEGIN IMMEDIATE``,
which takes the database's write lock up front: writers queue (busy_timeout) instead of
reading a stale snapshot and failing later. The engine keeps pysqlite's default
transaction handling; this module only opens the transaction itself when none is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlmodel import Session, col, select

from welfare.ledger.errors import UnknownAccount
from welfare.ledger.models import BudgetAccount, FundingSource


def begin_write(session: Session) -> None:
    """Make the session's transaction a write transaction that other writers wait for."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    # else: a write already ran in this transaction, so it holds the write lock already


class LockedAccount(NamedTuple):
    account: BudgetAccount
    source: FundingSource


def lock_accounts(session: Session, account_ids: Iterable[int]) -> dict[int, LockedAccount]:
    """Lock these accounts for the rest of the transaction (read with their funding
    sources); raises UnknownAccount if one is missing."""
    ids = sorted(set(account_ids))
    begin_write(session)
    rows = session.exec(
        select(BudgetAccount, FundingSource)
        .join(FundingSource, col(FundingSource.id) == col(BudgetAccount.source_id))
        .where(col(BudgetAccount.id).in_(ids))
        .order_by(col(BudgetAccount.id))
        .with_for_update(of=BudgetAccount)
        .execution_options(populate_existing=True)
    ).all()
    found = {account.id: LockedAccount(account, source) for account, source in rows if account.id}
    missing = [i for i in ids if i not in found]
    if missing:
        raise UnknownAccount(f"unknown account(s) {missing}")
    return found
