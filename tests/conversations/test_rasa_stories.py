"""`rasa test core` on tests/test_stories.yml against the trained model: any failed story fails.

The model is trained once and reused (``devtools.train.ensure_model`` keys it on its
inputs). The stories give the intents, so this checks the dialogue (rules, stories,
forms, fallback), not the NLU, which has its own held-out evaluation. Rasa runs through
``nlu.rasa_main``, as it is served: the patched RulePolicy and graph runner of
``nlu.rasa_speedups`` predict every action of every story.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, get_settings

TEST_STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(1800)]


def _rasa() -> tuple[Path, Path, dict[str, str]]:
    """(Rasa's Python, trained model, environment), or skip saying what is missing."""
    try:
        from devtools.rasa_env import RASA_PYTHON, RasaNotInstalledError, rasa_env, require_rasa
        from devtools.train import ensure_model
    except ImportError as error:  # the platform's helpers are not there yet
        pytest.skip(f"Rasa helpers unavailable: {error}")
    try:
        require_rasa()
    except RasaNotInstalledError as error:
        pytest.skip(str(error))
    model = ensure_model().model
    return RASA_PYTHON, model, rasa_env(get_settings())


def test_every_conversation_story_passes(tmp_path: Path) -> None:
    python, model, env = _rasa()
    out = tmp_path / "results"
    completed = subprocess.run(
        [
            str(python),
            "-m",
            "nlu.rasa_main",
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            str(TEST_STORIES),
            "--out",
            str(out),
            "--no-plot",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=1500,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    failed = (out / "failed_test_stories.yml").read_text()
    assert "None of the test stories failed" in failed, f"failed stories:\n{failed}"
