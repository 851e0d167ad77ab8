"""Every Rasa response of domain.yml has a variation in every language the assistant speaks
besides Italian, chosen by the `language` slot, with the Italian one's buttons and {slots},
and not still in Italian (issue 17; docs/languages.md).

Rasa 3.6 (rasa.core.nlg.generator.ResponseVariationFilter) picks among the variations whose
`condition` matches the filled slots when there is one, and among the unconditioned ones
(the Italian defaults) otherwise; `select` below is that rule, without Rasa.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.channels.whatsapp.render import BUTTON_TITLE_LIMIT, ROW_TITLE_LIMIT
from catalog.areas import AREAS, QUARTIERI
from core.i18n import languages
from core.settings import PROJECT_ROOT
from tests.language.test_catalogues import still_italian

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
SLOT = "language"
TARGETS = [code for code in languages().codes if code != languages().source]
# names the citizen reads as they are, in every language: the network's own words, the
# quartieri (the neighbourhood buttons) and the areas named as examples; longest first
PROPER_NAMES = sorted(
    {"WEL.CO.ME", "Welcome Point", "Care Manager", *QUARTIERI.values(), *(a.name for a in AREAS)},
    key=len,
    reverse=True,
)

Variation = dict[str, Any]


def load_responses(path: Path = DOMAIN_FILE) -> dict[str, list[Variation]]:
    responses: dict[str, list[Variation]] = yaml.safe_load(path.read_text())["responses"]
    return responses


def language_of(variation: Variation) -> str | None:
    """The language a variation is for: None for the Italian default (no condition)."""
    condition = variation.get("condition")
    if not condition:
        return None
    if len(condition) != 1 or condition[0].get("type") != "slot":
        return "?"
    if condition[0].get("name") != SLOT or not isinstance(condition[0].get("value"), str):
        return "?"
    return str(condition[0]["value"])


def select(variations: list[Variation], language: str | None) -> list[Variation]:
    """What Rasa 3.6 chooses from with the `language` slot set to ``language``."""
    matching = [v for v in variations if v.get("condition") and language_of(v) == language]
    return matching or [v for v in variations if not v.get("condition")]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _payloads(variation: Variation) -> list[str]:
    return [button.get("payload", "") for button in variation.get("buttons") or []]


def _without_names(text: str) -> str:
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    return text if re.search(r"[^\W\d_]", text) else ""


def _reads_italian(text: str) -> list[str]:
    bare = _without_names(text)
    return still_italian(bare) if bare else []


def problems_of(responses: dict[str, list[Variation]], code: str) -> list[str]:
    """Why ``responses`` do not speak ``code`` everywhere (empty: they do)."""
    problems = []
    for name, variations in responses.items():
        italian = [v for v in variations if language_of(v) is None]
        strange = [v for v in variations if language_of(v) == "?"]
        if strange:
            problems.append(f"{name}: a condition other than [{SLOT} = code]: {strange[0]}")
        translated = [v for v in variations if language_of(v) == code]
        if not italian:
            problems.append(f"{name}: no Italian default (a variation without condition)")
            continue
        if not translated:
            problems.append(f"{name}: no {code!r} variation")
            continue
        payloads = {tuple(_payloads(v)) for v in italian}
        fields = {frozenset(_fields(v.get("text") or "")) for v in italian}
        customs = [v.get("custom") for v in italian]
        for variation in translated:
            text = variation.get("text") or ""
            if not text.strip():
                problems.append(f"{name}: a {code!r} variation without text")
            if tuple(_payloads(variation)) not in payloads:
                problems.append(f"{name}: buttons {_payloads(variation)} != {sorted(payloads)}")
            if frozenset(_fields(text)) not in fields:
                problems.append(f"{name}: {{slots}} {_fields(text)} != the Italian ones")
            if variation.get("custom") not in customs:
                problems.append(f"{name}: custom {variation.get('custom')} != {customs[0]}")
            if set(variation) - {"text", "buttons", "custom", "condition"}:
                problems.append(f"{name}: keys {sorted(variation)} (channel? image?)")
            titles = [b.get("title") or "" for b in variation.get("buttons") or []]
            # WhatsApp cuts longer titles: up to 3 buttons are reply buttons, more a list
            limit = BUTTON_TITLE_LIMIT if len(titles) <= 3 else ROW_TITLE_LIMIT
            longer = [t for t in titles if len(t) > limit]
            if longer:
                problems.append(f"{name}: titles longer than {limit} characters: {longer}")
            italian_titles = [b.get("title") for b in italian[0].get("buttons") or []]
            for title, original in zip(titles, italian_titles, strict=False):
                if title == original and _without_names(title).strip():
                    problems.append(f"{name}: button title not translated: {title!r}")
            for what in [text, *titles]:
                if not what.strip():
                    problems.append(f"{name}: an empty button title")
                reasons = _reads_italian(what)
                if reasons:
                    problems.append(f"{name}: still Italian ({'; '.join(reasons)}): {what[:60]!r}")
    return problems


RESPONSES = load_responses()


def test_the_domain_has_responses() -> None:
    assert len(RESPONSES) >= 25
    assert "utter_greet" in RESPONSES and "utter_help" in RESPONSES


@pytest.mark.parametrize("code", TARGETS)
def test_every_response_has_a_variation_in_the_language(code: str) -> None:
    problems = problems_of(RESPONSES, code)
    assert problems == [], f"{DOMAIN_FILE.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", TARGETS)
def test_the_slot_chooses_the_language_and_italian_stays_the_default(code: str) -> None:
    for name, variations in RESPONSES.items():
        for language in (None, languages().source):  # unset slot, or Italian
            chosen = select(variations, language)
            assert chosen and all(language_of(v) is None for v in chosen), name
        chosen = select(variations, code)
        assert chosen and all(language_of(v) == code for v in chosen), name


def test_the_check_finds_every_italian_text_of_the_domain() -> None:
    """Were the Italian defaults copied as they are, the check would see every one."""
    texts = [v.get("text") or "" for vs in RESPONSES.values() for v in vs if not v.get("condition")]
    assert len(texts) >= 25
    assert [text for text in texts if not _reads_italian(text)] == []


def test_the_check_can_fail() -> None:
    italian: Variation = {
        "text": "Ciao {citizen_name}! Come posso aiutarti?",
        "buttons": [{"title": "Cerca un servizio", "payload": "/search_service"}],
    }
    english: Variation = {
        "text": "Hello {citizen_name}! How can I help you?",
        "buttons": [{"title": "Find a service", "payload": "/search_service"}],
        "condition": [{"type": "slot", "name": SLOT, "value": "en"}],
    }
    assert problems_of({"utter_x": [italian, english]}, "en") == []
    assert problems_of({"utter_x": [italian]}, "en") == ["utter_x: no 'en' variation"]
    broken = [
        {**english, "text": "Hello! How can I help you?"},  # {citizen_name} lost
        {**english, "buttons": []},  # a button lost
        {**english, "buttons": [{"title": "Find", "payload": "/help"}]},  # another payload
        {**english, "text": "Ciao {citizen_name}! Dimmi pure cosa ti serve."},  # Italian
        {**english, "buttons": [{"title": "Parla con un operatore", "payload": "/search_service"}]},
        {**english, "condition": [{"type": "slot", "name": "lingua", "value": "en"}]},
        {
            **english,
            "buttons": [{"title": "Look for a service in Florence", "payload": "/search_service"}],
        },
        {**italian, "condition": english["condition"]},  # the Italian text copied
    ]
    for variation in broken:
        assert problems_of({"utter_x": [italian, variation]}, "en"), variation
    short = {"text": "Where?", "buttons": [{"title": "Casa", "payload": "/deny"}]}
    copied = {**short, "condition": english["condition"]}
    assert problems_of({"utter_x": [short, copied]}, "en") == [
        "utter_x: button title not translated: 'Casa'"
    ]
    assert (
        problems_of(
            {"utter_x": [short, {**copied, "buttons": [{"title": "Housing", "payload": "/deny"}]}]},
            "en",
        )
        == []
    )
    # proper names and «quoted words to type» are not Italian text
    assert not _reads_italian("Choose your area, for example Campo di Marte or Centro Storico.")
    assert not _reads_italian("If the area does not matter, write «salta».")
    # Rasa's rule: a matching condition wins, otherwise the defaults
    assert select([italian, english], "en") == [english]
    assert select([italian, english], None) == [italian]
    assert select([italian, english], "it") == [italian]
    assert select([italian, english], "ro") == [italian]  # a language without variations
