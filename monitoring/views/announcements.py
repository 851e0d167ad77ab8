"""Avvisi: reach, delivery failures and the opt-outs that followed."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select

from broadcast.models import Broadcast, Delivery, DeliveryStatus, Subscription
from monitoring.period import ROME
from monitoring.tables import (
    Column,
    Row,
    Table,
    View,
    protect_table,
)
from monitoring.views.labels import (
    OPT_OUT_DAYS,
)
from monitoring.views.query import (
    Context,
    Count,
    between,
)
from monitoring.views.shaping import (
    cell_of,
    figure,
)

# --- Avvisi ------------------------------------------------------------------------------


def broadcasts_view(ctx: Context) -> View:
    s = ctx.session
    sent = (DeliveryStatus.sent.value,)
    failed = (DeliveryStatus.failed.value, DeliveryStatus.blocked.value)
    items = s.execute(
        select(Broadcast.id, Broadcast.title, Broadcast.started_at, Broadcast.quartieri)
        .where(*between(Broadcast.started_at, ctx.period))
        .order_by(Broadcast.started_at)
    ).all()
    if ctx.quartiere:
        items = [b for b in items if not b.quartieri or ctx.quartiere in b.quartieri]
    ids = [b.id for b in items]
    reach: dict[Any, Count] = {}
    lost: dict[Any, Count] = {}
    stops: dict[Any, Count] = {}
    if ids:
        status_rows = s.execute(
            select(
                Delivery.broadcast_id,
                func.sum(case((Delivery.status.in_(sent), 1), else_=0)),
                func.sum(case((Delivery.status.in_(failed), 1), else_=0)),
            )
            .where(Delivery.broadcast_id.in_(ids))
            .group_by(Delivery.broadcast_id)
        ).all()
        for bid, n_sent, n_failed in status_rows:
            reach[bid] = (int(n_sent or 0), int(n_sent or 0))
            lost[bid] = (int(n_failed or 0), int(n_failed or 0))
        stop_rows = s.execute(
            select(Delivery.broadcast_id, Delivery.conversation_id, Subscription.stopped_at)
            .join(Subscription, Subscription.conversation_id == Delivery.conversation_id)
            .where(
                Delivery.broadcast_id.in_(ids),
                Delivery.status.in_(sent),
                Subscription.stopped_at.is_not(None),
            )
        ).all()
        started = {b.id: b.started_at for b in items}
        stopped: dict[Any, set[str]] = defaultdict(set)
        for bid, cid, at in stop_rows:
            if started[bid] <= at < started[bid] + timedelta(days=OPT_OUT_DAYS):
                stopped[bid].add(cid)
        stops = {bid: (len(c), len(c)) for bid, c in stopped.items()}

    def total(part: dict[Any, Count]) -> Count:
        return sum(v[0] for v in part.values()), sum(v[1] for v in part.values())

    rows = [
        Row(
            str(b.id),
            f"{b.title} ({b.started_at.astimezone(ROME):%d/%m})",
            [cell_of(reach.get(b.id)), cell_of(lost.get(b.id)), cell_of(stops.get(b.id))],
        )
        for b in items
    ]
    table = Table(
        key="avvisi",
        title="Avvisi inviati nel periodo",
        dimension="Avviso",
        columns=[
            Column("reach", "Consegnati"),
            Column("failed", "Non consegnati"),
            Column("stops", f"Stop agli avvisi nei {OPT_OUT_DAYS} giorni dopo"),
        ],
        rows=rows,
        total=Row(
            "total", "Totale", [cell_of(total(reach)), cell_of(total(lost)), cell_of(total(stops))]
        ),
        chart="hbar",
        chart_columns=(0, 1, 2),
        note="Il totale conta una persona per ogni avviso ricevuto.",
    )
    protect_table(table, ctx.min_count)
    return View(
        key="avvisi",
        title="Avvisi",
        intro="Quanti cittadini hanno ricevuto gli avvisi, le consegne non riuscite e gli "
        "stop agli avvisi arrivati dopo.",
        figures=[
            figure("Avvisi inviati", (len(items), sum(v[1] for v in reach.values())), None, ctx),
            figure("Consegne riuscite", total(reach), None, ctx),
        ],
        tables=[table],
    )
