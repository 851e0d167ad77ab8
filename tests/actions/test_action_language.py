"""The actions reply in the citizen's language: English when the slot ``language`` (or the
gateway's metadata) says "en", Italian when it says "it" or nothing. Service data (names,
descriptions, addresses, providers, budget names) stays Italian by design.
(Clock: Wednesday 25 November 2026, 11:00 in Florence.)"""

from __future__ import annotations

import re
from datetime import date

import pytest
from action_helpers import Seeded, customs, make_tracker, run_action, texts
from sqlalchemy.engine import Engine

from actions.budget import ActionCheckBudget
from actions.common import is_skip, parse_age
from actions.details import ActionServiceDetails
from actions.emergency import ActionEmergency
from actions.handoff import ActionHandoff
from actions.reimbursement import intake_words, is_cancel, is_yes
from actions.search import ActionSearchServices
from actions.vouchers import ActionPayWithBudget
from actions.welcome_points import ActionFindWelcomePoint
from actions.wording import language_of
from tests.language.test_catalogues import still_italian
from welfare.intake import IntakeError, parse_paid_on

AFTER_SCHOOL_RIFREDI = {
    "service_category": "after_school",
    "neighbourhood": "Rifredi",
    "age": "8",
    "search_text": "after-school club for my son, 8, in Rifredi",
}
DOP_RIF = {
    "intent": "service_details",
    "text": '/service_details{"service_code":"DOP-RIF"}',
    "entities": [{"entity": "service_code", "value": "DOP-RIF"}],
}


def titles(messages: list[dict]) -> list[str]:
    return [b["title"] for m in messages for b in m.get("buttons") or []]


def english(**kwargs: object) -> dict[str, object]:
    slots = dict(kwargs.pop("slots", {}) or {})  # type: ignore[call-overload]
    return {**kwargs, "slots": {**slots, "language": "en"}}


def test_search_results_in_english(seeded: Seeded) -> None:
    tracker = make_tracker(**english(intent="search_service", slots=AFTER_SCHOOL_RIFREDI))
    messages, _ = run_action(ActionSearchServices(), tracker)
    text = texts(messages)
    assert text.startswith(
        "I found 7 services (After-school clubs, area Rifredi, 8 years old). Here are the first 5:"
    )
    assert "Doposcuola Il Ponte" in text  # the service's name is data: Italian
    assert "your part: €30.00 a month, you can pay with the welfare budget" in text
    assert text.endswith(
        "Tap «Details» to know the cost, the opening times and how to get the service."
    )
    assert titles(messages) == [*(f"Details {i}" for i in range(1, 6)), "More results"]


def test_search_results_in_italian_when_the_language_is_it_or_unset(seeded: Seeded) -> None:
    for slots in ({**AFTER_SCHOOL_RIFREDI, "language": "it"}, AFTER_SCHOOL_RIFREDI):
        messages, _ = run_action(
            ActionSearchServices(), make_tracker(intent="search_service", slots=slots)
        )
        text = texts(messages)
        assert text.startswith(
            "Ho trovato 7 servizi (Doposcuola, zona Rifredi, 8 anni). Ecco i primi 5:"
        )
        assert "quota a carico: 30,00 € al mese, si può pagare con il budget welfare" in text
        assert titles(messages)[:2] == ["Dettagli 1", "Dettagli 2"]


def test_service_details_in_english(seeded: Seeded) -> None:
    messages, _ = run_action(ActionServiceDetails(), make_tracker(**english(**DOP_RIF)))
    text = texts(messages)
    assert text.splitlines()[0] == "Doposcuola Il Ponte"
    assert "Who offers it: Cooperativa Ponte" in text
    assert "For whom: children, teenagers (from 6 to 13 years old)" in text
    assert (
        "Cost: your part: €30.00 a month. "
        "You can pay for it with the welfare budget (public or from your company)." in text
    )
    assert (
        "Opening times: Monday to Friday 14:30–18:30. "
        "Closed now: it opens again today at 14:30." in text
    )
    assert "Where: Via di Rifredi 10 (Rifredi)" in text
    assert "How to get it: Iscrizione al Welcome Point di Rifredi con l'ISEE." in text  # data
    assert titles(messages) == [
        "Pay with the welfare budget",
        "How to sign up or pay",
        "Talk to a person",
        "Find a Welcome Point",
    ]


