"""The search uses the catalogue's understanding of the citizen's own words (issue 12,
point 5): on the real seed catalogue, requests the NLU gives no category, zone or age for
get results at once or after one question, and cost wishes rank or filter by cost. When the
kind of service stays unsettled, the one question offers the kinds the catalogue has
evidence for (action_ask_service_category), and a tap on one lists its services."""

from __future__ import annotations

from typing import Any

from action_helpers import make_tracker, run_action, slot_events, texts
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from actions.search import ActionSearchServices, cost_key
from actions.search_form import (
    FORM,
    FULL_QUESTION,
    OTHER,
    OTHER_BUTTON,
    ActionAskServiceCategory,
    ValidateServiceSearchForm,
    reset_search_events,
)
from catalog.models import CostMode, Service


def search_turn(text: str, entities: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """A new search as Rasa runs it: action_reset_search, the form's first validation
    (NLU entities as slot candidates), then the search if nothing is asked."""
    slots = {e["entity"]: e["value"] for e in entities}
    tracker = make_tracker(intent="search_service", text=text, entities=entities, slots=slots)
    reset = {e["name"]: e["value"] for e in reset_search_events(tracker)}
    slots = {**slots, **reset}
    after = [{"event": "action", "name": FORM}]
    after += [{"event": "slot", "name": e["entity"], "value": e["value"]} for e in entities]
    tracker = make_tracker(
        intent="search_service", text=text, entities=entities, slots=slots, after_user=after
    )
    _, events = run_action(ValidateServiceSearchForm(), tracker)
    slots = {**slots, **slot_events(events)}
    outcome: dict[str, Any] = {"asked": slots.get("requested_slot"), "slots": slots}
    if slots.get("requested_slot") is None:
        messages, events = run_action(
            ActionSearchServices(), make_tracker(intent="search_service", text=text, slots=slots)
        )
        outcome["text"] = texts(messages)
        outcome["results"] = slot_events(events).get("search_results") or []
    return outcome


def categories(engine: Engine, codes: list[str]) -> list[str]:
    with Session(engine) as session:
        by_code = {s.code: s for s in session.exec(select(Service)).all()}
    return [by_code[c].category for c in codes]


def test_the_elderly_mother_at_gavinana_gets_home_care_at_once(catalogue: Engine) -> None:
    found = search_turn(
        "mia mamma ha 84 anni e non ce la fa più da sola, ci vorrebbe qualcuno che l'aiuti in "
        "casa. abitiamo a gavinana"
    )
    assert found["asked"] is None  # no «Che tipo di servizio cerchi?»
    assert found["slots"]["service_category"] == "home_care"
    assert found["slots"]["age"] == "84" and found["slots"]["target_group"] == "elderly"
    assert found["slots"]["neighbourhood"] == "Gavinana"
    assert categories(catalogue, found["results"])[0] == "home_care"


def test_a_general_word_taken_by_the_nlu_leaves_the_choice_to_the_catalogue(
    catalogue: Engine,
) -> None:
    """The NLU read «casa» in «qualcuno che l'aiuti in casa» as housing (the model of
    2026-12-07, third session): a general word alone does not fix the kind of service."""
    text = (
        "mia mamma ha 84 anni e non ce la fa più da sola, ci vorrebbe qualcuno che l'aiuti in "
        "casa. abitiamo a gavinana"
    )
    start = text.index("casa")
    casa = {"entity": "service_category", "value": "housing", "start": start, "end": start + 4}
    found = search_turn(text, [casa])
    assert found["asked"] is None
    assert found["slots"]["service_category"] == "home_care"
    assert categories(catalogue, found["results"])[0] == "home_care"


def test_a_typo_the_nlu_could_not_map_is_not_a_specific_word(catalogue: Engine) -> None:
    """«asistenza anziani a casa»: the NLU marks «asistenza» with no category it knows and
    «casa» as housing; the catalogue reads the typo as «assistenza» and finds home care."""
    text = "asistenza anziani a casa"
    typo = {"entity": "service_category", "value": "asistenza", "start": 0, "end": 9}
    start = text.index("casa")
    casa = {"entity": "service_category", "value": "housing", "start": start, "end": start + 4}
    found = search_turn(text, [typo, casa])
    assert found["slots"]["service_category"] == "home_care"


def test_a_specific_word_taken_by_the_nlu_stays(catalogue: Engine) -> None:
    text = "mi hanno dato lo sfratto, cerco un alloggio"
    start = text.index("sfratto")
    sfratto = {"entity": "service_category", "value": "housing", "start": start, "end": start + 7}
    found = search_turn(text, [sfratto])
    assert found["slots"]["service_category"] == "housing"


def test_rent_this_month_gets_housing(catalogue: Engine) -> None:
    found = search_turn("non riesco a pagare l'affitto questo mese, c'è qualche aiuto?")
    assert found["asked"] in (None, "neighbourhood")
    if found["asked"] is None:
        assert categories(catalogue, found["results"])[0] in ("housing", "income_support")
    assert found["slots"]["service_category"] == "housing"


def test_florentine_summer_for_kids_at_isolotto(catalogue: Engine) -> None:
    found = search_turn("icchè c'è pe' i bimbi d'estate all'isolotto?")
    assert found["asked"] is None
    assert categories(catalogue, found["results"])[0] == "summer_camp"


def test_the_nlu_wins_over_the_catalogue(catalogue: Engine) -> None:
    found = search_turn(
        "cerco un centro estivo a gavinana",
        [{"entity": "service_category", "value": "after_school"}],
    )
    assert found["slots"]["service_category"] == "after_school"


def test_at_most_one_question_and_only_a_useful_one(catalogue: Engine) -> None:
    # a kind of service with many matches across the city: the zone is asked, nothing else
    found = search_turn("cerco un doposcuola per mio figlio")
    assert found["asked"] == "neighbourhood"
    # nothing says what is wanted: the kind of service
    assert search_turn("mi serve una mano per mia madre")["asked"] == "service_category"


def test_a_cost_wish_ranks_from_the_cheapest(catalogue: Engine) -> None:
    found = search_turn("mi serve uno psicologo ma non posso pagare tanto")
    assert found["asked"] in (None, "neighbourhood")
    if found["asked"] == "neighbourhood":
        found["slots"]["neighbourhood"] = "any"
        messages, events = run_action(
            ActionSearchServices(),
            make_tracker(
                intent="inform",
                text="non importa",
                slots={**found["slots"], "requested_slot": None},
            ),
        )
        found["results"] = slot_events(events)["search_results"]
        found["text"] = texts(messages)
    assert "dal meno caro" in found["text"]
    with Session(catalogue) as session:
        services = [
            session.exec(select(Service).where(Service.code == c)).one() for c in found["results"]
        ]
    keys = [cost_key(s) for s in services]
    assert keys == sorted(keys), keys
    assert {s.category for s in services} == {"psychological_support"}


def test_gratis_filters_free_services(catalogue: Engine) -> None:
    found = search_turn("uno psicologo gratis")
    if found["asked"] == "neighbourhood":
        found = search_turn("uno psicologo gratis, va bene in tutta firenze")
    with Session(catalogue) as session:
        for code in found.get("results", []):
            service = session.exec(select(Service).where(Service.code == code)).one()
            assert service.cost_mode == CostMode.free


def test_words_only_the_catalogue_knows_need_no_kind_question(catalogue: Engine) -> None:
    """No synonym names a kind of service, but the services that speak of «tombola» and
    «carte» agree on one: no «Che tipo di servizio cerchi?» before the results."""
    text = "dove si gioca a tombola e a carte?"
    found = search_turn(text)
    assert found["asked"] in (None, "neighbourhood", "age")
    slots = {**found["slots"], "requested_slot": None}
    if found["asked"]:
        slots[found["asked"]] = "any"  # «non importa»
    messages, events = run_action(
        ActionSearchServices(), make_tracker(intent="search_service", text=text, slots=slots)
    )
    results = slot_events(events).get("search_results") or []
    assert categories(catalogue, results)[0] == "elderly_day_care", texts(messages)


# --- the question about the kind of service, with the catalogue's candidates ---------------


def ask_kind(found: dict[str, Any], text: str, language: str | None = None) -> dict[str, Any]:
    """The form's question (action_ask_service_category), as Rasa asks it after the turn."""
    slots = {**found["slots"], "language": language} if language else found["slots"]
    tracker = make_tracker(intent="search_service", text=text, slots=slots)
    messages, _ = run_action(ActionAskServiceCategory(), tracker)
    assert len(messages) == 1
    return messages[0]


def offered(message: dict[str, Any]) -> list[str]:
    prefix = '/inform{"service_category":"'
    return [
        b["payload"][len(prefix) : -2]
        for b in message.get("buttons") or []
        if b["payload"].startswith(prefix) and b["payload"] != OTHER_BUTTON["payload"]
    ]


def click(found: dict[str, Any], kind: str) -> dict[str, Any]:
    """The citizen taps a candidate: the form validates it, then lists (or asks again)."""
    payload = f'/inform{{"service_category":"{kind}"}}'
    entity = {"entity": "service_category", "value": kind}
    slots = {**found["slots"], "service_category": kind, "requested_slot": "service_category"}
    before = [{"event": "active_loop", "name": FORM}]
    before += [{"event": "slot", "name": "requested_slot", "value": "service_category"}]
    after = [{"event": "slot", "name": "service_category", "value": kind}]
    tracker = make_tracker(
        intent="inform", text=payload, entities=[entity], slots=slots, events=before,
        after_user=after, active_loop=FORM,
    )  # fmt: skip
    _, events = run_action(ValidateServiceSearchForm(), tracker)
    slots = {**slots, **slot_events(events)}
    outcome: dict[str, Any] = {"asked": slots.get("requested_slot"), "slots": slots}
    if outcome["asked"] is None:
        messages, events = run_action(
            ActionSearchServices(), make_tracker(intent="inform", text=payload, slots=slots)
        )
        outcome["results"] = slot_events(events).get("search_results") or []
        outcome["text"] = texts(messages)
    return outcome


def test_spread_evidence_offers_the_catalogues_candidates(catalogue: Engine) -> None:
    """«mi serve una mano per mia madre» says who, not what: the services made for older
    people are of a few kinds, and the question offers those, best first, and «Altro»."""
    text = "mi serve una mano per mia madre"
    found = search_turn(text)
    assert found["asked"] == "service_category"
    question = ask_kind(found, text)
    assert question["text"].startswith("Cerchi uno di questi servizi?")
    kinds = offered(question)
    assert 2 <= len(kinds) <= 3 and "home_care" in kinds
    assert {"childcare", "after_school", "job_search"}.isdisjoint(kinds)  # not a fixed list
    titles = [b["title"] for b in question["buttons"]]
    assert "Assistenza domiciliare" in titles  # the catalogue's own label
    assert question["buttons"][-1] == OTHER_BUTTON


def test_the_candidates_follow_the_words_not_a_fixed_list(catalogue: Engine) -> None:
    text = "ho bisogno di qualcosa per mio figlio di 3 anni"
    found = search_turn(text)
    assert found["asked"] == "service_category"
    kinds = offered(ask_kind(found, text))
    assert kinds and set(kinds) <= {"childcare", "babysitting"}


def test_a_candidate_chosen_lists_its_services_at_once(catalogue: Engine) -> None:
    text = "mi serve una mano per mia madre"
    found = search_turn(text)
    kinds = offered(ask_kind(found, text))
    for kind in kinds:
        listed = click(found, kind)
        assert listed["asked"] is None  # no second question, not even the zone
        assert listed["results"], listed
        assert set(categories(catalogue, listed["results"])) == {kind}


def test_no_evidence_asks_the_full_question(catalogue: Engine) -> None:
    text = "cerco un servizio"
    found = search_turn(text)
    assert found["asked"] == "service_category"
    question = ask_kind(found, text)
    assert question.get("response") == FULL_QUESTION  # the domain's, in the citizen's language
    assert not question.get("buttons") and not question.get("text")


def test_altro_asks_the_full_question(catalogue: Engine) -> None:
    text = "mi serve una mano per mia madre"
    found = search_turn(text)
    other = {"entity": "service_category", "value": OTHER}
    slots = {**found["slots"], "requested_slot": "service_category"}
    tracker = make_tracker(
        intent="inform", text=OTHER_BUTTON["payload"], entities=[other], slots=slots
    )
    messages, _ = run_action(ActionAskServiceCategory(), tracker)
    assert [m.get("response") for m in messages] == [FULL_QUESTION]


def test_an_unambiguous_request_asks_no_kind(catalogue: Engine) -> None:
    found = search_turn("cerco una badante per mia madre")
    assert found["asked"] != "service_category"
    assert found["slots"]["service_category"] == "home_care"


def test_the_candidates_question_in_english(catalogue: Engine) -> None:
    text = "mi serve una mano per mia madre"
    question = ask_kind(search_turn(text), text, language="en")
    assert question["text"].startswith("Are you looking for one of these services?")
    titles = [b["title"] for b in question["buttons"]]
    assert "Care at home" in titles, titles  # the gateway's catalogue: the category label
    assert titles[-1] == "Something else"
    assert not {"Assistenza domiciliare", "Altro"} & set(titles)
