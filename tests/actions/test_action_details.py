"""Details of a service and the nearest Welcome Points (clock: Wednesday 11:00 in Florence)."""

from __future__ import annotations

from action_helpers import (
    Seeded,
    button_payloads,
    customs,
    make_tracker,
    run_action,
    slot_events,
    texts,
)

from actions.details import ActionServiceDetails, position_in_text
from actions.welcome_points import ActionFindWelcomePoint

SHOWN = {"search_results": ["DOP-Q5-1", "DOP-RIF", "CE-GAV"], "search_offset": 0}


def details(**kwargs: object) -> tuple[list[dict], dict]:
    messages, events = run_action(ActionServiceDetails(), make_tracker(**kwargs))  # type: ignore[arg-type]
    return messages, slot_events(events)


def test_details_from_the_button(seeded: Seeded) -> None:
    messages, slots = details(
        intent="service_details",
        text='/service_details{"service_code":"DOP-RIF"}',
        entities=[{"entity": "service_code", "value": "DOP-RIF"}],
        slots={"selected_service": "DOP-RIF"},
    )
    text = texts(messages)
    assert text.splitlines()[0] == "Doposcuola Il Ponte"
    assert "Chi lo offre: Cooperativa Ponte" in text
    assert "Per chi: bambini, ragazzi (da 6 a 13 anni)" in text
    assert (
        "Costo: quota a carico: 30,00 € al mese. "
        "Puoi pagarlo con il budget welfare (pubblico o aziendale)." in text
    )
    assert "Orari: dal lunedì al venerdì 14:30–18:30. Chiuso ora: riapre oggi alle 14:30." in text
    assert "Dove: Via di Rifredi 10 (Rifredi)" in text
    assert "Mappa: https://www.openstreetmap.org/?mlat=43.79850&mlon=11.23300" in text
    assert "Come accedere: Iscrizione al Welcome Point di Rifredi con l'ISEE." in text
    assert "Contatti: 055 123456, ponte@example.org" in text
    assert button_payloads(messages) == [
        '/pay_with_budget{"service_code":"DOP-RIF"}',
        "/book_service",
        "/human_handoff",
        "/find_welcome_point",
    ]
    assert slots == {"selected_service": "DOP-RIF"}


def test_details_by_position_in_the_last_list(seeded: Seeded) -> None:
    messages, slots = details(
        intent="service_details", text="mi dici di più sul secondo?", slots=SHOWN
    )
    assert slots == {"selected_service": "DOP-RIF"}
    messages, slots = details(intent="service_details", text="dettagli 3", slots=SHOWN)
    assert slots == {"selected_service": "CE-GAV"}
    assert "Costo: 90,00 € a settimana." in texts(messages)


def test_positions_count_on_across_pages(seeded: Seeded) -> None:
    _, slots = details(
        intent="service_details",
        text="il 7",
        slots={"search_results": ["DOP-Q5-1", "DOP-RIF"], "search_offset": 5},
    )
    assert slots == {"selected_service": "DOP-RIF"}


def test_a_question_about_the_service_being_discussed(seeded: Seeded) -> None:
    messages, _ = details(
        intent="service_details",
        text="quanto costa?",
        slots={**SHOWN, "selected_service": "ITA-Q1"},
    )
    assert "Costo: gratuito." in texts(messages)
    assert "budget" not in texts(messages)  # free: nothing to pay
    assert "/book_service" not in button_payloads(messages)


def test_which_service_is_asked_when_unclear(seeded: Seeded) -> None:
    messages, slots = details(intent="service_details", text="che orari ha?", slots=SHOWN)
    assert texts(messages) == "Di quale servizio vuoi sapere di più? Tocca il numero qui sotto."
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Dettagli 1",
        "Dettagli 2",
        "Dettagli 3",
    ]
    assert slots == {}


def test_details_without_any_search(seeded: Seeded) -> None:
    messages, _ = details(intent="service_details", text="quanto costa?")
    assert "Dimmi prima che servizio cerchi" in texts(messages)
    assert button_payloads(messages) == ["/search_service"]


