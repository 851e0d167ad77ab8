"""nlu.rasa_speedups changes Rasa's speed, not its answers: each part of Rasa it replaces
gives the same outcome on the same inputs before and after (tests/nlu/rasa_speedups_check.py):

- action-server answers are accepted and refused exactly as Rasa's own validation does
  (same exception, same message): the action server's real answers
  (tests/nlu/action_answers.json), every keyword of the schema both ways, and a few
  thousand answers with one value changed; the compiled checks alone give jsonschema's
  verdict on each;
- the tracker store writes and reads back the same rows and trackers, and a new
  conversation no longer costs an empty save;
- the action server receives the same bytes;
- RulePolicy finds the same rules for each conversation state, also once a rule is gone;
- the graph runner returns the same outputs and raises the same errors as dask did."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from core.settings import PROJECT_ROOT, get_settings
from devtools.rasa_env import RASA_PYTHON, rasa_env

SCRIPT = PROJECT_ROOT / "tests" / "nlu" / "rasa_speedups_check.py"
PATCHES = [
    "action-result-validation",
    "empty-tracker-save",
    "action-call-json",
    "rule-keys-cache",
    "sqlite-pool",
    "graph-runner",
]


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed: scripts/setup.sh rasa")
    completed = subprocess.run(
        [str(RASA_PYTHON), str(SCRIPT)],
        capture_output=True,
        text=True,
        env=rasa_env(get_settings()),
        cwd=PROJECT_ROOT,
        timeout=240,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_every_patch_is_in_effect(result: dict[str, Any]) -> None:
    assert result["applied"] == PATCHES


def test_action_answers_are_validated_as_rasa_does(result: dict[str, Any]) -> None:
    before = result["before"]["validation"]
    assert result["after"]["validation"] == before
    assert before[:3] == ["ok", "ok", "ok"]
    refused = before[3:8]
    assert all(outcome.startswith("ValidationError: ") for outcome in refused)
    assert all("Failed to validate Action server response" in outcome for outcome in refused)
    compiled = result["compiled_validation"]
    recorded = before[8 : 8 + compiled["recorded"]]
    assert len(recorded) >= 70 and set(recorded) == {"ok"}  # the action server's real answers
    edges = before[8 + compiled["recorded"] : 8 + compiled["recorded"] + compiled["edges"]]
    assert 10 < sum(outcome == "ok" for outcome in edges) < len(edges) - 20
    assert any(outcome.startswith("TypeError: ") for outcome in edges)  # raised as before
    mutated = before[8 + compiled["recorded"] + compiled["edges"] :]
    assert 100 < sum(outcome == "ok" for outcome in mutated) < len(mutated) - 100


def test_the_compiled_validation_says_what_jsonschema_says(result: dict[str, Any]) -> None:
    compiled = result["compiled_validation"]
    assert compiled["answers"] > 3000
    assert compiled["disagree"] == 0 and compiled["agree"] == compiled["answers"]
    # both verdicts are exercised: most answers accepted by the compiled checks alone
    assert compiled["answers"] * 0.2 < compiled["accepted"] < compiled["answers"] * 0.9
    assert compiled["raised_alike"] >= 1


def test_the_tracker_store_keeps_the_same_rows(result: dict[str, Any]) -> None:
    before, after = result["before"]["tracker_store"], result["after"]["tracker_store"]
    assert after == before
    assert [row[2] for row in before["rows"]][:4] == ["action", "action", "user", "slot"]
    assert before["bob"] == ["action"]
    evidence = result["evidence"]
    # a new conversation: Rasa read it, then "saved" its empty tracker; now only the read
    assert evidence["before"]["statements_on_new_conversation"] == 2
    assert evidence["after"]["statements_on_new_conversation"] == 1
    assert (evidence["before"]["pool"], evidence["after"]["pool"]) == ("NullPool", "QueuePool")


def test_the_action_server_gets_the_same_bytes(result: dict[str, Any]) -> None:
    before, after = result["before"]["action_calls"], result["after"]["action_calls"]
    assert after == before
    assert len(before) == 6
    first = json.loads(before[0])
    assert first["next_action"] == "action_search_services"
    assert list(first)[-1] == "domain" and first["domain"]["slots"]


def test_the_rule_policy_finds_the_same_rules(result: dict[str, Any]) -> None:
    before, after = result["before"]["rule_keys"], result["after"]["rule_keys"]
    assert after == before
    assert before[0] and before[:6] == before[6:12]  # asked twice: the same
    assert before[12] != before[0]  # a rule removed from the table is no longer found
    evidence = result["evidence"]
    assert evidence["before"]["rule_checks_when_asked_again"] > 0
    assert evidence["after"]["rule_checks_when_asked_again"] == 0


def test_the_graph_runs_as_with_dask(result: dict[str, Any]) -> None:
    before, after = result["before"]["graph"], result["after"]["graph"]
    assert after == before
    assert set(before[2]) == {"nlu", "core"}
    assert before[-2].startswith("GraphComponentException: ")
    assert before[-1].startswith("GraphRunError: Missing input")
    assert result["evidence"]["before"]["dask_runs"] == 7
    assert result["evidence"]["after"]["dask_runs"] == 0


@pytest.mark.rasa
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_bench_can_name_the_patches_it_measures() -> None:
    from devtools.stack import speedups_value

    assert speedups_value(True) == "1" and speedups_value(False) == "0"
    assert speedups_value(("action-result-validation", "rule-keys-cache")) == (
        "action-result-validation,rule-keys-cache"
    )
