"""LookupLemmatizer: Italian lemmas from spacy-lookups-data (no pretrained pipeline needed).

Runs after ItalianTokenizer and replaces each token's lemma with the folded lemma of its
normalised form ("bambini" -> "bambino", "vorrei" -> "volere"); unknown words keep their
normalised form. spaCy's Italian table is case-sensitive and sometimes wrong ("figlio" ->
"figliare"): EXCEPTIONS below overrides the wrong ones that matter here.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.italian import fold
from nlu.tokenizer import NORM_KEY, source_fingerprint

EXCEPTIONS: dict[str, str] = {
    "figlio": "figlio",
    "figli": "figlio",
    "figlia": "figlio",
    "figlie": "figlio",
    "servizi": "servizio",
    "madre": "madre",
    "padre": "padre",
}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LookupLemmatizer(GraphComponent):
    """Sets token lemmas from spaCy's Italian lookup table."""

    def __init__(self, table: Any) -> None:
        self._table = table  # a spacy.lookups.Table (keys are string hashes)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return source_fingerprint("italian.py", "lemmatizer.py")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LookupLemmatizer:
        from spacy.lookups import load_lookups

        lookups = load_lookups("it", ["lemma_lookup"])
        return cls(lookups.get_table("lemma_lookup"))

    def lemma(self, norm: str) -> str:
        if norm in EXCEPTIONS:
            return EXCEPTIONS[norm]
        return fold(self._table.get(norm, norm))

    def _lemmatize(self, message: Message) -> None:
        for token in message.get(TOKENS_NAMES[TEXT]) or []:
            norm = token.get(NORM_KEY) or token.text.lower()
            token.lemma = self.lemma(norm)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._lemmatize(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._lemmatize(message)
        return messages
