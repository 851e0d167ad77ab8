"""The Rasa side of the safety net: same answers as care.safety, and the component's output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from care.safety import detect, pattern_files, tier
from core.settings import PROJECT_ROOT, get_settings
from devtools.rasa_env import RASA_PYTHON
from tests.safety.phrases import EN_NEGATED, EN_NEGATIVE, EN_POSITIVE, NEGATIVE, POSITIVE
from tests.safety.test_rule_tiers import DANGER, FIGURES

SCRIPT = PROJECT_ROOT / "tests" / "safety" / "rasa_side.py"
TEXTS = [text for text, _ in POSITIVE + EN_POSITIVE] + NEGATIVE + EN_NEGATIVE + EN_NEGATED


def _rasa_side(mode: str, texts: list[str]) -> list:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed: scripts/setup.sh rasa")
    from devtools.rasa_env import rasa_env

    completed = subprocess.run(
        [str(RASA_PYTHON), str(SCRIPT), mode],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env=rasa_env(get_settings()),
        timeout=240,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_both_runtimes_answer_the_same() -> None:
    rasa_answers = _rasa_side("rules", TEXTS)
    for text, answer in zip(TEXTS, rasa_answers, strict=True):
        match = detect(text)
        expected = None if match is None else {"kind": match.kind, "rule": match.rule}
        assert answer == expected, text


def test_both_runtimes_load_the_same_rules_files() -> None:
    """The gateway (care.safety) and the Rasa component read every emergency_patterns*.yml."""
    (default,) = _rasa_side("files", [None])
    assert default["files"] == [str(path) for path in pattern_files()]
    assert [Path(name).name for name in default["files"]][:2] == [
        "emergency_patterns.yml",
        "emergency_patterns_en.yml",
    ]


def test_a_new_rules_file_changes_the_component_fingerprint(tmp_path: Path) -> None:
    for path in pattern_files():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    glob = str(tmp_path / "emergency_patterns*.yml")
    (before,) = _rasa_side("files", [glob])
    (tmp_path / "emergency_patterns_ro.yml").write_text(
        "version: 1\npatterns:\n- id: danger.plea\n  kind: danger\n  regex: ' ajutor'\n",
        encoding="utf-8",
    )
    (after,) = _rasa_side("files", [glob])
    assert len(after["files"]) == len(before["files"]) + 1
    assert after["fingerprint"] != before["fingerprint"]


def test_the_component_stores_every_file_in_the_model_and_loads_old_models() -> None:
    texts = ["my husband hits me", "mio marito mi picchia", "cerco un nido"]
    answers = _rasa_side("stored", texts)
    assert answers["now"] == ["violence.hit_me", "violence.hit_me", None]
    # a model trained before the English file (one Italian spec) still serves Italian
    assert answers["old"] == [None, "violence.hit_me", None]


@pytest.mark.rasa
def test_component_forces_emergency_and_keeps_the_model_ranking() -> None:
    fired, quiet = "mio marito mi picchia", "cerco uno psicologo per l'ansia"
    first, second = _rasa_side("component", [fired, quiet])

    assert first["intent"] == {"name": "emergency", "confidence": 1.0}
    assert [r["name"] for r in first["intent_ranking"]] == ["emergency", "search_service", "greet"]
    assert first["safety_net"]["rule"] == "violence.hit_me"
    assert first["safety_net"]["kind"] == "violence"
    assert first["safety_net"]["model_intent"]["name"] == "search_service"

    assert second["intent"]["name"] == "search_service"
    assert "safety_net" not in second

    (english,) = _rasa_side("component", ["my boyfriend hits me"])
    assert english["intent"] == {"name": "emergency", "confidence": 1.0}
    assert english["safety_net"]["kind"] == "violence"


def test_a_rule_match_gets_the_same_tier_inside_rasa() -> None:
    """The IntentGate writes ``rule_tier`` and the SafetyNet gives it to its match: «ask»
    with a figure of speech, as the gateway's care.safety.tier says, «immediate» without."""
    jokes = ["voglio uccidermi ahah", "i want to die haha"]
    texts = [*FIGURES, *DANGER, *jokes]
    parsed = _rasa_side("pipeline", texts)
    for text, parse in zip(texts, parsed, strict=True):
        assert parse["intent"] == {"name": "emergency", "confidence": 1.0}, text
        assert parse["safety_net"]["rule"] == detect(text).rule, text
        assert parse["safety_net"]["tier"] == tier(text), text
    tiers = [parse["safety_net"]["tier"] for parse in parsed]
    assert tiers == ["ask"] * len(FIGURES) + ["immediate"] * len(DANGER) + ["ask"] * len(jokes)
