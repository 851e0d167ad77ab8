"""catalog.areas: quartieri, neighbourhoods, and finding them in what people type."""

from __future__ import annotations

import pytest

from catalog.areas import (
    AREAS,
    FLORENCE_BBOX,
    QUARTIERE_AREAS,
    QUARTIERI,
    find_area_mention,
    haversine_km,
    in_florence,
    nearest_area,
    resolve_area,
)
from catalog.text import fold


def test_five_quartieri_and_about_forty_areas_inside_florence() -> None:
    assert list(QUARTIERI) == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert len(AREAS) >= 40
    assert {a.quartiere for a in AREAS} == set(QUARTIERI)
    for area in (*AREAS, *QUARTIERE_AREAS.values()):
        assert in_florence(area.lat, area.lon), area


@pytest.mark.parametrize(
    ("text", "name", "quartiere"),
    [
        ("Q5", "Rifredi", "Q5"),
        ("q5", "Rifredi", "Q5"),
        ("quartiere 5", "Rifredi", "Q5"),
        ("Quartiere cinque", "Rifredi", "Q5"),
        ("quinto quartiere", "Rifredi", "Q5"),
        ("rifredi", "Rifredi", "Q5"),
        ("RIFREDI", "Rifredi", "Q5"),
        ("le cure", "Le Cure", "Q2"),
        ("Cure", "Le Cure", "Q2"),
        ("novoli", "Novoli", "Q5"),
        ("centro", "Centro Storico", "Q1"),
        ("San Niccolo", "San Niccolò", "Q1"),
        ("zona Isolotto", "Isolotto", "Q4"),
        ("Gavinana-Galluzzo", "Gavinana-Galluzzo", "Q3"),
        ("ponte a ema", "Ponte a Ema", "Q3"),
        ("Firenze Nova", "Firenze Nova", "Q5"),
        ("q3", "Gavinana-Galluzzo", "Q3"),
    ],
)
def test_resolve_area(text: str, name: str, quartiere: str) -> None:
    area = resolve_area(text)
    assert area is not None
    assert (area.name, area.quartiere) == (name, quartiere)


@pytest.mark.parametrize(
    ("typo", "name"),
    [("Rifrdi", "Rifredi"), ("novolli", "Novoli"), ("coverciao", "Coverciano"),
     ("settingnano", "Settignano"), ("galuzzo", "Galluzzo")],
)  # fmt: skip
def test_resolve_area_tolerates_small_typos(typo: str, name: str | None) -> None:
    area = resolve_area(typo)
    assert (area.name if area else None) == name


@pytest.mark.parametrize("text", ["", "milano", "q9", "quartiere 7", "xx", "casa"])
def test_resolve_area_refuses_unknown_places(text: str) -> None:
    assert resolve_area(text) is None


def test_whole_quartiere_is_flagged() -> None:
    assert resolve_area("q5").is_quartiere  # type: ignore[union-attr]
    assert not resolve_area("rifredi").is_quartiere  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "name", "removed"),
    [
        ("doposcuola a rifredi per mio figlio", "Rifredi", "a rifredi"),
        ("centro diurno alle cure", "Le Cure", "alle cure"),
        ("un nido in centro per favore", "Centro Storico", "in centro"),
        ("zona novoli", "Novoli", "zona novoli"),
        ("psicologo nel quartiere 4", "Isolotto-Legnaia", "nel quartiere 4"),
        ("badante vicino a careggi", "Careggi", "vicino a careggi"),
        ("corso di italiano a rifrdi", "Rifredi", "a rifrdi"),
    ],
)
def test_find_area_mention(text: str, name: str, removed: str) -> None:
    mention = find_area_mention(fold(text))
    assert mention is not None
    assert mention.area.name == name
    assert text[mention.start : mention.end] == removed


@pytest.mark.parametrize(
    "text",
    [
        "centro diurno per anziani",  # "centro" is a service here, not the Centro Storico
        "un centro estivo in centro",  # ...but the second one is
        "cure domiciliari per mia madre",  # "cure" means care
        "le cure palliative",
        "castello gonfiabile per feste",
        "mia figlia non mangia più e piange sempre",  # an Italian word, not «Piagge» mistyped
    ],
)
def test_ordinary_words_are_not_places(text: str) -> None:
    mention = find_area_mention(fold(text))
    if "in centro" in text:
        assert mention is not None and text[mention.start : mention.end] == "in centro"
    else:
        assert mention is None


def test_distances() -> None:
    duomo, rifredi = (43.7731, 11.2558), (43.7955, 11.2445)
    assert haversine_km(*duomo, *rifredi) == pytest.approx(2.66, abs=0.05)
    assert haversine_km(*duomo, *duomo) == 0
    assert nearest_area(43.7958, 11.2441).name == "Rifredi"
    south, west, north, east = FLORENCE_BBOX
    assert not in_florence(45.46, 9.19)
    assert in_florence(south, west) and in_florence(north, east)
