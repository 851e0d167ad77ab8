"""The Rasa side of the safety net: same answers as care.safety, and the component's output."""

from __future__ import annotations

import json
import subprocess

import pytest

from care.safety import detect
from core.settings import PROJECT_ROOT, get_settings
from devtools.rasa_env import RASA_PYTHON
from tests.safety.phrases import NEGATIVE, POSITIVE

SCRIPT = PROJECT_ROOT / "tests" / "safety" / "rasa_side.py"
TEXTS = [text for text, _ in POSITIVE] + NEGATIVE


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
