"""catalog.synonyms: everyday words -> categories and search words."""

from __future__ import annotations

import pytest
import yaml

from catalog.synonyms import synonym_table
from catalog.text import terms
from catalog.understanding import understand
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


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        # a general word («mangiare», «soldi», «corso», «lavoro», «casa») comes after the
        # specific one, wherever it is in the sentence
        ("mia figlia non mangia e cerco uno psicologo", ["psychological_support", "food_aid"]),
        ("non ho soldi per lo psicologo", ["psychological_support", "income_support"]),
        ("corso di danza", ["sport_leisure", "training"]),  # «corso di ballo» is one phrase
        ("lavoro e non so a chi lasciare il bambino", ["childcare", "job_search"]),
        ("assistenza anziani a casa", ["home_care", "housing"]),
        ("abitiamo in periferia e cerchiamo una badante", ["home_care", "housing"]),
        ("centro diurno per disabili", ["disability", "elderly_day_care"]),
        ("corso per diventare oss", ["training"]),  # «corso oss»: not home care
        # alone, a general word still says the kind of service
        ("cerco casa", ["housing"]),
        ("mangiare", ["food_aid"]),
    ],
)
def test_general_words_come_after_specific_ones(text: str, categories: list[str]) -> None:
    assert synonym_table().match(terms(text)).categories == categories


@pytest.mark.parametrize(
    "text",
    [
        "la scuola chiude alle 16",  # «dopo scuola» lost «dopo» (a stopword): any school
        "possa stare in pace",  # «stare male» lost «male»: any «stare» was psychology
        "il gioco della legge",  # «legge 104» lost the number: any «legge» was disability
    ],
)
def test_phrases_do_not_collapse_into_a_common_word(text: str) -> None:
    assert synonym_table().match(terms(text)).categories == []


def test_every_phrase_keeps_a_telling_word() -> None:
    """No phrase of the file shrinks to a word that is a weak synonym or a filler."""
    from catalog.synonyms import SYNONYMS_FILE

    entries = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8"))
    weak = {tuple(terms(w)) for e in entries if e.get("weak") for w in e["words"]}
    for entry in entries:
        if entry.get("weak"):
            continue
        for word in entry["words"]:
            phrase = tuple(terms(word))
            assert phrase and phrase not in weak, word


def test_expansion_words() -> None:
    match = synonym_table().match(terms("badante"))
    assert set(terms("assistenza domiciliare")) <= set(match.also)


def test_every_category_is_reachable() -> None:
    table = synonym_table()
    for slug, label in CATEGORY_LABELS.items():
        assert slug in table.match(terms(label)).categories, slug


def test_no_match() -> None:
    assert synonym_table().match(terms("ombrello rosso")).categories == []


def test_an_accented_phrase_matches_the_folded_request() -> None:
    """A request is folded before its terms are taken; «necessità» and «necessita» lemmatise
    apart, so the table holds both readings of an accented phrase."""
    request = understand("borse di generi di prima necessità").terms
    assert "food_aid" in synonym_table().match(request).specific
