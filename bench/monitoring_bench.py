"""Monitoring benchmark: each page of the «Monitoraggio» section on a city's year of data.

Generates, once, in a dedicated PostgreSQL database on TEST_POSTGRES_URL's server
(``bench_monitoring_year``, kept and reused by later runs; ``--database temporary`` for a
fresh one dropped afterwards), one year of activity at the scale of issue 14: 50,000
citizens, 2 million messages (half from citizens) in 60,000 conversations, 100,000
hand-offs, 300,000 ledger entries, and the rest in proportion (vouchers, reimbursements,
appointments, unmet needs, flags, CSAT, announcements and their deliveries, 1.4 million
Rasa tracker events). The rows are made by
PostgreSQL itself (``generate_series``), so the set-up takes minutes, not hours; the output
says how long it took. The rows are made at revision 0015; the migrations then run to head,
0016 filling the summaries from them as it would on an installation, and the gateway's job
runs once (its time and the summary rows are printed).

Then each page is built as the console builds it (the view's queries, its charts and its
HTML) for the default period (the last 90 days), each time with another quartiere filter
(none, Q1..Q5) so that most charts are drawn afresh; p50/p95/max per page are printed and
written to bench/out/monitoring.json. ``--quick`` uses a tenth of the data.

    python -m bench monitoring [--quick] [--rounds 12] [--scale 1.0] [--database NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.databases import PostgresUnavailable, kept_postgres, temporary_postgres
from bench.measure import percentile
from core.db import make_engine
from core.migrate import upgrade
from monitoring import charts
from monitoring.html import table_html
from monitoring.period import Period
from monitoring.summaries.refresh import refresh_recent
from monitoring.tracker import EVENTS, ensure_index
from monitoring.views import VIEWS, Context, build_cached, clear_cache

OUT = Path(__file__).resolve().parent / "out"
END = datetime(2026, 12, 1, tzinfo=UTC)  # the year of data ends here
START = END - timedelta(days=365)
FILTERS = (None, "Q1", "Q2", "Q3", "Q4", "Q5")
DEFAULT_DATABASE = "bench_monitoring_year"
RAW_REVISION = "0015"  # the schema the rows are generated in, before the summaries
GENERATION_TABLE = """CREATE TABLE IF NOT EXISTS bench_generation (
    seconds double precision NOT NULL, details text NOT NULL,
    at timestamptz NOT NULL DEFAULT now())"""


@dataclass
class PageFigures:
    page: str
    requests: int
    p50_ms: float  # cold: every request reads the database (the view cache emptied first)
    p95_ms: float
    max_ms: float
    warm_p95_ms: float  # the same requests again, within the five minutes of the cache
    queries_p50_ms: float  # of the cold figures: reading the database (the rest is charts)
    queries_p95_ms: float
    load_average: float  # of the machine (1 minute) when the page was measured


# --- generation --------------------------------------------------------------------------

# Each statement: (label, SQL). :n_* are the sizes, :start the first instant (epoch seconds),
# :span the seconds of the year. md5(text) gives 32 hex characters: the conversation ids.
GENERATE: list[tuple[str, str]] = [
    (
        "citizens",
        """INSERT INTO citizen (public_ref, first_name, family_name, quartiere, created_at)
        SELECT 'CIT-' || lpad(i::text, 6, '0'), 'Nome', 'Cognome', 'Q' || (1 + i % 5),
               to_timestamp(:start)
        FROM generate_series(1, :n_citizens) i""",
    ),
    (
        "funding sources and accounts",
        """INSERT INTO funding_source (code, kind, name, allowed_categories, created_at)
        VALUES ('comune', 'public', 'Budget pubblico del Comune', '[]', now()),
               ('azienda', 'employer', 'Welfare aziendale', '[]', now());
        INSERT INTO budget_account (citizen_id, source_id, expires_at, currency, created_at)
        SELECT c.id, CASE WHEN c.id % 3 = 0 THEN 2 ELSE 1 END,
               to_timestamp(:start + :span + (c.id % 120) * 86400), 'EUR', to_timestamp(:start)
        FROM citizen c""",
    ),
    (
        "conversations and links",
        """INSERT INTO conversation (conversation_id, channel, chat_key, is_group, mode,
               mode_reason, consent_at, consent_declined_at, created_at)
        SELECT md5(i::text),
               (ARRAY['telegram','whatsapp','webchat'])[1 + i % 3], 'k' || i, false, 'bot', '',
               CASE WHEN i % 10 <> 0 THEN to_timestamp(:start + (i::bigint * 7919) % :span) END,
               CASE WHEN i % 10 = 0 THEN to_timestamp(:start + (i::bigint * 7919) % :span) END,
               to_timestamp(:start + (i::bigint * 7919) % :span)
        FROM generate_series(1, :n_conversations) i;
        INSERT INTO conversation_link (conversation_id, citizen_id, linked_at)
        SELECT md5(c.id::text), c.id, to_timestamp(:start) FROM citizen c
        WHERE c.id <= :n_conversations""",
    ),
    (
        "messages",
        """INSERT INTO conversation_message (conversation_id, channel, direction, author, kind,
               text, data, status, error, attempts, created_at)
        SELECT md5((1 + (i::bigint * 104729) % :n_conversations)::text),
               (ARRAY['telegram','whatsapp','webchat'])
                   [1 + (1 + (i::bigint * 104729) % :n_conversations) % 3],
               CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
               CASE WHEN i % 2 = 0 THEN 'citizen' ELSE 'bot' END, 'text', 'testo', '{}',
               CASE WHEN i % 2 = 0 THEN 'processed' ELSE 'sent' END, '', 0,
               to_timestamp(:start + ((i / 2)::bigint * :span / (:n_messages / 2)) % :span)
        FROM generate_series(1, :n_messages) i""",
    ),
    (
        "hand-offs and CSAT",
        """INSERT INTO handoff (conversation_id, status, priority, priority_rank, reason,
               requested_at, sla_due_at, office_open, claimed_at, first_reply_at, closed_at,
               outcome)
        SELECT md5((1 + (i::bigint * 31) % :n_conversations)::text), 'closed',
               (ARRAY['top','high','normal','normal','normal'])[1 + i % 5],
               (ARRAY[0,1,2,2,2])[1 + i % 5],
               (ARRAY['emergency','bot_failure','requested','requested','requested'])[1 + i % 5],
               to_timestamp(:start + (i::bigint * 311) % :span),
               to_timestamp(:start + (i::bigint * 311) % :span + 900), true,
               to_timestamp(:start + (i::bigint * 311) % :span + 60 + (i % 600)),
               to_timestamp(:start + (i::bigint * 311) % :span + 120 + (i % 1200)),
               to_timestamp(:start + (i::bigint * 311) % :span + 3600),
               (ARRAY['resolved','referred','appointment','no_reply','not_competent'])[1 + i % 5]
        FROM generate_series(1, :n_handoffs) i;
        INSERT INTO handoff_csat (handoff_id, conversation_id, asked_at, score, answered_at)
        SELECT h.id, h.conversation_id, h.closed_at, 1 + h.id % 3, h.closed_at + interval '5 min'
        FROM handoff h WHERE h.id % 5 < 3""",
    ),
    (
        "flags, unmet needs",
        """INSERT INTO conversation_flag (conversation_id, kind, priority, source, reason,
               created_at)
        SELECT md5((1 + (i::bigint * 17) % :n_conversations)::text), 'bot_failure', 'normal',
               'rasa_action', 'two_fallbacks', to_timestamp(:start + (i::bigint * 997) % :span)
        FROM generate_series(1, :n_flags) i;
        INSERT INTO unmet_need (conversation_id, text, category, quartiere, filters, created_at)
        SELECT md5((1 + (i::bigint * 13) % :n_conversations)::text), 'testo',
               (ARRAY['childcare','after_school','home_care','housing','job_search',
                      'elderly_day_care','food_aid','italian_course'])[1 + i % 8],
               CASE WHEN i % 7 = 0 THEN NULL ELSE 'Q' || (1 + i % 5) END, '{}',
               to_timestamp(:start + (i::bigint * 1013) % :span)
        FROM generate_series(1, :n_unmet) i""",
    ),
    (
        "ledger, vouchers, reimbursements",
        """INSERT INTO ledger_entry (account_id, kind, amount_cents, held_cents, idempotency_key,
               seq, caused_by, memo, created_at)
        SELECT a.id, 'credit', 100000, 0, 'credit-' || a.id, 1, 'system:bench', '',
               to_timestamp(:start) FROM budget_account a;
        INSERT INTO ledger_entry (account_id, kind, amount_cents, held_cents, idempotency_key,
               seq, caused_by, memo, created_at)
        SELECT 1 + (i::bigint * 13) % :n_citizens, 'adjustment', 100, 0, 'adj-' || i, 1,
               'staff:bench', '', to_timestamp(:start + (i::bigint * 3001) % :span)
        FROM generate_series(1, :n_adjustments) i;
        INSERT INTO welfare_voucher (code, hold_ref, idempotency_key, qr_token, citizen_id,
               conversation_id, service_code, provider_code, category, price_cents,
               covered_cents, status, created_at, closed_at)
        SELECT 'V' || i, 'h' || i, 'v' || i, 'q' || i, 1 + (i::bigint * 7) % :n_citizens,
               md5((1 + (i::bigint * 7) % :n_citizens)::text), 'SRV', 'PRV',
               (ARRAY['childcare','after_school','home_care','sport_leisure'])[1 + i % 4],
               5000 + (i % 20) * 500, 5000 + (i % 20) * 500,
               CASE WHEN i % 4 = 0 THEN 'cancelled' WHEN i % 4 = 1 THEN 'issued'
                    ELSE 'redeemed' END,
               to_timestamp(:start + (i::bigint * 4001) % :span),
               CASE WHEN i % 4 <> 1
                    THEN to_timestamp(:start + (i::bigint * 4001) % :span + 86400) END
        FROM generate_series(1, :n_vouchers) i;
        INSERT INTO ledger_entry (account_id, kind, amount_cents, held_cents, hold_ref,
               idempotency_key, seq, caused_by, memo, created_at)
        SELECT a.id, 'hold', 0, v.covered_cents, v.hold_ref, 'hold-' || v.id, 1, 'bench', '',
               v.created_at
        FROM welfare_voucher v JOIN budget_account a ON a.citizen_id = v.citizen_id;
        INSERT INTO ledger_entry (account_id, kind, amount_cents, held_cents, hold_ref,
               idempotency_key, seq, caused_by, memo, created_at)
        SELECT a.id, CASE WHEN v.status = 'redeemed' THEN 'capture' ELSE 'release' END,
               CASE WHEN v.status = 'redeemed' THEN -v.covered_cents ELSE 0 END,
               -v.covered_cents, v.hold_ref, 'close-' || v.id, 1, 'bench', '', v.closed_at
        FROM welfare_voucher v JOIN budget_account a ON a.citizen_id = v.citizen_id
        WHERE v.status <> 'issued';
        INSERT INTO welfare_reimbursement (number, idempotency_key, citizen_id, conversation_id,
               amount_cents, paid_on, provider_name, beneficiary, category, status,
               approved_cents, reason, reviewed_at, created_at)
        SELECT 'RIM-' || i, 'r' || i, 1 + (i::bigint * 11) % :n_citizens,
               md5((1 + (i::bigint * 11) % :n_citizens)::text), 2000 + (i % 10) * 300,
               DATE '2026-01-01',
               'Coop', 'figlio', (ARRAY['after_school','summer_camp','babysitting'])[1 + i % 3],
               CASE WHEN i % 5 = 0 THEN 'rejected' WHEN i % 5 = 1 THEN 'submitted'
                    ELSE 'approved' END,
               CASE WHEN i % 5 > 1 THEN 2000 + (i % 10) * 300 END, '',
               CASE WHEN i % 5 <> 1
                    THEN to_timestamp(:start + (i::bigint * 6007) % :span + 172800) END,
               to_timestamp(:start + (i::bigint * 6007) % :span)
        FROM generate_series(1, :n_reimbursements) i;
        INSERT INTO ledger_entry (account_id, kind, amount_cents, held_cents,
               idempotency_key, seq, caused_by, memo, created_at)
        SELECT a.id, 'reimbursement', r.approved_cents, 0, 'reimb-' || r.id, 1, 'bench', '',
               r.reviewed_at
        FROM welfare_reimbursement r JOIN budget_account a ON a.citizen_id = r.citizen_id
        WHERE r.status = 'approved'""",
    ),
    (
        "Welcome Points, appointments",
        """INSERT INTO welcome_place (code, kind, name, quartiere, address, lat, lon,
               opening_hours, staff_roles, phone, email, description, created_at, updated_at)
        SELECT 'WP-' || i, 'point', 'Welcome Point ' || i, 'Q' || (1 + i % 5), '', 43.77, 11.25,
               '', '[]', '', '', '', now(), now()
        FROM generate_series(1, 12) i;
        INSERT INTO welfare_slot (place_code, starts_at, ends_at, created_by, created_at)
        SELECT 'WP-' || (1 + i % 12), to_timestamp(:start + i * 1800),
               to_timestamp(:start + i * 1800 + 1800), 'bench', to_timestamp(:start)
        FROM generate_series(1, :n_appointments) i;
        INSERT INTO welfare_appointment (number, slot_id, conversation_id, created_at,
               cancelled_at)
        SELECT 'APP-' || s.id, s.id, md5((1 + (s.id::bigint * 37) % :n_conversations)::text),
               s.starts_at - interval '3 days',
               CASE WHEN s.id % 6 = 0 THEN s.starts_at - interval '1 day' END
        FROM welfare_slot s""",
    ),
    (
        "announcements",
        """INSERT INTO broadcast_subscription (conversation_id, channel, active, created_at,
               updated_at, stopped_at, next_send_at)
        SELECT md5(i::text), 'telegram', i % 9 <> 0,
               to_timestamp(:start + (i::bigint * 7) % :span), now(),
               CASE WHEN i % 9 = 0
                    THEN to_timestamp(:start + (i::bigint * 7) % :span + 2592000) END, 0
        FROM generate_series(1, :n_subscriptions) i;
        INSERT INTO broadcast (title, body, quartieri, interests, status, scheduled_at,
               recipients, created_at, started_at, finished_at)
        SELECT 'Avviso ' || i, 'testo', '[]', '[]', 'done', to_timestamp(:start + i * 7 * 86400),
               :n_subscriptions, to_timestamp(:start + i * 7 * 86400),
               to_timestamp(:start + i * 7 * 86400), to_timestamp(:start + i * 7 * 86400 + 3600)
        FROM generate_series(1, 52) i;
        INSERT INTO broadcast_delivery (broadcast_id, conversation_id, channel, status, attempts,
               uncertain, last_error, updated_at)
        SELECT b.id, s.conversation_id, 'telegram',
               CASE WHEN s.id % 40 = 0 THEN 'failed' ELSE 'sent' END, 1, false, '', now()
        FROM broadcast b JOIN broadcast_subscription s ON s.id % 52 = b.id % 52""",
    ),
    (
        "Rasa tracker events",
        """INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)
        SELECT md5((1 + (i::bigint * 104729) % :n_conversations)::text), 'user',
               :start + ((i::bigint * 31.54)::bigint % :span),
               (ARRAY['search_service','inform','greet','check_budget','nlu_fallback',
                      'out_of_scope','human_handoff','affirm','find_welcome_point',
                      'book_appointment'])[1 + i % 10], NULL, '{"event": "user"}'
        FROM generate_series(1, :n_user_events) i;
        INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)
        SELECT sender_id, 'action', timestamp + 0.5, NULL, 'action_two_stage_fallback',
               '{"event": "action"}'
        FROM events WHERE intent_name = 'nlu_fallback';
        INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)
        SELECT sender_id, 'slot', timestamp + 0.2, NULL, NULL,
               '{"event": "slot", "name": "neighbourhood", "value": "'
               || (ARRAY['Rifredi','Novoli','Gavinana','Isolotto','Campo di Marte'])[1 + id % 5]
               || '"}'
        FROM events WHERE intent_name = 'search_service' AND id % 2 = 0;
        INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)
        SELECT sender_id, 'slot', timestamp + 0.3, NULL, NULL,
               '{"event": "slot", "name": "service_category", "value": "'
               || (ARRAY['childcare','after_school','home_care','housing'])[1 + id % 4] || '"}'
        FROM events WHERE intent_name = 'search_service'""",
    ),
]

SIZES = {
    "n_citizens": 50_000,
    "n_conversations": 60_000,
    "n_messages": 2_000_000,
    "n_handoffs": 100_000,
    "n_flags": 20_000,
    "n_unmet": 30_000,
    "n_vouchers": 80_000,
    "n_reimbursements": 40_000,
    "n_appointments": 15_000,
    "n_subscriptions": 15_000,
    "n_user_events": 1_000_000,
    "n_adjustments": 86_000,  # with the rest: 300,000 ledger entries
}


def generate(engine: Engine, scale: float) -> dict[str, Any]:
    params: dict[str, Any] = {k: max(100, int(v * scale)) for k, v in SIZES.items()}
    params["start"] = int(START.timestamp())
    params["span"] = int((END - START).total_seconds())
    EVENTS.metadata.create_all(engine)
    timings = {}
    for label, statements in GENERATE:
        began = time.perf_counter()
        with engine.begin() as conn:
            for statement in statements.split(";\n"):
                conn.execute(text(statement), params)
        timings[label] = round(time.perf_counter() - began, 1)
        print(f"  {label}: {timings[label]} s", flush=True)
    ensure_index(engine)  # what `python -m monitoring tracker-index` does on Rasa's store
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        counts = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in (
                "citizen",
                "conversation",
                "conversation_message",
                "handoff",
                "ledger_entry",
                "events",
            )
        }
    print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    return {"sizes": params, "rows": counts, "seconds": timings}


# --- measurement -------------------------------------------------------------------------


def render_page(
    engine: Engine, key: str, *, quartiere: str | None, spent: list[float] | None = None
) -> int:
    """What the console does for one page: the view, then its charts and tables as HTML.
    ``spent`` gets the milliseconds of the view alone (its database readings)."""
    began = time.perf_counter()
    with Session(engine) as session:
        ctx = Context(
            session=session,
            period=Period.last_days(END.date() - timedelta(days=1)),
            now=END,
            quartiere=quartiere,
            tracker=engine,
        )
        view = build_cached(key, ctx)
    if spent is not None:
        spent.append((time.perf_counter() - began) * 1000)
    return sum(len(table_html(t, ctx.min_count)) for t in view.tables)


def _timed(
    engine: Engine,
    key: str,
    quartiere: str | None,
    *,
    cold: bool,
    spent: list[float] | None = None,
) -> float:
    if cold:
        clear_cache()
        charts.clear_cache()
    began = time.perf_counter()
    render_page(engine, key, quartiere=quartiere, spent=spent)
    return (time.perf_counter() - began) * 1000


def measure(engine: Engine, rounds: int) -> list[PageFigures]:
    render_page(engine, "uso", quartiere=None)  # imports, the first page
    results = []
    for key in VIEWS:
        filters = [FILTERS[i % len(FILTERS)] for i in range(rounds)]
        reading: list[float] = []
        cold = [_timed(engine, key, q, cold=True, spent=reading) for q in filters]
        for q in FILTERS:  # fill the cache, as the first visit of each filter does
            _timed(engine, key, q, cold=False)
        warm = [_timed(engine, key, q, cold=False) for q in filters]
        figures = PageFigures(
            page=key,
            requests=rounds,
            p50_ms=round(statistics.median(cold), 1),
            p95_ms=round(percentile(cold, 95), 1),
            max_ms=round(max(cold), 1),
            warm_p95_ms=round(percentile(warm, 95), 1),
            queries_p50_ms=round(statistics.median(reading), 1),
            queries_p95_ms=round(percentile(reading, 95), 1),
            load_average=round(os.getloadavg()[0], 1),
        )
        print(
            f"  {key:<13} cold p50 {figures.p50_ms:7.1f} ms  p95 {figures.p95_ms:7.1f} ms  "
            f"max {figures.max_ms:7.1f} ms | warm p95 {figures.warm_p95_ms:6.1f} ms | "
            f"database p50 {figures.queries_p50_ms:6.1f} p95 {figures.queries_p95_ms:6.1f} ms | "
            f"load {figures.load_average}",
            flush=True,
        )
        results.append(figures)
    return results


def add_arguments(parser: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=None, help="requests per page (12)")
    parser.add_argument("--scale", type=float, default=None, help="share of the year (1.0)")
    parser.add_argument(
        "--database",
        default=None,
        help="a dedicated PostgreSQL database on TEST_POSTGRES_URL's server, generated once "
        f"and reused by later runs (default: {DEFAULT_DATABASE}; 'temporary' for a fresh one, "
        "dropped afterwards)",
    )


def _generation(engine: Engine, scale: float) -> dict[str, Any]:
    """The year of data: generated now, or the one a previous run left (and how long its
    generation took, kept in ``bench_generation``)."""
    with engine.begin() as conn:
        conn.execute(text(GENERATION_TABLE))
        done = conn.execute(text("SELECT seconds, details FROM bench_generation")).first()
    if done is not None:
        print(f"  reused: generated earlier in {done[0]:.0f} s", flush=True)
        return {**json.loads(done[1]), "reused": True}
    upgrade(engine, RAW_REVISION)  # the raw tables only: 0016 then summarises them
    began = time.perf_counter()
    generated = generate(engine, scale)
    seconds = time.perf_counter() - began
    print(f"  generation took {seconds:.0f} s", flush=True)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO bench_generation (seconds, details) VALUES (:s, :d)"),
            {"s": seconds, "d": json.dumps(generated)},
        )
    return {**generated, "generation_seconds": round(seconds, 1), "reused": False}


def _summaries(engine: Engine) -> dict[str, float]:
    """Migrations up to head (0016 fills the summaries it finds missing), then the
    gateway's job once as of the year's end (the metrics 0016 did not know yet)."""
    began = time.perf_counter()
    upgrade(engine)
    migrated = time.perf_counter() - began
    began = time.perf_counter()
    with Session(engine) as session:
        written = refresh_recent(session, END, tracker=engine)  # Rasa's events are here too
        session.commit()
    job = time.perf_counter() - began
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE monitoring_daily"))
        rows = conn.execute(text("SELECT count(*) FROM monitoring_daily")).scalar_one()
    print(
        f"  summaries: migrations {migrated:.0f} s, the job's run {job:.0f} s "
        f"({written:,} rows written); monitoring_daily {rows:,} rows",
        flush=True,
    )
    return {"migrations_seconds": round(migrated, 1), "job_seconds": round(job, 1), "rows": rows}


def run(args: Any) -> None:
    quick = bool(getattr(args, "quick", False))
    scale = getattr(args, "scale", None) or (0.1 if quick else 1.0)
    rounds = getattr(args, "rounds", None) or (6 if quick else 12)
    name = getattr(args, "database", None) or (
        f"{DEFAULT_DATABASE}_quick" if quick else DEFAULT_DATABASE
    )
    try:
        with _database(name) as url:
            engine = make_engine(url)
            try:
                print(f"monitoring bench: a year of data (scale {scale}) in {name}", flush=True)
                generated = _generation(engine, scale)
                summaries = _summaries(engine)
                print(f"pages (last 90 days, {rounds} requests each, quartiere filter varied):")
                pages = measure(engine, rounds)
            finally:
                engine.dispose()
    except PostgresUnavailable as error:
        print(f"monitoring bench skipped: {error}")
        return
    OUT.mkdir(exist_ok=True)
    (OUT / "monitoring.json").write_text(
        json.dumps(
            {"data": generated, "summaries": summaries, "pages": [asdict(p) for p in pages]},
            indent=2,
        )
    )


def _database(name: str) -> Any:
    return temporary_postgres("bench_monitoring") if name == "temporary" else kept_postgres(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    run(parser.parse_args())
