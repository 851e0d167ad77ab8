"""What is not welfare gets the office that can help (issue 12, point 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from action_helpers import make_tracker, run_action, texts

from actions.redirect import ActionOutOfScope
from catalog.offices import OFFICES_DIR, OfficeDataError, load_offices


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


def test_nothing_matches_small_talk() -> None:
    assert load_offices(OFFICES_DIR).match("che tempo fa domani?") is None


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
