"""Every built capability is reachable by words (issue 12, point 6).

``test_no_reply_calls_a_built_capability_unavailable`` lists every intent of the domain
with its replies (the responses and what the custom actions say, run on a linked
citizen's single message) and fails when one says that something the assistant does is
not available, or when an intent has no reply at all."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from action_helpers import (
    DOMAIN,
    Seeded,
    button_payloads,
    make_tracker,
    run_action,
    texts,
)
from rasa_sdk import Action
from sqlalchemy.engine import Engine

from actions.appointments import ActionBookAppointment, ActionChooseSlot
from actions.details import ActionBookService
from core.settings import PROJECT_ROOT
from tests.actions.test_confirmations import every_action
from tests.welfare.test_actions_appointments import _publish

UNAVAILABLE = re.compile(
    r"non (?:è|e) ancora disponibil|non ancora disponibil|non (?:posso|riesco) ancora|"
    r"per ora non posso|dalla chat non posso|in chat non posso|non (?:si può|posso) "
    r"(?:ancora )?(?:fare|pagare|prenotare|iscriver\w*)[^.]*(?:dalla|in|qui in) chat|"
    r"non è possibile (?:dalla|in) chat|non (?:è|e) disponibile in chat|"
    r"non posso (?:ancora )?(?:prenotare|fare l'iscrizione|iscriverti|pagare)",
    re.IGNORECASE,
)
SAMPLES = {
    "book_appointment": "vorrei prendere un appuntamento con un care manager",
    "book_service": "voglio iscrivermi e pagare con il budget",
    "request_status": "a che punto è la mia pratica?",
    "search_service": "cerco un centro estivo a gavinana",
    "out_of_scope": "che tempo fa domani?",
}


def replies_by_intent(world_sender: str) -> dict[str, list[str]]:
    """intent -> the texts of the actions and responses the rules answer it with."""
    rules = yaml.safe_load((PROJECT_ROOT / "data" / "rules.yml").read_text())["rules"]
    actions: dict[str, set[str]] = {}
    for rule in rules:
        steps = rule.get("steps") or []
        for index, step in enumerate(steps):
            if "intent" not in step:
                continue
            for following in steps[index + 1 :]:
                if "intent" in following:
                    break
                if "action" in following:
                    actions.setdefault(step["intent"], set()).add(following["action"])
    by_name: dict[str, Action] = {a.name(): a for a in every_action()}
    responses: dict[str, Any] = DOMAIN["responses"]
    found: dict[str, list[str]] = {}
    for intent in DOMAIN["intents"]:
        texts_: list[str] = []
        for name in sorted(actions.get(intent, set())):
            if name in responses:
                texts_ += [variant.get("text") or "" for variant in responses[name]]
                texts_ += [b["title"] for v in responses[name] for b in v.get("buttons") or []]
            elif name in by_name:
                tracker = make_tracker(
                    intent=intent,
                    text=SAMPLES.get(intent, intent.replace("_", " ")),
                    slots={"selected_service": "CE-GAV"} if intent == "book_service" else None,
                    sender=world_sender,
                )
                messages, _ = run_action(by_name[name], tracker)
                texts_.append(texts(messages))
                texts_ += [b["title"] for m in messages for b in m.get("buttons") or []]
            elif name.startswith("action_") or name.endswith("_form"):
                texts_.append(f"({name})")  # Rasa's own action or a form: asks its question
        found[intent] = [t for t in texts_ if t]
    return found


def test_no_reply_calls_a_built_capability_unavailable(db: Engine, seeded: Seeded) -> None:
    from action_helpers import SENDER

    found = replies_by_intent(SENDER)
    silent = [intent for intent, said in found.items() if not said]
    wrong = [
        f"{intent}: «{text[:120]}»"
        for intent, said in found.items()
        for text in said
        if UNAVAILABLE.search(text)
    ]
    assert wrong == [], "\n".join(wrong)
    # every intent typed by citizens gets an answer (button-only ones are answered too)
    assert silent == [], silent


def test_every_response_of_the_domain_is_checked_too() -> None:
    for name, variants in DOMAIN["responses"].items():
        for variant in variants:
            assert not UNAVAILABLE.search(variant.get("text") or ""), name


@pytest.mark.parametrize(
    "text",
    [
        "La prenotazione dell'appuntamento in chat non è ancora disponibile.",
        "Dalla chat non posso ancora fare l'iscrizione.",
        "Per ora non posso vedere lo stato delle pratiche dalla chat.",
    ],
)
def test_the_check_recognises_the_old_wording(text: str) -> None:
    assert UNAVAILABLE.search(text)


# --- booking and enrolling by words ---------------------------------------------------------


def test_book_appointment_offers_the_welcome_points_then_the_slots(
    db: Engine, seeded: Seeded
) -> None:
    tracker = make_tracker(intent="book_appointment", text=SAMPLES["book_appointment"])
    messages, _ = run_action(ActionBookAppointment(), tracker)
    assert "non ci sono orari liberi" in texts(messages)  # nothing published yet
    _publish(db)
    messages, _ = run_action(ActionBookAppointment(), tracker)
    choose = [p for p in button_payloads(messages) if p.startswith("/choose_slot")]
    assert choose == ['/choose_slot{"place_code":"WP-RIF"}'], button_payloads(messages)
    assert "Scegli dove" in texts(messages)
    offered, _ = run_action(
        ActionChooseSlot(),
        make_tracker(
            intent="choose_slot",
            text=choose[0],
            entities=[{"entity": "place_code", "value": "WP-RIF"}],
        ),
    )
    assert len([p for p in button_payloads(offered) if p.startswith("/book_slot")]) == 3


def test_book_service_leads_to_the_pay_path_of_the_service_in_context(
    db: Engine, seeded: Seeded
) -> None:
    tracker = make_tracker(
        intent="book_service", text="voglio iscriverlo", slots={"selected_service": "CE-GAV"}
    )
    messages, _ = run_action(ActionBookService(), tracker)
    assert "Per iscriverti a «Centro estivo Gavinana»" in texts(messages)
    assert '/pay_with_budget{"service_code":"CE-GAV"}' in button_payloads(messages)
    # no service in context: how to find one
    messages, _ = run_action(
        ActionBookService(), make_tracker(intent="book_service", text="voglio iscrivermi")
    )
    assert "/search_service" in button_payloads(messages)
    # a kind of service named: the list, to open the details from
    messages, _ = run_action(
        ActionBookService(),
        make_tracker(
            intent="book_service",
            text="voglio iscrivere mia figlia al doposcuola",
            entities=[{"entity": "service_category", "value": "after_school"}],
            slots={"service_category": "after_school"},
        ),
    )
    assert any(p.startswith("/service_details") for p in button_payloads(messages))
