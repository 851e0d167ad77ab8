"""What is not welfare gets the office that can help (issue 12, point 4), in the
conversation's language (issue 17): the office's subject, name and notes are data per
language, and English requests find their office."""

from __future__ import annotations

from pathlib import Path

import pytest
from action_helpers import make_tracker, run_action, texts

from actions.redirect import ActionOutOfScope, office_text
from catalog.offices import OFFICES_DIR, OfficeDataError, load_offices
from core.i18n import languages
from tests.language.test_catalogues import still_italian

OTHER_LANGUAGES = [code for code in languages().codes if code != languages().source]


def test_the_directory_loads_and_covers_the_city_offices() -> None:
    directory = load_offices(OFFICES_DIR)
    codes = {o.code for o in directory.offices}
    assert {
        "contact-center",
        "anagrafe",
        "tributi",
        "mobilita",
        "alia",
        "scuola",
        "polizia-municipale",
    } <= codes
    general = directory.general()
    assert general is not None and general.verified
    for office in directory.offices:
        assert office.source and office.contacts  # where each entry comes from
        if not office.verified:  # unchecked entries carry no number but the contact centre's
            phones = {c.value for c in office.contacts if c.kind == "phone"}
            assert phones <= {"055 055"}, office.code


@pytest.mark.parametrize(
    ("text", "office"),
    [
        ("Spazzatura", "alia"),
        ("smaltimento ingombranti", "alia"),
        ("sono attive le strisce blu?", "mobilita"),
        ("Limitazioni alla circolazione dei veicoli", "mobilita"),
        ("Chi celebra i matrimoni civili", "anagrafe"),
        ("devo rinnovare la carta d'identità", "anagrafe"),
        ("come pago la TARI?", "tributi"),
        ("mi hanno fatto una multa", "polizia-municipale"),
        ("iscrizione alla mensa scolastica", "scuola"),
        ("segnalazione buca in strada", "contact-center"),
    ],
)
def test_the_matching_office(text: str, office: str) -> None:
    found = load_offices(OFFICES_DIR).match(text)
    assert found is not None and found.code == office


@pytest.mark.parametrize(
    ("text", "office"),
    [
        ("where do I renew my ID card", "anagrafe"),
        ("I need a residence certificate", "anagrafe"),
        ("I want to get married at the town hall", "anagrafe"),
        ("how do I pay the waste tax", "tributi"),
        ("where can I pay the TARI?", "tributi"),  # the Comune's own words, in English
        ("I got a parking fine", "polizia-municipale"),
        ("my car was towed", "polizia-municipale"),
        ("how do I get a ZTL permit", "mobilita"),
        ("when do they collect bulky waste?", "alia"),
        ("the rubbish was not collected", "alia"),
        ("school canteen fees", "scuola"),
        ("there is a water leak in my street", "publiacqua"),
        ("there is a pothole in my street", "contact-center"),
    ],
)
def test_the_matching_office_in_english(text: str, office: str) -> None:
    found = load_offices(OFFICES_DIR).match(text, "en")
    assert found is not None and found.code == office, text


def test_nothing_matches_small_talk() -> None:
    directory = load_offices(OFFICES_DIR)
    assert directory.match("che tempo fa domani?") is None
    assert directory.match("I'm fine, thanks: who won the match?", "en") is None
    assert directory.match("alla fine ho pagato io", "it") is None  # «fine» is English only


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_office_speaks_every_language(code: str) -> None:
    """What a citizen reads of an office (its name, what it is for, the contacts' notes)
    has a text in each language, which does not read Italian but for «quoted» names."""
    directory = load_offices(OFFICES_DIR)
    assert directory.untranslated(code) == []
    problems = []
    for office in directory.offices:
        shown = [office.name_in(code), office.what_in(code)]
        shown += [c.note_in(code) for c in office.contacts if c.note]
        shown += [c.value_in(code) for c in office.contacts if c.kind == "note"]
        for text in shown:
            proper = text.replace("Alia Servizi Ambientali", "")  # a company's name
            if still_italian(proper):
                problems.append(f"{office.code}: {text!r}: {still_italian(proper)}")
    assert problems == []


_ENTRY = (
    "offices:\n"
    "  - code: tasse\n"
    "    name: Tributi\n"
    "    what: {what}\n"
    "    topics: {{it: [tasse], en: [taxes]}}\n"
    "    contacts:\n"
    "      - {{kind: web, value: 'https://www.comune.fi.it', note: {note}}}\n"
    "    source: prova\n"
    "    verified: false\n"
)


