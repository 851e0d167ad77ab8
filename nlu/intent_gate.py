"""IntentGate: out-of-domain thresholds and the emergency tier, after the fallback.

Runs after FallbackClassifier and before the rule-based SafetyNet (which still overrides
everything with an emergency, of the tier this component writes in ``rule_tier``). The
decision itself is nlu/gate_rules.py; this component applies it to Rasa's messages:

- the intent becomes what ``gate_rules.decide`` says (``emergency``, the low-confidence
  intent, or unchanged);
- the parse data carries ``intent_gate: {intent, tier, model_intent, model_confidence,
  emergency_confidence, supported, changed, model_ranking}``; ``tier`` is ``immediate``
  or ``ask`` when the intent is emergency (actions/emergency.py reads it), else null;
  ``model_ranking`` is DIET's top five, for the evaluation (devtools/gate_eval.py);
  ``ood_probability`` is the out-of-domain detector's P(out) (nlu/ood_detector.py, when it
  runs before this component; ``ood_threshold`` decides) and ``by_detector`` whether it
  changed the outcome; ``rule_tier`` is the tier a safety rule's match on this text gets
  (``ask`` with a word of the ``reported`` lists, else ``immediate``: gate_rules.rule_tier),
  which nlu/safety_net.py reads.

Messages that start with "/" (buttons, `/intent{...}`) are left to Rasa's
RegexMessageHandler. The support words (data/safety/emergency_support.yml and its
siblings emergency_support_*.yml, one file a language, merged) are read at training time
and stored in the model; their hash is part of the fingerprint, so editing them or the
thresholds in config.yml retrains only this component.
"""

from __future__ import annotations

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
from nlu.gate_rules import GateSettings, SupportWords, decide, merge_specs, support_files
from nlu.ood_detector import DETECTOR_KEY

GATE_KEY = "intent_gate"
SUPPORT_FILE_NAME = "emergency_support.yml"


def _support_path(config: dict[str, Any]) -> Path:
    return Path(config.get("support") or IntentGate.get_default_config()["support"])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentGate(GraphComponent, IntentClassifier):
    """Out-of-domain thresholds and emergency tiers on the model's ranking."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "support": "data/safety/emergency_support.yml",
            "immediate_confidence": 0.8,
            "ask_confidence": 0.2,
            "unsupported_confidence": 0.0,
            "default_threshold": 0.0,
            "thresholds": {},
            "low_confidence_intent": "nlu_fallback",
            "ood_threshold": 0.0,
            "ood_ask_only_threshold": 0.0,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        here = Path(__file__).resolve().parent
        return stored_spec.files_digest(
            (
                *support_files(_support_path(config)),
                here / "gate_rules.py",
                here / "intent_gate.py",
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
        self._settings = GateSettings.from_config(config)
        self._support = SupportWords(spec) if spec is not None else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentGate:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        paths = support_files(_support_path(self._config))
        spec = merge_specs(stored_spec.read_source(path) for path in paths)
        SupportWords(spec)  # fail the training on a bad file
        stored_spec.store(self._model_storage, self._resource, SUPPORT_FILE_NAME, spec)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> IntentGate:
        return cls(
            config,
            model_storage,
            resource,
            stored_spec.load(model_storage, resource, SUPPORT_FILE_NAME),
        )

    def process(self, messages: list[Message]) -> list[Message]:
        if self._support is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue
            current = message.get(INTENT) or {}
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            detector = message.get(DETECTOR_KEY) or {}
            probability = detector.get("probability") if isinstance(detector, dict) else None
            decision = decide(
                text,
                ranking,
                str(current.get("name") or ""),
                self._settings,
                self._support,
                ood_probability=None if probability is None else float(probability),
            )
            if decision.changed:
                chosen = {"name": decision.intent, "confidence": decision.confidence}
                rest = [entry for entry in ranking if entry.get("name") != decision.intent]
                message.set(INTENT, chosen, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [chosen, *rest], add_to_output=True)
            message.set(GATE_KEY, decision.as_dict(), add_to_output=True)
        return messages
