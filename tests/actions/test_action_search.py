"""Searching: the short list, details buttons, paging, honest misses and unmet needs."""

from __future__ import annotations

from action_helpers import (
    STRANGER,
    Seeded,
    button_payloads,
    customs,
    make_tracker,
    run_action,
    slot_events,
    texts,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from actions.search import ActionMoreResults, ActionSearchServices, filters_from_slots
from actions.search_form import ActionResetSearch
from catalog.models import UnmetNeed

AFTER_SCHOOL_RIFREDI = {
    "service_category": "after_school",
    "neighbourhood": "Rifredi",
    "age": "8",
    "search_text": "cerco un doposcuola per mio figlio di 8 anni a Rifredi",
}


def unmet(engine: Engine) -> list[UnmetNeed]:
    with Session(engine) as session:
        return list(session.exec(select(UnmetNeed)).all())


def test_results_are_a_short_numbered_list_with_details_buttons(seeded: Seeded, db: Engine) -> None:
    tracker = make_tracker(intent="search_service", slots=AFTER_SCHOOL_RIFREDI)
    messages, events = run_action(ActionSearchServices(), tracker)
    text = texts(messages)
    assert text.startswith(
        "Ho trovato 7 servizi (Doposcuola, zona Rifredi, 8 anni). Ecco i primi 5:"
    )
    assert "1. " in text and "5. " in text and "6. " not in text
    assert "Doposcuola Il Ponte" in text
    assert "quota a carico: 30,00 € al mese, si può pagare con il budget welfare" in text
    assert "non approvato" not in text  # providers not approved are never shown
    payloads = button_payloads(messages)
    assert payloads[:5] == [
        f'/service_details{{"service_code":"{code}"}}'
        for code in slot_events(events)["search_results"]
    ]
    assert [b["title"] for b in messages[0]["buttons"]][:5] == [
        f"Dettagli {i}" for i in range(1, 6)
    ]
    assert payloads[5] == "/more_results"
    assert customs(messages) == []
    assert slot_events(events)["search_offset"] == 0
    assert slot_events(events)["selected_service"] is None
    assert unmet(db) == []


def test_more_results_pages_on_with_the_page_payload(seeded: Seeded) -> None:
    _, first = run_action(
        ActionSearchServices(), make_tracker(intent="search_service", slots=AFTER_SCHOOL_RIFREDI)
    )
    slots = {**AFTER_SCHOOL_RIFREDI, **slot_events(first)}
    messages, events = run_action(
        ActionMoreResults(), make_tracker(intent="more_results", slots=slots)
    )
    text = texts(messages)
    assert text.startswith("Altri risultati (6-7 di 7):")
    assert "6. " in text and "7. " in text
    assert [b["title"] for b in messages[0]["buttons"]] == ["Dettagli 6", "Dettagli 7"]
    assert customs(messages) == [{"type": "page", "page_key": "search_results"}]
    assert slot_events(events)["search_offset"] == 5
    assert not set(slot_events(events)["search_results"]) & set(
        slot_events(first)["search_results"]
    )

    again = {**slots, **slot_events(events)}
    messages, _ = run_action(ActionMoreResults(), make_tracker(intent="more_results", slots=again))
    assert texts(messages).startswith("Non ci sono altri risultati")


def test_more_results_without_a_search(seeded: Seeded) -> None:
    messages, events = run_action(ActionMoreResults(), make_tracker(intent="more_results"))
    assert texts(messages).startswith("Non ho una ricerca in corso")
    assert events == []


def test_nearest_alternatives_are_labelled_and_the_need_recorded(
    seeded: Seeded, db: Engine
) -> None:
    slots = {
        "service_category": "summer_camp",
        "neighbourhood": "Q5",
        "age": "8",
        "search_text": "centro estivo per mia figlia a rifredi",
    }
    messages, events = run_action(
        ActionSearchServices(),
        make_tracker(intent="search_service", slots=slots, sender=STRANGER),
    )
    text = texts(messages)
    assert text.startswith("Non ho trovato servizi che corrispondono proprio a tutto")
    assert "ti mostro i servizi più vicini" in text
    assert "Centro estivo Gavinana" in text
    assert "Care Manager" in text
    assert button_payloads(messages) == [
        '/service_details{"service_code":"CE-GAV"}',
        "/human_handoff",
    ]
    assert slot_events(events)["selected_service"] == "CE-GAV"  # the only result
    [need] = unmet(db)
    assert need.conversation_id == STRANGER
    assert need.category == "summer_camp" and need.quartiere == "Q5"
    assert need.text == "centro estivo per mia figlia a rifredi"


def test_nothing_found_is_said_honestly_with_a_care_manager(seeded: Seeded, db: Engine) -> None:
    slots = {"service_category": "housing", "neighbourhood": "Q2", "search_text": "una casa"}
    messages, events = run_action(
        ActionSearchServices(), make_tracker(intent="search_service", slots=slots)
    )
    assert texts(messages).startswith(
        "Non ho trovato servizi nel catalogo per questa richiesta (Casa, quartiere Campo di Marte)."
    )
    assert button_payloads(messages) == ["/human_handoff", "/search_service"]
    assert slot_events(events) == {"search_results": None, "search_offset": 0}
    assert len(unmet(db)) == 1


def test_any_and_unknown_slot_values_are_not_filters() -> None:
    tracker = make_tracker(
        slots={
            "service_category": "any",
            "neighbourhood": "any",
            "age": "any",
            "target_group": "martians",
            "cost_mode": "free",
        }
    )
    filters = filters_from_slots(tracker)
    assert filters.category is None and filters.quartiere is None and filters.age is None
    assert filters.target_group is None
    assert filters.cost_mode == "free"


def test_a_quartiere_code_filters_the_whole_quartiere() -> None:
    filters = filters_from_slots(make_tracker(slots={"neighbourhood": "Q4"}))
    assert filters.quartiere == "Q4" and filters.area is None
    filters = filters_from_slots(make_tracker(slots={"neighbourhood": "Le Cure"}))
    assert filters.quartiere == "Q2" and filters.area == "Le Cure"


def test_a_database_failure_is_admitted(seeded: Seeded, monkeypatch) -> None:
    import actions.search as search

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("down")

    monkeypatch.setattr(search, "search_services", broken)
    messages, events = run_action(
        ActionSearchServices(), make_tracker(intent="search_service", slots=AFTER_SCHOOL_RIFREDI)
    )
    assert "non riesco a cercare" in texts(messages)
    assert button_payloads(messages) == ["/human_handoff"]
    assert events == []


# --- a new search forgets the previous one ------------------------------------------------------


def test_a_new_search_keeps_only_what_it_repeats_and_the_zone() -> None:
    tracker = make_tracker(
        intent="search_service",
        text="cerco un corso di italiano gratis",
        entities=[
            {"entity": "service_category", "value": "italian_course"},
            {"entity": "cost_mode", "value": "free"},
        ],
        slots={
            "service_category": "italian_course",
            "cost_mode": "free",
            "target_group": "elderly",
            "age": "80",
            "neighbourhood": "Rifredi",
            "search_results": ["X"],
            "search_offset": 5,
            "selected_service": "X",
        },
    )
    _, events = run_action(ActionResetSearch(), tracker)
    assert slot_events(events) == {
        "target_group": None,
        "age": None,
        "search_text": "cerco un corso di italiano gratis",
        "search_offset": 0,
        "search_results": None,
        "selected_service": None,
    }


def test_a_new_search_drops_values_outside_the_vocabulary() -> None:
    tracker = make_tracker(
        intent="search_service",
        text="/search_service",
        entities=[
            {"entity": "service_category", "value": "astronaut"},
            {"entity": "neighbourhood", "value": "Marte"},
        ],
        slots={"service_category": "astronaut", "neighbourhood": "Marte"},
    )
    _, events = run_action(ActionResetSearch(), tracker)
    slots = slot_events(events)
    assert slots["service_category"] is None and slots["neighbourhood"] is None
    assert slots["search_text"] is None  # a button payload is not a request text
