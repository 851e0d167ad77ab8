"""Ledger benchmark: payments per second with 8 concurrent workers, and the p95 of a balance
query for a citizen with 10,000 entries; on PostgreSQL and on SQLite (a WAL file).

A *payment* is what the chat and the provider do: ``choose_sources`` + ``place_hold`` in one
transaction (the citizen confirms), then ``capture_hold`` in another (the provider redeems),
each worker a separate process with its own connection. Two cases: 8 citizens paying at
once (no shared row), and 8 workers on one shared budget (every payment waits for the
account lock). The balance query is ``accounts.balances`` (two indexed queries).

    python -m bench.ledger_bench [--seconds 8] [--workers 8] [--quick] [--no-sqlite]
    (or through the bench runner: ``make bench``)

Uses a fresh database on the PostgreSQL of TEST_POSTGRES_URL (dropped afterwards) and a
temporary SQLite file; prints the figures and writes bench/out/ledger.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlmodel import Session

from bench.databases import PostgresUnavailable, temporary_postgres
from core.db import make_engine, session_scope
from core.migrate import upgrade
from welfare.ledger.accounts import balances, create_citizen, open_account, upsert_source
from welfare.ledger.models import EntryKind, LedgerEntry, SourceKind
from welfare.ledger.payments import capture_hold, choose_sources, credit, place_hold

OUT = Path(__file__).resolve().parent / "out"
NOW = datetime.now(UTC)
PAYMENT_CENTS = 1_000


@dataclass
class Figures:
    database: str
    workers: int
    seconds: float
    payments_per_s_independent: float = 0.0
    payment_p50_ms: float = 0.0
    payment_p95_ms: float = 0.0
    payments_per_s_shared: float = 0.0
    shared_p95_ms: float = 0.0
    balance_entries: int = 0
    balance_p50_ms: float = 0.0
    balance_p95_ms: float = 0.0
    statement_p95_ms: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- set-up ------------------------------------------------------------------------------


def _citizen_with_budget(session: Session, n: int, cents: int) -> tuple[int, int]:
    """(citizen_id, account_id) of a citizen with one big public budget."""
    citizen = create_citizen(session, first_name="Bench", family_name=f"N{n}")
    source = upsert_source(session, code="bench", kind=SourceKind.public, name="Budget pubblico")
    assert citizen.id is not None and source.id is not None
    account = open_account(
        session, citizen_id=citizen.id, source_id=source.id, expires_at=NOW + timedelta(days=365)
    )
    assert account.id is not None
    credit(
        session,
        account_id=account.id,
        amount_cents=cents,
        idempotency_key=f"bench-credit-{account.id}",
        caused_by="bench",
        now=NOW,
    )
    return citizen.id, account.id


# --- payments ----------------------------------------------------------------------------


def _pay(engine: Any, citizen_id: int, key: str) -> None:
    with session_scope(engine) as s:
        plan = choose_sources(
            s, citizen_id=citizen_id, category="childcare", amount_cents=PAYMENT_CENTS, now=NOW
        )
        hold = place_hold(s, plan=plan, idempotency_key=f"{key}-h", caused_by="bench", now=NOW)
    with session_scope(engine) as s:
        assert hold.hold_ref is not None
        capture_hold(s, hold_ref=hold.hold_ref, idempotency_key=f"{key}-c", caused_by="b", now=NOW)


def _worker(
    url: str, citizen_id: int, worker: int, seconds: float, barrier: Any, results: Any
) -> None:
    """One process: warm up, start with the others, pay for ``seconds``; latencies (s)."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    prefix = f"w{worker}-{uuid.uuid4().hex[:8]}"
    _pay(engine, citizen_id, f"{prefix}-warm")
    barrier.wait()
    end_at = time.perf_counter() + seconds
    latencies: list[float] = []
    while (t0 := time.perf_counter()) < end_at:
        _pay(engine, citizen_id, f"{prefix}-{len(latencies)}")
        latencies.append(time.perf_counter() - t0)
    engine.dispose()
    results.put(latencies)


