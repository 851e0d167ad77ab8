"""Budget: vouchers and reimbursements by category and funding source; expiring budget."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from monitoring.period import ROME, Period
from monitoring.summaries.read import read
from monitoring.tables import (
    Table,
    Unit,
    View,
)
from monitoring.views.labels import (
    EXPIRY_DAYS,
    SOURCE_LABELS,
    category_label,
)
from monitoring.views.query import (
    Context,
)
from monitoring.views.shaping import (
    figure,
    money_table,
)


def budget_view(ctx: Context) -> View:
    """From the summaries, but the budget expiring: that one is read as of today."""

    def parts(*metrics: tuple[str, str, str], dim: str) -> list[Any]:
        found = []
        for key, label, metric in metrics:
            reading = read(ctx.session, metric, ctx.period, ctx.quartiere)
            found.append((key, label, reading.counts(dim), reading.amounts(dim)))
        return found

    by_cat_parts = parts(
        ("issued", "Emessi", "voucher_issued"),
        ("redeemed", "Usati", "voucher_redeemed"),
        ("cancelled", "Annullati", "voucher_cancelled"),
        dim="category",
    )
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
    # by funding source: the ledger operations of the vouchers' holds
    sources = list(SOURCE_LABELS.items())
    view.tables.append(
        money_table(
            key="voucher_fonte",
            title="Voucher per fonte del budget",
            dimension="Fonte",
            order=sources,
            parts=parts(
                ("issued", "Emessi", "hold_source"),
                ("redeemed", "Usati", "capture_source"),
                ("cancelled", "Annullati", "release_source"),
                dim="source",
            ),
            min_count=ctx.min_count,
        )
    )
    r_parts = parts(
        ("requested", "Richiesti", "reimbursement_requested"),
        ("approved", "Approvati", "reimbursement_approved"),
        ("rejected", "Respinti", "reimbursement_rejected"),
        dim="category",
    )
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
    view.tables.append(
        money_table(
            key="rimborsi_fonte",
            title="Rimborsi pagati per fonte del budget",
            dimension="Fonte",
            order=sources,
            parts=parts(("paid", "Pagati", "reimbursement_source"), dim="source"),
            min_count=ctx.min_count,
        )
    )
    view.tables.append(expiring_table(ctx))
    return view


def expiring_table(ctx: Context) -> Table:
    """Budget still available on accounts that expire in the next 60 days (today included,
    Europe/Rome days), by source: the summaries by expiry day, made again by every run of
    the job for the days ahead."""
    today = ctx.now.astimezone(ROME).date()
    coming = Period(today, today + timedelta(days=EXPIRY_DAYS - 1))
    reading = read(ctx.session, "budget_expiry", coming, ctx.quartiere)
    numbers, amounts = reading.counts("source"), reading.amounts("source")
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
