"""Uso: conversations and messages by channel, day and hour; new and returning; consent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from broadcast.models import Subscription
from conversations.models import Conversation, Direction, Message
from monitoring import sql
from monitoring.period import Period
from monitoring.tables import (
    Column,
    Row,
    Table,
    View,
    protect_table,
)
from monitoring.views.labels import (
    CHANNEL_LABELS,
)
from monitoring.views.query import (
    Context,
    Count,
    between,
    conv_filter,
    tally,
    tally_many,
)
from monitoring.views.shaping import (
    cell_of,
    count_table,
    figure,
)

# --- Uso -----------------------------------------------------------------------------------


def inbound_where(ctx: Context, period: Period) -> list[ColumnElement[bool]]:
    return [
        Message.direction == Direction.inbound.value,  # always the citizen's
        *between(Message.created_at, period),
        *conv_filter(ctx, Message.conversation_id),
    ]


def use_view(ctx: Context) -> View:
    s = ctx.session
    sql.prepare(s)
    previous = ctx.period.previous()

    def new_convs(period: Period) -> tuple[dict[Any, Count], Count]:
        return tally(
            s,
            key=Conversation.channel,
            value=func.count(),
            people=Conversation.conversation_id,
            where=[
                *between(Conversation.created_at, period),
                *conv_filter(ctx, Conversation.conversation_id),
            ],
        )

    def inbound(period: Period) -> tuple[dict[Any, Count], Count]:
        return tally(
            s,
            key=Message.channel,
            value=func.count(),
            people=Message.conversation_id,
            where=inbound_where(ctx, period),
        )

    conv_now, conv_before = new_convs(ctx.period), new_convs(previous)
    # the period's citizen messages, read once: by channel, by day and by hour of the day
    inbound_now, inbound_total = tally_many(
        s,
        keys={
            "channel": Message.channel,
            "day": sql.local(s, Message.created_at, "day"),
            "hour": sql.local(s, Message.created_at, "hour"),
        },
        value=func.count(),
        people=Message.conversation_id,
        where=inbound_where(ctx, ctx.period),
    )
    msg_now = (inbound_now["channel"], inbound_total)
    msg_before = inbound(previous)
    outbound = tally(
        s,
        key=Message.channel,
        value=func.count(),
        people=Message.conversation_id,
        where=[
            Message.direction == Direction.outbound.value,
            *between(Message.created_at, ctx.period),
            *conv_filter(ctx, Message.conversation_id),
        ],
    )
    # new and returning: conversations that wrote in the period, by when they started
    started = case((Conversation.created_at >= ctx.period.start, "new"), else_="returning")
    kinds = tally(
        s,
        key=started,
        value=func.count(Conversation.conversation_id.distinct()),
        people=Conversation.conversation_id,
        where=[
            Conversation.conversation_id.in_(
                select(Message.conversation_id).where(*inbound_where(ctx, ctx.period))
            )
        ],
    )

    def happened(moment: Any, who: Any) -> Count:
        """How many rows have ``moment`` in the period, and their conversations."""
        return tally(
            s,
            key=literal("all"),
            value=func.count(),
            people=who,
            where=[*between(moment, ctx.period), *conv_filter(ctx, who)],
        )[1]

    consent_yes = happened(Conversation.consent_at, Conversation.conversation_id)
    consent_no = happened(Conversation.consent_declined_at, Conversation.conversation_id)
    subs_on = happened(Subscription.created_at, Subscription.conversation_id)
    subs_off = happened(Subscription.stopped_at, Subscription.conversation_id)

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
    per_day = (inbound_now["day"], inbound_total)
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
    per_hour = (inbound_now["hour"], inbound_total)
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
            order=[("new", "Nuove nel periodo"), ("returning", "Di ritorno (iniziate prima)")],
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
