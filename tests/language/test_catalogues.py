"""Every text the gateway writes has a translation in every catalogue, and no translation is
still Italian (locale/<code>/LC_MESSAGES/gateway.po, read by core.i18n)."""

from __future__ import annotations

import re
import string

import pytest

from conversations.language import detect
from core.i18n import catalogue, catalogue_path, gettext, languages, translated
from tests.language.gateway_texts import gateway_texts

# frequent Italian words that plain English never uses
_WORDS = (
    "il lo la gli le un una dei delle degli del della di da per con che non è sono sei ho hai "
    "ti mi ci si puoi scrivi tocca grazie ciao anche oppure quando dove perché questo questa "
    "più tuo tua tuoi tue nostro servizio messaggio operatore avvisi quartieri scegli"
)
ITALIAN_WORDS = frozenset(_WORDS.split())
TARGETS = [code for code in languages().codes if code != languages().source]
TEXTS = sorted(set(text for _, text in gateway_texts()))


def still_italian(text: str) -> list[str]:
    """Why ``text`` reads as Italian: the detector's word, or Italian words in it."""
    reasons = []
    bare = re.sub(r"«[^»]*»|/\w+|\{\w+\}", " ", text)  # quoted examples, commands, fields
    detection = detect(bare)
    if detection.confident and detection.language == "it":
        reasons.append(f"detected as Italian ({detection.confidence:.2f})")
    words = {w for w in re.findall(r"[a-zà-ù']+", bare.lower())} & ITALIAN_WORDS
    if words:
        reasons.append(f"Italian words {sorted(words)}")
    return reasons


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_gateway_texts_are_found() -> None:
    assert len(TEXTS) > 100
    assert any("112" in text for text in TEXTS)  # the emergency numbers are among them


@pytest.mark.parametrize("code", TARGETS)
def test_every_text_has_a_translation_that_is_not_italian(code: str) -> None:
    problems = []
    for text in TEXTS:
        if not translated(code, text):
            problems.append(f"missing: {text[:70]!r}")
            continue
        english = gettext(code, text)
        if _fields(english) != _fields(text):
            problems.append(f"fields {_fields(english)} != {_fields(text)}: {text[:50]!r}")
        reasons = still_italian(english)
        if reasons and english != text:
            problems.append(f"still Italian ({'; '.join(reasons)}): {english[:70]!r}")
        elif english == text and still_italian(text):
            problems.append(f"not translated: {text[:70]!r}")
    assert problems == [], f"{catalogue_path(code)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", TARGETS)
def test_every_catalogue_entry_is_used_and_translated(code: str) -> None:
    """The walk the other way: each entry of the .po is a text of the code, with an answer."""
    found = catalogue(code)
    assert found is not None
    entries = [message for message in found if message.id]
    unused = [str(m.id)[:60] for m in entries if m.id not in TEXTS]
    empty = [str(m.id)[:60] for m in entries if not m.string or m.fuzzy]
    assert unused == [] and empty == []


def test_the_check_can_fail() -> None:
    assert still_italian("Grazie! Ora dimmi pure di cosa hai bisogno.")
    assert still_italian("Scegli i quartieri")
    assert not still_italian("Thank you! Now tell me what you need, for example «doposcuola».")
    assert gettext("en", "un testo che non è nel catalogo") == "un testo che non è nel catalogo"
    assert not translated("en", "un testo che non è nel catalogo")


def test_the_source_language_is_the_text_itself() -> None:
    assert gettext("it", TEXTS[0]) == TEXTS[0]
    assert gettext("xx", TEXTS[0]) == TEXTS[0]  # an unknown language falls back to Italian
