"""Assistenza: hand-offs by reason, waiting and first-response times, SLA, outcomes, CSAT."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import func, select

from care.handoff_models import OUTCOME_LABELS, PRIORITY_LABELS, CsatAnswer, Handoff, Outcome
from monitoring import tracker
from monitoring.tables import (
    Cell,
    Column,
    Row,
    Table,
    Unit,
    View,
    protect_table,
)
from monitoring.views.labels import (
    CSAT_LABELS,
    NOT_GIVEN_LABEL,
    REASON_LABELS,
)
from monitoring.views.query import (
    Context,
    Count,
    between,
    conv_filter,
    tally,
)
from monitoring.views.shaping import (
    count_table,
    figure,
    ordered,
    percentile,
)

# --- Assistenza ------------------------------------------------------------------------------


def minutes_between(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return max(0.0, (b - a).total_seconds() / 60)


def stat_cells(values: list[tuple[str, float]]) -> list[Cell]:
    people = len({cid for cid, _ in values})
    numbers = [v for _, v in values]
    mid = round(median(numbers), 1) if numbers else None
    p90 = percentile(numbers, 0.9)
    return [Cell(mid, people), Cell(round(p90, 1) if p90 is not None else None, people)]


def care_view(ctx: Context) -> View:
    s = ctx.session
    previous = ctx.period.previous()
    where = [
        *between(Handoff.requested_at, ctx.period),
        *conv_filter(ctx, Handoff.conversation_id),
    ]
    where_before = [
        *between(Handoff.requested_at, previous),
        *conv_filter(ctx, Handoff.conversation_id),
    ]

    def reasons(conds: list[Any]) -> tuple[dict[Any, Count], Count]:
        return tally(
            s, key=Handoff.reason, value=func.count(), people=Handoff.conversation_id, where=conds
        )

    by_reason, by_reason_before = reasons(where), reasons(where_before)
    rows = s.execute(
        select(
            Handoff.conversation_id,
            Handoff.priority,
            Handoff.requested_at,
            Handoff.claimed_at,
            Handoff.first_reply_at,
            Handoff.sla_due_at,
        ).where(*where)
    ).all()
    waits: dict[str, list[tuple[str, float]]] = defaultdict(list)
    replies: dict[str, list[tuple[str, float]]] = defaultdict(list)
    sla: dict[str, tracker.Tally] = defaultdict(tracker.Tally)
    breached: dict[str, tracker.Tally] = defaultdict(tracker.Tally)
    for cid, priority, requested, claimed, replied, due in rows:
        for bucket in (priority, "all"):
            wait = minutes_between(requested, claimed)
            if wait is not None:
                waits[bucket].append((cid, wait))
            first = minutes_between(requested, replied)
            if first is not None:
                replies[bucket].append((cid, first))
        if due is not None:
            sla[priority].add(cid)
            late = (replied is None and ctx.now > due) or (replied is not None and replied > due)
            late_tally = breached[priority]  # the key is there even with no breach
            if late:
                late_tally.add(cid)

    view = View(
        key="assistenza",
        title="Assistenza",
        intro="Passaggi a un Care Manager: motivi, attese, tempi di prima risposta, SLA, "
        "esiti, soddisfazione ed emergenze.",
        figures=[figure("Passaggi a operatore", by_reason[1], by_reason_before[1], ctx)],
    )
    view.tables.append(
        count_table(
            key="motivi",
            title="Passaggi a operatore per motivo",
            dimension="Motivo",
            order=ordered(
                set(by_reason[0]) | set(by_reason_before[0]),
                lambda k: REASON_LABELS.get(k, k or NOT_GIVEN_LABEL),
            ),
            current=by_reason[0],
            total=by_reason[1],
            previous=by_reason_before,
            min_count=ctx.min_count,
        )
    )
    priorities = [("top", PRIORITY_LABELS["top"]), ("high", PRIORITY_LABELS["high"])]
    priorities += [("normal", PRIORITY_LABELS["normal"]), ("all", "Tutte")]
    times = Table(
        key="tempi",
        title="Attesa (fino alla presa in carico) e prima risposta, in minuti",
        dimension="Priorità",
        columns=[
            Column("wait_median", "Attesa mediana", Unit.minutes, additive=False),
            Column("wait_p90", "Attesa 90° percentile", Unit.minutes, additive=False),
            Column("reply_median", "Prima risposta mediana", Unit.minutes, additive=False),
            Column("reply_p90", "Prima risposta 90° percentile", Unit.minutes, additive=False),
        ],
        rows=[
            Row(k, label, stat_cells(waits.get(k, [])) + stat_cells(replies.get(k, [])))
            for k, label in priorities
        ],
        chart="hbar",
        chart_columns=(0, 2),
    )
    view.tables.append(protect_table(times, ctx.min_count))
    every_sla = tracker.Tally()
    every_late = tracker.Tally()
    for t in sla.values():
        every_sla.count += t.count
        every_sla.senders |= t.senders
    for t in breached.values():
        every_late.count += t.count
        every_late.senders |= t.senders
    sla_table = Table(
        key="sla",
        title="Tempo massimo di risposta (SLA)",
        dimension="Priorità",
        columns=[Column("due", "Con SLA"), Column("late", "Fuori SLA")],
        rows=[
            Row(
                k,
                label,
                [
                    Cell(sla[k].count, sla[k].people),
                    Cell(breached[k].count, breached[k].people),
                ],
            )
            for k, label in priorities[:3]
        ],
        total=Row(
            "total",
            "Totale",
            [Cell(every_sla.count, every_sla.people), Cell(every_late.count, every_late.people)],
        ),
        chart="bar",
        chart_columns=(0, 1),
    )
    view.tables.append(protect_table(sla_table, ctx.min_count))
    view.figures.append(figure("Fuori SLA", (every_late.count, every_late.people), None, ctx))

    closed = [*between(Handoff.closed_at, ctx.period), *conv_filter(ctx, Handoff.conversation_id)]
    outcomes = tally(
        s, key=Handoff.outcome, value=func.count(), people=Handoff.conversation_id, where=closed
    )
    view.tables.append(
        count_table(
            key="esiti",
            title="Esiti dei passaggi chiusi nel periodo",
            dimension="Esito",
            order=[(o.value, OUTCOME_LABELS[o]) for o in Outcome]
            + [(k, k or NOT_GIVEN_LABEL) for k in outcomes[0] if k not in set(Outcome)],
            current=outcomes[0],
            total=outcomes[1],
            min_count=ctx.min_count,
        )
    )
    answered = [
        *between(CsatAnswer.answered_at, ctx.period),
        *conv_filter(ctx, CsatAnswer.conversation_id),
        CsatAnswer.score.is_not(None),
    ]
    csat = tally(
        s,
        key=CsatAnswer.score,
        value=func.count(),
        people=CsatAnswer.conversation_id,
        where=answered,
    )
    mean = s.execute(
        select(func.avg(CsatAnswer.score), func.count(CsatAnswer.conversation_id.distinct())).where(
            *answered
        )
    ).one()
    view.figures.append(
        figure(
            "Soddisfazione media (1-3)",
            (round(float(mean[0]), 2) if mean[0] is not None else 0, int(mean[1])),
            None,
            ctx,
            Unit.score,
        )
    )
    view.tables.append(
        count_table(
            key="csat",
            title="Soddisfazione dopo la chiusura (CSAT)",
            dimension="Risposta",
            order=list(CSAT_LABELS.items()),
            current=csat[0],
            total=csat[1],
            min_count=ctx.min_count,
            chart="bar",
        )
    )
    emergencies = [
        (cid, minutes_between(req, claimed))
        for cid, priority, req, claimed, _, _ in rows
        if priority == "top"
    ]
    claimed_times = [(cid, m) for cid, m in emergencies if m is not None]
    emergency = Table(
        key="emergenze",
        title="Emergenze",
        dimension="",
        columns=[
            Column("count", "Emergenze"),
            Column("claim_median", "Presa in carico, mediana (min)", Unit.minutes, additive=False),
            Column(
                "claim_p90", "Presa in carico, 90° percentile (min)", Unit.minutes, additive=False
            ),
        ],
        rows=[
            Row(
                "top",
                "Nel periodo",
                [
                    Cell(len(emergencies), len({c for c, _ in emergencies})),
                    *stat_cells(claimed_times),
                ],
            )
        ],
        chart="none",
    )
    view.tables.append(protect_table(emergency, ctx.min_count))
    return view