def _throughput(url: str, citizen_ids: list[int], seconds: float) -> tuple[float, list[float]]:
    """Payments per second of len(citizen_ids) processes started together."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(citizen_ids))
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_worker, args=(url, cid, i, seconds, barrier, results))
        for i, cid in enumerate(citizen_ids)
    ]
    for process in processes:
        process.start()
    latencies = [x for _ in processes for x in results.get(timeout=seconds + 300)]
    for process in processes:
        process.join()
    return len(latencies) / seconds, latencies


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- balance query -----------------------------------------------------------------------


def _bulk_entries(engine: Any, account_ids: list[int], total: int) -> None:
    """``total`` entries spread over the accounts: credits of 2 € and reimbursements of 1 €
    alternating, so the balance stays positive (written in bulk, not through the API)."""
    rows = []
    for i in range(total):
        account_id = account_ids[i % len(account_ids)]
        positive = (i // len(account_ids)) % 2 == 0
        rows.append(
            {
                "account_id": account_id,
                "kind": EntryKind.credit if positive else EntryKind.reimbursement,
                "amount_cents": 200 if positive else -100,
                "held_cents": 0,
                "idempotency_key": f"bulk-{uuid.uuid4().hex}",
                "seq": 1,
                "caused_by": "bench",
                "memo": "",
                "created_at": NOW - timedelta(seconds=total - i),
            }
        )
    with Session(engine) as s:
        for start in range(0, len(rows), 5_000):
            s.execute(insert(LedgerEntry), rows[start : start + 5_000])
        s.commit()


def _balance_latency(engine: Any, citizen_id: int, runs: int) -> tuple[list[float], list[float]]:
    bal: list[float] = []
    stm: list[float] = []
    from welfare.ledger.accounts import statement

    with Session(engine) as s:
        for _ in range(runs):
            t0 = time.perf_counter()
            balances(s, citizen_id=citizen_id, now=NOW)
            bal.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            statement(s, citizen_id=citizen_id, limit=10)
            stm.append(time.perf_counter() - t0)
            s.rollback()  # a fresh transaction each time, as a chat turn would have
    return bal, stm


def _sum_plan(engine: Any, account_id: int) -> str:
    """How the database answers the balance sum (which index, index-only or not)."""
    query = (
        "SELECT sum(amount_cents), sum(held_cents) FROM ledger_entry "
        f"WHERE account_id = {int(account_id)}"
    )
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            lines = [r[0] for r in conn.execute(text(f"EXPLAIN {query}"))]
        else:
            lines = [str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}"))]
    return next((line.strip() for line in lines if "ndex" in line), " / ".join(lines))


# --- one database ------------------------------------------------------------------------


def bench_database(url: str, label: str, *, workers: int, seconds: float, runs: int) -> Figures:
    engine = make_engine(url)
    upgrade(engine)
    figures = Figures(database=label, workers=workers, seconds=seconds)
    load = os.getloadavg()[0]
    figures.notes.append(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} at start")
    with session_scope(engine) as s:
        independent = [_citizen_with_budget(s, i, 10**10)[0] for i in range(workers)]
        shared_citizen, _ = _citizen_with_budget(s, workers, 10**10)
        heavy_citizen, heavy_account = _citizen_with_budget(s, workers + 1, 10**6)
        other_ids = [_citizen_with_budget(s, workers + 2 + i, 10**6)[1] for i in range(20)]

    rate, lat = _throughput(url, independent, seconds)
    figures.payments_per_s_independent = round(rate, 1)
    figures.payment_p50_ms = round(_pct(lat, 0.50) * 1000, 1)
    figures.payment_p95_ms = round(_pct(lat, 0.95) * 1000, 1)
    rate, lat = _throughput(url, [shared_citizen] * workers, seconds)
    figures.payments_per_s_shared = round(rate, 1)
    figures.shared_p95_ms = round(_pct(lat, 0.95) * 1000, 1)

    _bulk_entries(engine, [heavy_account], 10_000 - 1)  # + its credit = 10,000 entries
    _bulk_entries(engine, other_ids, 100_000)  # other citizens' movements around it
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE ledger_entry"))
    else:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    with Session(engine) as s:
        shown = balances(s, citizen_id=heavy_citizen, now=NOW)
        figures.balance_entries = 10_000
        expected = 10**6 + sum(200 if (i % 2 == 0) else -100 for i in range(10_000 - 1))
        assert shown[0].balance_cents == expected, (shown, expected)
    figures.notes.append(f"balance sum plan: {_sum_plan(engine, heavy_account)}")
    bal, stm = _balance_latency(engine, heavy_citizen, runs)
    figures.balance_p50_ms = round(statistics.median(bal) * 1000, 2)
    figures.balance_p95_ms = round(_pct(bal, 0.95) * 1000, 2)
    figures.statement_p95_ms = round(_pct(stm, 0.95) * 1000, 2)
    engine.dispose()
    return figures


def _print(f: Figures) -> None:
    print(f"ledger bench on {f.database}: {f.workers} worker processes, {f.seconds:g} s per case")
    print(
        f"  payments/s, {f.workers} citizens at once : {f.payments_per_s_independent:8.1f}"
        f"   (hold+capture; p50 {f.payment_p50_ms} ms, p95 {f.payment_p95_ms} ms)"
    )
    print(
        f"  payments/s, one shared budget     : {f.payments_per_s_shared:8.1f}"
        f"   (p95 {f.shared_p95_ms} ms)"
    )
    print(
        f"  balance query, citizen with {f.balance_entries:,} entries (+100,000 others): "
        f"p50 {f.balance_p50_ms} ms, p95 {f.balance_p95_ms} ms; "
        f"statement (10 lines) p95 {f.statement_p95_ms} ms"
    )
    for note in f.notes:
        print(f"  note: {note}")


# --- entry points ------------------------------------------------------------------------


def _run_postgres(workers: int, seconds: float, runs: int) -> Figures | None:
    try:
        with temporary_postgres("welcome_bench") as url:
            with create_engine(url).connect() as conn:
                version = conn.execute(text("SHOW server_version")).scalar()
            return bench_database(
                url, f"PostgreSQL {version}", workers=workers, seconds=seconds, runs=runs
            )
    except PostgresUnavailable as error:
        print(f"ledger bench: {error}")
        return None


def _run_sqlite(workers: int, seconds: float, runs: int) -> Figures:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        return bench_database(url, "SQLite (WAL file)", workers=workers, seconds=seconds, runs=runs)


def run(args: Any) -> None:
    """Entry point of the bench runner (``python -m bench``); ``args`` may carry
    ``quick`` (shorter runs), ``seconds``, ``workers``, ``no_sqlite``."""
    quick = bool(getattr(args, "quick", False))
    seconds = float(getattr(args, "seconds", None) or (3.0 if quick else 8.0))
    workers = int(getattr(args, "workers", None) or 8)
    runs = 100 if quick else 300
    results = []
    pg = _run_postgres(workers, seconds, runs)
    if pg is not None:
        results.append(pg)
        _print(pg)
    if not getattr(args, "no_sqlite", False):
        lite = _run_sqlite(workers, seconds, runs)
        lite.notes.append("SQLite serialises writers (BEGIN IMMEDIATE): one write at a time")
        results.append(lite)
        _print(lite)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ledger.json").write_text(json.dumps([asdict(r) for r in results], indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_bench")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