def test_a_missing_english_text_is_listed_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "offices.yaml"
    path.write_text(
        _ENTRY.format(what="{it: tasse comunali}", note="{it: sezione Tributi}"),
        encoding="utf-8",
    )
    directory = load_offices(tmp_path)
    assert directory.untranslated("en") == [
        f"{path}:2: tasse: no en text for what, contacts.0.note"
    ]
    # the conversation gets the Italian text rather than nothing
    assert directory.offices[0].what_in("en") == "tasse comunali"


@pytest.mark.parametrize(
    ("what", "says"),
    [
        ("tasse comunali", "what: Input should be a valid dictionary"),  # words: per language
        ("{en: local taxes}", "the Italian text (it) is required"),
        ("{it: tasse, eng: taxes}", "unknown language eng"),
    ],
)
def test_texts_per_language_are_checked(tmp_path: Path, what: str, says: str) -> None:
    (tmp_path / "offices.yaml").write_text(
        _ENTRY.format(what=what, note="{it: x, en: y}"), encoding="utf-8"
    )
    with pytest.raises(OfficeDataError) as raised:
        load_offices(tmp_path)
    assert any(says in str(issue) for issue in raised.value.issues), raised.value.issues


def test_errors_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        "offices:\n"
        "  - code: Bad Code\n"
        "    name: Ufficio\n"
        "    what: qualcosa\n"
        "    topics: [tasse]\n"
        "    contacts:\n"
        "      - {kind: web, value: 'http://insicuro.example'}\n"
        "    source: prova\n"
        "    verified: maybe\n",
        encoding="utf-8",
    )
    with pytest.raises(OfficeDataError) as raised:
        load_offices(tmp_path)
    issues = [str(i) for i in raised.value.issues]
    assert any(i.endswith("code: use lowercase letters, digits and dashes") for i in issues)
    assert any(f"{tmp_path / 'broken.yaml'}:2:" in i for i in issues), issues
    assert any(":7:" in i and "https://" in i for i in issues), issues
    assert any(":9:" in i and "verified" in i for i in issues), issues


def test_out_of_scope_names_the_office_and_how_to_reach_it() -> None:
    messages, _ = run_action(
        ActionOutOfScope(), make_tracker(intent="out_of_scope", text="dove butto gli ingombranti?")
    )
    said = texts(messages)
    assert "Alia" in said and "https://www.aliaserviziambientali.it" in said
    assert "Di questo non mi occupo" in said and "Welcome Point" in said


def test_out_of_scope_in_english_names_the_office_in_english() -> None:
    """No mixed sentence: the office's subject, name and notes in English."""
    english = {"language": "en"}
    messages, _ = run_action(
        ActionOutOfScope(),
        make_tracker(intent="out_of_scope", text="how do I pay the waste tax?", slots=english),
    )
    said = texts(messages)
    assert (
        "For TARI (the waste tax), IMU (the property tax) and the other local taxes, you can "
        "ask the Local Taxes Office of the City of Florence («Tributi»):"
    ) in said.splitlines()
    assert "- website https://www.comune.fi.it (the «Tributi» section)" in said.splitlines()
    assert "- phone 055 055 (City of Florence contact center)" in said.splitlines()
    assert still_italian(said) == []
    messages, _ = run_action(
        ActionOutOfScope(),
        make_tracker(intent="out_of_scope", text="who won the match?", slots=english),
    )
    said = texts(messages)
    assert (
        "For other questions about the City of Florence, there is the City of Florence "
        "contact center:"
    ) in said.splitlines()
    assert still_italian(said) == []


def test_the_italian_reply_is_unchanged() -> None:
    assert office_text("come pago la TARI?").splitlines() == [
        "Per TARI, IMU e le altre tasse comunali puoi rivolgerti a Tributi del Comune di Firenze:",
        "- sito https://www.comune.fi.it (sezione Tributi)",
        "- telefono 055 055 (Contact center del Comune)",
    ]
    assert office_text("my car was towed", specific_only=True) == ""  # English topics: en only
    assert "Municipal Police" in office_text("my car was towed", language="en")


def test_out_of_scope_without_a_match_gives_the_contact_centre() -> None:
    messages, _ = run_action(
        ActionOutOfScope(), make_tracker(intent="out_of_scope", text="chi ha vinto la partita?")
    )
    assert "Contact center" in texts(messages) and "055 055" in texts(messages)


def test_none_of_these_reads_the_words_typed_before() -> None:
    before = [{"event": "user", "text": "rinnovo del permesso ztl", "parse_data": {}}]
    messages, _ = run_action(
        ActionOutOfScope(), make_tracker(intent="out_of_scope", text="/out_of_scope", events=before)
    )
    assert "ZTL" in texts(messages)
