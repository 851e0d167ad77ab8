"""Search that understands Italian: the function the actions call.

``search_services(session, "doposcuola a rifredi per un bimbo di 8 anni")``:

1. understands the request (:mod:`catalog.understanding`): quartiere Q5 near Rifredi,
   age 8, and the words left ("doposcuol");
2. corrects typos against the index vocabulary and applies the synonym table, which
   adds categories (after_school) and words ("compit");
3. decides what matches: the services of the categories understood, or, when the text
   names no category, the services containing any of its words; always within the
   filters and from approved providers. The full-text engine (SQLite FTS5 or PostgreSQL
   tsvector + GIN) does this with the words and the filter tags (:mod:`catalog.tags`),
   counts the matches (``total``) and returns a pool of the best candidates, ranked by
   bm25 / ts_rank_cd;
4. re-ranks the pool in Python: a BM25 from the in-memory statistics, plus category,
   distance and target-group bonuses, so SQLite and PostgreSQL order alike;
5. when nothing matches, relaxes the filters one by one (age, then quartiere for the
   nearest services, then target group, then cost) and says so in ``relaxed``; when the
   category has nothing at all, falls back to the services that contain the words.

When a search settles no kind of service, ``category_candidates`` says which kinds the
catalogue has evidence for (the scores of the best matches, else the services made for
the target group or age understood): the search form offers them as its one question.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from catalog.areas import QUARTIERI, Area, haversine_km, quartiere_area, resolve_area
from catalog.filters import SearchFilters
from catalog.fts import TITLE_WEIGHT, Backend, Match, Within, backend_for, in_title
from catalog.index_stats import IndexStats, get_index_stats
from catalog.models import AdhesionStatus, Service
from catalog.synonyms import synonym_table
from catalog.tags import (
    HIDDEN,
    PUBLISHED,
    age_tag,
    category_tag,
    cells_within,
    filter_groups,
    target_tag,
)
from catalog.text import term
from catalog.understanding import QUERY_FILLERS, understand
from catalog.vocabulary import CATEGORY_LABELS, COST_LABELS, TARGET_LABELS
from core.settings import get_settings

__all__ = [
    "SearchFilters",
    "SearchHit",
    "SearchResult",
    "category_candidates",
    "search_services",
]

K1: Final[float] = 1.2
B: Final[float] = 0.75
EXPANSION_WEIGHT: Final[float] = 0.5
CATEGORY_BONUS: Final[float] = 1.0
OTHER_CATEGORY_BONUS: Final[float] = 0.8
DISTANCE_BONUS: Final[float] = 0.5
TARGET_BONUS: Final[float] = 0.1
DEFAULT_REACH_KM: Final[float] = 5.0
# A kind of service leads the text matches with this share of the first LEAD_POOL's score.
LEAD_POOL: Final[int] = 5
LEAD_SHARE: Final[float] = 0.6
# Above this many matches the database is not asked to rank them all (bm25 costs about
# a microsecond per match): the pool is then taken in index order and ranked in Python.
RANK_LIMIT: Final[int] = 500
# The "nearby" fallback widens in these steps (km; None = the whole city).
NEARBY_STEPS: Final[tuple[float | None, ...]] = (2.5, None)
# Rings around a reference point used to pick the nearest candidates when nothing ranks them.
RING_KM: Final[tuple[float, ...]] = (1.0, 3.0)

_svc = Service.__table__  # type: ignore[attr-defined]
_ROW_COLUMNS = (
    "id", "code", "category", "quartiere", "lat", "lon", "age_min", "age_max", "cost_mode",
    "budget_payable", "target_groups", "search_title", "search_body",
)  # fmt: skip
_ROWS = sa.select(*[_svc.c[name] for name in _ROW_COLUMNS]).where(
    _svc.c.id.in_(sa.bindparam("ids", expanding=True))
)

Mode = Literal["category", "text", "filters"]


@dataclass(slots=True)
class SearchHit:
    service: Service
    score: float
    reasons: list[str]
    distance_km: float | None = None


class Note(str):
    """A note for citizens on how the search was widened («Non ho trovato servizi per 8
    anni: ...»): the Italian text itself, plus its ``msgid`` and ``fields`` so that the
    actions can say it in another language (actions/search.py, locale/*/actions.po).
    Text fields are Italian labels of catalog.vocabulary, place names or the citizen's
    words; a tuple field (``kinds``: category labels) is shown «quoted» and joined by «o»."""

    msgid: str
    fields: dict[str, Any]

    def __new__(cls, msgid: str, **fields: Any) -> Note:
        shown = {
            k: " o ".join(f"«{x}»" for x in v) if isinstance(v, tuple) else v
            for k, v in fields.items()
        }
        note = super().__new__(cls, msgid.format(**shown))
        note.msgid, note.fields = msgid, fields
        return note


@dataclass(slots=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    interpreted: SearchFilters
    relaxed: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # normalised terms searched
    corrections: dict[str, str] = field(default_factory=dict)  # typed term -> corrected
    # no kind of service named, but the best matches of the words agree on one
    leading_category: str | None = None


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

    @property
    def typed(self) -> tuple[str, ...]:
        return tuple(t for t, w in self.weights.items() if w == 1.0)


def _prepare(text_terms: list[str], surface: dict[str, str], stats: IndexStats) -> _Query:
    corrections: dict[str, str] = {}
    corrected: list[str] = []
    for t in text_terms:
        fixed = stats.correct(t, surface.get(t))
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
    typed = [t for t in corrected if t not in QUERY_FILLERS]
    # Terms no service contains cannot match: leave them out of the database query.
    weights = {t: w for t, w in weights.items() if t in stats.df}
    return _Query(weights, match.categories, surface, corrections, bool(typed))


# --- one attempt: what matches, how many, which candidates ------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    """The filters of one attempt, the notes that explain it, and its reference point."""

    filters: SearchFilters
    notes: list[str]
    ref: tuple[float, float] | None = None  # distances are computed from here
    ref_name: str | None = None  # "Novoli": shown as "a 1,2 km da Novoli"
    show_distance: bool = True


def _tags(f: SearchFilters, query: _Query, mode: Mode) -> Match:
    """What every match must satisfy besides words: the filters and, by mode, the category."""
    groups = [tuple(g) for g in filter_groups(f)]
    if mode == "category":
        # First: the engines intersect faster starting from the rarest term (measured).
        groups.insert(0, tuple(category_tag(c) for c in query.categories))
    return Match(tuple(groups))


def _base(f: SearchFilters, query: _Query, mode: Mode) -> Match:
    """The matches of an attempt: the tags and, in text mode, any of the typed words."""
    tags = _tags(f, query, mode)
    match = tags.also(query.typed) if mode == "text" else tags
    return _visible(match, tagged=bool(tags.all_of))


def _visible(match: Match, *, tagged: bool) -> Match:
    """Only published services: a filter or category tag implies it; otherwise say it."""
    if tagged:
        return match
    if not match.all_of:
        return Match(((PUBLISHED,),))
    return match.excluding((HIDDEN,))


def _within(f: SearchFilters) -> Within | None:
    if f.near is None or f.max_km is None:
        return None
    return Within(f.near[0], f.near[1], f.max_km)


def _tiers(query: _Query) -> list[tuple[tuple[str, ...], ...]]:
    """Word conditions from the most to the least telling, to pick candidates unranked."""
    typed = query.typed
    tiers: list[tuple[tuple[str, ...], ...]] = []
    if typed:
        tiers.append(tuple((in_title(t),) for t in typed))  # every word, in the title
        if len(typed) > 1:
            tiers.append(tuple((t,) for t in typed))  # every word
        tiers.append((tuple(in_title(t) for t in typed),))  # a word in the title
    tiers.append((tuple(query.weights),))  # any word, synonyms' included
    return tiers


def _candidates(
    session: Session,
    backend: Backend,
    query: _Query,
    mode: Mode,
    step: _Step,
    total: int,
    pool: int,
) -> list[int]:
    """Ids of up to ``pool`` of the best matches, for the re-ranking in Python.

    With words and at most RANK_LIMIT matches, the database ranks those containing a word
    (bm25 / ts_rank_cd). With more, ranking all would be too slow: candidates are taken
    unranked from conditions of decreasing strength (every word in the title, every
    word, a word in the title, any word), each query stopping at the first rows found.
    """
    tags, within = _tags(step.filters, query, mode), _within(step.filters)
    tagged = bool(tags.all_of)
    ids: dict[int, None] = {}

    def take(match: Match, *, ranked: bool) -> None:
        if len(ids) < pool:
            match = _visible(match, tagged=tagged)
            found = backend.ids(session, match, within, limit=pool - len(ids), ranked=ranked)
            ids.update(dict.fromkeys(found))

    if query.weights and mode in ("category", "text"):
        if total <= RANK_LIMIT:
            take(tags.also(tuple(query.weights)), ranked=True)
        else:
            for tier in _tiers(query):
                take(tags.also(*tier), ranked=False)
        if mode == "category":
            take(tags.excluding(tuple(query.weights)), ranked=False)  # no word, same category
        if mode == "text" and total > RANK_LIMIT:
            take(_base(step.filters, query, mode), ranked=False)  # the tiers left room
        return list(ids)
    # Nothing to rank by: when there is a reference point, start from the closest.
    base = _base(step.filters, query, mode)
    if step.ref is not None and total > pool:
        for km in RING_KM:
            take(base.also(tuple(cells_within(*step.ref, km))), ranked=False)
            if len(ids) >= pool // 2:
                break
    take(base, ranked=False)
    return list(ids)


def _rank(
    session: Session, ids: list[int], query: _Query, step: _Step, stats: IndexStats
) -> list[tuple[float, dict[str, Any]]]:
    rows = [dict(r) for r in session.execute(_ROWS, {"ids": ids}).mappings()]
    scored = [(_score(r, query, step.filters, step.ref, stats), r) for r in rows]
    scored.sort(key=lambda pair: (-pair[0], pair[1]["code"]))
    return scored


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


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _words_in(service: Service, wanted: list[str]) -> dict[str, str]:
    """For each term, the word the service itself uses for it ("badant" -> "badanti")."""
    found: dict[str, str] = {}
    texts = (service.title, " ".join(service.keywords), service.description)
    for text_ in texts:
        for word in _WORD_RE.findall(text_.lower()):
            t = term(word)
            if t in wanted and t not in found:
                found[t] = word
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


def _leading_category(ranked: list[tuple[float, dict[str, Any]]]) -> str | None:
    """The kind of service the best matches of the words agree on, or None when mixed.

    The catalogue's own words stand in for the synonyms: «circolo dove giocare a carte»
    names no kind of service, but the services that speak of «circolo» and «carte» are
    centres for the elderly. The first match's category leads when it holds at least
    LEAD_SHARE of the score of the first LEAD_POOL matches.
    """
    top = ranked[:LEAD_POOL]
    if not top:
        return None
    weights: Counter[str] = Counter()
    for score, row in top:
        weights[row["category"]] += score
    first = top[0][1]["category"]
    total = sum(weights.values())
    return first if total > 0 and weights[first] >= LEAD_SHARE * total else None


# --- candidates for a question about the kind of service ----------------------------------

# The best matches whose scores vote for their kind of service.
CANDIDATE_POOL: Final[int] = 10
# A kind is a candidate with at least this share of the best kind's evidence.
CANDIDATE_SHARE: Final[float] = 0.5
MAX_CANDIDATES: Final[int] = 3


def category_candidates(
    session: Session, result: SearchResult, *, limit: int = MAX_CANDIDATES
) -> list[str]:
    """The kinds of service the catalogue has evidence for, best first (at most ``limit``),
    when ``result`` settles none: what a question «Cerchi uno di questi servizi?» offers.

    The evidence is the catalogue's own: with words, the scores of the best matches
    (``result.hits``, as ranked; the first CANDIDATE_POOL vote for their category, as for
    ``leading_category``); with no words, or words that found nothing, the services made
    for the target group or the age understood (those open to everyone or to any age say
    nothing about the kind), counted by category. A kind is kept with at least
    CANDIDATE_SHARE of the best kind's evidence; with more such kinds than ``limit`` the
    evidence is spread and nothing is offered (never a padded or arbitrary list). Empty:
    no evidence.
    """
    weights: Counter[str] = Counter()
    for hit in result.hits[:CANDIDATE_POOL] if result.terms else ():
        weights[hit.service.category] += hit.score
    if not +weights:  # no words, or words that found nothing: whom it is for
        weights = _audience_weights(session, result.interpreted)
    ranked = [(w, c) for c, w in weights.items() if w > 0]
    if not ranked:
        return []
    ranked.sort(key=lambda pair: (-pair[0], pair[1]))
    best = ranked[0][0]
    kept = [c for w, c in ranked if w >= CANDIDATE_SHARE * best]
    return kept if len(kept) <= limit else []


def _audience_weights(session: Session, f: SearchFilters) -> Counter[str]:
    """Published services made for ``f``'s target group or holding its age, by category."""
    audience = []
    if f.target_group and f.target_group != "everyone":
        audience.append(target_tag(f.target_group))
    if f.age is not None:
        audience.append(age_tag(f.age))
    weights: Counter[str] = Counter()
    if not audience:
        return weights
    backend = backend_for(session.get_bind().dialect.name)
    for category in CATEGORY_LABELS:
        for tag in audience:
            match = Match(((category_tag(category),), (tag,)))
            weights[category] += backend.count(session, match, None)
    return weights


# --- relaxation ----------------------------------------------------------------------------


def _steps(hard: SearchFilters, area: Area | None) -> list[_Step]:
    """The attempts in turn: the filters asked, then each relaxation with its notes."""
    centre = (area.lat, area.lon) if area else None
    ref = hard.near or centre
    ref_name = area.name if area and hard.near is None else None
    steps = [_Step(hard, [], ref, ref_name)]
    current, notes = hard, []
    if current.age is not None:
        notes = [*notes, Note(
            "Non ho trovato servizi per 1 anno: ti mostro anche quelli per altre età."
            if current.age == 1 else
            "Non ho trovato servizi per {age} anni: ti mostro anche quelli per altre età.",
            age=current.age)]  # fmt: skip
        current = current.without("age")
        steps.append(_Step(current, notes, ref, ref_name))
    if current.quartiere is not None:
        q = current.quartiere
        notes = [*notes, Note("Nel quartiere {number} {name} non ho trovato nulla: "
                              "ti mostro i servizi più vicini.",
                              number=q[1], name=QUARTIERI[q])]  # fmt: skip
        show = ref is not None
        point = ref or (quartiere_area(q).lat, quartiere_area(q).lon)
        for km in NEARBY_STEPS:
            nearby = replace(current, quartiere=None, near=point, max_km=km)
            steps.append(_Step(nearby, notes, point, ref_name, show))
        current = replace(current, quartiere=None, near=point, max_km=None)
        ref, show_final = point, show
    else:
        show_final = ref is not None
    if current.target_group is not None:
        label = TARGET_LABELS[current.target_group]
        notes = [*notes, Note("Non ho trovato servizi pensati per {label}: "
                              "ti mostro anche quelli per altre persone.",
                              label=label)]  # fmt: skip
        current = current.without("target_group")
        steps.append(_Step(current, notes, ref, ref_name, show_final))
    if current.cost_mode is not None or current.budget_payable:
        if current.cost_mode is not None:
            what = COST_LABELS[current.cost_mode]
            notes = [
                *notes,
                Note("Non ho trovato servizi con costo «{what}»: ti mostro anche gli altri.",
                     what=what),
            ]  # fmt: skip
        else:
            notes = [*notes, Note("Non ho trovato servizi pagabili con il budget welfare: "
                                  "ti mostro anche gli altri.")]  # fmt: skip
        current = current.without("cost_mode", "budget_payable")
        steps.append(_Step(current, notes, ref, ref_name, show_final))
    return steps


def _category_note(query: _Query) -> Note:
    kinds = tuple(CATEGORY_LABELS[c] for c in query.categories)
    words = ", ".join(query.surface.get(t, t) for t in query.typed)
    return Note(
        "Non ho trovato servizi di tipo {kinds}: ti mostro quelli che parlano di {words}.",
        kinds=kinds,
        words=words,
    )


def _first_answer(
    session: Session,
    backend: Backend,
    query: _Query,
    modes: list[tuple[Mode, list[str]]],
    hard: SearchFilters,
    area: Area | None,
) -> tuple[Mode, list[str], _Step, int] | None:
    """The first (mode, step) with matches, and how many; None when nothing ever matches.

    A step with a distance limit is first probed with a one-row query on the index alone
    (grid cells stand in for the distance); only if that finds something is it counted
    exactly, which joins the service rows.
    """
    for mode, notes in modes:
        for step in _steps(hard, area):
            base, within = _base(step.filters, query, mode), _within(step.filters)
            if within is not None and not backend.ids(session, base, None, limit=1, ranked=False):
                continue  # counting with the distance joins rows: probe the cells first
            total = backend.count(session, base, within)
            if total:
                return mode, notes, step, total
    return None


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

    Filters given by the caller win over those understood from the text. A category given
    in ``filters`` or understood from the text decides what matches; the words then rank.
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
    empty = SearchResult([], 0, interpreted, [], query.terms, query.corrections)
    if query.asked and not query.weights and not query.categories:
        return empty  # words were typed, but none is in the catalogue

    area = resolve_area(hard.area) if hard.area else None
    backend = backend_for(session.get_bind().dialect.name)
    modes: list[tuple[Mode, list[str]]] = []
    if query.categories:
        modes.append(("category", []))
        if query.typed and not hard.category:
            modes.append(("text", [_category_note(query)]))
    else:
        modes.append(("text" if query.typed else "filters", []))

    found = _first_answer(session, backend, query, modes, hard, area)
    if found is None:
        return empty
    mode, mode_notes, step, total = found

    pool = max(get_settings().search_pool_size, (offset + limit) * 2)
    ids = _candidates(session, backend, query, mode, step, total, pool)
    ranked = _rank(session, ids, query, step, stats)
    leading = _leading_category(ranked) if mode == "text" else None
    page = ranked[offset : offset + limit]
    services: dict[int, Service] = {}
    if page:
        wanted = [row["id"] for _, row in page]
        stmt = select(Service).where(col(Service.id).in_(wanted))
        stmt = stmt.options(selectinload(Service.provider))  # type: ignore[arg-type]
        services = {s.id: s for s in session.exec(stmt).all() if s.id is not None}
    hits: list[SearchHit] = []
    for score, row in page:
        service = services[row["id"]]
        if service.provider.adhesion_status != AdhesionStatus.approved:
            continue  # tags not refreshed after a status change: never show it
        distance = None
        if step.ref is not None and step.show_distance:
            distance = haversine_km(step.ref[0], step.ref[1], service.lat, service.lon)
        reasons = _reasons(service, query, step.filters, distance, step.ref_name)
        hits.append(SearchHit(service, score, reasons, distance))
    return SearchResult(
        hits=hits,
        total=total,
        interpreted=interpreted,
        relaxed=[*mode_notes, *step.notes],
        terms=query.terms,
        corrections=query.corrections,
        leading_category=leading,
    )