def test_service_details_in_italian(seeded: Seeded) -> None:
    messages, _ = run_action(ActionServiceDetails(), make_tracker(**DOP_RIF))
    text = texts(messages)
    assert "Orari: dal lunedì al venerdì 14:30–18:30. Chiuso ora: riapre oggi alle 14:30." in text
    assert titles(messages)[0] == "Paga con il budget welfare"


def test_budget_in_english(seeded: Seeded) -> None:
    messages, _ = run_action(ActionCheckBudget(), make_tracker(**english(intent="check_budget")))
    lines = texts(messages).splitlines()
    assert lines[0] == "Here is your welfare budget, Anna:"
    assert lines[1] == "Public budget (City of Florence):"
    # the budget's name is the funding source's (data); the rest is English
    assert lines[2] == (
        "- Budget pubblico del Comune: €320.50 available. It ends on 15 December 2026. "
        "Careful: it ends in 20 days."
    )
    assert lines[3] == "Company welfare (from your employer):"
    assert (
        lines[4] == "- Welfare aziendale - Acme S.p.A.: €500.00 available. It ends on 30 June 2027."
    )
    assert titles(messages) == ["Latest payments", "Find a service"]


def test_budget_in_italian(seeded: Seeded) -> None:
    messages, _ = run_action(ActionCheckBudget(), make_tracker(intent="check_budget"))
    text = texts(messages)
    assert text.startswith("Ecco il tuo budget welfare, Anna:\nBudget pubblico (Comune):")
    assert "320,50 € disponibili. Scade il 15 dicembre 2026." in text


def test_handoff_request_in_english(db: Engine) -> None:
    messages, _ = run_action(ActionHandoff(), make_tracker(**english(intent="human_handoff")))
    text = texts(messages)
    assert text.startswith("All right, I am putting you in touch with a person")
    assert still_italian(text) == []
    assert customs(messages) == [{"type": "handoff", "priority": "normal", "reason": "requested"}]
    messages, _ = run_action(ActionHandoff(), make_tracker(intent="human_handoff"))
    assert texts(messages).startswith("Va bene, ti metto in contatto con un operatore del Comune")


@pytest.mark.parametrize("kind", [None, "self_harm", "medical"])
def test_emergency_in_english(db: Engine, kind: str | None) -> None:
    tracker = make_tracker(**english(intent="emergency", text="he hits me"))
    if kind:
        tracker.latest_message["safety_net"] = {"kind": kind}
    messages, _ = run_action(ActionEmergency(), tracker)
    text = texts(messages)
    assert "call 112 at once" in text and "call 1522" in text
    assert still_italian(text) == []
    assert customs(messages) == [{"type": "handoff", "priority": "top", "reason": "emergency"}]


def test_emergency_question_in_english(db: Engine) -> None:
    tracker = make_tracker(**english(intent="emergency", text="i am scared"))
    tracker.latest_message["intent_gate"] = {"tier": "ask"}
    messages, _ = run_action(ActionEmergency(), tracker)
    assert texts(messages).endswith("Are you in danger now?")
    assert titles(messages) == ["Yes", "No"]
    tracker = make_tracker(intent="emergency", text="ho paura")
    tracker.latest_message["intent_gate"] = {"tier": "ask"}
    messages, _ = run_action(ActionEmergency(), tracker)
    assert texts(messages).endswith("Sei in pericolo adesso?")
    assert titles(messages) == ["Sì", "No"]


def test_the_language_comes_from_the_slot_else_the_metadata_else_italian() -> None:
    assert language_of(make_tracker(slots={"language": "en"})) == "en"
    assert language_of(make_tracker(metadata={"language": "en"})) == "en"
    assert language_of(make_tracker(slots={"language": "it"}, metadata={"language": "en"})) == "it"
    assert language_of(make_tracker()) == "it"
    assert language_of(make_tracker(slots={"language": "xx"})) == "it"  # not spoken: Italian
    assert language_of(make_tracker(metadata={"language": "ro"})) == "it"


def test_an_english_conversation_from_the_metadata_alone(seeded: Seeded) -> None:
    """Before the slot is set (the first turn), the gateway's metadata decides."""
    tracker = make_tracker(intent="check_budget", metadata={"language": "en"})
    messages, _ = run_action(ActionCheckBudget(), tracker)
    assert texts(messages).startswith("Here is your welfare budget, Anna:")
    assert not re.search(r"\bdisponibili\b|\bScade\b", texts(messages))


