"""What makes the model retrain: its inputs do, the serving launcher does not."""

from __future__ import annotations

from core.settings import PROJECT_ROOT
from devtools import train
from devtools.rasa_env import CONFIG_FILE


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
