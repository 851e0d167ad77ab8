"""The two emergency tiers of action_emergency (issue 12 point 2).

Immediate (a rule, or the model sure with supporting words, or «Sì»): 112/1522, the
top-priority hand-off payload and the flag. Ask (the model alone, less sure, or a rule
whose message has a figure of speech: ``safety_net.tier`` ask): 112/1522 at once and «Sei
in pericolo adesso?» with Sì (/emergency) and No (/deny), no hand-off, no flag.
"""

from __future__ import annotations

from action_helpers import button_payloads, customs, make_tracker, run_action, texts
from sqlalchemy.engine import Engine
from sqlmodel import Session

from actions.emergency import ASK, IMMEDIATE, ActionEmergency, emergency_tier
from care.flags import open_flags
from care.models import FlagPriority


def _tracker(
    tier: str | None,
    *,
    intent: str = "emergency",
    safety_net: bool = False,
    rule_tier: str | None = None,
):
    tracker = make_tracker(intent=intent, text="non so, ho un brutto presentimento")
    if tier is not None:
        tracker.latest_message["intent_gate"] = {"tier": tier, "model_intent": "emergency"}
    if safety_net:
        tracker.latest_message["safety_net"] = {"rule": "r", "kind": "violence"}
        if rule_tier is not None:
            tracker.latest_message["safety_net"]["tier"] = rule_tier
    return tracker


def _open_flags(db: Engine) -> list[str]:
    with Session(db) as session:
        return [str(flag.priority) for flag in open_flags(session)]


def test_a_less_sure_model_gives_the_numbers_and_asks_with_buttons(db: Engine) -> None:
    messages, events = run_action(ActionEmergency(), _tracker(ASK))
    text = texts(messages)
    assert "112" in text and "1522" in text
    assert "Sei in pericolo adesso?" in text
    assert button_payloads(messages) == ["/emergency", "/deny"]
    assert [b["title"] for m in messages for b in m.get("buttons") or []] == ["Sì", "No"]
    assert customs(messages) == []  # no hand-off yet
    assert _open_flags(db) == []  # nobody paged
    assert events == []


def test_the_immediate_tier_pages_at_once(db: Engine) -> None:
    messages, _ = run_action(ActionEmergency(), _tracker(IMMEDIATE))
    assert customs(messages) == [{"type": "handoff", "priority": "top", "reason": "emergency"}]
    assert button_payloads(messages) == []
    assert _open_flags(db) == [FlagPriority.top]


def test_a_safety_rule_is_immediate_whatever_the_model_tier(db: Engine) -> None:
    tracker = _tracker(ASK, safety_net=True)
    assert emergency_tier(tracker) == IMMEDIATE
    messages, _ = run_action(ActionEmergency(), tracker)
    assert customs(messages)[0]["priority"] == "top"


def test_a_safety_rule_of_the_immediate_tier_pages_even_if_the_model_asks(db: Engine) -> None:
    tracker = _tracker(ASK, safety_net=True, rule_tier=IMMEDIATE)
    assert emergency_tier(tracker) == IMMEDIATE
    messages, _ = run_action(ActionEmergency(), tracker)
    assert customs(messages)[0]["priority"] == "top"
    assert _open_flags(db) == [FlagPriority.top]


def test_a_safety_rule_of_the_ask_tier_asks_and_pages_nobody(db: Engine) -> None:
    # «ieri a carte ho preso delle botte dal nonno»: nlu/safety_net.py gives tier ask
    for model_tier in (None, IMMEDIATE):
        tracker = _tracker(model_tier, safety_net=True, rule_tier=ASK)
        assert emergency_tier(tracker) == ASK
        messages, events = run_action(ActionEmergency(), tracker)
        text = texts(messages)
        assert "112" in text and "1522" in text and "Sei in pericolo adesso?" in text
        assert button_payloads(messages) == ["/emergency", "/deny"]
        assert customs(messages) == []
        assert events == []
    assert _open_flags(db) == []


def test_yes_opens_the_top_priority_handoff(db: Engine) -> None:
    # the button sends /emergency (no gate data: Rasa's RegexMessageHandler); a typed yes
    # is affirm (data/rules.yml: action_emergency, affirm -> action_emergency)
    for tracker in (_tracker(None), _tracker(None, intent="affirm")):
        assert emergency_tier(tracker) == IMMEDIATE
        messages, _ = run_action(ActionEmergency(), tracker)
        assert customs(messages) == [{"type": "handoff", "priority": "top", "reason": "emergency"}]


def test_a_model_without_the_gate_stays_immediate() -> None:
    assert emergency_tier(_tracker(None)) == IMMEDIATE
