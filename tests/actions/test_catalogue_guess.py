"""A search the NLU did not see (issue 12, point 5): when the model turned a message away
(out_of_scope) but its own first guess was a request about services, and the words name a
specific kind of service, the citizen gets the services at once instead of a refusal."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import button_payloads, make_tracker, run_action, slot_events, texts
from rasa_sdk import Tracker
from sqlalchemy.engine import Engine

from actions.catalogue_guess import RULE, guessed_kind, kind_in_words, kind_the_catalogue_finds
from actions.emergency import ActionNotInDanger
from actions.fallback import ActionDefaultAskAffirmation
from actions.redirect import ActionOutOfScope
from catalog.understanding import named_kind

HOME_CARE = "ci vorrebbe una badante per mia nonna che abita a gavinana"


def turned_away(
    text: str, model_intent: str = "search_service", *, confidence: float = 0.6, ood: float = 0.5
) -> Tracker:
    """out_of_scope, as nlu.intent_gate leaves it: the model's own guess in ``intent_gate``."""
    tracker = make_tracker(
        intent="out_of_scope",
        text=text,
        ranking=[{"name": "out_of_scope", "confidence": 0.9},
                 {"name": model_intent, "confidence": confidence}],
    )  # fmt: skip
    tracker.latest_message["intent_gate"] = {
        "intent": "out_of_scope",
        "model_intent": model_intent,
        "model_confidence": confidence,
        "ood_probability": ood,
        "changed": True,
    }
    return tracker


def details_codes(messages: list[dict[str, Any]]) -> list[str]:
    return [p for p in button_payloads(messages) if p.startswith("/service_details{")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ci vorrebbe una badante per la nonna", "home_care"),
        ("ci hanno dato lo sfratto", "housing"),
        ("mi serve uno psicologo ma non posso pagare tanto", "psychological_support"),
        ("cerco casa", "housing"),  # a phrase of its own, not the general word
        ("un corso di italiano per mia moglie", "italian_course"),
        ("che tempo fa domani?", None),
        ("a casa mia", None),  # «casa» alone is a general word
        ("lavoro fino alle 19", None),
    ],
)
def test_named_kind_counts_only_specific_words(text: str, kind: str | None) -> None:
    assert named_kind(text) == kind


def test_a_turned_away_request_that_names_a_kind_gets_the_services(catalogue: Engine) -> None:
    messages, events = run_action(ActionOutOfScope(), turned_away(HOME_CARE))
    said = texts(messages)
    assert "Forse cerchi un servizio come questi" in said
    assert "Di questo non mi occupo" not in said
    assert details_codes(messages), said
    slots = slot_events(events)
    assert slots["service_category"] == "home_care"
    assert slots["neighbourhood"]  # «gavinana»: the zone the words say
    assert slots["search_text"] == HOME_CARE
    assert slots["search_results"]  # «Altri risultati» continues this search


@pytest.mark.parametrize(
    ("tracker", "why"),
    [
        (
            turned_away(HOME_CARE, "check_budget", ood=RULE.welfare_ood),
            "the model's guess was not a search, the detector not sure it is welfare",
        ),
        (turned_away("che tempo fa domani a gavinana?"), "no kind of service named"),
        (turned_away("come pago la TARI della casa?"), "an office of the Comune matches"),
        (turned_away(HOME_CARE, ood=RULE.max_ood), "the detector is sure it is not welfare"),
        (
            turned_away(HOME_CARE, confidence=RULE.min_confidence / 2, ood=RULE.welfare_ood),
            "the model barely guessed",
        ),
    ],
)
def test_otherwise_the_office_and_what_i_do(catalogue: Engine, tracker: Tracker, why: str) -> None:
    messages, events = run_action(ActionOutOfScope(), tracker)
    assert "Di questo non mi occupo" in texts(messages), why
    assert not details_codes(messages) and not slot_events(events), why


def test_the_detector_sure_of_welfare_overrides_the_first_guess(catalogue: Engine) -> None:
    # DIET said out of scope, the out-of-domain detector is sure it is welfare
    sure = turned_away("aiuto bollette", "out_of_scope", confidence=1.0, ood=0.04)
    messages, events = run_action(ActionOutOfScope(), sure)
    assert details_codes(messages)
    assert slot_events(events)["service_category"] == "income_support"
    # ... but never over a turn of conversation, nor when the detector is only fairly sure
    for tracker in (
        turned_away("aiuto bollette", "bot_challenge", confidence=0.9, ood=0.04),
        turned_away("aiuto bollette", "out_of_scope", confidence=1.0, ood=RULE.welfare_ood),
    ):
        messages, _ = run_action(ActionOutOfScope(), tracker)
        assert not details_codes(messages)


def test_a_plain_request_the_model_turned_away_with_full_confidence(catalogue: Engine) -> None:
    # DIET: out_of_scope 1.00; the detector unsure (0.53): the words name the kind
    tracker = turned_away(
        "chi mi aiuta a scrivere il curriculum?", "out_of_scope", confidence=1.0, ood=0.53
    )
    messages, events = run_action(ActionOutOfScope(), tracker)
    assert details_codes(messages)
    assert slot_events(events)["service_category"] == "job_search"
    # the detector clearly out of domain: the redirect, as before
    tracker = turned_away("chi mi aiuta a scrivere il curriculum?", "out_of_scope", ood=0.9)
    messages, _ = run_action(ActionOutOfScope(), tracker)
    assert not details_codes(messages)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # one lone word of an office («scuola», «famiglia») does not beat a specific word
        (
            "mio figlio ha la sindrome di down, ha 19 anni e finita la scuola non fa niente, "
            "ci sono centri per lui?",
            "disability",
        ),
        (
            "io e mio marito ci stiamo separando, c'è un consultorio per le famiglie?",
            "family_counselling",
        ),
        # a topic of two words («iscrizione scuola», «carta d'identità») does
        ("iscrizione a scuola per mio figlio con la sindrome di down", None),
        ("carta d'identità per mia madre con l'alzheimer", None),
    ],
)
def test_an_office_wins_only_with_more_than_one_lone_word(text: str, kind: str | None) -> None:
    assert named_kind(text) is not None  # the words name a kind in every case
    assert kind_in_words(text) == kind


