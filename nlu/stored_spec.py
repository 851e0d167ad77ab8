"""A YAML spec kept inside the trained model, for the rule-reading components of nlu/.

SafetyNet (every data/safety/emergency_patterns*.yml) and IntentGate
(data/safety/emergency_support.yml) read their file at training time and store it in the
model, so a trained model is self-contained; the file's hash is part of their fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def files_digest(paths: Iterable[Path]) -> str:
    """One hash of the files' bytes ("missing" for a file that is not there)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes() if path.exists() else b"missing")
    return digest.hexdigest()


def read_source(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def store(model_storage: ModelStorage, resource: Resource, name: str, spec: dict[str, Any]) -> None:
    with model_storage.write_to(resource) as directory:
        (directory / name).write_text(
            yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )


def load(model_storage: ModelStorage, resource: Resource, name: str) -> dict[str, Any]:
    with model_storage.read_from(resource) as directory:
        return yaml.safe_load((directory / name).read_text(encoding="utf-8")) or {}
