"""SafetyNet: the last NLU component; forces intent ``emergency`` when a safety rule fires.

The rules (data/safety/emergency_patterns.yml) are read at training time and stored in the
model, so a trained model is self-contained; their hash is part of the component's
fingerprint, so editing the rules retrains only this component. When a rule fires, the
message's intent becomes ``emergency`` with confidence 1.0, put first in the intent ranking
(the model's own ranking follows, unchanged) and the parse data carries
``safety_net: {"rule": ..., "kind": ..., "model_intent": ...}`` for the policies and actions.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import stored_spec
from nlu.safety_rules import SafetyRules

logger = logging.getLogger(__name__)

SAFETY_NET_KEY = "safety_net"
RULES_FILE_NAME = "emergency_patterns.yml"


def _patterns_path(config: dict[str, Any]) -> Path:
    # Rasa hands fingerprint_addon the config as written in config.yml, without defaults
    return Path(config.get("patterns") or SafetyNet.get_default_config()["patterns"])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafetyNet(GraphComponent, IntentClassifier):
    """Rule-based emergency detection that overrides the model's intent."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"patterns": "data/safety/emergency_patterns.yml", "intent": "emergency"}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        here = Path(__file__).resolve().parent
        return stored_spec.files_digest(
            (
                _patterns_path(config),
                here / "safety_rules.py",
                here / "safety_net.py",
                here / "stored_spec.py",
            )
        )

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        spec: dict[str, Any] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._spec = spec
        self._rules = SafetyRules(spec) if spec else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNet:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Reads the rules file and stores it in the model."""
        spec = stored_spec.read_source(_patterns_path(self._config))
        SafetyRules(spec)  # fail the training, not the first message, on a bad regex
        stored_spec.store(self._model_storage, self._resource, RULES_FILE_NAME, spec)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyNet:
        spec = stored_spec.load(model_storage, resource, RULES_FILE_NAME)
        return cls(config, model_storage, resource, spec)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._rules is None:
            return messages
        intent_name = self._config["intent"]
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            match = self._rules.detect(text)
            if match is None:
                continue
            forced = {"name": intent_name, "confidence": 1.0}
            model_intent = message.get(INTENT)
            ranking = [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get("name") != intent_name
            ]
            message.set(INTENT, forced, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [forced, *ranking], add_to_output=True)
            message.set(
                SAFETY_NET_KEY,
                {"rule": match.rule, "kind": match.kind, "model_intent": model_intent},
                add_to_output=True,
            )
            logger.info("safety net rule %s fired", match.rule)
        return messages
