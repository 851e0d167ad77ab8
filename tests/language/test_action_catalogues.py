"""Every text the Rasa actions write has a translation in every catalogue, with the same
{fields}, not still Italian, and every catalogue entry is a text of the actions
(locale/<code>/LC_MESSAGES/actions.po, read by core.i18n with domain "actions")."""

from __future__ import annotations

import string

import pytest

from core.i18n import ACTIONS_DOMAIN, catalogue, catalogue_path, gettext, languages, translated
from tests.language.action_texts import action_texts, built_msgids, unmarked_texts
from tests.language.test_catalogues import still_italian

TARGETS = [code for code in languages().codes if code != languages().source]
TEXTS = sorted({text for _, text in action_texts()})


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_action_texts_are_found() -> None:
    assert len(TEXTS) > 250
    assert any("112" in text and "1522" in text for text in TEXTS)  # the emergency message
    assert "Ho trovato {count} servizi{what}" in TEXTS  # a search result, with its fields
    assert "Ecco il tuo budget welfare, {name}:" in TEXTS  # the budget
    assert "Il budget disponibile non basta per questa operazione." in TEXTS  # the ledger's


def test_every_italian_sentence_of_the_actions_goes_through_the_catalogue() -> None:
    """A text written for citizens without N_()/tr() would reach English speakers in
    Italian: it is found here, by reading the action modules."""
    assert unmarked_texts() == []
    assert built_msgids() == []  # an f-string as msgid: its translation is never found


@pytest.mark.parametrize("code", TARGETS)
def test_every_action_text_has_a_translation_that_is_not_italian(code: str) -> None:
    problems = []
    for text in TEXTS:
        if not translated(code, text, domain=ACTIONS_DOMAIN):
            problems.append(f"missing: {text[:70]!r}")
            continue
        english = gettext(code, text, domain=ACTIONS_DOMAIN)
        if _fields(english) != _fields(text):
            problems.append(f"fields {_fields(english)} != {_fields(text)}: {text[:50]!r}")
        reasons = still_italian(english)
        if reasons:
            problems.append(f"still Italian ({'; '.join(reasons)}): {english[:70]!r}")
    path = catalogue_path(code, ACTIONS_DOMAIN)
    assert problems == [], f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", TARGETS)
def test_every_action_catalogue_entry_is_used_and_translated(code: str) -> None:
    found = catalogue(code, ACTIONS_DOMAIN)
    assert found is not None, f"{catalogue_path(code, ACTIONS_DOMAIN)} is missing"
    entries = [message for message in found if message.id]
    unused = [str(m.id)[:60] for m in entries if m.id not in TEXTS]
    empty = [str(m.id)[:60] for m in entries if not m.string or m.fuzzy]
    assert unused == [] and empty == []


def test_the_two_catalogues_are_apart() -> None:
    """The actions' catalogue does not answer for the gateway's texts, nor the other way."""
    assert gettext("en", "Prezzo: {amount}.", domain=ACTIONS_DOMAIN) == "Price: {amount}."
    assert gettext("en", "Prezzo: {amount}.") == "Prezzo: {amount}."
    assert gettext("it", "Prezzo: {amount}.", domain=ACTIONS_DOMAIN) == "Prezzo: {amount}."
