"""Running a tests/nlu/rasa_side_*.py script with Rasa's Python (.venv-rasa) from pytest."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from core.settings import PROJECT_ROOT, get_settings
from devtools.rasa_env import RASA_PYTHON, rasa_env

SIDE = PROJECT_ROOT / "tests" / "nlu"


def run_rasa_side(script: str, *args: str, timeout: int = 240) -> Any:
    """The script's last line of output, read as JSON; skips without Rasa's environment."""
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    completed = subprocess.run(
        [str(RASA_PYTHON), str(SIDE / script), *args],
        env=rasa_env(get_settings()),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])
