"""Uso: conversations and messages by channel, day and hour; new and returning; consent."""

from __future__ import annotations

from monitoring.summaries.read import per_day as read_per_day
from monitoring.summaries.read import read
from monitoring.tables import Column, Row, Table, View, protect_table
from monitoring.views.labels import CHANNEL_LABELS
from monitoring.views.query import Context, Count
from monitoring.views.shaping import cell_of, count_table, figure

HOUR = "@hour"


def use_view(ctx: Context) -> View:
    """From the summaries (``monitoring.summaries``): each metric read once per period."""
    s, q = ctx.session, ctx.quartiere
    previous = ctx.period.previous()
    conv_now = read(s, "conversations", ctx.period, q).counts("channel")
    conv_before = read(s, "conversations", previous, q).counts("channel")
    inbound = read(s, "inbound", ctx.period, q)
    msg_now = inbound.counts("channel")
    msg_before = read(s, "inbound", previous, q).counts("channel")
    outbound = read(s, "outbound", ctx.period, q).counts("channel")
    hours = read(s, "inbound_hour", ctx.period, q).counts(HOUR)[0]
    days = read_per_day(s, "inbound", ctx.period, q)
    # new: their first message (of what is kept) is in the period; returning: wrote before
    active, new = inbound.total.people, inbound.total.first_people
    kinds: tuple[dict[str, Count], Count] = (
        {"new": (new, new), "returning": (active - new, active - new)},
        (active, active),
    )

    def happened(metric: str) -> Count:
        total = read(s, metric, ctx.period, q).total
        return total.value, total.people

    consent_yes, consent_no = happened("consent_yes"), happened("consent_no")
    subs_on, subs_off = happened("subs_on"), happened("subs_off")

    view = View(
        key="uso",
        title="Uso",
        intro="Conversazioni e messaggi per canale, giorno e ora; cittadini nuovi e di "
        "ritorno; consenso; iscrizioni agli avvisi.",
        figures=[
            figure("Conversazioni nuove", conv_now[1], conv_before[1], ctx),
            figure("Messaggi dei cittadini", msg_now[1], msg_before[1], ctx),
            figure("Consensi dati", consent_yes, None, ctx),
            figure("Consensi rifiutati", consent_no, None, ctx),
        ],
    )
    channels = [(c, CHANNEL_LABELS[c]) for c in CHANNEL_LABELS]
    by_channel = [
        ("conversazioni_canale", "Conversazioni nuove per canale", conv_now, conv_before, ""),
        ("messaggi_canale", "Messaggi dei cittadini per canale", msg_now, msg_before, ""),
        (
            "risposte_canale",
            "Messaggi inviati ai cittadini per canale",
            outbound,
            None,
            "Risposte dell'assistente, dei Care Manager e del sistema.",
        ),
    ]
    for key, title, now_counts, before_counts, note in by_channel:
        view.tables.append(
            count_table(
                key=key,
                title=title,
                dimension="Canale",
                order=channels,
                current=now_counts[0],
                total=now_counts[1],
                previous=before_counts,
                min_count=ctx.min_count,
                chart="bar",
                note=note,
            )
        )
    per_day = (days, msg_now[1])
    view.tables.append(
        count_table(
            key="messaggi_giorno",
            title="Messaggi dei cittadini per giorno",
            dimension="Giorno",
            order=[(d.isoformat(), d.strftime("%d/%m")) for d in ctx.period.day_list()],
            current=per_day[0],
            total=per_day[1],
            min_count=ctx.min_count,
            chart="line",
        )
    )
    per_hour = (hours, msg_now[1])
    view.tables.append(
        count_table(
            key="messaggi_ora",
            title="Messaggi dei cittadini per ora del giorno",
            dimension="Ora",
            order=[(f"{h:02d}", f"{h:02d}:00") for h in range(24)],
            current=per_hour[0],
            total=per_hour[1],
            min_count=ctx.min_count,
            chart="bar",
        )
    )
    view.tables.append(
        count_table(
            key="nuovi_ritorno",
            title="Cittadini nuovi e di ritorno",
            dimension="Conversazioni che hanno scritto",
            order=[
                ("new", "Nuove: primo messaggio nel periodo"),
                ("returning", "Di ritorno: avevano già scritto prima"),
            ],
            current=kinds[0],
            total=kinds[1],
            min_count=ctx.min_count,
        )
    )
    consent = Table(
        key="consenso_avvisi",
        title="Consenso e iscrizioni agli avvisi",
        dimension="Evento",
        columns=[Column("current", "Nel periodo", additive=False)],
        rows=[
            Row("consent_yes", "Consenso dato", [cell_of(consent_yes)]),
            Row("consent_no", "Consenso rifiutato", [cell_of(consent_no)]),
            Row("subs_on", "Iscrizioni agli avvisi", [cell_of(subs_on)]),
            Row("subs_off", "Stop agli avvisi", [cell_of(subs_off)]),
        ],
        chart="hbar",
    )
    view.tables.append(protect_table(consent, ctx.min_count))
    return view
