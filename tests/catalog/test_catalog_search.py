"""catalog.search: Italian free text + filters -> ranked services with reasons.

Runs on SQLite and PostgreSQL (the ``session`` fixture); ``test_parity`` compares both.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.areas import haversine_km
from catalog.filters import SearchFilters
from catalog.search import (
    CANDIDATE_POOL,
    MAX_CANDIDATES,
    SearchResult,
    category_candidates,
    search_services,
)

RIFREDI = (43.7955, 11.2445)


def codes(result: SearchResult) -> list[str]:
    return [h.service.code for h in result.hits]


def search(
    session: Session, text: str = "", filters: SearchFilters | None = None, **kw: Any
) -> SearchResult:
    return search_services(session, text, filters, **{"limit": 20, **kw})


# --- the example of the issue ------------------------------------------------------------


def test_doposcuola_a_rifredi_per_un_bimbo_di_8_anni(session: Session) -> None:
    result = search_services(session, "doposcuola a rifredi per un bimbo di 8 anni")
    assert codes(result) == ["doposcuola-rifredi"]
    assert result.total == 1
    assert result.relaxed == []
    assert result.interpreted == SearchFilters(
        category="after_school", quartiere="Q5", age=8, area="Rifredi"
    )
    hit = result.hits[0]
    assert hit.reasons[:3] == [
        "categoria: Doposcuola",
        "parla di: doposcuola",
        "nel quartiere 5 Rifredi",
    ]
    assert "adatto a 8 anni" in hit.reasons and "gratuito" in hit.reasons
    assert hit.reasons[-1] == "a 0,1 km da Rifredi"
    assert hit.distance_km == pytest.approx(0.07, abs=0.02)
    assert hit.service.provider.name == "Cooperativa Il Girasole"  # loaded with the hit


# --- only approved providers ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["doposcuola", "badante", "badanti a ore", ""])
def test_only_services_of_approved_providers(session: Session, text: str) -> None:
    found = set(codes(search(session, text)))
    assert found
    assert not found & {"doposcuola-in-attesa", "badanti-sospese"}


# --- Italian: synonyms, typos, accents, plurals -------------------------------------------


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("badante", "assistenza-domiciliare-novoli"),  # the service never says "badante"
        ("cerco una badante", "assistenza-domiciliare-novoli"),
        ("tata", "babysitter-rifredi"),
        ("campo solare", "centro-estivo-galluzzo"),
        ("pacco alimentare", "emporio-piagge"),
        ("strizzacervelli", "psicologo-centro"),
        ("asilo", "nido-legnaia"),
        ("corsi di italiano", "italiano-san-frediano"),
    ],
)
def test_synonyms(session: Session, text: str, first: str) -> None:
    assert codes(search(session, text))[0] == first


def test_doposcuola_finds_after_school_help(session: Session) -> None:
    result = search(session, "aiuto compiti")
    assert result.interpreted.category == "after_school"
    assert set(codes(result)[:3]) == {
        "doposcuola-rifredi",
        "doposcuola-isolotto",
        "studio-medie-centro",
    }


@pytest.mark.parametrize(
    ("typo", "category", "first"),
    [
        ("doposcula", "after_school", None),
        ("badnte", "home_care", "assistenza-domiciliare-novoli"),
        ("psicolgo", "psychological_support", None),
        ("emporio solidle", "food_aid", "emporio-piagge"),
        ("ginastica", "sport_leisure", "ginnastica-dolce-campo-marte"),
    ],
)
def test_typos(session: Session, typo: str, category: str, first: str | None) -> None:
    result = search(session, typo)
    assert result.corrections, "a correction was expected"
    assert result.hits and result.hits[0].service.category == category
    if first:
        assert result.hits[0].service.code == first


def test_typo_correction_does_not_invent_matches(session: Session) -> None:
    result = search(session, "xyzzy")
    assert (result.hits, result.total, result.relaxed) == ([], 0, [])


@pytest.mark.parametrize("text", ["città", "citta", "CITTÀ", "Citta"])
def test_accents_and_case(session: Session, text: str) -> None:
    assert codes(search(session, text)) == ["accoglienza-notturna"]


@pytest.mark.parametrize("text", ["anziani", "anziana", "anziano", "persone anziane"])
def test_plurals_and_genders(session: Session, text: str) -> None:
    found = codes(search(session, text))
    assert {"ginnastica-dolce-campo-marte", "centro-diurno-cure"} <= set(found)


# --- every filter ----------------------------------------------------------------------------


def test_filter_category(session: Session) -> None:
    result = search(session, filters=SearchFilters(category="after_school"))
    assert sorted(codes(result)) == [
        "doposcuola-isolotto",
        "doposcuola-rifredi",
        "studio-medie-centro",
    ]
    assert result.total == 3
    assert all("categoria: Doposcuola" in h.reasons for h in result.hits)


def test_filter_category_is_hard_when_given(session: Session) -> None:
    # "piscina" is in a summer camp's description; the category given excludes it.
    result = search(session, "piscina", SearchFilters(category="sport_leisure"))
    assert "centro-estivo-galluzzo" not in codes(result)


def test_filter_target_group_includes_services_for_everyone(session: Session) -> None:
    result = search(session, filters=SearchFilters(target_group="elderly"))
    assert set(codes(result)) == {
        "assistenza-domiciliare-novoli", "centro-diurno-cure", "ginnastica-dolce-campo-marte",
        "psicologo-centro", "accoglienza-notturna",
    }  # fmt: skip
    reasons = {h.service.code: h.reasons for h in result.hits}
    assert "per anziani" in reasons["centro-diurno-cure"]
    assert "aperto a tutti" in reasons["psicologo-centro"]


def test_filter_quartiere(session: Session) -> None:
    result = search(session, filters=SearchFilters(quartiere="Q4"))
    assert set(codes(result)) == {"doposcuola-isolotto", "nido-legnaia"}
    assert all("nel quartiere 4 Isolotto-Legnaia" in h.reasons for h in result.hits)


@pytest.mark.parametrize("age", [0, 8, 13, 70])
def test_filter_age(session: Session, age: int) -> None:
    result = search(session, filters=SearchFilters(age=age))
    assert result.hits
    for hit in result.hits:
        s = hit.service
        assert (s.age_min is None or s.age_min <= age) and (s.age_max is None or s.age_max >= age)
    assert ("centro-diurno-cure" in codes(result)) is (age >= 65)


def test_filter_cost_mode(session: Session) -> None:
    result = search(session, filters=SearchFilters(cost_mode="free"))
    assert set(codes(result)) == {
        "doposcuola-rifredi", "ascolto-giovani-gavinana", "emporio-piagge",
        "italiano-san-frediano", "accoglienza-notturna",
    }  # fmt: skip
    assert all("gratuito" in h.reasons for h in result.hits)
    paid = search(session, filters=SearchFilters(cost_mode="paid"))
    assert paid.hits and all(h.service.cost_mode == "paid" for h in paid.hits)


def test_filter_budget_payable(session: Session) -> None:
    result = search(session, filters=SearchFilters(budget_payable=True))
    assert result.total == 9
    assert all(h.service.budget_payable for h in result.hits)
    assert all("pagabile con il budget welfare" in h.reasons for h in result.hits)


def test_filter_near_with_radius(session: Session) -> None:
    result = search(session, filters=SearchFilters(near=RIFREDI, max_km=1.0))
    assert set(codes(result)) == {"doposcuola-rifredi", "babysitter-rifredi"}
    for hit in result.hits:
        assert hit.distance_km is not None and hit.distance_km <= 1.0
        assert hit.reasons[-1].startswith("a 0,") and hit.reasons[-1].endswith(" km")


def test_near_without_radius_ranks_by_distance(session: Session) -> None:
    result = search(session, filters=SearchFilters(near=RIFREDI))
    distances = [h.distance_km for h in result.hits]
    assert result.total == 15 and None not in distances
    assert distances == sorted(distances)  # all scores equal but the distance bonus
    expected = haversine_km(*RIFREDI, 43.7960, 11.2440)
    assert distances[0] == pytest.approx(expected)


def test_filters_combined_with_text(session: Session) -> None:
    result = search(
        session, "doposcuola", SearchFilters(quartiere="Q4", age=10, budget_payable=True)
    )
    assert codes(result) == ["doposcuola-isolotto"]
    assert result.relaxed == []


def test_given_filters_win_over_understood_ones(session: Session) -> None:
    result = search(session, "doposcuola a rifredi", SearchFilters(quartiere="Q4"))
    assert result.interpreted.quartiere == "Q4"
    assert codes(result) == ["doposcuola-isolotto"]


def test_invalid_filters_are_refused() -> None:
    with pytest.raises(ValueError):
        SearchFilters(category="astrology")
    with pytest.raises(ValueError):
        SearchFilters(quartiere="Q9")


# --- ranking, paging, totals -------------------------------------------------------------


def test_scores_are_sorted_and_category_matches_come_first(session: Session) -> None:
    result = search(session, "psicologo")
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    cats = [h.service.category for h in result.hits]
    assert cats[:2] == ["psychological_support", "psychological_support"]


def test_paging(session: Session) -> None:
    everything = search(session, "", limit=15)
    page1 = search(session, "", limit=4, offset=0)
    page2 = search(session, "", limit=4, offset=4)
    assert codes(page1) + codes(page2) == codes(everything)[:8]
    assert page1.total == page2.total == 15


# --- relaxation ----------------------------------------------------------------------------


def test_relax_age(session: Session) -> None:
    result = search(session, "doposcuola a rifredi per un bimbo di 3 anni")
    assert codes(result)[0] == "doposcuola-rifredi"
    assert result.relaxed == [
        "Non ho trovato servizi per 3 anni: ti mostro anche quelli per altre età."
    ]
    assert result.interpreted.age == 3  # what was asked, not what was relaxed


def test_relax_quartiere_to_the_nearest(session: Session) -> None:
    result = search(session, "nido a rifredi")
    assert codes(result)[0] == "nido-legnaia"
    assert result.relaxed == [
        "Nel quartiere 5 Rifredi non ho trovato nulla: ti mostro i servizi più vicini."
    ]
    assert result.hits[0].reasons[-1].endswith("km da Rifredi")


def test_relax_quartiere_without_area_shows_no_distance(session: Session) -> None:
    result = search(session, filters=SearchFilters(category="childcare", quartiere="Q5"))
    assert codes(result) == ["nido-legnaia"]
    assert result.hits[0].distance_km is None


def test_relax_target_group(session: Session) -> None:
    result = search(
        session, filters=SearchFilters(category="italian_course", target_group="elderly")
    )
    assert codes(result) == ["italiano-san-frediano"]
    assert result.relaxed == [
        "Non ho trovato servizi pensati per anziani: ti mostro anche quelli per altre persone."
    ]


def test_relax_cost(session: Session) -> None:
    result = search(session, "centro estivo gratis")
    assert codes(result)[0] == "centro-estivo-galluzzo"
    assert result.relaxed == [
        "Non ho trovato servizi con costo «gratuito»: ti mostro anche gli altri."
    ]


def test_relax_several_in_order(session: Session) -> None:
    result = search(session, "centro estivo gratis a rifredi per un bimbo di 3 anni")
    assert codes(result)[0] == "centro-estivo-galluzzo"
    assert [note.split(":")[0] for note in result.relaxed] == [
        "Non ho trovato servizi per 3 anni",
        "Nel quartiere 5 Rifredi non ho trovato nulla",
        "Non ho trovato servizi con costo «gratuito»",
    ]


def test_no_relaxation_when_something_matches(session: Session) -> None:
    assert search(session, "psicologo gratis").relaxed == []


# --- both backends give the same answers --------------------------------------------------

PARITY_QUERIES: list[tuple[str, SearchFilters | None]] = [
    ("doposcuola a rifredi per un bimbo di 8 anni", None),
    ("badante per mia madre", None),
    ("badnte", None),
    ("psicolgo gratis", None),
    ("anziani", None),
    ("città", None),
    ("nido a rifredi", None),
    ("centro estivo gratis a rifredi per un bimbo di 3 anni", None),
    ("", SearchFilters(target_group="elderly")),
    ("", SearchFilters(near=RIFREDI, max_km=3)),
    ("bambini", SearchFilters(budget_payable=True)),
    ("spazio bimbi coworking lavoro", None),
    ("aiuto", None),
]


def snapshot(engine: Engine) -> list[Any]:
    out = []
    with Session(engine) as s:
        for text, filters in PARITY_QUERIES:
            r = search_services(s, text, filters, limit=10)
            out.append(
                (text, r.total, r.interpreted, r.relaxed, r.terms,
                 [(h.service.code, h.score, h.reasons, h.distance_km) for h in r.hits])
            )  # fmt: skip
    return out


def test_parity_sqlite_postgres(
    _shared_sqlite_catalog: Engine, _shared_postgres_catalog: Engine | None
) -> None:
    if _shared_postgres_catalog is None:
        pytest.skip("PostgreSQL not reachable")
    on_sqlite = snapshot(_shared_sqlite_catalog)
    on_postgres = snapshot(_shared_postgres_catalog)
    assert all(row[5] for row in on_sqlite if row[0] != "xyzzy")  # the queries find something
    for a, b in zip(on_sqlite, on_postgres, strict=True):
        assert a == b, a[0]


# --- candidates for a question about the kind of service -----------------------------------


def test_candidates_come_from_the_services_made_for_the_audience(session: Session) -> None:
    """No words, only who: the services made for older people vote by kind (those open to
    everyone say nothing about the kind), best first, a few at most."""
    result = search_services(session, text="per mia madre", limit=30)
    assert result.interpreted.category is None and result.interpreted.target_group == "elderly"
    kinds = category_candidates(session, result)
    assert 1 <= len(kinds) <= MAX_CANDIDATES
    with_elderly = {
        hit.service.category
        for hit in search_services(
            session, filters=SearchFilters(target_group="elderly"), limit=200
        ).hits
        if "elderly" in hit.service.target_groups
    }
    assert set(kinds) <= with_elderly


def test_candidates_come_from_the_scores_of_the_best_matches(session: Session) -> None:
    result = search_services(session, text="pomeriggio", limit=30)
    kinds = category_candidates(session, result)
    assert 1 <= len(kinds) <= MAX_CANDIDATES
    assert set(kinds) <= {hit.service.category for hit in result.hits[:CANDIDATE_POOL]}


def test_no_evidence_no_candidates(session: Session) -> None:
    assert category_candidates(session, search_services(session, text="", limit=30)) == []
    nothing = search_services(session, text="xylofono", limit=30)
    assert category_candidates(session, nothing) == []


def test_evidence_spread_over_too_many_kinds_offers_none(session: Session) -> None:
    """Never a padded or arbitrary pick: more kinds than the limit with comparable evidence
    give no candidates (the full question is asked instead)."""
    result = search_services(session, text="per mia madre", limit=30)
    kinds = category_candidates(session, result, limit=10)
    assert len(kinds) >= 1
    if len(kinds) > 1:
        assert category_candidates(session, result, limit=len(kinds) - 1) == []