def test_a_button_or_an_open_form_is_never_guessed(catalogue: Engine) -> None:
    button = turned_away("/out_of_scope")  # «Nessuna di queste» after «Intendevi...?»
    assert guessed_kind(button.latest_message) is None
    in_form = turned_away(HOME_CARE)
    in_form.active_loop = {"name": "service_search_form"}
    messages, _ = run_action(ActionOutOfScope(), in_form)
    assert not details_codes(messages)


def test_nothing_found_falls_back_to_the_redirect(db: Engine) -> None:
    # an empty catalogue: no «Forse cerchi» before an empty list, the redirect instead
    messages, events = run_action(ActionOutOfScope(), turned_away(HOME_CARE))
    assert "Forse cerchi" not in texts(messages)
    assert "Di questo non mi occupo" in texts(messages)
    assert not slot_events(events)


# --- «Intendevi...?»: an unclear message that names a kind of service -----------------------


def unclear(text: str, model_intent: str = "service_details", confidence: float = 0.46) -> Tracker:
    tracker = make_tracker(
        intent="nlu_fallback",
        text=text,
        ranking=[{"name": "nlu_fallback", "confidence": 0.5},
                 {"name": model_intent, "confidence": confidence},
                 {"name": "search_service", "confidence": 0.3}],
    )  # fmt: skip
    tracker.latest_message["intent_gate"] = {
        "intent": "nlu_fallback",
        "model_intent": model_intent,
        "model_confidence": confidence,
        "ood_probability": 0.0,
    }
    return tracker


def test_an_unclear_request_naming_a_kind_gets_the_services_not_a_question(
    catalogue: Engine,
) -> None:
    messages, events = run_action(ActionDefaultAskAffirmation(), unclear(HOME_CARE))
    said = texts(messages)
    assert "Forse cerchi un servizio come questi" in said and "Intendevi" not in said
    assert details_codes(messages)
    # the two-stage loop undoes these slots on the next message: no «Altri risultati»
    assert "/more_results" not in button_payloads(messages)
    assert slot_events(events)["service_category"] == "home_care"


def test_an_unclear_message_without_a_kind_is_still_asked(catalogue: Engine) -> None:
    messages, _ = run_action(ActionDefaultAskAffirmation(), unclear("boh non so, quella cosa"))
    assert "Intendevi" in texts(messages)
    assert not details_codes(messages)


def test_a_possible_emergency_is_never_answered_with_a_list(catalogue: Engine) -> None:
    tracker = unclear(HOME_CARE)
    tracker.latest_message["intent_ranking"].insert(1, {"name": "emergency", "confidence": 0.3})
    messages, _ = run_action(ActionDefaultAskAffirmation(), tracker)
    assert "112" in texts(messages)
    assert not details_codes(messages)


# --- «No» to «Sei in pericolo adesso?»: go on with what was asked ---------------------------


def not_in_danger(request: str) -> Tracker:
    asked = [
        {"event": "user", "text": request, "parse_data": {"intent": {"name": "emergency"}}},
        {"event": "action", "name": "action_emergency"},
        {"event": "action", "name": "action_listen"},
    ]
    return make_tracker(intent="deny", text="/deny", events=asked)


def test_no_danger_goes_on_with_the_services_asked_for(catalogue: Engine) -> None:
    request = "mia nonna è sempre sola, c'è un posto dove la possono tenere di giorno?"
    messages, events = run_action(ActionNotInDanger(), not_in_danger(request))
    said = texts(messages)
    assert said.startswith("Bene, mi fa piacere.") and "112" in said
    assert details_codes(messages)
    slots = slot_events(events)
    assert slots["service_category"] == "elderly_day_care"
    assert slots["search_text"] == request


def test_no_danger_without_a_kind_asks_how_to_help(catalogue: Engine) -> None:
    messages, events = run_action(ActionNotInDanger(), not_in_danger("lui urla tanto stasera"))
    assert [m.get("response") for m in messages] == ["utter_not_in_danger"]
    assert not details_codes(messages) and not slot_events(events)


def test_no_danger_goes_on_with_a_kind_general_words_name_for_someone(
    catalogue: Engine,
) -> None:
    # no specific word: «cucinare», «pulire» are general words, but the request says whom
    # it is for (88 anni), so the catalogue's own reading of the words decides
    request = "il mio babbo ha 88 anni, vive solo e non riesce più a cucinare né a pulire"
    assert named_kind(request) is None
    messages, events = run_action(ActionNotInDanger(), not_in_danger(request))
    assert texts(messages).startswith("Bene, mi fa piacere.")
    assert details_codes(messages)
    assert slot_events(events)["service_category"] == "home_care"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("dove si può misurare la pressione gratis? è per mio padre", "health"),
        ("lui urla tanto stasera", None),  # a general word («sera») and nobody it is for
        ("quanto costa?", None),
        ("iscrizione a scuola per mio figlio con la sindrome di down", None),  # the office
    ],
)
def test_the_kind_the_catalogue_finds(catalogue: Engine, text: str, kind: str | None) -> None:
    assert kind_the_catalogue_finds(text) == kind
