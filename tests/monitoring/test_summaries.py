"""The monitoring summaries against a fresh computation from the raw rows, on SQLite and
PostgreSQL: for every period inside a small hand-made month, after new rows (the job's
redo with each person's earlier days), after an erasure and after the retention purge
(closed days keep their anonymous counts), and the small-count rule after both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import combinations_with_replacement
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.models import UnmetNeed
from conversations.models import Author, Channel, Conversation, Direction, Message, Status
from monitoring import charts
from monitoring.models import DailySummary, SummaryState
from monitoring.period import ROME, Period
from monitoring.summaries.read import read
from monitoring.summaries.refresh import backfill, refresh_recent
from monitoring.tables import Table
from monitoring.views import Context, build
from privacy.retention import erase_conversation, purge
from tests.monitoring import data
from welfare.ledger.models import Citizen, ConversationLink

# who wrote when (days of November 2026, Europe/Rome; E also on 20 October)
DAYS = {
    "a": [2, 2, 5, 9],
    "b": [2, 3],
    "c": [5, 5, 5],
    "d": [1, 9],
    "e": [9],
    "f": [9],
}
CHANNELS = {"a": "telegram", "b": "telegram", "c": "telegram"}  # the rest: WhatsApp
LIVES_IN = {"a": "Q1", "b": "Q1", "c": "Q2"}
UNMET = [  # (person, day, category, quartiere)
    ("a", 2, "housing", "Q1"),
    ("a", 6, "housing", "Q1"),
    ("b", 3, "housing", "Q1"),
    ("c", 4, "childcare", None),
    ("d", 4, "childcare", "Q3"),
    ("e", 8, "housing", "Q3"),
]
FIRST_DAY, LAST_DAY = date(2026, 11, 1), date(2026, 11, 10)
SCOPES = [None, "Q1", "Q2", "Q3"]


def cid(person: str) -> str:
    return f"{person * 2}{'0' * 30}"


def noon(day: int, month: int = 11, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=ROME).astimezone(UTC)


def message(s: Session, person: str, when: datetime) -> None:
    s.add(
        Message(
            conversation_id=cid(person),
            channel=Channel(CHANNELS.get(person, "whatsapp")),
            direction=Direction.inbound,
            author=Author.citizen,
            text="testo",
            status=Status.processed,
            created_at=when,
        )
    )


def seed(engine: Engine) -> None:
    with Session(engine) as s:
        for person in DAYS:
            s.add(
                Conversation(
                    conversation_id=cid(person),
                    channel=Channel(CHANNELS.get(person, "whatsapp")),
                    chat_key=person,
                    consent_at=noon(1, month=10),
                    created_at=noon(1, month=10),
                )
            )
        for person, quartiere in LIVES_IN.items():
            citizen = Citizen(
                public_ref=f"CIT-{person}", first_name="N", family_name="C", quartiere=quartiere
            )
            s.add(citizen)
            s.flush()
            assert citizen.id is not None
            s.add(
                ConversationLink(
                    conversation_id=cid(person), citizen_id=citizen.id, linked_at=noon(1, 10)
                )
            )
        for person, days in DAYS.items():
            for n, day in enumerate(days):
                message(s, person, noon(day, hour=9 + n))
        message(s, "e", noon(20, month=10))
        for person, day, category, quartiere in UNMET:
            s.add(
                UnmetNeed(
                    conversation_id=cid(person),
                    text="testo",
                    category=category,
                    quartiere=quartiere,
                    created_at=noon(day),
                )
            )
        s.commit()


def periods() -> list[Period]:
    days = [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
    return [Period(a, b) for a, b in combinations_with_replacement(days, 2)]


def raw_inbound(s: Session, period: Period, quartiere: str | None) -> dict[str, tuple[int, int]]:
    """By channel and "*": (messages, distinct conversations), straight from the messages."""
    where = [
        Message.direction == Direction.inbound.value,
        Message.created_at >= period.start,
        Message.created_at < period.end,
    ]
    if quartiere:
        linked = (
            select(ConversationLink.conversation_id)
            .join(Citizen, Citizen.id == ConversationLink.citizen_id)
            .where(Citizen.quartiere == quartiere)
        )
        where.append(Message.conversation_id.in_(linked))
    counted = func.count(Message.conversation_id.distinct())
    found = {
        channel: (int(n), int(p))
        for channel, n, p in s.execute(
            select(Message.channel, func.count(), counted).where(*where).group_by(Message.channel)
        )
    }
    n, p = s.execute(select(func.count(), counted).where(*where)).one()
    if n:
        found["*"] = (int(n), int(p))
    return found


def summary_inbound(
    s: Session, period: Period, quartiere: str | None
) -> dict[str, tuple[int, int]]:
    by_channel, total = read(s, "inbound", period, quartiere).counts("channel")
    return {**by_channel, "*": total} if total[0] else by_channel


def raw_unmet(s: Session, period: Period, quartiere: str | None) -> dict[object, tuple[int, int]]:
    where = [UnmetNeed.created_at >= period.start, UnmetNeed.created_at < period.end]
    if quartiere:
        where.append(UnmetNeed.quartiere == quartiere)
    cat = func.coalesce(UnmetNeed.category, "-")
    q = func.coalesce(UnmetNeed.quartiere, "-")
    counted = func.count(UnmetNeed.conversation_id.distinct())
    found: dict[object, tuple[int, int]] = {}
    for keys in ([cat, q], [cat], [q], []):
        rows = s.execute(select(*keys, func.count(), counted).where(*where).group_by(*keys))
        for *k, n, p in rows:
            if n:
                found[(len(keys), tuple(k))] = (int(n), int(p))
    return found


def summary_unmet(
    s: Session, period: Period, quartiere: str | None
) -> dict[object, tuple[int, int]]:
    reading = read(s, "unmet", period, quartiere)
    found: dict[object, tuple[int, int]] = {}
    for names in [("category", "quartiere"), ("category",), ("quartiere",)]:
        for k, f in reading.groups.get(names, {}).items():
            found[(len(names), k)] = (f.value, f.people)
    if reading.total.value:
        found[(0, ())] = (reading.total.value, reading.total.people)
    return found


def everything(engine: Engine) -> dict[tuple[Period, str | None], object]:
    """Both metrics for every period of the month and every scope, from the summaries."""
    with Session(engine) as s:
        return {
            (p, q): (summary_inbound(s, p, q), summary_unmet(s, p, q))
            for p in periods()
            for q in SCOPES
        }


def assert_like_raw(engine: Engine) -> None:
    with Session(engine) as s:
        for p in periods():
            for q in SCOPES:
                assert summary_inbound(s, p, q) == raw_inbound(s, p, q), (p, q)
                assert summary_unmet(s, p, q) == raw_unmet(s, p, q), (p, q)


def summarise(engine: Engine, today: date) -> None:
    with Session(engine) as s:
        backfill(s, today)
        s.commit()


def job(engine: Engine, now: datetime) -> None:
    with Session(engine) as s:
        refresh_recent(s, now)
        s.commit()


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    summarise(engine, date(2026, 11, 9))
    return engine


def test_hand_counted_period(seeded: Engine) -> None:
    with Session(seeded) as s:
        week = Period(date(2026, 11, 2), date(2026, 11, 9))
        inbound = read(s, "inbound", week, None)
        # telegram: a 4, b 2, c 3 messages; WhatsApp: d, e, f one each on 9 Nov
        assert inbound.counts("channel") == (
            {"telegram": (9, 3), "whatsapp": (3, 3)},
            (12, 6),
        )
        # first message ever in the week: a, b, c, f; d (1 Nov) and e (October) came back
        assert inbound.total.first_people == 4
        assert read(s, "inbound", week, "Q1").counts("channel") == ({"telegram": (6, 2)}, (6, 2))
        unmet = read(s, "unmet", Period(date(2026, 11, 1), date(2026, 11, 10)), None)
        # housing: a twice, b, e; childcare: c, d
        assert unmet.counts("category") == (
            {"housing": (4, 3), "childcare": (2, 2)},
            (6, 5),
        )
        assert unmet.counts("category", "quartiere")[0][("housing", "Q1")] == (3, 2)


def test_every_period_agrees_with_the_raw_rows(seeded: Engine) -> None:
    assert_like_raw(seeded)


def test_the_job_adds_new_days_with_each_persons_earlier_days(seeded: Engine) -> None:
    with Session(seeded) as s:
        for person in ("a", "d", "g"):  # a and d came before, g is new
            message(s, person, noon(10, hour=8))
        s.add(
            Conversation(
                conversation_id=cid("g"),
                channel=Channel.whatsapp,
                chat_key="g",
                created_at=noon(10),
            )
        )
        s.add(
            UnmetNeed(
                conversation_id=cid("a"),
                text="t",
                category="housing",
                quartiere="Q1",
                created_at=noon(10),
            )
        )
        s.commit()
    job(seeded, noon(10, hour=20))
    assert_like_raw(seeded)
    with Session(seeded) as s:
        ten = read(s, "inbound", Period(date(2026, 11, 10), date(2026, 11, 10)), None)
        assert (ten.total.people, ten.total.first_people) == (3, 1)  # only g is new


def test_erased_and_purged_rows_leave_closed_days_as_they_were(
    seeded: Engine, tmp_path: Path
) -> None:
    job(seeded, noon(10, hour=20))  # 9 and 10 November closed by the job, as it runs
    before = everything(seeded)
    with Session(seeded) as s:
        erase_conversation(s, conversation_id=cid("b"), uploads_root=tmp_path, now=noon(10))
        s.commit()
        assert raw_inbound(s, Period(FIRST_DAY, LAST_DAY), "Q1")["*"] == (4, 1)
    job(seeded, noon(11, hour=20))
    assert everything(seeded) == before  # b's days were closed: anonymous counts stay
    report = purge(seeded, uploads_root=tmp_path, now=noon(20, month=12), months=1)
    assert report.messages_deleted == 12  # every message of October and November
    job(seeded, noon(20, month=12, hour=13))
    assert everything(seeded) == before


def test_small_counts_stay_hidden_after_erasure_and_purge(seeded: Engine, tmp_path: Path) -> None:
    def q1_channels() -> Table:
        with Session(seeded) as s:
            ctx = Context(
                session=s,
                period=Period(FIRST_DAY, LAST_DAY),
                now=noon(10),
                quartiere="Q1",
                tracker=seeded,
            )
            return next(t for t in build("uso", ctx).tables if t.key == "messaggi_canale")

    def telegram(t: Table) -> tuple[object, bool]:
        cell = next(r for r in t.rows if r.key == "telegram").cells[0]
        return cell.value, cell.suppressed

    assert telegram(q1_channels()) == (6, True)  # a and b: two people
    with Session(seeded) as s:
        erase_conversation(s, conversation_id=cid("a"), uploads_root=tmp_path, now=noon(10))
        s.commit()
    purge(seeded, uploads_root=tmp_path, now=noon(20, month=12), months=1)
    assert telegram(q1_channels()) == (6, True)


def test_needs_grid_draws_small_cells_as_hidden(seeded: Engine) -> None:
    with Session(seeded) as s:
        ctx = Context(session=s, period=Period(FIRST_DAY, LAST_DAY), now=noon(10), tracker=seeded)
        grid = next(t for t in build("bisogni", ctx).tables if t.key == "mappa_bisogni")
    housing = next(r for r in grid.rows if r.key == "housing")
    q1 = grid.column_index("Q1")
    assert housing.cells[q1].value == 3 and housing.cells[q1].suppressed  # 2 people
    svg = charts.render(grid, 5)
    assert svg is not None and "&lt;5" in svg and ">3<" not in svg


def summary_rows(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        return sorted(
            tuple(row)
            for row in s.execute(
                select(
                    DailySummary.metric,
                    DailySummary.day,
                    DailySummary.scope,
                    DailySummary.key,
                    DailySummary.gap,
                    DailySummary.value,
                    DailySummary.amount,
                    DailySummary.people,
                )
            )
        )


def test_the_jobs_redo_of_every_metric_equals_the_backfill(engine: Engine) -> None:
    """The hand-counted month of test_views (Rasa's events included): the job redoing the
    days from 9 November, with each person's earlier days, writes what the backfill wrote."""
    data.seed(engine)
    backfilled = summary_rows(engine)
    assert {row[0] for row in backfilled} >= {"inbound", "intent", "two_stage", "handoff_sla"}
    with Session(engine) as s:
        s.execute(update(SummaryState).values(complete_through=date(2026, 11, 10)))
        s.execute(delete(DailySummary).where(DailySummary.day >= date(2026, 11, 9)))
        s.commit()
    with Session(engine) as s:
        refresh_recent(s, data.NOW, tracker=engine)
        s.commit()
    assert summary_rows(engine) == backfilled
