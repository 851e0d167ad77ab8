"""Budget: vouchers and reimbursements by category and funding source; expiring budget."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from monitoring.tables import (
    Table,
    Unit,
    View,
)
from monitoring.views.labels import (
    EXPIRY_DAYS,
    NOT_GIVEN,
    SOURCE_LABELS,
    category_label,
)
from monitoring.views.query import (
    Context,
    Count,
    Pair,
    between,
    citizen_filter,
    tally_pair,
)
from monitoring.views.shaping import (
    figure,
    money_table,
)
from welfare.ledger.models import (
    BudgetAccount,
    EntryKind,
    FundingSource,
    LedgerEntry,
)
from welfare.models import (
    Reimbursement,
    ReimbursementStatus,
    Voucher,
    VoucherStatus,
)


def budget_view(ctx: Context) -> View:
    s = ctx.session
    cat = func.coalesce(Voucher.category, NOT_GIVEN)

    def vouchers(moment: Any, status: VoucherStatus | None) -> Pair:
        where = [*between(moment, ctx.period), *citizen_filter(ctx, Voucher.citizen_id)]
        if status is not None:
            where.append(Voucher.status == status.value)
        return tally_pair(
            s,
            key=cat,
            number=func.count(),
            amount=func.sum(Voucher.covered_cents),
            people=Voucher.citizen_id,
            where=where,
        )

    v_parts = [
        ("issued", "Emessi", Voucher.created_at, None),
        ("redeemed", "Usati", Voucher.closed_at, VoucherStatus.redeemed),
        ("cancelled", "Annullati", Voucher.closed_at, VoucherStatus.cancelled),
    ]
    by_cat_parts = [(k, label, *vouchers(m, st)) for k, label, m, st in v_parts]
    cats = set().union(*(set(p[2][0]) for p in by_cat_parts))
    view = View(
        key="budget",
        title="Budget welfare",
        intro="Voucher e rimborsi per categoria e per fonte (pubblica, aziendale), con gli "
        "importi; budget in scadenza nei prossimi 60 giorni. Le persone sono cittadini.",
        figures=[
            figure("Voucher emessi", by_cat_parts[0][2][1], None, ctx),
            figure("Importo dei voucher emessi", by_cat_parts[0][3][1], None, ctx, Unit.cents),
        ],
    )
    view.tables.append(
        money_table(
            key="voucher_categoria",
            title="Voucher per categoria",
            dimension="Categoria",
            order=[(k, category_label(k)) for k in sorted(cats, key=category_label)],
            parts=by_cat_parts,
            min_count=ctx.min_count,
        )
    )
    # by funding source: the ledger entries of the vouchers' holds
    account = BudgetAccount.__table__
    source = FundingSource.__table__

    def entries(
        kind: EntryKind, column: Any, extra: list[Any]
    ) -> tuple[tuple[dict[Any, Count], Count], tuple[dict[Any, Count], Count]]:
        where = [
            LedgerEntry.kind == kind.value,
            *between(LedgerEntry.created_at, ctx.period),
            *citizen_filter(ctx, account.c.citizen_id),
            *extra,
        ]

        def joins(stmt: Any) -> Any:
            return (
                stmt.select_from(LedgerEntry)
                .join(account, account.c.id == LedgerEntry.account_id)
                .join(source, source.c.id == account.c.source_id)
            )

        return tally_pair(
            s,
            key=source.c.kind,
            number=func.count(LedgerEntry.idempotency_key.distinct()),
            amount=func.sum(column),
            people=account.c.citizen_id,
            where=where,
            joins=joins,
        )

    voucher_hold = LedgerEntry.hold_ref.is_not(None)  # holds are vouchers
    holds = entries(EntryKind.hold, LedgerEntry.held_cents, [voucher_hold])
    captures = entries(EntryKind.capture, -LedgerEntry.amount_cents, [voucher_hold])
    releases = entries(EntryKind.release, -LedgerEntry.held_cents, [voucher_hold])
    sources = [(k.value if hasattr(k, "value") else k, v) for k, v in SOURCE_LABELS.items()]
    view.tables.append(
        money_table(
            key="voucher_fonte",
            title="Voucher per fonte del budget",
            dimension="Fonte",
            order=sources,
            parts=[
                ("issued", "Emessi", *holds),
                ("redeemed", "Usati", *captures),
                ("cancelled", "Annullati", *releases),
            ],
            min_count=ctx.min_count,
        )
    )

    rcat = func.coalesce(Reimbursement.category, NOT_GIVEN)

    def reimb(moment: Any, status: ReimbursementStatus | None, amount: Any) -> Pair:
        where = [*between(moment, ctx.period), *citizen_filter(ctx, Reimbursement.citizen_id)]
        if status is not None:
            where.append(Reimbursement.status == status.value)
        return tally_pair(
            s,
            key=rcat,
            number=func.count(),
            amount=func.sum(amount),
            people=Reimbursement.citizen_id,
            where=where,
        )

    approved, rejected = ReimbursementStatus.approved, ReimbursementStatus.rejected
    r_parts = [
        (
            "requested",
            "Richiesti",
            *reimb(Reimbursement.created_at, None, Reimbursement.amount_cents),
        ),
        (
            "approved",
            "Approvati",
            *reimb(Reimbursement.reviewed_at, approved, Reimbursement.approved_cents),
        ),
        (
            "rejected",
            "Respinti",
            *reimb(Reimbursement.reviewed_at, rejected, Reimbursement.amount_cents),
        ),
    ]
    rcats = set().union(*(set(p[2][0]) for p in r_parts))
    view.tables.append(
        money_table(
            key="rimborsi_categoria",
            title="Rimborsi per categoria",
            dimension="Categoria",
            order=[(k, category_label(k)) for k in sorted(rcats, key=category_label)],
            parts=r_parts,
            min_count=ctx.min_count,
        )
    )
    paid = entries(EntryKind.reimbursement, LedgerEntry.amount_cents, [])
    view.tables.append(
        money_table(
            key="rimborsi_fonte",
            title="Rimborsi pagati per fonte del budget",
            dimension="Fonte",
            order=sources,
            parts=[("paid", "Pagati", *paid)],
            min_count=ctx.min_count,
        )
    )
    view.tables.append(expiring_table(ctx))
    return view


def expiring_table(ctx: Context) -> Table:
    """Budget still available on accounts that expire in the next 60 days, by source."""
    s = ctx.session
    until = ctx.now + timedelta(days=EXPIRY_DAYS)
    account = BudgetAccount.__table__
    source = FundingSource.__table__
    per_account = (
        select(
            LedgerEntry.account_id.label("account_id"),
            func.sum(LedgerEntry.amount_cents - LedgerEntry.held_cents).label("available"),
        )
        # only the accounts expiring in the window (index-only on ix_ledger_entry_balance)
        .where(
            LedgerEntry.account_id.in_(
                select(account.c.id).where(
                    account.c.expires_at >= ctx.now, account.c.expires_at < until
                )
            )
        )
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    where = [
        account.c.expires_at >= ctx.now,
        account.c.expires_at < until,
        per_account.c.available > 0,
        *citizen_filter(ctx, account.c.citizen_id),
    ]

    def joins(stmt: Any) -> Any:
        return (
            stmt.select_from(account)
            .join(per_account, per_account.c.account_id == account.c.id)
            .join(source, source.c.id == account.c.source_id)
        )

    numbers, amounts = tally_pair(
        s,
        key=source.c.kind,
        number=func.count(),
        amount=func.sum(per_account.c.available),
        people=account.c.citizen_id,
        where=where,
        joins=joins,
    )
    table = money_table(
        key="in_scadenza",
        title="Budget in scadenza nei prossimi 60 giorni (ancora disponibile)",
        dimension="Fonte",
        order=list(SOURCE_LABELS.items()),
        parts=[("expiring", "Conti", numbers, amounts)],
        min_count=ctx.min_count,
    )
    table.columns[0].label = "Conti"
    table.columns[1].label = "Disponibile (€)"
    table.note = "Dalla data di oggi, non dal periodo scelto."
    return table
