"""Search benchmark: 100,000 services, a few hundred varied Italian queries, p50/p95/p99.

    python -m bench search [--services 100000] [--queries 300] [--backends sqlite,postgres]
    python -m bench.search_bench --quick

The catalogue is generated from the seed services (data/catalog/services.yaml, or the test
fixtures when absent): each generated service copies a seed service of the same category
and mixes in sentences of its siblings, gets a neighbourhood, coordinates, ages, costs and
a provider (2,000 providers, 90 % approved). It is loaded with the same normalisation as
the importer into a temporary SQLite file and a temporary PostgreSQL database
(``welcome_bench_<random>``, dropped afterwards). Each query is one ``search_services``
call in its own session, as the action server does; the first query (which builds the
in-memory vocabulary) is timed apart. Target: p95 <= 20 ms on SQLite.
Figures go to stdout and bench/out/search.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from catalog.areas import AREAS, Area
from catalog.filters import SearchFilters
from catalog.models import Provider
from catalog.repository import bump_revision, insert_services_bulk
from catalog.search import search_services
from catalog.vocabulary import CATEGORIES
from core.db import make_engine
from core.migrate import upgrade
from core.settings import PROJECT_ROOT
from core.timeutil import utcnow

OUT = Path(__file__).resolve().parent / "out"
TARGET_MS = 20.0
SEED_FILES = (
    PROJECT_ROOT / "data" / "catalog" / "services.yaml",
    PROJECT_ROOT / "tests" / "catalog" / "fixtures" / "good" / "services.yaml",
)
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BATCH = 5_000


# --- the catalogue -----------------------------------------------------------------------


def _seed_services() -> list[dict[str, Any]]:
    for path in SEED_FILES:
        if path.exists():
            rows = yaml.safe_load(path.read_text(encoding="utf-8"))
            return [r for r in rows if isinstance(r, dict) and r.get("category") in CATEGORIES]
    raise SystemExit("no seed services found (data/catalog/services.yaml)")


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.split(".") if s.strip()]


def generate_services(n: int, providers: int, rng: random.Random) -> list[dict[str, Any]]:
    """``n`` service rows (no ids) modelled on the seed services."""
    seeds = _seed_services()
    by_category: dict[str, list[dict[str, Any]]] = {}
    for row in seeds:
        by_category.setdefault(row["category"], []).append(row)
    sentences = {c: [s for r in rows for s in _sentences(r.get("description") or "")]
                 for c, rows in by_category.items()}  # fmt: skip
    rows = []
    for i in range(n):
        seed = rng.choice(seeds)
        category = seed["category"]
        area: Area = rng.choice(AREAS)
        extra = rng.sample(sentences[category], k=min(2, len(sentences[category])))
        description = " ".join([*_sentences(seed.get("description") or "")[:2], *extra])
        age_min, age_max = seed.get("age_min"), seed.get("age_max")
        if age_min is not None and rng.random() < 0.3:
            age_min = max(0, age_min + rng.choice([-1, 1]))
            age_max = None if age_max is None else max(age_min, age_max + rng.choice([-1, 0, 1]))
        cost = seed["cost_mode"]
        if rng.random() < 0.15:
            cost = rng.choice(["free", "co_payment", "paid"])
        price = 0 if cost == "free" else (seed.get("price_cents") or rng.randrange(500, 20000, 500))
        rows.append(
            {
                "code": f"bench-{i:06d}",
                "provider_id": rng.randrange(1, providers + 1),
                "title": f"{seed['title']} - {area.name}",
                "description": description,
                "category": category,
                "target_groups": list(seed.get("target_groups") or ["everyone"]),
                "age_min": age_min,
                "age_max": age_max,
                "quartiere": area.quartiere,
                "address": f"Via di prova {i % 300 + 1}, Firenze",
                "lat": round(area.lat + rng.uniform(-0.004, 0.004), 5),
                "lon": round(area.lon + rng.uniform(-0.005, 0.005), 5),
                "opening_hours": seed.get("opening_hours") or "",
                "cost_mode": cost,
                "price_cents": price,
                "price_unit": "" if cost == "free" else (seed.get("price_unit") or "al mese"),
                "budget_payable": cost != "free" and bool(seed.get("budget_payable")),
                "how_to_access": seed.get("how_to_access") or "",
                "contacts": seed.get("contacts") or "",
                "keywords": list(seed.get("keywords") or []),
            }
        )
    return rows


def load_catalogue(
    engine: Engine, services: list[dict[str, Any]], providers: int, rng: random.Random
) -> float:
    """Insert providers and services; returns the seconds spent (normalisation included)."""
    started = time.perf_counter()
    now = utcnow()
    statuses = ["approved"] * 90 + ["pending"] * 7 + ["suspended"] * 3
    provider_rows = [
        {"id": i, "code": f"bench-provider-{i}", "name": f"Erogatore {i}",
         "kind": rng.choice(["public_body", "cooperative", "third_sector", "business"]),
         "adhesion_status": rng.choice(statuses), "adhesion_date": date(2025, 1, 1),
         "description": "", "email": "", "phone": "", "website": "",
         "created_at": now, "updated_at": now}
        for i in range(1, providers + 1)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(Provider), provider_rows)
    for start in range(0, len(services), BATCH):
        with engine.begin() as conn:
            insert_services_bulk(conn, rows=services[start : start + BATCH], first_id=start + 1)
    with Session(engine) as session:
        bump_revision(session)
        session.commit()
    if engine.dialect.name == "postgresql":
        # Fresh rows: set the visibility map and statistics, as autovacuum would soon.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE service"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


# --- the queries ---------------------------------------------------------------------------

WHAT = [
    "doposcuola", "aiuto compiti", "badante", "assistenza domiciliare", "asilo nido", "tata",
    "babysitter", "psicologo", "centro estivo", "campo solare", "centro diurno", "spesa",
    "pacco alimentare", "mensa", "corso di italiano", "corsi di formazione", "lavoro",
    "casa", "affitto", "contributo bollette", "consultorio", "mediazione familiare",
    "coworking con area bimbi", "piscina", "ginnastica dolce", "sport per ragazzi",
    "disabilità", "logopedista", "fisioterapia", "vaccinazioni", "ludoteca", "dormitorio",
    "trasporto sociale", "pasti a domicilio", "telesoccorso", "sportello ascolto",
]  # fmt: skip
WHERE = ["", "", "a rifredi", "zona novoli", "in centro", "all'isolotto", "quartiere 3",
         "a gavinana", "vicino a careggi", "alle cure", "a coverciano", "q4"]  # fmt: skip
WHO = ["", "", "", "per mia madre", "per un bimbo di 8 anni", "per mio figlio di 15 anni",
       "per mia figlia di 3 anni", "per anziani", "per stranieri", "per una neonata"]  # fmt: skip
COST = ["", "", "", "gratis", "gratuito", "con il budget welfare"]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 6:
        return word
    i = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1 :]  # deletion
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # transposition


def generate_queries(n: int, rng: random.Random) -> list[tuple[str, SearchFilters | None]]:
    queries: list[tuple[str, SearchFilters | None]] = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.1:  # filters only, as the search form sends them
            area = rng.choice(AREAS)
            queries.append(("", SearchFilters(category=rng.choice(sorted(CATEGORIES)),
                                              quartiere=area.quartiere,
                                              age=rng.choice([None, 5, 9, 70]))))  # fmt: skip
            continue
        what = rng.choice(WHAT)
        if kind < 0.25:
            what = " ".join(_typo(w, rng) for w in what.split())
        words = [what, rng.choice(WHERE), rng.choice(WHO), rng.choice(COST)]
        text_ = " ".join(w for w in words if w)
        filters = None
        if kind > 0.9:
            area = rng.choice(AREAS)
            filters = SearchFilters(near=(area.lat, area.lon), max_km=rng.choice([1.0, 2.0, 5.0]))
        queries.append((text_, filters))
    return queries


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Figures:
    backend: str
    services: int
    queries: int
    load_seconds: float
    first_query_ms: float
    p50_ms: float  # single pass: each query once, as a citizen would meet it
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    best_p50_ms: float  # best of REPEAT runs per query: less noise from other processes
    best_p95_ms: float
    cpu_p95_ms: float  # CPU time of the searching thread (best of REPEAT)
    p95_vs_target: float
    best_p95_vs_target: float
    load_average: float
    relaxed_share: float
    empty_share: float
    slowest: list[tuple[float, str]] = field(default_factory=list)


REPEAT = 3
WARMUP = 200


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure(
    engine: Engine,
    label: str,
    n_services: int,
    queries: list[tuple[str, SearchFilters | None]],
    load_seconds: float,
) -> Figures:
    """Time every query REPEAT times, in passes (the whole list, then again).

    A running action server has its index pages mapped and its caches filled: before
    timing, WARMUP other queries (another seed) bring the process to that state.
    """
    started = time.perf_counter()
    with Session(engine) as session:
        search_services(session, "doposcuola")
    first = (time.perf_counter() - started) * 1000
    for text_, filters in generate_queries(WARMUP, random.Random(len(queries))):
        with Session(engine) as session:
            search_services(session, text_, filters)
    walls: list[list[float]] = [[] for _ in queries]
    cpus: list[list[float]] = [[] for _ in queries]
    relaxed = empty = 0
    for repeat in range(REPEAT):
        for i, (text_, filters) in enumerate(queries):
            started, cpu = time.perf_counter(), time.thread_time()
            with Session(engine) as session:
                result = search_services(session, text_, filters)
            cpus[i].append((time.thread_time() - cpu) * 1000)
            walls[i].append((time.perf_counter() - started) * 1000)
            if repeat == 0:
                relaxed += bool(result.relaxed)
                empty += not result.hits
    single = [w[0] for w in walls]
    best = [min(w) for w in walls]
    p95, best_p95 = _pct(single, 95), _pct(best, 95)
    names = [q or str(f.to_dict() if f else "") for q, f in queries]
    return Figures(
        backend=label,
        services=n_services,
        queries=len(queries),
        load_seconds=round(load_seconds, 1),
        first_query_ms=round(first, 1),
        p50_ms=round(_pct(single, 50), 2),
        p95_ms=round(p95, 2),
        p99_ms=round(_pct(single, 99), 2),
        max_ms=round(max(single), 2),
        mean_ms=round(statistics.fmean(single), 2),
        best_p50_ms=round(_pct(best, 50), 2),
        best_p95_ms=round(best_p95, 2),
        cpu_p95_ms=round(_pct([min(c) for c in cpus], 95), 2),
        p95_vs_target=round(p95 / TARGET_MS, 2),
        best_p95_vs_target=round(best_p95 / TARGET_MS, 2),
        load_average=round(os.getloadavg()[0], 2),
        relaxed_share=round(relaxed / len(queries), 3),
        empty_share=round(empty / len(queries), 3),
        slowest=sorted(zip(best, names, strict=True), reverse=True)[:5],
    )


def print_figures(f: Figures) -> None:
    verdict = "OK" if f.best_p95_ms <= TARGET_MS else "over target"
    print(
        f"{f.backend}: {f.services:,} services (loaded in {f.load_seconds} s), {f.queries} queries"
    )
    print(f"  first query {f.first_query_ms} ms (builds the vocabulary)")
    print(f"  single pass: p50 {f.p50_ms} ms  p95 {f.p95_ms} ms  p99 {f.p99_ms} ms  "
          f"max {f.max_ms} ms  mean {f.mean_ms} ms")  # fmt: skip
    print(f"  best of {REPEAT}:   p50 {f.best_p50_ms} ms  p95 {f.best_p95_ms} ms  "
          f"(CPU p95 {f.cpu_p95_ms} ms)")  # fmt: skip
    print(f"  p95 / {TARGET_MS:.0f} ms target: single pass {f.p95_vs_target}, "
          f"best of {REPEAT} {f.best_p95_vs_target}  ({verdict}; load average {f.load_average} "
          f"on {os.cpu_count()} CPUs)")  # fmt: skip
    print(f"  relaxed {f.relaxed_share:.0%}, no hits {f.empty_share:.0%}")
    for ms, q in f.slowest[:3]:
        print(f"  slowest: {ms:.1f} ms  {q}")


@contextmanager
def sqlite_database() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="welcome-bench-") as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_database() -> Iterator[Engine | None]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # no server: skip this backend
        print(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: skipped ({type(exc).__name__})")
        admin.dispose()
        yield None
        return
    name = f"welcome_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def add_arguments(parser: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    parser.add_argument("--services", type=int, default=None, help="catalogue size (100000)")
    parser.add_argument("--queries", type=int, default=None, help="queries per backend (300)")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--out", type=Path, default=None, help="folder for search.json (bench/out)")


def run(args: Any) -> None:
    quick = bool(getattr(args, "quick", False))
    n_services = getattr(args, "services", None) or (20_000 if quick else 100_000)
    n_queries = getattr(args, "queries", None) or (100 if quick else 300)
    backends = [
        b.strip() for b in (getattr(args, "backends", None) or "sqlite,postgres").split(",")
    ]
    seed = getattr(args, "seed", None) or 20261125
    providers = max(10, n_services // 50)

    rng = random.Random(seed)
    started = time.perf_counter()
    services = generate_services(n_services, providers, rng)
    queries = generate_queries(n_queries, random.Random(seed + 1))
    print(f"generated {n_services:,} services and {n_queries} queries in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    results: list[Figures] = []
    for backend in backends:
        database = {"sqlite": sqlite_database, "postgres": postgres_database}[backend]
        label = {"sqlite": "SQLite (FTS5)", "postgres": "PostgreSQL (tsvector + GIN)"}[backend]
        with database() as engine:
            if engine is None:
                continue
            load = load_catalogue(engine, services, providers, random.Random(seed + 2))
            figures = measure(engine, label, n_services, queries, load)
            print_figures(figures)
            results.append(figures)
    out = getattr(args, "out", None) or OUT
    out.mkdir(parents=True, exist_ok=True)
    (out / "search.json").write_text(
        json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False), encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_bench")
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
