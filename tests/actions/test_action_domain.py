"""The domain, the rules and the action server agree with each other and with the contract."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from action_helpers import DOMAIN
from rasa_sdk.executor import ActionExecutor

from core.settings import PROJECT_ROOT

CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "inform", "help", "bot_challenge",
    "search_service", "service_details", "book_service", "check_budget", "list_transactions",
    "request_reimbursement", "request_status", "book_appointment", "find_welcome_point",
    "human_handoff", "subscribe_news", "unsubscribe_news", "privacy_info", "forget_me",
    "emergency", "out_of_scope",
}  # fmt: skip
CONTRACT_ENTITIES = {"service_category", "target_group", "neighbourhood", "age", "cost_mode"}
PAYLOAD_RE = re.compile(r"^/([a-z_]+)")


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _steps(kind: str, path: Path) -> list[dict]:
    return [step for block in _yaml(path).get(kind) or [] for step in block.get("steps") or []]


def test_contract_intents_and_entities_are_in_the_domain() -> None:
    assert set(DOMAIN["intents"]) >= CONTRACT_INTENTS
    # an entity is a name, or {name: {properties}} (`language`: influence_conversation false)
    entities = {e if isinstance(e, str) else next(iter(e)) for e in DOMAIN["entities"]}
    assert entities >= CONTRACT_ENTITIES


def test_intents_of_the_nlu_data_are_in_the_domain() -> None:
    trained = set()
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        trained |= {b["intent"] for b in _yaml(path).get("nlu") or [] if "intent" in b}
    assert trained <= set(DOMAIN["intents"])


def test_the_action_server_serves_exactly_the_domain_actions() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(DOMAIN["actions"])


def test_every_intent_is_answered_by_a_rule() -> None:
    ruled = {
        s["intent"] for s in _steps("rules", PROJECT_ROOT / "data" / "rules.yml") if "intent" in s
    }
    assert set(DOMAIN["intents"]) <= ruled


def test_rules_and_stories_use_only_known_actions_and_intents() -> None:
    known_actions = (
        set(DOMAIN["actions"])
        | set(DOMAIN["responses"])
        | set(DOMAIN["forms"])
        | {"action_two_stage_fallback", "action_deactivate_loop", "action_listen"}
    )
    for kind, path in (
        ("rules", PROJECT_ROOT / "data" / "rules.yml"),
        ("stories", PROJECT_ROOT / "data" / "stories.yml"),
        ("stories", PROJECT_ROOT / "tests" / "test_stories.yml"),
    ):
        for step in _steps(kind, path):
            if "action" in step:
                assert step["action"] in known_actions, (path.name, step)
            if "intent" in step:
                assert step["intent"] in {*DOMAIN["intents"], "nlu_fallback"}, (path.name, step)


def test_every_button_payload_names_a_domain_intent() -> None:
    payloads = [
        button["payload"]
        for variants in DOMAIN["responses"].values()
        for variant in variants
        for button in variant.get("buttons") or []
    ]
    for source in (PROJECT_ROOT / "actions").glob("*.py"):
        payloads += re.findall(r'"payload": f?[\'"](/[a-z_]+)', source.read_text())
    assert payloads
    for payload in payloads:
        match = PAYLOAD_RE.match(payload)
        assert match and match.group(1) in DOMAIN["intents"], payload


def test_every_slot_has_mappings_and_forms_use_known_slots() -> None:
    for name, slot in DOMAIN["slots"].items():
        assert slot.get("mappings"), name
    for form in DOMAIN["forms"].values():
        assert set(form["required_slots"]) <= set(DOMAIN["slots"])
        for slot in form["required_slots"]:
            asked_by = {f"utter_ask_{slot}", f"action_ask_{slot}"}
            assert asked_by & (set(DOMAIN["responses"]) | set(DOMAIN["actions"])), slot


def test_the_register_is_tu_everywhere() -> None:
    formal = re.compile(r"\b(Lei|La preghiamo|Suo|Sua|può dirmi|desidera)\b")
    for name, variants in DOMAIN["responses"].items():
        for variant in variants:
            assert not formal.search(variant.get("text", "")), name
