"""Search that understands Italian: the function the actions call.

``search_services(session, "doposcuola a rifredi per un bimbo di 8 anni")``:

1. understands the request (:mod:`catalog.understanding`): quartiere Q5 near Rifredi,
   age 8, and the terms left ("doposcuol");
2. corrects typos against the index vocabulary and applies the synonym table, which
   adds categories (after_school) and words ("compit");
3. asks the database for candidates: full-text matches (SQLite FTS5 / PostgreSQL
   tsvector, any term) or services of the understood categories, that pass every
   filter, from approved providers only; ranked there by bm25 / ts_rank_cd;
4. re-ranks the candidates in Python with a BM25 computed from the in-memory
   statistics plus category, distance and target-group bonuses, so SQLite and
   PostgreSQL return the same services in the same order;
5. when nothing matches, relaxes the filters one by one (age, then quartiere for the
   nearest services, then target group, then cost) and says so in ``relaxed``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from catalog.areas import (
    QUARTIERE_AREAS,
    QUARTIERI,
    Area,
    haversine_km,
    quartiere_area,
    resolve_area,
)
from catalog.filters import SearchFilters
from catalog.index_stats import IndexStats, get_index_stats
from catalog.models import AdhesionStatus, Provider, Service, ServiceTargetGroup
from catalog.synonyms import synonym_table
from catalog.text import nlp, term
from catalog.understanding import QUERY_FILLERS, understand
from catalog.vocabulary import CATEGORY_LABELS, COST_LABELS, TARGET_LABELS
from welcome.settings import get_settings

__all__ = ["SearchFilters", "SearchHit", "SearchResult", "search_services"]

K1: Final[float] = 1.2
B: Final[float] = 0.75
TITLE_WEIGHT: Final[float] = 2.0
EXPANSION_WEIGHT: Final[float] = 0.5
CATEGORY_BONUS: Final[float] = 1.0
OTHER_CATEGORY_BONUS: Final[float] = 0.8
DISTANCE_BONUS: Final[float] = 0.5
TARGET_BONUS: Final[float] = 0.1
DEFAULT_REACH_KM: Final[float] = 5.0
KM_PER_DEGREE: Final[float] = 111.195

_svc = Service.__table__  # type: ignore[attr-defined]
_prov = Provider.__table__  # type: ignore[attr-defined]
_stg = ServiceTargetGroup.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class SearchHit:
    service: Service
    score: float
    reasons: list[str]
    distance_km: float | None = None


@dataclass(slots=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    interpreted: SearchFilters
    relaxed: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # normalised terms searched
    corrections: dict[str, str] = field(default_factory=dict)  # typed term -> corrected


@dataclass(slots=True)
class _Query:
    """The text part of a search, ready for the index."""

    weights: dict[str, float]  # term -> weight (1 typed, EXPANSION_WEIGHT added by synonyms)
    categories: list[str]
    surface: dict[str, str]
    corrections: dict[str, str]
    asked: bool  # the text named something (beyond filters and filler words)

    @property
    def terms(self) -> list[str]:
        return list(self.weights)


def _prepare(text_terms: list[str], surface: dict[str, str], stats: IndexStats) -> _Query:
    corrections: dict[str, str] = {}
    corrected: list[str] = []
    for t in text_terms:
        fixed = stats.correct(t)
        if fixed is None:
            corrected.append(t)  # unknown: kept, it will simply match nothing
            continue
        if fixed != t:
            corrections[t] = fixed
            surface.setdefault(fixed, surface.get(t, fixed))
        corrected.append(fixed)
    match = synonym_table().match(corrected)
    weights: dict[str, float] = {}
    for t in corrected:
        if t not in QUERY_FILLERS:
            weights[t] = 1.0
    for t in match.also:
        weights.setdefault(t, EXPANSION_WEIGHT)
    # Terms no service contains cannot match: leave them out of the database query.
    typed = [t for t in corrected if t not in QUERY_FILLERS]
    weights = {t: w for t, w in weights.items() if t in stats.df}
    return _Query(weights, match.categories, surface, corrections, bool(typed))


# --- SQL ---------------------------------------------------------------------------------


def _dist_sq(point: tuple[float, float]) -> ColumnElement[float]:
    """Squared equirectangular distance in km² (exact enough within a city)."""
    lat0, lon0 = point
    kx = KM_PER_DEGREE * math.cos(math.radians(lat0))
    dy = (_svc.c.lat - lat0) * KM_PER_DEGREE
    dx = (_svc.c.lon - lon0) * kx
    return dy * dy + dx * dx


def _clauses(f: SearchFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [_prov.c.adhesion_status == AdhesionStatus.approved.value]
    if f.category:
        clauses.append(_svc.c.category == f.category)
    if f.quartiere:
        clauses.append(_svc.c.quartiere == f.quartiere)
    if f.age is not None:
        clauses.append(sa.or_(_svc.c.age_min.is_(None), _svc.c.age_min <= f.age))
        clauses.append(sa.or_(_svc.c.age_max.is_(None), _svc.c.age_max >= f.age))
    if f.cost_mode:
        clauses.append(_svc.c.cost_mode == f.cost_mode)
    if f.budget_payable:
        clauses.append(_svc.c.budget_payable.is_(True))
    if f.target_group:
        clauses.append(
            sa.exists().where(
                _stg.c.service_id == _svc.c.id,
                _stg.c.target_group.in_([f.target_group, "everyone"]),
            )
        )
    if f.near is not None and f.max_km is not None:
        clauses.append(_dist_sq(f.near) <= f.max_km * f.max_km)
    return clauses


class _Backend:
    """The dialect-specific part: full-text match and rank."""

    def __init__(self, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"search does not support {dialect}")
        self.sqlite = dialect == "sqlite"
        self._fts = sa.table("service_fts", sa.column("rowid"))

    def match(self, terms: list[str]) -> tuple[ColumnElement[bool], ColumnElement[float], Any]:
        """(match clause, rank expression ordered best-first, FROM clause)."""
        joined = sa.join(_svc, _prov, _prov.c.id == _svc.c.provider_id)
        if self.sqlite:
            query = sa.bindparam("fts_query", " OR ".join(f'"{t}"' for t in terms))
            fts = sa.literal_column("service_fts")
            clause = fts.op("MATCH")(query)
            rank = sa.func.bm25(fts, TITLE_WEIGHT, 1.0)  # lower is better
            from_ = self._fts.join(joined, _svc.c.id == self._fts.c.rowid)
            return clause, rank, from_
        vector = sa.literal_column("service.search_vector")
        tsquery = sa.func.to_tsquery(
            sa.literal_column("'simple'::regconfig"),
            sa.bindparam("fts_query", " | ".join(terms)),
        )
        clause = vector.op("@@")(tsquery)
        rank = sa.func.ts_rank_cd(vector, tsquery).desc()
        return clause, rank, joined

    def match_ids(self, terms: list[str]) -> Any:
        """A subquery of the ids of services matching any of ``terms``."""
        clause, _, _ = self.match(terms)
        if self.sqlite:
            return sa.select(self._fts.c.rowid).where(clause)
        return sa.select(_svc.c.id).where(clause)


_ROW_COLUMNS = (
    "id", "code", "category", "quartiere", "lat", "lon", "age_min", "age_max", "cost_mode",
    "budget_payable", "target_groups", "search_title", "search_body",
)  # fmt: skip


@dataclass(slots=True)
class _Attempt:
    total: int
    ranked: list[tuple[float, dict[str, Any]]]

    def answers(self, query: _Query) -> bool:
        """Found something; with understood categories, something in one of them."""
        if not self.total:
            return False
        if not query.categories:
            return True
        return any(row["category"] in query.categories for _, row in self.ranked)


def _run(
    session: Session,
    backend: _Backend,
    query: _Query,
    f: SearchFilters,
    ref: tuple[float, float] | None,
    pool: int,
) -> _Attempt:
    clauses = _clauses(f)
    joined = sa.join(_svc, _prov, _prov.c.id == _svc.c.provider_id)
    cats = query.categories
    cat_first = sa.case((_svc.c.category.in_(cats), 0), else_=1) if cats else sa.literal(0)
    near_order = [_dist_sq(ref)] if ref else []
    ids: dict[int, None] = {}
    if query.terms:
        clause, rank, from_ = backend.match(query.terms)
        stmt = (
            sa.select(_svc.c.id)
            .select_from(from_)
            .where(clause, *clauses)
            .order_by(cat_first, rank, *near_order, _svc.c.code)
            .limit(pool)
        )
        ids.update(dict.fromkeys(session.execute(stmt).scalars()))
    if cats:
        stmt = (
            sa.select(_svc.c.id)
            .select_from(joined)
            .where(_svc.c.category.in_(cats), *clauses)
            .order_by(*near_order, _svc.c.code)
            .limit(pool)
        )
        ids.update(dict.fromkeys(session.execute(stmt).scalars()))
    if not query.terms and not cats:
        stmt = (
            sa.select(_svc.c.id)
            .select_from(joined)
            .where(*clauses)
            .order_by(*near_order, _svc.c.code)
            .limit(pool)
        )
        ids.update(dict.fromkeys(session.execute(stmt).scalars()))
    if not ids:
        return _Attempt(0, [])

    if query.terms and cats:
        wanted = sa.or_(_svc.c.id.in_(backend.match_ids(query.terms)), _svc.c.category.in_(cats))
        count = sa.select(sa.func.count()).select_from(joined).where(wanted, *clauses)
    elif query.terms:
        clause, _, from_ = backend.match(query.terms)
        count = sa.select(sa.func.count()).select_from(from_).where(clause, *clauses)
    elif cats:
        count = (
            sa.select(sa.func.count())
            .select_from(joined)
            .where(_svc.c.category.in_(cats), *clauses)
        )
    else:
        count = sa.select(sa.func.count()).select_from(joined).where(*clauses)
    total = int(session.execute(count).scalar_one())

    columns = [_svc.c[name] for name in _ROW_COLUMNS]
    rows = session.execute(sa.select(*columns).where(_svc.c.id.in_(list(ids)))).mappings().all()
    stats = get_index_stats(session)
    scored = [(_score(dict(r), query, f, ref, stats), dict(r)) for r in rows]
    scored.sort(key=lambda pair: (-pair[0], pair[1]["code"]))
    return _Attempt(total, scored)


# --- ranking -------------------------------------------------------------------------------


def _text_score(row: dict[str, Any], query: _Query, stats: IndexStats) -> float:
    """BM25 (title counted twice) over the query terms, scaled to 0..1."""
    if not query.weights:
        return 0.0
    title = Counter(row["search_title"].split())
    body = Counter(row["search_body"].split())
    length = TITLE_WEIGHT * sum(title.values()) + sum(body.values())
    avg = TITLE_WEIGHT * stats.avg_title + stats.avg_body or 1.0
    norm = K1 * (1 - B + B * length / avg)
    got = possible = 0.0
    for t, weight in query.weights.items():
        idf = stats.idf(t)
        possible += weight * idf
        tf = TITLE_WEIGHT * title.get(t, 0) + body.get(t, 0)
        if tf:
            got += weight * idf * (tf / (tf + norm))
    return got / possible if possible else 0.0


def _score(
    row: dict[str, Any],
    query: _Query,
    f: SearchFilters,
    ref: tuple[float, float] | None,
    stats: IndexStats,
) -> float:
    score = _text_score(row, query, stats)
    if query.categories:
        if row["category"] == query.categories[0]:
            score += CATEGORY_BONUS
        elif row["category"] in query.categories:
            score += OTHER_CATEGORY_BONUS
    if ref is not None:
        reach = f.max_km or DEFAULT_REACH_KM
        km = haversine_km(ref[0], ref[1], row["lat"], row["lon"])
        score += DISTANCE_BONUS * max(0.0, 1 - km / reach)
    if f.target_group and f.target_group in (row["target_groups"] or []):
        score += TARGET_BONUS
    return round(score, 9)


def _km(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _words_in(service: Service, wanted: list[str]) -> dict[str, str]:
    """For each term, the word the service itself uses for it ("badant" -> "badanti")."""
    found: dict[str, str] = {}
    texts = (service.title, " ".join(service.keywords), service.description)
    for text_ in texts:
        for token in nlp().make_doc(text_.lower()):
            t = term(token.text)
            if t in wanted and t not in found:
                found[t] = token.text
        if len(found) == len(wanted):
            break
    return found


def _reasons(
    service: Service,
    query: _Query,
    f: SearchFilters,
    distance: float | None,
    area_name: str | None,
) -> list[str]:
    reasons: list[str] = []
    if service.category in query.categories or service.category == f.category:
        reasons.append(f"categoria: {CATEGORY_LABELS.get(service.category, service.category)}")
    doc_terms = set(service.search_title.split()) | set(service.search_body.split())
    typed = [t for t, w in query.weights.items() if w == 1.0 and t in doc_terms]
    if typed:
        shown = _words_in(service, typed)
        words = [shown.get(t) or query.surface.get(t, t) for t in typed]
        reasons.append("parla di: " + ", ".join(dict.fromkeys(words)))
    if f.quartiere and service.quartiere == f.quartiere:
        reasons.append(f"nel quartiere {f.quartiere[1]} {QUARTIERI[f.quartiere]}")
    if f.age is not None and (service.age_min is not None or service.age_max is not None):
        reasons.append(f"adatto a {f.age} ann{'o' if f.age == 1 else 'i'}")
    if f.target_group:
        if f.target_group in service.target_groups:
            reasons.append(f"per {TARGET_LABELS[f.target_group]}")
        elif "everyone" in service.target_groups:
            reasons.append("aperto a tutti")
    if service.cost_mode == "free":
        reasons.append("gratuito")
    elif f.cost_mode:
        reasons.append(COST_LABELS[service.cost_mode])
    if f.budget_payable and service.budget_payable:
        reasons.append("pagabile con il budget welfare")
    if distance is not None:
        where = f" da {area_name}" if area_name else ""
        reasons.append(f"a {_km(distance)} km{where}")
    return reasons


# --- relaxation ----------------------------------------------------------------------------


def _relaxations(
    hard: SearchFilters, centre: tuple[float, float] | None
) -> list[tuple[SearchFilters, list[str]]]:
    """The filters to try in turn, each with the Italian notes on what was dropped."""
    steps: list[tuple[SearchFilters, list[str]]] = [(hard, [])]
    current, notes = hard, []
    if current.age is not None:
        a = current.age
        notes = [*notes, f"Non ho trovato servizi per {a} ann{'o' if a == 1 else 'i'}: "
                 "ti mostro anche quelli per altre età."]  # fmt: skip
        current = current.without("age")
        steps.append((current, notes))
    if current.quartiere is not None:
        q = current.quartiere
        notes = [*notes, f"Nel quartiere {q[1]} {QUARTIERI[q]} non ho trovato nulla: "
                 "ti mostro i servizi più vicini."]  # fmt: skip
        near = current.near or centre or (quartiere_area(q).lat, quartiere_area(q).lon)
        current = replace(current, quartiere=None, near=near)
        steps.append((current, notes))
    if current.target_group is not None:
        label = TARGET_LABELS[current.target_group]
        notes = [*notes, f"Non ho trovato servizi pensati per {label}: "
                 "ti mostro anche quelli per altre persone."]  # fmt: skip
        current = current.without("target_group")
        steps.append((current, notes))
    if current.cost_mode is not None or current.budget_payable:
        if current.cost_mode is not None:
            what = COST_LABELS[current.cost_mode]
            notes = [
                *notes,
                f"Non ho trovato servizi con costo «{what}»: ti mostro anche gli altri.",
            ]
        else:
            notes = [*notes, "Non ho trovato servizi pagabili con il budget welfare: "
                     "ti mostro anche gli altri."]  # fmt: skip
        current = current.without("cost_mode", "budget_payable")
        steps.append((current, notes))
    return steps


def _reference(
    f: SearchFilters, area: Area | None
) -> tuple[tuple[float, float] | None, str | None]:
    """The point distances are shown from, and its name (None for the citizen's own position).

    The centroid of a whole quartiere (the "nearby" fallback without a named area) ranks
    results but is no place to measure a distance from, so no distance is shown then.
    """
    centre = (area.lat, area.lon) if area else None
    if f.near is not None and f.near != centre:
        quartiere_centroids = {(a.lat, a.lon) for a in QUARTIERE_AREAS.values()}
        if f.near in quartiere_centroids and f.max_km is None:
            return None, None
        return f.near, None
    if area is not None:
        return centre, area.name
    return None, None


# --- entry point ---------------------------------------------------------------------------


def search_services(
    session: Session,
    text: str = "",
    filters: SearchFilters | None = None,
    *,
    limit: int = 5,
    offset: int = 0,
) -> SearchResult:
    """Services answering ``text`` and ``filters``, best first, with Italian reasons.

    Filters given by the caller win over those understood from the text. A category
    understood from the text ranks its services first but does not exclude the others;
    a category given in ``filters`` does.
    """
    understood = understand(text)
    hard = (filters or SearchFilters()).merged_over(understood.filters)
    stats = get_index_stats(session)
    query = _prepare(understood.terms, dict(understood.surface), stats)
    if hard.category and hard.category not in query.categories:
        query.categories.insert(0, hard.category)
    interpreted = hard
    if interpreted.category is None and query.categories:
        interpreted = replace(interpreted, category=query.categories[0])

    area = resolve_area(hard.area) if hard.area else None
    centre = (area.lat, area.lon) if area else None
    backend = _Backend(session.get_bind().dialect.name)
    pool = max(get_settings().search_pool_size, (offset + limit) * 2)
    if query.asked and not query.terms and not query.categories:
        # Words were typed, but none is in the catalogue: nothing can answer them.
        return SearchResult([], 0, interpreted, [], [], query.corrections)

    # Relax the filters until something answers; if nothing ever does, keep the exact
    # search (maybe with loose matches outside the category asked) and no notes.
    chosen: _Attempt | None = None
    relaxed: list[str] = []
    chosen_filters = hard
    for attempt_filters, notes in _relaxations(hard, centre):
        ref = attempt_filters.near or centre
        attempt = _run(session, backend, query, attempt_filters, ref, pool)
        if chosen is None:
            chosen = attempt
        if attempt.answers(query):
            chosen, relaxed, chosen_filters = attempt, notes, attempt_filters
            break
    assert chosen is not None

    page = chosen.ranked[offset : offset + limit]
    ids = [row["id"] for _, row in page]
    services: dict[int, Service] = {}
    if ids:
        stmt = (
            select(Service).where(col(Service.id).in_(ids)).options(selectinload(Service.provider))
        )  # type: ignore[arg-type]
        services = {s.id: s for s in session.exec(stmt).all() if s.id is not None}
    ref, area_name = _reference(chosen_filters, area)
    hits: list[SearchHit] = []
    for score, row in page:
        service = services[row["id"]]
        distance = haversine_km(ref[0], ref[1], service.lat, service.lon) if ref else None
        reasons = _reasons(service, query, chosen_filters, distance, area_name)
        hits.append(SearchHit(service, score, reasons, distance))
    return SearchResult(
        hits=hits,
        total=chosen.total,
        interpreted=interpreted,
        relaxed=relaxed,
        terms=query.terms,
        corrections=query.corrections,
    )
