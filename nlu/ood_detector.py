"""OodDetector: P(out of domain) for each message, from a classifier trained apart from DIET.

Placed in config.yml after the FallbackClassifier and before nlu.intent_gate.IntentGate,
which makes the decision (nlu/gate_rules.decide, ``ood_threshold``). The model is
nlu/ood_model.py: a logistic regression on word and char_wb n-grams of the text, trained
on the same training data as DIET (out_of_scope against the welfare intents; the social
intents skipped), in about a second. It reads only the text, not the featurizers' output,
so DIET's settings do not change it.

The parse data carries ``ood_detector: {probability}``; IntentGate copies it into
``intent_gate.ood_probability``. Messages that start with "/" (buttons) are left alone.
The trained model is kept in the model storage (joblib, as Rasa's own sklearn classifier
does); nlu/ood_model.py's one-text fast path is rebuilt from it at load time, nothing of
it stored. The fingerprint includes this file and nlu/ood_model.py, so a change of either
retrains only this node (and those after it).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import stored_spec
from nlu.ood_model import DetectorSettings, OodModel

DETECTOR_KEY = "ood_detector"
MODEL_FILE_NAME = "ood_model.joblib"


def detector_settings(config: dict[str, Any]) -> DetectorSettings:
    defaults = DetectorSettings()
    return DetectorSettings(
        c=float(config.get("c", defaults.c)),
        word_ngrams=tuple(config.get("word_ngrams", defaults.word_ngrams)),  # type: ignore[arg-type]
        char_ngrams=tuple(config.get("char_ngrams", defaults.char_ngrams)),  # type: ignore[arg-type]
        social=str(config.get("social", defaults.social)),
        balanced=bool(config.get("balanced", defaults.balanced)),
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OodDetector(GraphComponent, IntentClassifier):
    """In-domain vs out-of-domain classifier; its probability goes to the IntentGate."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = dataclasses.asdict(DetectorSettings())
        return {
            **defaults,
            "word_ngrams": list(defaults["word_ngrams"]),
            "char_ngrams": list(defaults["char_ngrams"]),
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        here = Path(__file__).resolve().parent
        return stored_spec.files_digest((here / "ood_detector.py", here / "ood_model.py"))

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: OodModel | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OodDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [
            (str(m.get(TEXT) or ""), str(m.get(INTENT) or ""))
            for m in training_data.intent_examples
        ]
        self._model = OodModel(detector_settings(self._config)).fit(examples)
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / MODEL_FILE_NAME)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OodDetector:
        with model_storage.read_from(resource) as directory:
            model = joblib.load(directory / MODEL_FILE_NAME)
        model.fast_scorer()  # built now from the fitted objects, not on the first message
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        todo = [m for m in messages if m.get(TEXT) and not str(m.get(TEXT)).startswith("/")]
        for message, p in zip(
            todo, self._model.probabilities([m.get(TEXT) for m in todo]), strict=True
        ):
            message.set(DETECTOR_KEY, {"probability": round(p, 4)}, add_to_output=True)
        return messages
