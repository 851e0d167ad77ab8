"""catalog.understanding: filters and terms from a free-text request."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.text import terms
from catalog.understanding import QUERY_FILLERS, understand


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("doposcuola a rifredi per un bimbo di 8 anni",
         {"quartiere": "Q5", "area": "Rifredi", "age": 8}),
        ("zona novoli", {"quartiere": "Q5", "area": "Novoli"}),
        ("qualcosa nel quartiere 3", {"quartiere": "Q3"}),
        ("in centro", {"quartiere": "Q1", "area": "Centro Storico"}),
        ("mio figlio ha 12 anni", {"age": 12}),
        ("per una bambina di otto anni", {"age": 8}),
        ("un 15enne", {"age": 15}),
        ("nido per una bimba di 18 mesi", {"age": 1}),
        ("ginnastica over 65", {"age": 65, "target_group": "elderly"}),  # 65 and over: elderly
        ("cose da fare per over 70", {"age": 70, "target_group": "elderly"}),
        ("mio figlio ha compiuto un anno", {"age": 1}),
        ("una bimba di 1 anno", {"age": 1}),
        # how long, not how old
        ("il mio ex non paga il mantenimento da 6 mesi", {}),
        ("da 3 anni non lavoro", {}),
        ("ho perso il lavoro due anni fa", {"target_group": "unemployed"}),  # was age 2
        ("cerco casa da un anno", {}),
        ("lo seguo da 3 anni", {}),
        ("corso gratis", {"cost_mode": "free"}),
        ("attività gratuite", {"cost_mode": "free"}),
        ("senza pagare", {"cost_mode": "free"}),
        ("pagabile con il budget welfare", {"budget_payable": True}),
        ("badante per mia madre", {"target_group": "elderly"}),
        ("qualcuno per mio nonno", {"target_group": "elderly"}),
        ("un centro estivo per mio figlio", {"target_group": "children"}),
        ("sport per bambini", {"target_group": "children"}),
        ("aiuto per persone anziane", {"target_group": "elderly"}),
        ("corso per stranieri", {"target_group": "migrants"}),
        ("lavoro per disoccupati", {"target_group": "unemployed"}),
        ("neonato", {"target_group": "infants"}),
        ("centro per ragazzo disabile", {"target_group": "people_with_disabilities"}),
        ("psicologo", {}),
        ("il mio babbo ha 88 anni", {"target_group": "elderly", "age": 88}),
        ("qualcuno per la mi' mamma", {"target_group": "elderly"}),
    ],
)  # fmt: skip
def test_filters_understood(text: str, expected: dict[str, Any]) -> None:
    assert understand(text).filters.to_dict() == expected


def test_age_makes_child_target_redundant() -> None:
    filters = understand("doposcuola per mio figlio di 9 anni").filters
    assert filters.age == 9 and filters.target_group is None


def test_filter_words_leave_the_search_terms() -> None:
    u = understand("doposcuola a rifredi per un bimbo di 8 anni gratis")
    assert u.terms == terms("doposcuola")


def test_family_words_leave_the_terms_but_descriptive_words_stay() -> None:
    assert understand("badante per mia madre").terms == terms("badante")
    assert terms("anziani")[0] in understand("centro per anziani").terms


def test_asylum_seekers_are_not_looking_for_a_nursery() -> None:
    u = understand("aiuto per richiedenti asilo")
    assert u.filters.target_group == "migrants"
    assert terms("asilo")[0] not in u.terms


def test_fillers_are_terms_the_search_ignores() -> None:
    assert set(terms("cerco vorrei servizio informazioni")) <= QUERY_FILLERS
    assert not set(terms("doposcuola badante psicologo")) & QUERY_FILLERS


def test_surface_keeps_what_the_user_typed() -> None:
    u = understand("Psicologo")
    assert u.surface[u.terms[0]] == "psicologo"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nn esce più di casa", "non esce più di casa"),
        ("sn sola x mio figlio", "sono sola per mio figlio"),
        ("cmq grazie xke", "comunque grazie perche"),
    ],
)
def test_chat_abbreviations_read_as_words(text: str, expected: str) -> None:
    assert understand(text).terms == understand(expected).terms


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("la mattina presto", "prestito"),  # «presto» stems like «prestito» (a loan)
        ("sono ucraina, faccio la badante, vorrei studiare italiano", "badante"),
        ("faccio l'infermiera con i turni", "infermiera"),  # the citizen's own job
        ("ragazza a casa nostra", "casa"),
    ],
)
def test_words_that_say_something_else_leave_the_terms(text: str, absent: str) -> None:
    assert terms(absent)[0] not in understand(text).terms


def test_an_x_between_numbers_is_no_abbreviation() -> None:
    assert understand("offerta 3 x 2").rest.split()[-3:] == ["3", "x", "2"]
    assert understand("x mio figlio").filters.target_group == "children"


def test_accents_and_case_do_not_matter() -> None:
    assert understand("CITTÀ").terms == understand("citta").terms


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("dopo scuola per mio figlio", "doposcuola"),  # not just «scuola»
        ("un posto dopo la scuola", "doposcuola"),
        ("sono senza casa", "senzatetto"),  # not just «casa»
        ("ho la 104 per mia figlia", "invalidità"),  # the number would be lost
        ("vorrei diventare OSS", "corso"),  # a course to become one
        ("la scuola finisce alle 16:30", "orarioscuola"),  # the timetable, not the summer
        ("chi me li tiene prima di scuola", "prescuola"),
        ("iscrizione al CPIA", "centroadulti"),  # not «CPI», the job centre
        ("una ragazza che stia coi bimbi a casa nostra", "adomicilio"),  # where, not a home
        ("il comune manda operatori a casa degli anziani?", "adomicilio"),
    ],
)
def test_phrases_a_stopword_would_break_are_rewritten(text: str, word: str) -> None:
    assert terms(word)[0] in understand(text).terms