def test_welcome_points_in_english(seeded: Seeded) -> None:
    rifredi = [{"entity": "neighbourhood", "value": "Rifredi"}]
    tracker = make_tracker(**english(intent="find_welcome_point", entities=rifredi))
    messages, _ = run_action(ActionFindWelcomePoint(), tracker)
    text = texts(messages)
    assert text.startswith("Here are the Welcome Points nearest to Rifredi:")
    assert "Via Carlo Bini 2, about 1.1 km away\n   Open now, until 13:00." in text
    assert "Opening times: Monday to Friday 9:00–13:00" in text
    assert "Closed now: it opens again tomorrow at 15:00." in text  # Isolotto: Tue and Thu
    assert "Opening times: Tuesday and Thursday 15:00–18:00" in text


def test_a_budget_payment_quote_in_english(seeded: Seeded) -> None:
    camp = [{"entity": "service_code", "value": "CE-GAV"}]
    tracker = make_tracker(**english(intent="pay_with_budget", entities=camp))
    messages, _ = run_action(ActionPayWithBudget(), tracker)
    assert texts(messages).splitlines() == [
        "Centro estivo Gavinana",
        "Price: €90.00.",
        "Your budget pays all of the €90.00: Budget pubblico del Comune €90.00 (ends on "
        "15/12/2026).",
        "Do you confirm? I will give you a voucher to show to the service.",
    ]
    assert titles(messages) == ["Confirm and pay", "No"]


def test_the_search_says_how_it_widened_in_english(seeded: Seeded) -> None:
    """The catalogue's notes (catalog.search.Note) in the citizen's language."""
    wanted = {"service_category": "after_school", "neighbourhood": "Campo di Marte", "age": "30"}
    for language, lines in (
        ("en", ["I found no services for age 30: here are also those for other ages.",
                "I found nothing in area 2 Campo di Marte: here are the nearest services."]),
        ("it", ["Non ho trovato servizi per 30 anni: ti mostro anche quelli per altre età.",
                "Nel quartiere 2 Campo di Marte non ho trovato nulla: ti mostro i servizi più "
                "vicini."]),
    ):  # fmt: skip
        tracker = make_tracker(intent="search_service", slots={**wanted, "language": language})
        messages, _ = run_action(ActionSearchServices(), tracker)
        assert texts(messages).splitlines()[1:3] == lines
    wanted = {"service_category": "italian_course", "target_group": "elderly", "cost_mode": "paid"}
    messages, _ = run_action(ActionSearchServices(), make_tracker(**english(slots=wanted)))
    assert texts(messages).splitlines()[1:3] == [
        "I found no services made for older people: here are also those for other people.",
        "I found no services with the cost «you pay»: here are also the others.",
    ]


def test_the_reimbursement_intake_explains_a_refused_answer_in_english() -> None:
    """welfare.intake's reasons, with their dates, in the citizen's language."""
    with pytest.raises(IntakeError) as refused:
        parse_paid_on("24/11/2025", today=date(2026, 11, 25), max_age_days=365)
    assert intake_words(refused.value, make_tracker(slots={"language": "en"})) == (
        "I can ask for your money back only for costs paid on 25 November 2025 or later. "
        "For older costs, ask a person who works with us."
    )
    assert intake_words(refused.value, make_tracker()) == refused.value.message
    assert "dal 25 novembre 2025 in poi" in refused.value.message


def test_english_short_answers_are_understood_as_the_italian_ones() -> None:
    """The questions of the search form and of the reimbursement summary, answered in
    English (the Italian answers keep working)."""
    assert is_skip("it doesn't matter") and is_skip("anywhere") and is_skip("non importa")
    assert not is_skip("in Rifredi")
    assert parse_age("eight") == 8 and parse_age("she is 6 months old") == 0
    assert parse_age("otto") == 8 and parse_age("6 mesi") == 0
    assert is_yes("yes") and is_yes("Confirm") and is_yes("sì") and not is_yes("no")
    assert is_cancel("cancel") and is_cancel("never mind") and is_cancel("annulla")
    assert not is_cancel("Cooperativa Il Ponte")
