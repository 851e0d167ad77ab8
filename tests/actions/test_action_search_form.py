"""The search form asks only what is missing and useful, at most one question, skippable.

These tests run the form without a catalogue (the probe answers None): the form then
asks as when the catalogue cannot be read. test_search_understanding.py runs it on the
real seed catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import make_tracker, run_action, slot_events, texts

import actions.search_form as search_form
from actions.search_form import FORM, ValidateServiceSearchForm
from catalog.filters import SearchFilters


@pytest.fixture(autouse=True)
def _no_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_form, "probe", lambda text, filters: None)


def form_turn(
    *,
    slots: dict[str, Any] | None = None,
    asked: list[str] = (),  # type: ignore[assignment]
    intent: str = "inform",
    text: str = "",
    entities: list[dict[str, Any]] = (),  # type: ignore[assignment]
    candidates: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One call of validate_service_search_form as Rasa makes it.

    ``asked``: the slots the form requested since it was activated (none: it is being
    activated now); ``candidates``: the slots Rasa extracted from this message.
    """
    candidates = candidates or {}
    events: list[dict[str, Any]] = []
    if asked:
        events.append({"event": "active_loop", "name": FORM})
        events += [{"event": "slot", "name": "requested_slot", "value": s} for s in asked]
    after = [{"event": "action", "name": FORM}]
    after += [{"event": "slot", "name": k, "value": v} for k, v in candidates.items()]
    tracker = make_tracker(
        intent=intent,
        text=text,
        entities=entities,
        slots={**(slots or {}), **candidates, "requested_slot": asked[-1] if asked else None},
        events=events,
        after_user=after,
        active_loop=FORM if asked else None,
    )
    messages, result = run_action(ValidateServiceSearchForm(), tracker)
    return messages, slot_events(result)


def test_a_complete_request_asks_nothing() -> None:
    _, slots = form_turn(
        intent="search_service",
        candidates={"service_category": "after_school", "neighbourhood": "Rifredi", "age": "8"},
    )
    assert slots == {
        "service_category": "after_school",
        "neighbourhood": "Rifredi",
        "age": "8",
        "requested_slot": None,
    }


def test_a_quartiere_code_stays_a_code() -> None:
    _, slots = form_turn(
        intent="search_service",
        candidates={"service_category": "home_care", "neighbourhood": "quartiere 4"},
    )
    assert slots["neighbourhood"] == "Q4"
    assert slots["requested_slot"] is None  # home care does not depend on the age


def test_the_zone_is_asked_when_missing() -> None:
    _, slots = form_turn(intent="search_service", candidates={"service_category": "home_care"})
    assert slots["requested_slot"] == "neighbourhood"


def test_the_age_is_asked_only_for_age_bound_categories() -> None:
    _, slots = form_turn(
        intent="search_service",
        candidates={"service_category": "summer_camp", "neighbourhood": "Gavinana"},
    )
    assert slots["requested_slot"] == "age"


def test_the_kind_of_service_is_asked_when_nothing_says_it() -> None:
    _, slots = form_turn(intent="search_service", candidates={"neighbourhood": "Isolotto"})
    assert slots["requested_slot"] == "service_category"
    _, slots = form_turn(
        intent="search_service",
        candidates={"neighbourhood": "Isolotto", "target_group": "elderly"},
    )
    assert slots["requested_slot"] == "service_category"  # "per mia madre" is not enough


def test_never_more_than_one_question() -> None:
    # the question: the kind of service
    _, slots = form_turn(intent="search_service", text="mi serve aiuto")
    assert slots["requested_slot"] == "service_category"
    # answered with a button: after_school would need zone and age, none is asked
    _, slots = form_turn(
        asked=["service_category"],
        text="/inform",
        candidates={"service_category": "after_school"},
    )
    assert slots == {"service_category": "after_school", "requested_slot": None}


def test_an_answer_that_fills_another_slot_does_not_repeat_the_question() -> None:
    _, slots = form_turn(
        slots={"service_category": "after_school"},
        asked=["neighbourhood"],
        text="ha 9 anni e stiamo a Brozzi",
        candidates={"age": "9", "neighbourhood": "Brozzi"},
    )
    assert slots["requested_slot"] is None


def test_skip_words_and_no_skip_the_question() -> None:
    for intent, text in (
        ("inform", "non importa"),
        ("out_of_scope", "salta"),
        ("nlu_fallback", "indifferente, tutta firenze"),
        ("deny", "no"),
        ("deny", "/deny"),
    ):
        _, slots = form_turn(
            slots={"service_category": "home_care"},
            asked=["neighbourhood"],
            intent=intent,
            text=text,
        )
        assert slots["neighbourhood"] == "any", text
        assert slots["requested_slot"] is None


def test_skipping_the_age() -> None:
    _, slots = form_turn(
        slots={"service_category": "babysitting", "neighbourhood": "Q1"},
        asked=["age"],
        intent="deny",
        text="preferisco non dirlo",
    )
    assert slots["age"] == "any"


def test_a_zone_the_nlu_missed_is_read_from_the_text() -> None:
    _, slots = form_turn(
        slots={"service_category": "home_care"},
        asked=["neighbourhood"],
        text="dalle parti di novoli",
    )
    assert slots["neighbourhood"] == "Novoli"


