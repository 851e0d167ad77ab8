"""The custom Italian components in nlu/ (kept, measured, not in config.yml for now)."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.settings import PROJECT_ROOT, get_settings
from devtools.rasa_env import RASA_PYTHON, rasa_env

SCRIPT = PROJECT_ROOT / "tests" / "nlu" / "rasa_side_components.py"


@pytest.mark.rasa
def test_tokenizer_normalises_lemmas_and_keeps_offsets() -> None:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    completed = subprocess.run(
        [str(RASA_PYTHON), str(SCRIPT)],
        env=rasa_env(get_settings()),
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    assert answer["normalised"] == (
        "perche non mi dite dove è il asilo per il mio bambino a rifredi"
    )
    assert answer["spans"] == answer["texts"]  # offsets point into the original text
    assert "Rifredi" in answer["texts"]
    lemmas = answer["lemmas"]
    assert lemmas[0] == "perche"
    assert lemmas[answer["texts"].index("bimbo")] == "bambino"
    assert lemmas[answer["texts"].index("dite")] == "dire"
