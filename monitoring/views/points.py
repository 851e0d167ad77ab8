"""Welcome Point: appointments booked, cancelled and moved, by place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from catalog.models import WelcomePlace
from monitoring.tables import (
    Column,
    Row,
    Table,
    View,
    protect_table,
)
from monitoring.views.query import (
    Context,
    Count,
    between,
    tally,
)
from monitoring.views.shaping import (
    cell_of,
    figure,
)
from welfare.models import (
    Appointment,
    AppointmentSlot,
)

# --- Welcome Point ---------------------------------------------------------------------------


def points_view(ctx: Context) -> View:
    s = ctx.session
    moved_from = Appointment.__table__.alias("moved_from")
    is_move = (
        select(moved_from.c.id)
        .where(
            moved_from.c.conversation_id == Appointment.conversation_id,
            moved_from.c.cancelled_at == Appointment.created_at,
            moved_from.c.id != Appointment.id,
        )
        .exists()
    )
    moved_to = Appointment.__table__.alias("moved_to")
    was_moved = (
        select(moved_to.c.id)
        .where(
            moved_to.c.conversation_id == Appointment.conversation_id,
            moved_to.c.created_at == Appointment.cancelled_at,
            moved_to.c.id != Appointment.id,
        )
        .exists()
    )
    place_filter = (
        [
            AppointmentSlot.place_code.in_(
                select(WelcomePlace.code).where(WelcomePlace.quartiere == ctx.quartiere)
            )
        ]
        if ctx.quartiere
        else []
    )

    def joins(stmt: Any) -> Any:
        return stmt.select_from(Appointment).join(
            AppointmentSlot, AppointmentSlot.id == Appointment.slot_id
        )

    def run(where: list[Any]) -> tuple[dict[Any, Count], Count]:
        return tally(
            s,
            key=AppointmentSlot.place_code,
            value=func.count(),
            people=Appointment.conversation_id,
            where=[*where, *place_filter],
            joins=joins,
        )

    booked = run([*between(Appointment.created_at, ctx.period), ~is_move])
    cancelled = run([*between(Appointment.cancelled_at, ctx.period), ~was_moved])
    moved = run([*between(Appointment.created_at, ctx.period), is_move])
    places = dict(s.execute(select(WelcomePlace.code, WelcomePlace.name)).all())
    codes = set(booked[0]) | set(cancelled[0]) | set(moved[0])
    order = [(c, places.get(c, c)) for c in sorted(codes, key=lambda c: places.get(c, c))]
    rows = [
        Row(
            str(c),
            label,
            [cell_of(booked[0].get(c)), cell_of(cancelled[0].get(c)), cell_of(moved[0].get(c))],
        )
        for c, label in order
    ]
    table = Table(
        key="appuntamenti",
        title="Appuntamenti ai Welcome Point",
        dimension="Luogo",
        columns=[
            Column("booked", "Prenotati"),
            Column("cancelled", "Annullati"),
            Column("moved", "Spostati"),
        ],
        rows=rows,
        total=Row(
            "total", "Totale", [cell_of(booked[1]), cell_of(cancelled[1]), cell_of(moved[1])]
        ),
        chart="hbar",
        chart_columns=(0, 1, 2),
    )
    return View(
        key="punti",
        title="Welcome Point",
        intro="Appuntamenti prenotati, annullati e spostati, per luogo.",
        figures=[
            figure("Appuntamenti prenotati", booked[1], None, ctx),
            figure("Annullati", cancelled[1], None, ctx),
            figure("Spostati", moved[1], None, ctx),
        ],
        tables=[protect_table(table, ctx.min_count)],
    )