def test_a_cost_question_about_a_kind_of_service_searches_it(seeded: Seeded) -> None:
    messages, slots = details(
        intent="service_details",
        text="quanto costa un centro estivo?",
        entities=[{"entity": "service_category", "value": "summer_camp"}],
        slots={"service_category": "summer_camp"},
    )
    assert "Centro estivo Gavinana" in texts(messages)
    assert "90,00 € a settimana" in texts(messages)
    assert slots["search_text"] == "quanto costa un centro estivo?"
    assert slots["search_results"] == ["CE-GAV"]


def test_a_kind_named_by_a_word_the_nlu_did_not_mark_searches_it(seeded: Seeded) -> None:
    # no entity: the catalogue's synonyms name the kind («centro estivo»), so the list
    # comes instead of «Dimmi prima che servizio cerchi»
    messages, slots = details(intent="service_details", text="quanto costa il centro estivo?")
    assert "Centro estivo Gavinana" in texts(messages)
    assert slots["search_results"] == ["CE-GAV"]


def test_a_service_of_a_provider_not_approved_is_not_shown(seeded: Seeded) -> None:
    messages, slots = details(
        intent="service_details", entities=[{"entity": "service_code", "value": "HIDDEN-1"}]
    )
    assert "non è più disponibile" in texts(messages)
    assert slots == {"selected_service": None}


def test_positions_in_words() -> None:
    assert position_in_text("il primo") == 1
    assert position_in_text("l'ultimo") == -1
    assert position_in_text("numero 4") == 4
    assert position_in_text("2") == 2
    assert position_in_text("per un bimbo di 8 anni") is None


# --- Welcome Points ------------------------------------------------------------------------------


def test_nearest_points_to_a_named_zone_with_open_status(seeded: Seeded) -> None:
    messages, events = run_action(
        ActionFindWelcomePoint(),
        make_tracker(
            intent="find_welcome_point",
            text="dov'è lo sportello a Rifredi?",
            entities=[{"entity": "neighbourhood", "value": "Rifredi"}],
        ),
    )
    text = texts(messages)
    assert text.startswith("Ecco i Welcome Point più vicini a Rifredi:")
    first = text.index("1. Welcome Point Rifredi (Welcome Point)")
    assert first < text.index("2. ")
    assert "Aperto ora, fino alle 13:00." in text
    assert "Qui trovi un Care Manager." in text
    assert "Telefono: 055 111111" in text
    assert "Welcome Hub Centro (Welcome Hub)" in text
    assert "Chiuso ora: riapre domani alle 15:00." in text  # Isolotto opens Tue and Thu
    assert events == []


def test_nearest_points_to_a_shared_location(seeded: Seeded) -> None:
    messages, _ = run_action(
        ActionFindWelcomePoint(),
        make_tracker(
            intent="find_welcome_point",
            text="",
            metadata={"location": {"lat": 43.7690, "lon": 11.2625}},
            slots={"neighbourhood": "Rifredi"},
        ),
    )
    text = texts(messages)
    assert text.startswith("Ecco i Welcome Point più vicini a te:")
    assert text.index("Welcome Hub Centro") < text.index("Welcome Point Rifredi")
    assert "a circa 0,0 km" in text or "a circa 0,1 km" in text


def test_the_place_is_asked_with_a_location_request(seeded: Seeded) -> None:
    messages, _ = run_action(
        ActionFindWelcomePoint(),
        make_tracker(intent="find_welcome_point", slots={"neighbourhood": "any"}),
    )
    assert "dimmi in quale zona" in texts(messages)
    assert button_payloads(messages)[0] == '/find_welcome_point{"neighbourhood":"Q1"}'
    assert len(button_payloads(messages)) == 5
    assert customs(messages) == [{"type": "location_request"}]


def test_details_of_a_kind_the_catalogue_reads_in_the_words(seeded: Seeded) -> None:
    # no entity and no word of the lexicon, but the words say whom it is for (40 anni) and
    # the catalogue's best match («Lezioni di italiano per adulti») settles the kind
    text = "quanto costano le lezioni per mia moglie di 40 anni?"
    messages, slots = details(intent="service_details", text=text)
    assert "Dimmi prima che servizio cerchi" not in texts(messages)
    assert "Corso di italiano per stranieri" in texts(messages)
    assert slots["search_text"] == text
