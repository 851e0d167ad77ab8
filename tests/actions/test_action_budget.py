"""Budget, movements and linking: only the conversation's own citizen, never anyone else."""

from __future__ import annotations

from action_helpers import (
    OTHER_SENDER,
    STRANGER,
    Seeded,
    button_payloads,
    make_tracker,
    run_action,
    slot_events,
    texts,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session

from actions.budget import ActionCheckBudget, ActionListTransactions
from actions.greeting import ActionGreet
from actions.linking import NO_CODE, ActionLinkAccount, ValidateLinkAccountForm
from welfare.ledger.linking import citizen_for_conversation


def test_budget_shows_public_and_employer_separately_with_expiry(seeded: Seeded) -> None:
    messages, events = run_action(ActionCheckBudget(), make_tracker(intent="check_budget"))
    text = texts(messages)
    assert text.startswith("Ecco il tuo budget welfare, Anna:")
    public_at = text.index("Budget pubblico (Comune):")
    employer_at = text.index("Welfare aziendale (dal tuo datore di lavoro):")
    assert public_at < employer_at
    assert "- Budget pubblico del Comune: 320,50 € disponibili. Scade il 15 dicembre 2026." in text
    assert "Attenzione: scade tra 20 giorni." in text
    assert (
        "- Welfare aziendale - Acme S.p.A.: 500,00 € disponibili. Scade il 30 giugno 2027." in text
    )
    assert "999" not in text  # Bruno's money
    assert "/list_transactions" in button_payloads(messages)
    assert slot_events(events) == {"citizen_linked": True}


def test_each_conversation_sees_only_its_own_citizen(seeded: Seeded) -> None:
    messages, _ = run_action(
        ActionCheckBudget(), make_tracker(intent="check_budget", sender=OTHER_SENDER)
    )
    text = texts(messages)
    assert "Bruno" in text and "999,00 €" in text
    assert "Anna" not in text and "320,50" not in text and "Acme" not in text


def test_an_unlinked_conversation_is_told_how_to_link(seeded: Seeded) -> None:
    messages, events = run_action(
        ActionCheckBudget(), make_tracker(intent="check_budget", sender=STRANGER)
    )
    text = texts(messages)
    assert "Welcome Point" in text and "ufficio welfare" in text and "codice" in text
    assert "€" not in text
    assert "/find_welcome_point" in button_payloads(messages)
    assert slot_events(events) == {"citizen_linked": False}


def test_unlinked_during_a_form_says_how_to_type_the_code(seeded: Seeded) -> None:
    tracker = make_tracker(
        intent="check_budget", sender=STRANGER, active_loop="service_search_form"
    )
    messages, _ = run_action(ActionCheckBudget(), tracker)
    assert "scrivimi «codice» seguito dal codice" in texts(messages)


def test_movements_newest_first_only_own(seeded: Seeded) -> None:
    messages, events = run_action(
        ActionListTransactions(), make_tracker(intent="list_transactions")
    )
    lines = texts(messages).splitlines()
    assert lines[0] == "Ecco gli ultimi 2 movimenti:"
    assert lines[1] == "- 23/11/2026: Accredito, +500,00 € (Welfare aziendale - Acme S.p.A.)"
    assert lines[2] == "- 22/11/2026: Accredito, +320,50 € (Budget pubblico del Comune)"
    assert slot_events(events) == {"citizen_linked": True}


def test_movements_of_an_unlinked_conversation(seeded: Seeded) -> None:
    messages, events = run_action(
        ActionListTransactions(), make_tracker(intent="list_transactions", sender=STRANGER)
    )
    assert "€" not in texts(messages)
    assert slot_events(events) == {"citizen_linked": False}


# --- linking ------------------------------------------------------------------------------


def test_a_typed_code_links_the_conversation(seeded: Seeded, db: Engine) -> None:
    code = seeded.fresh_code.lower()
    tracker = make_tracker(
        intent="link_account", text=f"il mio codice è {code[:4]}-{code[4:]}", sender=STRANGER
    )
    messages, events = run_action(ActionLinkAccount(), tracker)
    assert texts(messages).startswith("Grazie, Carla! Fatto!")
    assert button_payloads(messages) == ["/check_budget", "/list_transactions"]
    assert slot_events(events) == {
        "link_code": None,
        "citizen_linked": True,
        "citizen_name": "Carla",
    }
    with Session(db) as session:
        citizen = citizen_for_conversation(session, conversation_id=STRANGER)
        assert citizen is not None and citizen.first_name == "Carla"
    budget, _ = run_action(ActionCheckBudget(), make_tracker(sender=STRANGER))
    assert "10,00 €" in texts(budget)


def test_a_wrong_code_is_refused_and_nothing_is_linked(seeded: Seeded, db: Engine) -> None:
    tracker = make_tracker(intent="link_account", text="codice ZZZZ-9999", sender=STRANGER)
    messages, events = run_action(ActionLinkAccount(), tracker)
    assert "non è corretto" in texts(messages)
    assert slot_events(events) == {"link_code": None, "citizen_linked": False}
    with Session(db) as session:
        assert citizen_for_conversation(session, conversation_id=STRANGER) is None


def test_a_code_used_by_someone_else_is_refused(seeded: Seeded) -> None:
    code = seeded.fresh_code
    run_action(ActionLinkAccount(), make_tracker(text=f"codice {code}", sender=STRANGER))
    messages, _ = run_action(
        ActionLinkAccount(), make_tracker(text=f"codice {code}", sender=OTHER_SENDER)
    )
    assert "già stato usato" in texts(messages)


def test_no_code_in_the_message(seeded: Seeded) -> None:
    tracker = make_tracker(intent="link_account", text="vorrei collegare il conto")
    messages, events = run_action(ActionLinkAccount(), tracker)
    assert "8 caratteri" in texts(messages)
    assert slot_events(events) == {"link_code": None}


def test_the_form_said_no_code_yet(seeded: Seeded) -> None:
    tracker = make_tracker(intent="deny", text="no", slots={"link_code": NO_CODE})
    messages, events = run_action(ActionLinkAccount(), tracker)
    assert "Quando avrai il codice" in texts(messages)
    assert slot_events(events) == {"link_code": None}


def _code_form_turn(intent: str, text: str) -> list[dict]:
    tracker = make_tracker(
        intent=intent,
        text=text,
        active_loop="link_account_form",
        events=[
            {"event": "active_loop", "name": "link_account_form"},
            {"event": "slot", "name": "requested_slot", "value": "link_code"},
        ],
        slots={"requested_slot": "link_code"},
        after_user=[{"event": "action", "name": "link_account_form"}],
    )
    _, events = run_action(ValidateLinkAccountForm(), tracker)
    return events


def test_code_form_takes_a_bare_code_from_any_intent() -> None:
    events = _code_form_turn("out_of_scope", "k7qf2m9p")
    assert slot_events(events)["link_code"] == "K7QF-2M9P"


def test_code_form_no_ends_without_a_code() -> None:
    assert slot_events(_code_form_turn("deny", "no non ce l'ho"))["link_code"] == NO_CODE


def test_code_form_lets_a_change_of_topic_through() -> None:
    assert "link_code" not in slot_events(_code_form_turn("find_welcome_point", "dove siete"))


# --- greeting --------------------------------------------------------------------------------


def test_greet_by_name_for_a_linked_citizen(seeded: Seeded) -> None:
    messages, events = run_action(ActionGreet(), make_tracker(intent="greet", text="ciao"))
    assert messages[0]["response"] == "utter_greet_name"
    assert messages[0]["citizen_name"] == "Anna"
    assert slot_events(events) == {"citizen_name": "Anna"}


def test_greet_by_name_from_the_gateway_metadata(seeded: Seeded) -> None:
    tracker = make_tracker(intent="greet", sender=STRANGER, metadata={"first_name": "Giulia"})
    messages, events = run_action(ActionGreet(), tracker)
    assert messages[0]["citizen_name"] == "Giulia"
    assert slot_events(events) == {"citizen_name": "Giulia"}


def test_greet_without_a_name(seeded: Seeded) -> None:
    messages, events = run_action(ActionGreet(), make_tracker(intent="greet", sender=STRANGER))
    assert messages[0]["response"] == "utter_greet"
    assert events == []


def test_greet_ignores_markup_in_a_name(seeded: Seeded) -> None:
    tracker = make_tracker(intent="greet", sender=STRANGER, metadata={"first_name": "<b>x</b>"})
    messages, _ = run_action(ActionGreet(), tracker)
    assert messages[0]["response"] == "utter_greet"


def test_the_slot_name_wins(seeded: Seeded) -> None:
    tracker = make_tracker(intent="greet", slots={"citizen_name": "Annina"})
    messages, events = run_action(ActionGreet(), tracker)
    assert messages[0]["citizen_name"] == "Annina"
    assert events == []
