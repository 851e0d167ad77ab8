"""catalog.text: Italian normalisation shared by the index and the queries."""

from __future__ import annotations

import pytest

from catalog.text import fold, is_word, lemma, search_text, term, terms


def test_fold_removes_accents_and_keeps_case() -> None:
    assert fold("Città PERCHÉ però") == "Citta PERCHE pero"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("città", "citta"),
        ("Città", "CITTA"),
        ("anziani", "anziana"),
        ("anziano", "anziane"),
        ("bambini", "bambino"),
        ("corsi", "corso"),
        ("badanti", "badante"),
        ("famiglie", "famiglia"),
        ("italiana", "italiano"),
        ("disabilità", "disabilita"),
        ("nidi", "nido"),
    ],
)
def test_inflections_and_accents_share_a_term(a: str, b: str) -> None:
    assert terms(a) == terms(b) != []


@pytest.mark.parametrize(("a", "b"), [("badante", "badare"), ("corso", "correre")])
def test_known_wrong_lemmas_are_overridden(a: str, b: str) -> None:
    # The lookup table maps these nouns to verbs; the index must keep them apart.
    assert terms(a) != terms(b)


def test_lemma_guard_ignores_unrelated_guesses() -> None:
    assert lemma("dei") == "dei"  # the table says "dio"
    assert lemma("bambini") == "bambino"


def test_stopwords_go_but_domain_words_stay() -> None:
    assert terms("per il mio figlio e la sua casa") == [term("figlio"), term("casa")]
    assert term("lavoro") is not None  # in spaCy's stopword list, but it is a service here
    assert term("della") is None


def test_terms_are_plain_ascii_tokens() -> None:
    for t in terms("L'asilo nido «Il Pulcino» — età 0-3, 50% sconto! ⚽ naïve"):
        assert t.isascii() and t.isalnum(), t


def test_numbers_and_single_letters_are_dropped() -> None:
    assert terms("3 6 a 1200") == []


def test_search_text_joins_parts() -> None:
    assert search_text("Doposcuola", None, "Aiuto compiti") == " ".join(
        terms("Doposcuola aiuto compiti")
    )


@pytest.mark.parametrize("word", ["marito", "denti", "babbo", "moglie", "gente", "piange", "farmi"])
def test_italian_words_are_known(word: str) -> None:
    assert is_word(word)


@pytest.mark.parametrize("word", ["asistenza", "psicolgo", "cerko", "doposcula", "rifredi"])
def test_typos_and_names_are_not_italian_words(word: str) -> None:
    assert not is_word(word)
