"""Bisogni: requests by category and quartiere, searches with no result, the needs map."""

from __future__ import annotations

from typing import Any

from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORY_LABELS
from monitoring.period import Period
from monitoring.summaries.read import Reading, read
from monitoring.tables import (
    Column,
    Row,
    Table,
    View,
    protect_grid,
)
from monitoring.views.labels import (
    NOT_GIVEN,
    category_label,
    quartiere_label,
)
from monitoring.views.query import (
    Context,
)
from monitoring.views.shaping import (
    cell_of,
    count_table,
    figure,
)

# --- Bisogni -------------------------------------------------------------------------------


def unmet(ctx: Context, period: Period) -> Reading:
    """Unmet needs of the period from the summaries: by category, quartiere and both."""
    return read(ctx.session, "unmet", period, ctx.quartiere)


def requests(ctx: Context, period: Period) -> tuple[Any, Any]:
    """Requests by category (of the conversations that named the quartiere, when filtered)
    and by the quartiere of the neighbourhood named, from the summaries of Rasa's slots."""
    places = read(ctx.session, "slot_place", period, None).counts("quartiere")
    by_q, places_total = places
    if ctx.quartiere:
        by_q = {ctx.quartiere: by_q.get(ctx.quartiere, (0, 0))}
        places_total = by_q[ctx.quartiere]
    by_cat = read(ctx.session, "slot_category", period, ctx.quartiere).counts("category")
    return by_cat, (by_q, places_total)


def needs_view(ctx: Context) -> View:
    previous = ctx.period.previous()
    by_cat, by_q = requests(ctx, ctx.period)
    by_cat_before, by_q_before = requests(ctx, previous)
    unmet_reading = unmet(ctx, ctx.period)
    unmet_now = unmet_reading.counts("category")
    unmet_before = unmet(ctx, previous).counts("category")
    view = View(
        key="bisogni",
        title="Bisogni",
        intro="Cosa cercano i cittadini, dove, e cosa il catalogo non ha saputo offrire.",
        figures=[
            figure("Richieste di servizi", by_cat[1], by_cat_before[1], ctx),
            figure("Ricerche senza risultato", unmet_now[1], unmet_before[1], ctx),
        ],
    )
    categories = set(CATEGORY_LABELS) | set(by_cat[0]) | set(by_cat_before[0])
    view.tables.append(
        count_table(
            key="richieste_categoria",
            title="Richieste di servizi per categoria",
            dimension="Categoria",
            order=[(k, category_label(k)) for k in sorted(categories, key=category_label)],
            current=by_cat[0],
            total=by_cat[1],
            previous=by_cat_before,
            min_count=ctx.min_count,
            keep_empty=False,
        )
    )
    view.tables.append(
        count_table(
            key="richieste_quartiere",
            title="Quartieri indicati nelle ricerche",
            dimension="Quartiere",
            note="Ogni volta che una ricerca nomina una zona; «Non indicato»: zona non "
            "riconosciuta.",
            order=[(q, quartiere_label(q)) for q in [*QUARTIERI, NOT_GIVEN]],
            current=by_q[0],
            total=by_q[1],
            previous=by_q_before,
            min_count=ctx.min_count,
            chart="bar",
        )
    )
    unmet_categories = set(unmet_now[0]) | set(unmet_before[0])
    view.tables.append(
        count_table(
            key="senza_risultato",
            title="Ricerche senza risultato per categoria",
            dimension="Categoria",
            order=[(k, category_label(k)) for k in sorted(unmet_categories, key=category_label)],
            current=unmet_now[0],
            total=unmet_now[1],
            previous=unmet_before,
            min_count=ctx.min_count,
            note="Ricerche a cui il catalogo non ha risposto, o solo allargando i filtri.",
        )
    )
    view.tables.append(unmet_grid(ctx, unmet_reading))
    return view


def unmet_grid(ctx: Context, reading: Reading) -> Table:
    """Unmet needs by category x quartiere: the needs map (each cell, each row and column
    total with its own distinct people)."""
    quartieri = [ctx.quartiere] if ctx.quartiere else [*QUARTIERI, NOT_GIVEN]
    cells = reading.counts("category", "quartiere")[0]
    row_totals, everything = reading.counts("category")
    col_totals = reading.counts("quartiere")[0]
    columns = [Column(qq, qq if qq != NOT_GIVEN else "n.i.") for qq in quartieri]
    columns.append(Column("total", "Totale"))
    rows = []
    for c in sorted(row_totals, key=category_label):
        row_cells = [cell_of(cells.get((c, qq))) for qq in quartieri] + [cell_of(row_totals[c])]
        rows.append(Row(str(c), category_label(c), row_cells))
    totals = [cell_of(col_totals.get(qq)) for qq in quartieri] + [cell_of(everything)]
    table = Table(
        key="mappa_bisogni",
        title="Mappa dei bisogni non soddisfatti: categoria e quartiere",
        dimension="Categoria",
        columns=columns,
        rows=rows,
        total=Row("total", "Totale", totals),
        chart="grid",
        chart_columns=tuple(range(len(quartieri))),
        note="Q1 Centro Storico, Q2 Campo di Marte, Q3 Gavinana-Galluzzo, "
        "Q4 Isolotto-Legnaia, Q5 Rifredi; n.i. quartiere non indicato.",
    )
    return protect_grid(table, totals, ctx.min_count)
