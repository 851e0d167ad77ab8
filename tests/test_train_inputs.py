"""What makes the model retrain: its inputs do, the serving launcher does not."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.settings import PROJECT_ROOT
from devtools import train
from devtools.rasa_env import CONFIG_FILE, NLU_DATA_DIR


def test_serving_only_files_exist_and_do_not_change_the_fingerprint() -> None:
    for relative in train.SERVING_ONLY:
        assert (PROJECT_ROOT / relative).is_file(), relative
    with_all = train.inputs_fingerprint(CONFIG_FILE, nlu_only=False)
    original = train.SERVING_ONLY
    try:
        train.SERVING_ONLY = frozenset()  # type: ignore[misc]
        assert train.inputs_fingerprint(CONFIG_FILE, nlu_only=False) != with_all
    finally:
        train.SERVING_ONLY = original  # type: ignore[misc]


def test_reviewed_examples_are_training_inputs(tmp_path: Path) -> None:
    """`python -m console review-export` writes data/nlu/review/*.yml: they change the
    fingerprint (so `make train` retrains) and reach Rasa with the rest of data/nlu."""
    nlu = tmp_path / "nlu"
    shutil.copytree(NLU_DATA_DIR, nlu, ignore=shutil.ignore_patterns("review"))
    before = train.inputs_fingerprint(CONFIG_FILE, nlu_only=True, nlu_data=nlu)
    (nlu / "review").mkdir()
    (nlu / "review" / "review-20261207-000000Z.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: check_budget\n  examples: |\n    - quanto ho ancora\n',
        encoding="utf-8",
    )
    assert train.inputs_fingerprint(CONFIG_FILE, nlu_only=True, nlu_data=nlu) != before
    command = train._rasa_command(CONFIG_FILE, tmp_path, "m", nlu_only=True, nlu_data=nlu)
    assert str(nlu) in command  # the folder: Rasa reads its subfolders too
