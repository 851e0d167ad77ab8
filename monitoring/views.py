"""The monitoring views: aggregates of every domain for a period, never a person.

Each ``*_view(ctx)`` returns a ``monitoring.tables.View`` whose cells carry their figure and
the distinct people behind it, already protected by the small-count rule
(``monitoring.tables``). People are conversations (the assistant's side) or citizens (the
budget's side). A quartiere filter keeps what belongs to that quartiere: unmet needs and
searches that named it, Welcome Points in it, citizens living there (budget), conversations
linked to a citizen living there (use, understanding, care), announcements sent to it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import case, func, literal, select, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from broadcast.models import Broadcast, Delivery, DeliveryStatus, Subscription
from care.handoff_models import OUTCOME_LABELS, PRIORITY_LABELS, CsatAnswer, Handoff, Outcome
from care.models import ConversationFlag, FlagKind
from catalog.areas import QUARTIERI
from catalog.models import UnmetNeed, WelcomePlace
from catalog.vocabulary import CATEGORY_LABELS
from conversations.models import Conversation, Direction, Message
from monitoring import sql, tracker
from monitoring.period import ROME, Period
from monitoring.tables import (
    Cell,
    Column,
    Figure,
    Row,
    Table,
    Unit,
    View,
    primary,
    protect_grid,
    protect_table,
)
from welfare.ledger.models import (
    BudgetAccount,
    Citizen,
    ConversationLink,
    EntryKind,
    FundingSource,
    LedgerEntry,
)
from welfare.models import (
    Appointment,
    AppointmentSlot,
    Reimbursement,
    ReimbursementStatus,
    Voucher,
    VoucherStatus,
)

NOT_GIVEN = "-"
NOT_GIVEN_LABEL = "Non indicato"
EXPIRY_DAYS = 60
OPT_OUT_DAYS = 7
TOP_INTENTS = 12

CHANNEL_LABELS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "webchat": "Chat web"}
SOURCE_LABELS = {"public": "Budget pubblico", "employer": "Welfare aziendale"}
REASON_LABELS = {
    "requested": "Chiesto dal cittadino",
    "emergency": "Possibile emergenza",
    "bot_failure": "L'assistente non ha capito",
    "two_fallbacks": "L'assistente non ha capito",
    "recovered": "Ripreso dopo un riavvio",
}
CSAT_LABELS = {3: "Bene", 2: "Così così", 1: "Male"}
INTENT_LABELS = {
    "greet": "Saluto",
    "goodbye": "Congedo",
    "thank": "Ringraziamento",
    "affirm": "Sì",
    "deny": "No",
    "inform": "Dà un'informazione",
    "help": "Chiede aiuto",
    "bot_challenge": "Chiede se è un bot",
    "search_service": "Cerca un servizio",
    "service_details": "Dettagli di un servizio",
    "book_service": "Prenota un servizio",
    "check_budget": "Saldo del budget",
    "list_transactions": "Movimenti del budget",
    "request_reimbursement": "Chiede un rimborso",
    "request_status": "Stato di una richiesta",
    "book_appointment": "Appuntamento al Welcome Point",
    "find_welcome_point": "Cerca un Welcome Point",
    "human_handoff": "Chiede un operatore",
    "subscribe_news": "Iscrizione agli avvisi",
    "unsubscribe_news": "Stop agli avvisi",
    "privacy_info": "Informazioni sulla privacy",
    "forget_me": "Cancellazione dei dati",
    "emergency": "Emergenza",
    "out_of_scope": "Fuori tema",
    "nlu_fallback": "Non capito",
    "more_results": "Altri risultati",
    "link_account": "Collega il budget",
    "pay_with_budget": "Paga con il budget",
    "confirm_payment": "Conferma il pagamento",
    "cancel_voucher": "Annulla un voucher",
    "choose_slot": "Sceglie un orario",
    "book_slot": "Prenota un orario",
    "cancel_appointment": "Annulla un appuntamento",
    "confirm_reimbursement": "Conferma il rimborso",
}

Count = tuple[int, int]  # (value, people)


@dataclass
class Context:
    session: Session
    period: Period
    now: datetime
    min_count: int = 5
    quartiere: str | None = None  # Q1..Q5
    tracker: Engine | None = None


def category_label(slug: str | None) -> str:
    if not slug or slug == NOT_GIVEN:
        return "Categoria non capita"
    return CATEGORY_LABELS.get(slug, slug)


def quartiere_label(code: str | None) -> str:
    if not code or code == NOT_GIVEN:
        return NOT_GIVEN_LABEL
    return f"{code} {QUARTIERI.get(code, '')}".strip()


# --- helpers -----------------------------------------------------------------------------


def _between(column: Any, period: Period) -> list[ColumnElement[bool]]:
    return [column >= period.start, column < period.end]


def _tally(
    session: Session,
    *,
    key: Any,
    value: Any,
    people: Any,
    where: Iterable[Any],
    joins: Callable[[Any], Any] = lambda s: s,
) -> tuple[dict[Any, Count], Count]:
    """Grouped (value, distinct people) by ``key``, and the same over everything."""
    groups, total = _tally_many(
        session, keys={"k": key}, value=value, people=people, where=where, joins=joins
    )
    return groups["k"], total


def _tally_many(
    session: Session,
    *,
    keys: dict[str, Any],
    value: Any,
    people: Any,
    where: Iterable[Any],
    joins: Callable[[Any], Any] = lambda s: s,
) -> tuple[dict[str, dict[Any, Count]], Count]:
    """Like ``_tally`` for several groupings of the same rows."""
    groups, total = _grouped(
        session, keys=keys, values=[value], people=people, where=where, joins=joins
    )
    return (
        {name: {k: (v[0], p) for k, (v, p) in rows.items()} for name, rows in groups.items()},
        (total[0][0], total[1]),
    )


def _tally_pair(
    session: Session,
    *,
    key: Any,
    number: Any,
    amount: Any,
    people: Any,
    where: Iterable[Any],
    joins: Callable[[Any], Any] = lambda s: s,
) -> tuple[tuple[dict[Any, Count], Count], tuple[dict[Any, Count], Count]]:
    """A count and an amount of the same rows, grouped by ``key``, in one reading."""
    groups, total = _grouped(
        session, keys={"k": key}, values=[number, amount], people=people, where=where, joins=joins
    )
    rows = groups["k"]
    return (
        ({k: (v[0], p) for k, (v, p) in rows.items()}, (total[0][0], total[1])),
        ({k: (v[1], p) for k, (v, p) in rows.items()}, (total[0][1], total[1])),
    )


Values = tuple[list[int], int]  # (values, people)
Pair = tuple[tuple[dict[Any, Count], Count], tuple[dict[Any, Count], Count]]


def _grouped(
    session: Session,
    *,
    keys: dict[str, Any],
    values: list[Any],
    people: Any,
    where: Iterable[Any],
    joins: Callable[[Any], Any],
) -> tuple[dict[str, dict[Any, Values]], Values]:
    """Figures (``values`` and distinct ``people``) of the rows matching ``where``, grouped
    by each of ``keys`` and over everything. PostgreSQL reads the rows once (GROUPING SETS,
    the total being the empty set); SQLite runs one query per grouping."""
    conds = list(where)
    people_n = func.count(people.distinct())
    n = len(values)

    def parse(row: Any) -> Values:
        return [int(x or 0) for x in row[-n - 1 : -1]], int(row[-1])

    groups: dict[str, dict[Any, Values]] = {name: {} for name in keys}
    if sql.is_sqlite(session):
        for name, key in keys.items():
            rows = session.execute(
                joins(select(key, *values, people_n)).where(*conds).group_by(key)
            ).all()
            groups[name] = {row[0]: parse(row) for row in rows}
        total = session.execute(joins(select(*values, people_n)).where(*conds)).one()
        return groups, parse(total)
    exprs = list(keys.values())
    flags = [func.grouping(e) for e in exprs]
    stmt = (
        joins(select(*flags, *exprs, *values, people_n))
        .where(*conds)
        .group_by(func.grouping_sets(*exprs, tuple_()))
    )
    total_values: Values = ([0] * n, 0)
    names = list(keys)
    for row in session.execute(stmt).all():
        marks = list(row[: len(exprs)])
        if all(marks):
            total_values = parse(row)
            continue
        index = marks.index(0)
        groups[names[index]][row[len(exprs) + index]] = parse(row)
    return groups, total_values


def _linked_to_quartiere(conversation_column: Any, quartiere: str) -> ColumnElement[bool]:
    """The conversation is linked (now or once) to a citizen living in the quartiere."""
    linked = (
        select(ConversationLink.conversation_id)
        .join(Citizen, Citizen.id == ConversationLink.citizen_id)
        .where(Citizen.quartiere == quartiere)
    )
    return conversation_column.in_(linked)


def _conv_filter(ctx: Context, column: Any) -> list[ColumnElement[bool]]:
    return [_linked_to_quartiere(column, ctx.quartiere)] if ctx.quartiere else []


def _cell(count: Count | None) -> Cell:
    value, people = count or (0, 0)
    return Cell(value, people)


def count_table(
    *,
    key: str,
    title: str,
    dimension: str,
    order: Iterable[tuple[Any, str]],
    current: dict[Any, Count],
    total: Count,
    previous: tuple[dict[Any, Count], Count] | None = None,
    label: str = "Nel periodo",
    unit: Unit = Unit.count,
    chart: str = "hbar",
    note: str = "",
    min_count: int,
    keep_empty: bool = True,
) -> Table:
    """A one-dimensional table of counts (and the previous period's), with its total."""
    columns = [Column("current", label, unit)]
    if previous is not None:
        columns.append(Column("previous", "Periodo precedente", unit))
    rows = []
    for k, text in order:
        if not keep_empty and k not in current and (previous is None or k not in previous[0]):
            continue
        cells = [_cell(current.get(k))]
        if previous is not None:
            cells.append(_cell(previous[0].get(k)))
        rows.append(Row(str(k), text, cells))
    total_cells = [_cell(total)] + ([_cell(previous[1])] if previous is not None else [])
    table = Table(
        key=key,
        title=title,
        dimension=dimension,
        columns=columns,
        rows=rows,
        total=Row("total", "Totale", total_cells),
        chart=chart,
        note=note,
    )
    return protect_table(table, min_count)


def _ordered(keys: Iterable[Any], labels: Callable[[Any], str]) -> list[tuple[Any, str]]:
    return [(k, labels(k)) for k in sorted(keys, key=lambda k: (k is None, str(k)))]


def _figure(
    label: str, current: Count, previous: Count | None, ctx: Context, unit: Unit = Unit.count
) -> Figure:
    cur = _cell(current)
    prev = _cell(previous) if previous is not None else None
    primary([cur, *([prev] if prev else [])], ctx.min_count)
    return Figure(label, cur, prev, unit)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


# --- Bisogni -------------------------------------------------------------------------------


def _unmet(ctx: Context, period: Period) -> tuple[dict[Any, Count], Count]:
    where = _between(UnmetNeed.created_at, period)
    if ctx.quartiere:
        where.append(UnmetNeed.quartiere == ctx.quartiere)
    return _tally(
        ctx.session,
        key=func.coalesce(UnmetNeed.category, NOT_GIVEN),
        value=func.count(),
        people=UnmetNeed.conversation_id,
        where=where,
    )


def _requests(ctx: Context, period: Period) -> tuple[Any, Any]:
    """Requests by category (of the conversations that named the quartiere, when filtered)
    and by the quartiere of the neighbourhood named, from Rasa's slots."""
    places, places_total = tracker.slot_values(ctx.tracker, period, "neighbourhood")
    by_q: dict[str, Count] = {}
    names: dict[str, list[str]] = defaultdict(list)
    for name, (n, people) in places.items():
        q = tracker.quartiere_of(name)
        names[q].append(name)
        before = by_q.get(q, (0, 0))
        # people of one quartiere named in several ways: the largest, a lower bound (the
        # small-count rule then errs on the side of hiding)
        by_q[q] = (before[0] + n, max(before[1], people))
    if ctx.quartiere:
        by_q = {ctx.quartiere: by_q.get(ctx.quartiere, (0, 0))}
        places_total = by_q[ctx.quartiere]
    named = names.get(ctx.quartiere, []) if ctx.quartiere else None
    by_cat = tracker.slot_values(ctx.tracker, period, "service_category", named=named)
    return by_cat, (by_q, places_total)


def needs_view(ctx: Context) -> View:
    previous = ctx.period.previous()
    by_cat, by_q = _requests(ctx, ctx.period)
    by_cat_before, by_q_before = _requests(ctx, previous)
    unmet_now, unmet_before = _unmet(ctx, ctx.period), _unmet(ctx, previous)
    view = View(
        key="bisogni",
        title="Bisogni",
        intro="Cosa cercano i cittadini, dove, e cosa il catalogo non ha saputo offrire.",
        figures=[
            _figure("Richieste di servizi", by_cat[1], by_cat_before[1], ctx),
            _figure("Ricerche senza risultato", unmet_now[1], unmet_before[1], ctx),
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
    view.tables.append(unmet_grid(ctx))
    return view


def unmet_grid(ctx: Context) -> Table:
    """Unmet needs by category x quartiere: the needs map."""
    where = _between(UnmetNeed.created_at, ctx.period)
    quartieri = [ctx.quartiere] if ctx.quartiere else [*QUARTIERI, NOT_GIVEN]
    if ctx.quartiere:
        where.append(UnmetNeed.quartiere == ctx.quartiere)
    cat = func.coalesce(UnmetNeed.category, NOT_GIVEN)
    q = func.coalesce(UnmetNeed.quartiere, NOT_GIVEN)
    session = ctx.session
    cells = {
        (c, qq): (int(n), int(p))
        for c, qq, n, p in session.execute(
            select(cat, q, func.count(), func.count(UnmetNeed.conversation_id.distinct()))
            .where(*where)
            .group_by(cat, q)
        ).all()
    }
    row_totals, everything = _tally(
        session, key=cat, value=func.count(), people=UnmetNeed.conversation_id, where=where
    )
    col_totals, _ = _tally(
        session, key=q, value=func.count(), people=UnmetNeed.conversation_id, where=where
    )
    columns = [Column(qq, qq if qq != NOT_GIVEN else "n.i.") for qq in quartieri]
    columns.append(Column("total", "Totale"))
    rows = []
    for c in sorted(row_totals, key=category_label):
        row_cells = [_cell(cells.get((c, qq))) for qq in quartieri] + [_cell(row_totals[c])]
        rows.append(Row(str(c), category_label(c), row_cells))
    totals = [_cell(col_totals.get(qq)) for qq in quartieri] + [_cell(everything)]
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


# --- Uso -----------------------------------------------------------------------------------


def _inbound(ctx: Context, period: Period) -> list[ColumnElement[bool]]:
    return [
        Message.direction == Direction.inbound.value,  # always the citizen's
        *_between(Message.created_at, period),
        *_conv_filter(ctx, Message.conversation_id),
    ]


def use_view(ctx: Context) -> View:
    s = ctx.session
    sql.prepare(s)
    previous = ctx.period.previous()

    def new_convs(period: Period) -> tuple[dict[Any, Count], Count]:
        return _tally(
            s,
            key=Conversation.channel,
            value=func.count(),
            people=Conversation.conversation_id,
            where=[
                *_between(Conversation.created_at, period),
                *_conv_filter(ctx, Conversation.conversation_id),
            ],
        )

    def inbound(period: Period) -> tuple[dict[Any, Count], Count]:
        return _tally(
            s,
            key=Message.channel,
            value=func.count(),
            people=Message.conversation_id,
            where=_inbound(ctx, period),
        )

    conv_now, conv_before = new_convs(ctx.period), new_convs(previous)
    # the period's citizen messages, read once: by channel, by day and by hour of the day
    inbound_now, inbound_total = _tally_many(
        s,
        keys={
            "channel": Message.channel,
            "day": sql.local(s, Message.created_at, "day"),
            "hour": sql.local(s, Message.created_at, "hour"),
        },
        value=func.count(),
        people=Message.conversation_id,
        where=_inbound(ctx, ctx.period),
    )
    msg_now = (inbound_now["channel"], inbound_total)
    msg_before = inbound(previous)
    outbound = _tally(
        s,
        key=Message.channel,
        value=func.count(),
        people=Message.conversation_id,
        where=[
            Message.direction == Direction.outbound.value,
            *_between(Message.created_at, ctx.period),
            *_conv_filter(ctx, Message.conversation_id),
        ],
    )
    # new and returning: conversations that wrote in the period, by when they started
    started = case((Conversation.created_at >= ctx.period.start, "new"), else_="returning")
    kinds = _tally(
        s,
        key=started,
        value=func.count(Conversation.conversation_id.distinct()),
        people=Conversation.conversation_id,
        where=[
            Conversation.conversation_id.in_(
                select(Message.conversation_id).where(*_inbound(ctx, ctx.period))
            )
        ],
    )

    def happened(moment: Any, who: Any) -> Count:
        """How many rows have ``moment`` in the period, and their conversations."""
        return _tally(
            s,
            key=literal("all"),
            value=func.count(),
            people=who,
            where=[*_between(moment, ctx.period), *_conv_filter(ctx, who)],
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
            _figure("Conversazioni nuove", conv_now[1], conv_before[1], ctx),
            _figure("Messaggi dei cittadini", msg_now[1], msg_before[1], ctx),
            _figure("Consensi dati", consent_yes, None, ctx),
            _figure("Consensi rifiutati", consent_no, None, ctx),
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
            Row("consent_yes", "Consenso dato", [_cell(consent_yes)]),
            Row("consent_no", "Consenso rifiutato", [_cell(consent_no)]),
            Row("subs_on", "Iscrizioni agli avvisi", [_cell(subs_on)]),
            Row("subs_off", "Stop agli avvisi", [_cell(subs_off)]),
        ],
        chart="hbar",
    )
    view.tables.append(protect_table(consent, ctx.min_count))
    return view


# --- Comprensione --------------------------------------------------------------------------


def understanding_view(ctx: Context) -> View:
    previous = ctx.period.previous()
    found, total = tracker.intents(ctx.tracker, ctx.period)
    found_before, total_before = tracker.intents(ctx.tracker, previous)

    def share(intent: str, counts: dict[str, Count], everything: Count) -> Count:
        n, people = counts.get(intent, (0, 0))
        return (round(100 * n / everything[0], 1) if everything[0] else 0, people)

    view = View(
        key="comprensione",
        title="Comprensione",
        intro="Quanto l'assistente capisce: messaggi non capiti e fuori tema, esiti del "
        "fallback in due passi, intenti più frequenti, segnalazioni di fallimento.",
        figures=[
            _figure("Messaggi letti dall'assistente", total, total_before, ctx),
            _figure(
                "Non capiti (%)",
                share(tracker.FALLBACK_INTENT, found, total),
                share(tracker.FALLBACK_INTENT, found_before, total_before),
                ctx,
                Unit.percent,
            ),
            _figure(
                "Fuori tema (%)",
                share(tracker.OUT_OF_SCOPE_INTENT, found, total),
                share(tracker.OUT_OF_SCOPE_INTENT, found_before, total_before),
                ctx,
                Unit.percent,
            ),
        ],
    )
    outcomes = tracker.two_stage_outcomes(ctx.tracker, ctx.period)
    everyone: set[str] = set().union(*(t.senders for t in outcomes.values()))
    view.tables.append(
        count_table(
            key="fallback_due_passi",
            title="Fallback in due passi: cosa è successo dopo",
            dimension="Esito",
            order=list(tracker.TWO_STAGE_OUTCOMES.items()),
            current={k: (t.count, t.people) for k, t in outcomes.items()},
            total=(sum(t.count for t in outcomes.values()), len(everyone)),
            min_count=ctx.min_count,
            note="L'assistente propone cosa ha capito; conta la risposta successiva del cittadino.",
        )
    )
    top = sorted(found.items(), key=lambda kv: -kv[1][0])[:TOP_INTENTS]
    shown = {k for k, _ in top}
    rest = [v for k, v in found.items() if k not in shown]
    current = dict(top)
    order = [(k, INTENT_LABELS.get(k, k)) for k, _ in top]
    if rest:
        # people of "others" is at least the largest of them: a lower bound, on the safe side
        current["_other"] = (sum(v[0] for v in rest), max(v[1] for v in rest))
        order.append(("_other", "Altri intenti"))
    view.tables.append(
        count_table(
            key="intenti",
            title="Intenti più frequenti",
            dimension="Intento",
            order=order,
            current=current,
            total=total,
            previous=(found_before, total_before),
            min_count=ctx.min_count,
        )
    )
    flags = _tally(
        ctx.session,
        key=ConversationFlag.reason,
        value=func.count(),
        people=ConversationFlag.conversation_id,
        where=[
            ConversationFlag.kind == FlagKind.bot_failure.value,
            *_between(ConversationFlag.created_at, ctx.period),
            *_conv_filter(ctx, ConversationFlag.conversation_id),
        ],
    )
    view.figures.append(_figure("Segnalazioni di fallimento del bot", flags[1], None, ctx))
    view.tables.append(
        count_table(
            key="fallimenti",
            title="Segnalazioni di fallimento del bot per motivo",
            dimension="Motivo",
            order=_ordered(flags[0], lambda k: REASON_LABELS.get(k, k or NOT_GIVEN_LABEL)),
            current=flags[0],
            total=flags[1],
            min_count=ctx.min_count,
        )
    )
    return view


# --- Assistenza ------------------------------------------------------------------------------


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return max(0.0, (b - a).total_seconds() / 60)


def _stat_cells(values: list[tuple[str, float]]) -> list[Cell]:
    people = len({cid for cid, _ in values})
    numbers = [v for _, v in values]
    mid = round(median(numbers), 1) if numbers else None
    p90 = _percentile(numbers, 0.9)
    return [Cell(mid, people), Cell(round(p90, 1) if p90 is not None else None, people)]


def care_view(ctx: Context) -> View:
    s = ctx.session
    previous = ctx.period.previous()
    where = [
        *_between(Handoff.requested_at, ctx.period),
        *_conv_filter(ctx, Handoff.conversation_id),
    ]
    where_before = [
        *_between(Handoff.requested_at, previous),
        *_conv_filter(ctx, Handoff.conversation_id),
    ]

    def reasons(conds: list[Any]) -> tuple[dict[Any, Count], Count]:
        return _tally(
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
            wait = _minutes(requested, claimed)
            if wait is not None:
                waits[bucket].append((cid, wait))
            first = _minutes(requested, replied)
            if first is not None:
                replies[bucket].append((cid, first))
        if due is not None:
            sla[priority].add(cid)
            late = (replied is None and ctx.now > due) or (replied is not None and replied > due)
            tally = breached[priority]  # the key is there even with no breach
            if late:
                tally.add(cid)

    view = View(
        key="assistenza",
        title="Assistenza",
        intro="Passaggi a un Care Manager: motivi, attese, tempi di prima risposta, SLA, "
        "esiti, soddisfazione ed emergenze.",
        figures=[_figure("Passaggi a operatore", by_reason[1], by_reason_before[1], ctx)],
    )
    view.tables.append(
        count_table(
            key="motivi",
            title="Passaggi a operatore per motivo",
            dimension="Motivo",
            order=_ordered(
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
            Row(k, label, _stat_cells(waits.get(k, [])) + _stat_cells(replies.get(k, [])))
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
    view.figures.append(_figure("Fuori SLA", (every_late.count, every_late.people), None, ctx))

    closed = [*_between(Handoff.closed_at, ctx.period), *_conv_filter(ctx, Handoff.conversation_id)]
    outcomes = _tally(
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
        *_between(CsatAnswer.answered_at, ctx.period),
        *_conv_filter(ctx, CsatAnswer.conversation_id),
        CsatAnswer.score.is_not(None),
    ]
    csat = _tally(
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
        _figure(
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
        (cid, _minutes(req, claimed))
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
                    *_stat_cells(claimed_times),
                ],
            )
        ],
        chart="none",
    )
    view.tables.append(protect_table(emergency, ctx.min_count))
    return view


# --- Budget ------------------------------------------------------------------------------------


def _citizen_filter(ctx: Context, column: Any) -> list[ColumnElement[bool]]:
    if not ctx.quartiere:
        return []
    return [column.in_(select(Citizen.id).where(Citizen.quartiere == ctx.quartiere))]


def _money_table(
    *,
    key: str,
    title: str,
    dimension: str,
    order: list[tuple[Any, str]],
    parts: list[tuple[str, str, tuple[dict[Any, Count], Count], tuple[dict[Any, Count], Count]]],
    min_count: int,
) -> Table:
    """Columns in pairs (number, amount) for each part, e.g. issued / redeemed / cancelled."""
    columns: list[Column] = []
    for part_key, label, _, _ in parts:
        columns.append(Column(f"{part_key}_n", label))
        columns.append(Column(f"{part_key}_cents", f"{label} (€)", Unit.cents))
    rows = []
    for k, text in order:
        cells: list[Cell] = []
        for _, _, numbers, amounts in parts:
            cells.append(_cell(numbers[0].get(k)))
            cells.append(_cell(amounts[0].get(k)))
        if any(c.value for c in cells):
            rows.append(Row(str(k), text, cells))
    total = []
    for _, _, numbers, amounts in parts:
        total += [_cell(numbers[1]), _cell(amounts[1])]
    table = Table(
        key=key,
        title=title,
        dimension=dimension,
        columns=columns,
        rows=rows,
        total=Row("total", "Totale", total),
        chart="hbar",
        chart_columns=tuple(range(0, len(columns), 2)),
    )
    return protect_table(table, min_count)


def budget_view(ctx: Context) -> View:
    s = ctx.session
    cat = func.coalesce(Voucher.category, NOT_GIVEN)

    def vouchers(moment: Any, status: VoucherStatus | None) -> Pair:
        where = [*_between(moment, ctx.period), *_citizen_filter(ctx, Voucher.citizen_id)]
        if status is not None:
            where.append(Voucher.status == status.value)
        return _tally_pair(
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
            _figure("Voucher emessi", by_cat_parts[0][2][1], None, ctx),
            _figure("Importo dei voucher emessi", by_cat_parts[0][3][1], None, ctx, Unit.cents),
        ],
    )
    view.tables.append(
        _money_table(
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
            *_between(LedgerEntry.created_at, ctx.period),
            *_citizen_filter(ctx, account.c.citizen_id),
            *extra,
        ]

        def joins(stmt: Any) -> Any:
            return (
                stmt.select_from(LedgerEntry)
                .join(account, account.c.id == LedgerEntry.account_id)
                .join(source, source.c.id == account.c.source_id)
            )

        return _tally_pair(
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
        _money_table(
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
        where = [*_between(moment, ctx.period), *_citizen_filter(ctx, Reimbursement.citizen_id)]
        if status is not None:
            where.append(Reimbursement.status == status.value)
        return _tally_pair(
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
        _money_table(
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
        _money_table(
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
        *_citizen_filter(ctx, account.c.citizen_id),
    ]

    def joins(stmt: Any) -> Any:
        return (
            stmt.select_from(account)
            .join(per_account, per_account.c.account_id == account.c.id)
            .join(source, source.c.id == account.c.source_id)
        )

    numbers, amounts = _tally_pair(
        s,
        key=source.c.kind,
        number=func.count(),
        amount=func.sum(per_account.c.available),
        people=account.c.citizen_id,
        where=where,
        joins=joins,
    )
    table = _money_table(
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
        return _tally(
            s,
            key=AppointmentSlot.place_code,
            value=func.count(),
            people=Appointment.conversation_id,
            where=[*where, *place_filter],
            joins=joins,
        )

    booked = run([*_between(Appointment.created_at, ctx.period), ~is_move])
    cancelled = run([*_between(Appointment.cancelled_at, ctx.period), ~was_moved])
    moved = run([*_between(Appointment.created_at, ctx.period), is_move])
    places = dict(s.execute(select(WelcomePlace.code, WelcomePlace.name)).all())
    codes = set(booked[0]) | set(cancelled[0]) | set(moved[0])
    order = [(c, places.get(c, c)) for c in sorted(codes, key=lambda c: places.get(c, c))]
    rows = [
        Row(
            str(c),
            label,
            [_cell(booked[0].get(c)), _cell(cancelled[0].get(c)), _cell(moved[0].get(c))],
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
        total=Row("total", "Totale", [_cell(booked[1]), _cell(cancelled[1]), _cell(moved[1])]),
        chart="hbar",
        chart_columns=(0, 1, 2),
    )
    return View(
        key="punti",
        title="Welcome Point",
        intro="Appuntamenti prenotati, annullati e spostati, per luogo.",
        figures=[
            _figure("Appuntamenti prenotati", booked[1], None, ctx),
            _figure("Annullati", cancelled[1], None, ctx),
            _figure("Spostati", moved[1], None, ctx),
        ],
        tables=[protect_table(table, ctx.min_count)],
    )


# --- Avvisi ------------------------------------------------------------------------------


def broadcasts_view(ctx: Context) -> View:
    s = ctx.session
    sent = (DeliveryStatus.sent.value,)
    failed = (DeliveryStatus.failed.value, DeliveryStatus.blocked.value)
    items = s.execute(
        select(Broadcast.id, Broadcast.title, Broadcast.started_at, Broadcast.quartieri)
        .where(*_between(Broadcast.started_at, ctx.period))
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
            [_cell(reach.get(b.id)), _cell(lost.get(b.id)), _cell(stops.get(b.id))],
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
            "total", "Totale", [_cell(total(reach)), _cell(total(lost)), _cell(total(stops))]
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
            _figure("Avvisi inviati", (len(items), sum(v[1] for v in reach.values())), None, ctx),
            _figure("Consegne riuscite", total(reach), None, ctx),
        ],
        tables=[table],
    )


# --- all of them ------------------------------------------------------------------------------

VIEWS: dict[str, tuple[str, Callable[[Context], View]]] = {
    "bisogni": ("Bisogni", needs_view),
    "uso": ("Uso", use_view),
    "comprensione": ("Comprensione", understanding_view),
    "assistenza": ("Assistenza", care_view),
    "budget": ("Budget", budget_view),
    "punti": ("Welcome Point", points_view),
    "avvisi": ("Avvisi", broadcasts_view),
}


def build(key: str, ctx: Context) -> View:
    sql.prepare(ctx.session)
    return VIEWS[key][1](ctx)


CACHE_SECONDS = 300.0
_cache: dict[tuple[Any, ...], tuple[float, View]] = {}


def build_cached(key: str, ctx: Context, *, ttl: float = CACHE_SECONDS) -> View:
    """``build``, remembered for ``ttl`` seconds per (view, period, quartiere, databases):
    the pages, their tabs and their CSV exports reuse one reading. Figures are at most
    five minutes old."""
    now = time.monotonic()
    ident = (
        key,
        ctx.period,
        ctx.quartiere,
        ctx.min_count,
        str(ctx.session.get_bind().url),
        str(ctx.tracker.url) if ctx.tracker is not None else "",
    )
    hit = _cache.get(ident)
    if hit is not None and hit[0] > now:
        return hit[1]
    view = build(key, ctx)
    for stale in [k for k, (until, _) in _cache.items() if until <= now]:
        del _cache[stale]
    _cache[ident] = (now + ttl, view)
    return view


def clear_cache() -> None:
    _cache.clear()


def build_all(ctx: Context) -> list[View]:
    return [fn(ctx) for _, fn in VIEWS.values()]


__all__ = ["VIEWS", "Context", "build", "build_all", "build_cached", "clear_cache"]
