"""Emergency, hand-off, erasure requests and the two-stage fallback: replies, payloads, flags."""

from __future__ import annotations

from action_helpers import (
    SENDER,
    button_payloads,
    confirm_with_button,
    customs,
    make_tracker,
    run_action,
    texts,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session

from actions.emergency import ActionEmergency
from actions.fallback import ActionDefaultAskAffirmation, ActionDefaultFallback
from actions.handoff import ActionHandoff
from actions.privacy import ActionForgetMe
from care.flags import open_flags
from care.models import FlagKind, FlagPriority


def flags(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        return [(f.kind, f.priority, f.reason) for f in open_flags(session, conversation_id=SENDER)]


def test_emergency_gives_112_and_1522_and_flags_top_priority(db: Engine) -> None:
    messages, events = run_action(
        ActionEmergency(), make_tracker(intent="emergency", text="mio marito mi picchia")
    )
    assert "112" in texts(messages) and "1522" in texts(messages)
    assert "operatore" in texts(messages)
    assert customs(messages) == [{"type": "handoff", "priority": "top", "reason": "emergency"}]
    assert flags(db) == [(FlagKind.emergency, FlagPriority.top, "intent:emergency")]
    assert events == []


def test_emergency_from_the_safety_net_keeps_its_kind_and_fits_the_first_line(
    db: Engine,
) -> None:
    tracker = make_tracker(intent="emergency", text="...")
    tracker.latest_message["safety_net"] = {"rule": "r12", "kind": "self_harm", "model_intent": "x"}
    messages, _ = run_action(ActionEmergency(), tracker)
    text = texts(messages)
    assert text.startswith("Mi dispiace molto che tu stia così male.")
    assert "112" in text and "1522" in text
    assert flags(db) == [(FlagKind.emergency, FlagPriority.top, "safety_net:self_harm")]


def test_emergency_flag_is_not_duplicated(db: Engine) -> None:
    for _ in range(2):
        run_action(ActionEmergency(), make_tracker(intent="emergency"))
    assert len(flags(db)) == 1


def test_emergency_numbers_go_out_even_when_the_database_is_down(db: Engine, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    from core.db import get_engine
    from core.settings import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    messages, _ = run_action(ActionEmergency(), make_tracker(intent="emergency"))
    assert "112" in texts(messages) and "1522" in texts(messages)
    assert customs(messages)[0]["priority"] == "top"


def test_the_message_text_is_never_stored_in_the_flag(db: Engine) -> None:
    run_action(ActionEmergency(), make_tracker(intent="emergency", text="segreto personale"))
    assert all("segreto" not in reason for _, _, reason in flags(db))


def test_handoff_sends_the_payload_and_stores_a_normal_flag(db: Engine) -> None:
    messages, _ = run_action(ActionHandoff(), make_tracker(intent="human_handoff"))
    assert "operatore" in texts(messages)
    assert customs(messages) == [{"type": "handoff", "priority": "normal", "reason": "requested"}]
    assert flags(db) == [(FlagKind.handoff, FlagPriority.normal, "requested")]


def test_forget_me_asks_then_stores_an_erasure_request(db: Engine) -> None:
    asked = run_action(ActionForgetMe(), make_tracker(intent="forget_me"))
    assert "Vuoi davvero" in texts(asked[0]) and flags(db) == []  # nothing yet
    messages, _ = confirm_with_button(ActionForgetMe(), asked)
    assert "cancellare i tuoi dati" in texts(messages)
    assert customs(messages) == []  # not a hand-off: the assistant goes on answering
    assert flags(db) == [(FlagKind.erasure_request, FlagPriority.normal, "forget_me")]
    again = run_action(ActionForgetMe(), make_tracker(intent="forget_me"))
    confirm_with_button(ActionForgetMe(), again)  # asked twice: one request
    assert len(flags(db)) == 1


def test_forget_me_during_a_handoff_request_is_its_own_item(db: Engine) -> None:
    run_action(ActionHandoff(), make_tracker(intent="human_handoff"))
    asked = run_action(ActionForgetMe(), make_tracker(intent="forget_me"))
    confirm_with_button(ActionForgetMe(), asked)
    assert sorted(flags(db)) == [
        (FlagKind.erasure_request, FlagPriority.normal, "forget_me"),
        (FlagKind.handoff, FlagPriority.normal, "requested"),
    ]


# --- two-stage fallback --------------------------------------------------------------------


def test_ask_affirmation_offers_the_top_two_intents_and_none_of_these(db: Engine) -> None:
    tracker = make_tracker(
        intent="nlu_fallback",
        text="vorrei una cosa per il mio bimbo a rifredi",
        entities=[
            {"entity": "neighbourhood", "value": "Rifredi"},
            {"entity": "service_category", "value": "mia"},  # noise: not a category
        ],
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "search_service", "confidence": 0.41},
            {"name": "out_of_scope", "confidence": 0.3},
            {"name": "book_service", "confidence": 0.2},
            {"name": "help", "confidence": 0.05},
        ],
    )
    messages, events = run_action(ActionDefaultAskAffirmation(), tracker)
    assert texts(messages).startswith("Scusa, non sono sicuro di aver capito. Intendevi")
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Cercare un servizio",
        "Iscriverti o pagare un servizio",
        "Nessuna di queste",
    ]
    assert button_payloads(messages) == [
        '/search_service{"neighbourhood":"Rifredi"}',
        '/book_service{"neighbourhood":"Rifredi"}',
        "/out_of_scope",
    ]
    assert "112" not in texts(messages)
    assert events == []


def test_ask_affirmation_shows_the_emergency_numbers_when_emergency_is_a_guess(
    db: Engine,
) -> None:
    tracker = make_tracker(
        intent="nlu_fallback",
        text="non ce la faccio più con lui",
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "human_handoff", "confidence": 0.3},
            {"name": "emergency", "confidence": 0.25},
        ],
    )
    messages, _ = run_action(ActionDefaultAskAffirmation(), tracker)
    assert "112" in texts(messages) and "1522" in texts(messages)
    assert "/emergency" in button_payloads(messages)


def test_ask_affirmation_without_guesses_asks_to_rephrase(db: Engine) -> None:
    tracker = make_tracker(
        intent="nlu_fallback", ranking=[{"name": "nlu_fallback", "confidence": 1}]
    )
    messages, _ = run_action(ActionDefaultAskAffirmation(), tracker)
    assert texts(messages) == "Scusa, non ho capito bene. Puoi dirlo con altre parole?"
    assert button_payloads(messages) == ["/help"]


def test_two_misses_offer_a_person_and_flag_a_bot_failure(db: Engine) -> None:
    messages, events = run_action(ActionDefaultFallback(), make_tracker(intent="nlu_fallback"))
    assert "operatore" in texts(messages)
    assert button_payloads(messages) == ["/human_handoff", "/help"]
    assert events == [{"event": "rewind", "timestamp": None}]
    assert flags(db) == [(FlagKind.bot_failure, FlagPriority.normal, "two_fallbacks")]
