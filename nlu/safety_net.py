"""SafetyNet: the last NLU component; forces intent ``emergency`` when a safety rule fires.

The rules (every data/safety/emergency_patterns*.yml, one file a language, as the gateway's
care/safety.py loads them) are read at training time and stored in the model, so a trained
model is self-contained; their names and hash are part of the component's fingerprint, so
editing the rules or adding a language's file retrains only this component. When a rule fires, the
message's intent becomes ``emergency`` with confidence 1.0, put first in the intent ranking
(the model's own ranking follows, unchanged) and the parse data carries
``safety_net: {"rule": ..., "kind": ..., "model_intent": ..., "tier": ...}`` for the
policies and actions.

``tier`` (docs/nlu-pipeline.md, "Emergency tiers") is ``immediate`` (112/1522 and the
top-priority hand-off, actions/emergency.py) or ``ask`` (112/1522 and «Sei in pericolo
adesso?»), as nlu/gate_rules.py ``rule_tier`` says: ``ask`` when the message has a word of
the ``reported`` lists of data/safety/emergency_support*.yml («ahah», «a carte», «al tg»).
The IntentGate, which runs just before this component and keeps those lists in the model,
writes that tier in its parse data (``intent_gate.rule_tier``); without it (a pipeline
without the gate, a message the gate skips) the tier is ``immediate``, as before the tiers.
The gateway's safety net (care/safety.py) gives the same tier with the same function.
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
from nlu.gate_rules import ASK, IMMEDIATE
from nlu.intent_gate import GATE_KEY
from nlu.safety_rules import PATTERNS_GLOB, SafetyRuleSet, pattern_files

logger = logging.getLogger(__name__)

SAFETY_NET_KEY = "safety_net"
RULES_FILE_NAME = "emergency_patterns.yml"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def patterns_paths(config: dict[str, Any]) -> list[Path]:
    """The rules files the config names: a file, or a glob such as the default's."""
    # Rasa hands fingerprint_addon the config as written in config.yml, without defaults
    pattern = Path(config.get("patterns") or SafetyNet.get_default_config()["patterns"])
    if not pattern.is_absolute():
        pattern = PROJECT_ROOT / pattern
    return pattern_files(pattern.parent, pattern.name)


def stored_rules(paths: list[Path]) -> dict[str, Any]:
    """What the model keeps: every file's spec, in order (``files: [{name, spec}]``)."""
    return {
        "version": 2,
        "files": [{"name": path.name, "spec": stored_spec.read_source(path)} for path in paths],
    }


def rule_tier(message: Message) -> str:
    """The tier of a rule match on this message: the IntentGate's ``rule_tier`` (``ask``
    with a word of the reported lists), else ``immediate``."""
    gate = message.get(GATE_KEY)
    tier = gate.get("rule_tier") if isinstance(gate, dict) else None
    return ASK if tier == ASK else IMMEDIATE


def rules_from_stored(stored: dict[str, Any]) -> SafetyRuleSet:
    if "files" not in stored:  # a model trained before the rules came one file a language
        return SafetyRuleSet.from_specs([stored])
    return SafetyRuleSet.from_specs([item["spec"] for item in stored["files"]])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafetyNet(GraphComponent, IntentClassifier):
    """Rule-based emergency detection that overrides the model's intent."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"patterns": f"data/safety/{PATTERNS_GLOB}", "intent": "emergency"}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        here = Path(__file__).resolve().parent
        paths = patterns_paths(config)
        names = ",".join(path.name for path in paths)
        digest = stored_spec.files_digest(
            (
                *paths,
                here / "safety_rules.py",
                here / "safety_net.py",
                here / "stored_spec.py",
            )
        )
        return f"{names}:{digest}"

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
        self._rules = rules_from_stored(spec) if spec else None

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
        """Reads every rules file and stores them in the model."""
        paths = patterns_paths(self._config)
        if not paths:
            raise ValueError(f"no safety rules file matches {self._config.get('patterns')!r}")
        stored = stored_rules(paths)
        rules_from_stored(stored)  # fail the training, not the first message, on a bad regex
        stored_spec.store(self._model_storage, self._resource, RULES_FILE_NAME, stored)
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
            tier = rule_tier(message)
            message.set(
                SAFETY_NET_KEY,
                {
                    "rule": match.rule,
                    "kind": match.kind,
                    "model_intent": model_intent,
                    "tier": tier,
                },
                add_to_output=True,
            )
            logger.info("safety net rule %s fired (tier %s)", match.rule, tier)
        return messages
