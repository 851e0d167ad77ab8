"""The intents and entities a reviewer may choose: those of the assistant's domain.yml."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from core.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
OUT_OF_SCOPE = "out_of_scope"
# never a training label: Rasa's own fallback, not something a citizen says
NOT_LABELS = frozenset({"nlu_fallback"})


@cache
def _domain(path: Path = DOMAIN_FILE) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def names(key: str) -> list[str]:
        items = data.get(key) or []
        return [next(iter(i)) if isinstance(i, dict) else str(i) for i in items]

    return {"intents": names("intents"), "entities": names("entities")}


def intents() -> list[str]:
    return sorted(i for i in _domain()["intents"] if i not in NOT_LABELS)


def entities() -> list[str]:
    return sorted(_domain()["entities"])
