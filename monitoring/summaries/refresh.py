"""Making the summaries from the raw rows: the whole history once (the migration's backfill),
then the last days again and again (the gateway's job, ``monitoring.summaries.job``).

Facts are read in order of person and time; for each person the days are walked in order,
and each (scope, key) cell of a day gets the gap since that person's previous day in the
same cell (``monitoring.models``). When only recent days are redone, each person's previous
day before them comes from one grouped reading of the earlier facts (up to two years back,
the longest period a page can show).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from catalog.areas import QUARTIERI
from monitoring.models import DAILY, FIRST, DailySummary, SummaryState
from monitoring.period import MAX_DAYS, ROME, local_midnight
from monitoring.summaries.metrics import HOUR, METRICS, Metric, key_of
from monitoring.summaries.tracker_facts import slot_value
from monitoring.tracker import quartiere_of
from welfare.ledger.models import Citizen, ConversationLink

LONG_AGO = MAX_DAYS + 1  # gaps longer than any period are all alike
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
RECENT_DAYS = 1  # the job redoes the last complete day as well as today
INSERT_BATCH = 5000

Cell = tuple[str, str]  # (scope, key)


def _day(at: datetime | float) -> date:
    if isinstance(at, int | float):  # Rasa's events: epoch seconds
        at = datetime.fromtimestamp(at, UTC)
    if at.tzinfo is None:  # SQLite hands back what it stored: UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(ROME).date()


def named_quartieri(tracker: Connection | None, since: date | None = None) -> dict[str, set[str]]:
    """The quartieri each conversation named in its searches (Rasa's neighbourhood slot),
    under the key ``named:<sender>``; with ``since``, only for the conversations that set a
    category from that day on (those the job redoes)."""
    found: dict[str, set[str]] = defaultdict(set)
    if tracker is None:
        return found
    until = datetime.now(UTC) + timedelta(days=1)
    facts = METRICS["slot_place"].facts(EPOCH, until).subquery()
    stmt = select(facts.c.person, facts.c.x0)
    if since is not None:
        recent = METRICS["slot_category"].facts(local_midnight(since), until).subquery()
        stmt = stmt.where(facts.c.person.in_(select(recent.c.person)))
    for row in tracker.execute(stmt):
        value = slot_value(row.x0, "neighbourhood")
        if value is not None and (quartiere := quartiere_of(value)) in QUARTIERI:
            found[f"named:{row.person}"].add(quartiere)
    return found


def conversation_quartieri(session: Session) -> dict[str, set[str]]:
    """The quartieri of the citizens each conversation is (or was) linked to, and of each
    citizen (by id as text, under the key ``citizen:<id>``)."""
    found: dict[str, set[str]] = defaultdict(set)
    rows = session.execute(
        select(ConversationLink.conversation_id, Citizen.quartiere).join(
            Citizen, Citizen.id == ConversationLink.citizen_id
        )
    )
    for conversation_id, quartiere in rows:
        if quartiere in QUARTIERI:
            found[conversation_id].add(quartiere)
    for citizen_id, quartiere in session.execute(select(Citizen.id, Citizen.quartiere)):
        if quartiere in QUARTIERI:
            found[f"citizen:{citizen_id}"].add(quartiere)
    return found


class _Cells:
    """The facts of one metric turned into (scope, key) cells."""

    def __init__(self, metric: Metric, quartieri: dict[str, set[str]]) -> None:
        self.metric = metric
        self.quartieri = quartieri
        self.names = metric.dims

    def dims(self, row: Any) -> tuple[str, ...] | None:
        if self.metric.derive is not None:
            return self.metric.derive(row)
        values = []
        for i, name in enumerate(self.names):
            if name == HOUR:
                at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
                values.append(f"{at.astimezone(ROME).hour:02d}")
            else:
                values.append(str(row[2 + i]))
        return tuple(values)

    def scopes(self, person: str, row: Any) -> list[str]:
        if self.metric.scope == "own":
            own = row.scope or ""
            return ["", own] if own in QUARTIERI else [""]
        if self.metric.scope == "conversation":
            return ["", *sorted(self.quartieri.get(person, ()))]
        if self.metric.scope == "citizen":
            return ["", *sorted(self.quartieri.get(f"citizen:{person}", ()))]
        if self.metric.scope == "named":
            return ["", *sorted(self.quartieri.get(f"named:{person}", ()))]
        return [""]

    def of(self, person: str, row: Any) -> Iterator[Cell]:
        dims = self.dims(row)
        if dims is None:  # not a fact of this metric (a slot's JSON of another name)
            return
        keys = ["*"]
        for grouping in self.metric.groupings:
            keys.append(key_of(grouping, tuple(dims[self.names.index(n)] for n in grouping)))
        for scope in self.scopes(person, row):
            for key in keys:
                yield scope, key


def _previous_days(
    reader: Session | Connection, metric: Metric, cells: _Cells, first_day: date, last_day: date
) -> dict[str, dict[Cell, int]]:
    """For the people with facts in [first_day, last_day]: their last day before first_day
    in each cell (as an ordinal), from the facts of the two years before."""
    start, end = local_midnight(first_day), local_midnight(last_day + timedelta(days=1))
    window = metric.facts(start, end).subquery()
    earlier = metric.facts(local_midnight(first_day - timedelta(days=LONG_AGO)), start).subquery()
    found: dict[str, dict[Cell, int]] = defaultdict(dict)
    if metric.derive is not None:  # dims computed in Python: the earlier facts themselves
        facts = reader.execute(select(earlier).where(earlier.c.person.in_(select(window.c.person))))
        for row in facts:
            ordinal = _day(row.at).toordinal()
            for cell in cells.of(str(row.person), row):
                if found[str(row.person)].get(cell, 0) < ordinal:
                    found[str(row.person)][cell] = ordinal
        return found
    group = [earlier.c.person, *(c for c in earlier.c if c.name.startswith("d"))]
    if metric.scope == "own":
        group.append(earlier.c.scope)
    rows = reader.execute(
        select(func.max(earlier.c.at).label("at"), *group)
        .where(earlier.c.person.in_(select(window.c.person)))
        .group_by(*group)
    )
    for row in rows:
        ordinal = _day(row.at).toordinal()
        # the reading's columns: at, person, d0.. (scope): shift by one for ``dims``
        shaped = _Shifted(row)
        for cell in cells.of(row.person, shaped):
            if found[row.person].get(cell, 0) < ordinal:
                found[row.person][cell] = ordinal
    return found


class _Shifted:
    """A grouped row (max(at), person, d0..) read like a fact (at, person, d0..)."""

    def __init__(self, row: Any) -> None:
        self._row = row
        self.at = row.at
        self.person = row.person
        self.scope = getattr(row, "scope", "")

    def __getitem__(self, index: int) -> Any:
        return self._row[index]


def summarise(
    session: Session,
    metric: Metric,
    first_day: date,
    last_day: date,
    *,
    previous: dict[str, dict[Cell, int]] | None = None,
    quartieri: dict[str, set[str]] | None = None,
    reader: Session | Connection | None = None,
) -> int:
    """Replace the metric's rows of [first_day, last_day]; returns the rows written."""
    quartieri = conversation_quartieri(session) if quartieri is None else quartieri
    cells = _Cells(metric, quartieri)
    start, end = local_midnight(first_day), local_midnight(last_day + timedelta(days=1))
    facts = metric.facts(start, end).subquery()
    rows = (reader or session).execute(
        select(facts).order_by(facts.c.person, facts.c.at),
        execution_options={"yield_per": 10_000},
    )
    sums: dict[tuple[date, str, str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    person: str | None = None
    days: dict[date, dict[Cell, list[int]]] = {}

    def close(who: str | None) -> None:
        if who is None:
            return
        last = dict((previous or {}).get(who, {}))
        for day in sorted(days):
            ordinal = day.toordinal()
            for cell, (value, amount) in days[day].items():
                if metric.daily:
                    gap = DAILY
                else:
                    before = last.get(cell)
                    gap = FIRST if before is None else min(ordinal - before, LONG_AGO)
                    last[cell] = ordinal
                total = sums[(day, cell[0], cell[1], gap)]
                total[0] += value
                total[1] += amount
                total[2] += 1

    for row in rows:
        who = str(row.person)
        if who != person:
            close(person)
            person, days = who, {}
        day_cells = days.setdefault(_day(row.at), {})
        for cell in cells.of(who, row):
            figures = day_cells.setdefault(cell, [0, 0])
            figures[0] += int(row.value or 0)
            figures[1] += int(row.amount or 0)
    close(person)

    session.execute(
        delete(DailySummary).where(
            DailySummary.metric == metric.name,
            DailySummary.day_number >= first_day.toordinal(),
            DailySummary.day_number <= last_day.toordinal(),
        )
    )
    written = 0
    for batch in _batches(
        {
            "metric": metric.name,
            "day": day,
            "day_number": day.toordinal(),
            "scope": scope,
            "key": key,
            "gap": gap,
            "value": value,
            "amount": amount,
            "people": people,
        }
        for (day, scope, key, gap), (value, amount, people) in sums.items()
    ):
        session.execute(insert(DailySummary), batch)
        written += len(batch)
    _mark(session, metric.name, last_day)
    return written


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= INSERT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _mark(session: Session, metric: str, last_day: date) -> None:
    state = session.get(SummaryState, metric)
    if state is None:
        session.add(SummaryState(metric=metric, complete_through=last_day))
    elif state.complete_through < last_day:
        state.complete_through = last_day
    session.flush()


@contextmanager
def _tracker_reader(tracker: Engine | None) -> Iterator[Connection | None]:
    """A connection to Rasa's tracker store when it has its events table, else None."""
    database = tracker.url.database if tracker is not None else None
    if tracker is None or (
        tracker.dialect.name == "sqlite" and database and not Path(database).exists()
    ):  # no store yet: do not create its file
        yield None
        return
    with tracker.connect() as conn:
        yield conn if conn.dialect.has_table(conn, "events") else None


def _metrics(names: Iterable[str] | None, tracker: Connection | None) -> list[Metric]:
    """The metrics to make: those of the tracker only when its store can be read (a store
    that appears later is summarised whole, its metrics having no state yet)."""
    chosen = [METRICS[n] for n in names] if names is not None else list(METRICS.values())
    return [m for m in chosen if m.source == "app" or tracker is not None]


def backfill(
    session: Session,
    today: date,
    names: Iterable[str] | None = None,
    *,
    tracker: Engine | None = None,
) -> int:
    """Every metric from the whole history (the raw rows still there) up to ``today``."""
    written = 0
    with _tracker_reader(tracker) as events:
        quartieri = {**conversation_quartieri(session), **named_quartieri(events)}
        for metric in _metrics(names, events):
            reader = events if metric.source == "tracker" else session
            session.execute(delete(DailySummary).where(DailySummary.metric == metric.name))
            last = today + timedelta(days=metric.ahead_days)
            written += summarise(
                session, metric, _day(EPOCH), last, quartieri=quartieri, reader=reader
            )
    return written


def _first_day(session: Session, metric: str, today: date) -> date | None:
    """The first day the job redoes for a metric; None: the whole history (no state yet)."""
    state = session.get(SummaryState, metric)
    if state is None:
        return None
    return min(state.complete_through, today) - timedelta(days=RECENT_DAYS)


def refresh_recent(session: Session, now: datetime, *, tracker: Engine | None = None) -> int:
    """What the job does: for each metric, the days from the last complete one to today
    (after a stop of the gateway, every day missed), with each person's previous days."""
    today = _day(now)
    written = 0
    with _tracker_reader(tracker) as events:
        metrics = _metrics(None, events)
        firsts = {m.name: _first_day(session, m.name, today) for m in metrics}
        named = [firsts[m.name] for m in metrics if m.scope == "named"]
        since = None if not named or None in named else min(d for d in named if d)
        quartieri = {**conversation_quartieri(session), **named_quartieri(events, since)}
        for metric in metrics:
            reader = events if metric.source == "tracker" else session
            state = session.get(SummaryState, metric.name)
            last = today + timedelta(days=metric.ahead_days)
            if state is None:  # never summarised: the whole history
                session.execute(delete(DailySummary).where(DailySummary.metric == metric.name))
                written += summarise(
                    session, metric, _day(EPOCH), last, quartieri=quartieri, reader=reader
                )
                continue
            first = firsts[metric.name] or today
            cells = _Cells(metric, quartieri)
            previous = None if metric.daily else _previous_days(reader, metric, cells, first, last)
            written += summarise(
                session,
                metric,
                first,
                last,
                previous=previous,
                quartieri=quartieri,
                reader=reader,
            )
    return written
