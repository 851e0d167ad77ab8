"""Assistenza: hand-offs by reason, waiting and first-response times, SLA, outcomes, CSAT."""

from __future__ import annotations

from statistics import median
from typing import Any

from care.handoff_models import OUTCOME_LABELS, PRIORITY_LABELS, Outcome
from monitoring.summaries.read import Reading, read
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
    NOT_GIVEN,
    NOT_GIVEN_LABEL,
    REASON_LABELS,
)
from monitoring.views.query import (
    Context,
    Count,
)
from monitoring.views.shaping import (
    cell_of,
    count_table,
    figure,
    ordered,
    percentile,
)

# --- Assistenza ------------------------------------------------------------------------------

Histogram = dict[Any, Count]  # (priority, minutes) -> (hand-offs, people)


def stat_cells(histogram: Histogram, priority: str | None, people: int) -> list[Cell]:
    """Median and 90th percentile of the minutes of one priority (None: all of them)."""
    numbers: list[float] = []
    for (prio, minutes), (n, _) in histogram.items():
        if priority is None or prio == priority:
            numbers.extend([float(minutes)] * n)
    mid = round(median(numbers), 1) if numbers else None
    p90 = percentile(numbers, 0.9)
    return [Cell(mid, people), Cell(round(p90, 1) if p90 is not None else None, people)]


def _times(reading: Reading) -> tuple[Histogram, dict[str, int]]:
    histogram = reading.counts("priority", "minutes")[0]
    people = {k: v[1] for k, v in reading.counts("priority")[0].items()}
    people["all"] = reading.total.people
    return histogram, people


def care_view(ctx: Context) -> View:
    """From the summaries: hand-offs by request day, outcomes by closing day, CSAT by answer."""
    s, q = ctx.session, ctx.quartiere
    previous = ctx.period.previous()
    handoffs = read(s, "handoff", ctx.period, q)
    by_reason = handoffs.counts("reason")
    by_reason_before = read(s, "handoff", previous, q).counts("reason")
    waits, wait_people = _times(read(s, "handoff_wait", ctx.period, q))
    replies, reply_people = _times(read(s, "handoff_reply", ctx.period, q))
    sla_reading = read(s, "handoff_sla", ctx.period, q)
    sla = sla_reading.counts("priority")[0]
    late = sla_reading.counts("priority", "late")[0]
    every_late = sla_reading.counts("late")[0].get("yes", (0, 0))

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
            Row(
                k,
                label,
                stat_cells(waits, None if k == "all" else k, wait_people.get(k, 0))
                + stat_cells(replies, None if k == "all" else k, reply_people.get(k, 0)),
            )
            for k, label in priorities
        ],
        chart="hbar",
        chart_columns=(0, 2),
    )
    view.tables.append(protect_table(times, ctx.min_count))
    sla_table = Table(
        key="sla",
        title="Tempo massimo di risposta (SLA)",
        dimension="Priorità",
        columns=[Column("due", "Con SLA"), Column("late", "Fuori SLA")],
        rows=[
            Row(
                k,
                label,
                [cell_of(sla.get(k)), cell_of(late.get((k, "yes")))],
            )
            for k, label in priorities[:3]
        ],
        total=Row(
            "total",
            "Totale",
            [cell_of(sla_reading.counts("priority")[1]), cell_of(every_late)],
        ),
        chart="bar",
        chart_columns=(0, 1),
    )
    view.tables.append(protect_table(sla_table, ctx.min_count))
    view.figures.append(figure("Fuori SLA", every_late, None, ctx))

    outcomes = read(s, "handoff_outcome", ctx.period, q).counts("outcome")
    view.tables.append(
        count_table(
            key="esiti",
            title="Esiti dei passaggi chiusi nel periodo",
            dimension="Esito",
            order=[(o.value, OUTCOME_LABELS[o]) for o in Outcome]
            + [
                (k, NOT_GIVEN_LABEL if k == NOT_GIVEN else k)
                for k in outcomes[0]
                if k not in set(Outcome)
            ],
            current=outcomes[0],
            total=outcomes[1],
            min_count=ctx.min_count,
        )
    )
    csat_reading = read(s, "csat", ctx.period, q)
    csat = csat_reading.counts("score")
    answers = csat_reading.total
    mean = (round(answers.amount / answers.value, 2) if answers.value else 0, answers.people)
    view.figures.append(
        figure(
            "Soddisfazione media (1-3)",
            mean,
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
            order=[(str(k), label) for k, label in CSAT_LABELS.items()],
            current=csat[0],
            total=csat[1],
            min_count=ctx.min_count,
            chart="bar",
        )
    )
    emergencies = handoffs.counts("priority")[0].get("top", (0, 0))
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
                [cell_of(emergencies), *stat_cells(waits, "top", wait_people.get("top", 0))],
            )
        ],
        chart="none",
    )
    view.tables.append(protect_table(emergency, ctx.min_count))
    return view