def test_an_age_the_nlu_missed_is_read_from_the_text() -> None:
    _, slots = form_turn(
        slots={"service_category": "after_school", "neighbourhood": "Q5"},
        asked=["age"],
        text="ne ha sei",
    )
    assert slots["age"] == "6"


def test_an_adult_age_is_asked_again() -> None:
    messages, slots = form_turn(
        slots={"service_category": "after_school", "neighbourhood": "Q5"},
        asked=["age"],
        text="40",
        candidates={"age": "40"},
    )
    assert slots["age"] is None
    assert "anni del bambino o della bambina" in texts(messages)
    assert slots["requested_slot"] == "age"


def test_an_unknown_zone_is_asked_again() -> None:
    messages, slots = form_turn(
        slots={"service_category": "home_care"},
        asked=["neighbourhood"],
        text="a Marte",
        candidates={"neighbourhood": "Marte"},
    )
    assert slots["neighbourhood"] is None
    assert "Non conosco questa zona" in texts(messages)


def test_words_instead_of_a_category_go_to_the_full_text_search() -> None:
    _, slots = form_turn(
        slots={"search_text": "mi serve una mano"},
        asked=["service_category"],
        text="qualcosa per fare ginnastica dolce",
    )
    assert slots["service_category"] == "any"
    assert slots["search_text"] == "mi serve una mano qualcosa per fare ginnastica dolce"


def test_a_change_of_topic_is_not_taken_as_an_answer() -> None:
    for intent, text in (
        ("check_budget", "quanto ho nel budget?"),
        ("find_welcome_point", "dove siete a Rifredi?"),
        ("emergency", "non voglio più vivere"),
    ):
        _, slots = form_turn(
            slots={"service_category": "home_care"},
            asked=["neighbourhood"],
            intent=intent,
            text=text,
        )
        # only requested_slot: Rasa rejects the form and the rules answer the new topic
        assert set(slots) <= {"requested_slot"}, intent


def test_a_new_request_in_the_middle_starts_over() -> None:
    _, slots = form_turn(
        slots={
            "service_category": "home_care",
            "target_group": "elderly",
            "search_text": "badante per mia madre",
        },
        asked=["neighbourhood"],
        intent="search_service",
        text="anzi cerco un centro estivo per mio figlio",
        entities=[
            {"entity": "service_category", "value": "summer_camp"},
            {"entity": "target_group", "value": "children"},
        ],
        candidates={"service_category": "summer_camp", "target_group": "children"},
    )
    assert slots["search_text"] == "anzi cerco un centro estivo per mio figlio"
    assert slots["service_category"] == "summer_camp"
    assert "target_group" not in slots  # mentioned again: kept as extracted
    assert slots["age"] is None
    assert slots["requested_slot"] == "neighbourhood"


# --- one probe per distinct request in a run (issue 18: the action server's CPU) -----------


class _NoMemo:
    """Stands in for the run's memo of probes: every call probes, as before it existed."""

    def set(self, value: object) -> None:
        return None

    def reset(self, token: object) -> None:
        return None

    def get(self) -> None:
        return None


def _home_care_probe(calls: list[tuple[str, SearchFilters]]) -> Any:
    """The catalogue as a stub: the words say home care; without that category the matches
    are many pages in several quartieri (the zone would be asked), with it a few."""

    def probe(text: str, filters: SearchFilters) -> search_form.Probe:
        calls.append((text, filters))
        many = filters.category is None
        return search_form.Probe(
            interpreted=SearchFilters(category="home_care"),
            total=40 if many else 3,
            searchable=True,
            quartieri=4 if many else 1,
            age_limits=1,
            relaxed=False,
        )

    return probe


@pytest.mark.parametrize("text", ["qualcuno che aiuti la mia mamma in casa", ""])
def test_a_run_probes_each_request_once_with_the_same_outcome(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """rasa-sdk asks required_slots three times per run: each distinct (words, filters) is
    searched once, and the form decides as when every call searched."""
    before: list[tuple[str, SearchFilters]] = []
    monkeypatch.setattr(search_form, "probe", _home_care_probe(before))
    with monkeypatch.context() as patch:
        patch.setattr(search_form, "_run_probes", _NoMemo())
        expected = form_turn(intent="search_service", text=text)
    after: list[tuple[str, SearchFilters]] = []
    monkeypatch.setattr(search_form, "probe", _home_care_probe(after))
    assert form_turn(intent="search_service", text=text) == expected
    assert len(before) == 4 and len(after) == len(set(after)) == len(set(before))


def test_a_slot_set_during_the_run_probes_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue understood home care in the words: the form's later questions are
    decided on the search with that category, not on the first probe (which would ask the
    zone of 40 matches in 4 quartieri)."""
    calls: list[tuple[str, SearchFilters]] = []
    monkeypatch.setattr(search_form, "probe", _home_care_probe(calls))
    _, slots = form_turn(intent="search_service", text="qualcuno che aiuti la mia mamma in casa")
    assert slots["service_category"] == "home_care"
    assert slots["requested_slot"] is None  # a few matches: nothing to ask
    assert [f.category for _, f in calls] == [None, "home_care"]


def test_nothing_is_kept_between_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, SearchFilters]] = []
    monkeypatch.setattr(search_form, "probe", _home_care_probe(calls))
    form_turn(intent="search_service", text="badante")
    form_turn(intent="search_service", text="badante")
    assert len(calls) == 4  # two per run: before and after the category understood
    assert search_form._run_probes.get() is None
