"""catalog.synonyms: everyday words -> categories and search words."""

from __future__ import annotations

import pytest

from catalog.synonyms import synonym_table
from catalog.text import terms
from catalog.vocabulary import CATEGORY_LABELS


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("badante", "home_care"),
        ("badanti", "home_care"),
        ("doposcuola", "after_school"),
        ("aiuto compiti", "after_school"),
        ("aiuto per i compiti", "after_school"),
        ("asilo", "childcare"),
        ("tata", "babysitting"),
        ("psicologo", "psychological_support"),
        ("strizzacervelli", "psychological_support"),
        ("campo solare", "summer_camp"),
        ("campi solari", "summer_camp"),
        ("spesa", "food_aid"),
        ("pacco", "food_aid"),
        ("corsi di italiano", "italian_course"),
        ("corso", "training"),
        ("assistenza a casa", "home_care"),  # longest phrase wins over "casa"
        ("casa", "housing"),
        ("Centri estivi", "summer_camp"),  # category labels are synonyms too
    ],
)
def test_words_map_to_categories(text: str, category: str) -> None:
    assert synonym_table().match(terms(text)).categories == [category]


def test_several_categories_in_order() -> None:
    match = synonym_table().match(terms("badante o centro diurno"))
    assert match.categories == ["home_care", "elderly_day_care"]


def test_expansion_words() -> None:
    match = synonym_table().match(terms("badante"))
    assert set(terms("assistenza domiciliare")) <= set(match.also)


def test_every_category_is_reachable() -> None:
    table = synonym_table()
    for slug, label in CATEGORY_LABELS.items():
        assert slug in table.match(terms(label)).categories, slug


def test_no_match() -> None:
    assert synonym_table().match(terms("ombrello rosso")).categories == []
