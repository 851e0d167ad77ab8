"""nlu.rasa_speedups changes Rasa's speed, not its answers: action-server answers are
accepted and refused exactly as Rasa's own validation does (same exception, same message)."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.settings import PROJECT_ROOT, get_settings
from devtools.rasa_env import RASA_PYTHON, rasa_env

SCRIPT = PROJECT_ROOT / "tests" / "nlu" / "rasa_speedups_check.py"


def test_action_answers_are_validated_as_rasa_does() -> None:
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
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["applied"] == ["action-result-validation"]
    assert result["after"] == result["before"]
    assert result["before"][:3] == ["ok", "ok", "ok"]
    refused = result["before"][3:]
    assert all(outcome.startswith("ValidationError: ") for outcome in refused)
    assert all("Failed to validate Action server response" in outcome for outcome in refused)
