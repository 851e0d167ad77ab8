"""LanguageFromMetadata: the conversation's language as the entity ``language``.

The gateway decides a conversation's language (conversations/language.py: detection, the
citizen's choice) and sends it with every message in the metadata (``{"language": "en"}``).
This component, after the entity extractors, adds it as an entity, which fills the
``language`` slot (domain.yml: ``from_entity``, ``influence_conversation: false``); the
responses' conditional variations and the actions read that slot. Rasa does not run the
pipeline's output for ``/intent{...}`` payloads (buttons): there the gateway puts the same
entity into the payload (bot/rasa_payload.py). Messages without metadata (``rasa test``,
``rasa shell``) get no entity, so the slot keeps its value and the evaluations are unchanged.
Nothing is trained or stored.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
)
from rasa.shared.nlu.training_data.message import Message

ENTITY = "language"
METADATA_KEY = "metadata"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageFromMetadata(GraphComponent, EntityExtractorMixin):
    """Adds ``{"entity": "language", "value": <code>}`` from the message's metadata."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"languages": ["it", "en"]}

    def __init__(self, config: dict[str, Any]) -> None:
        self._languages = frozenset(str(code) for code in config["languages"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageFromMetadata:
        return cls(config)

    def language_of(self, message: Message) -> str | None:
        metadata = message.get(METADATA_KEY)
        code = metadata.get(ENTITY) if isinstance(metadata, dict) else None
        return code if code in self._languages else None

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            code = self.language_of(message)
            if code is None:
                continue
            entities = [
                entity
                for entity in message.get(ENTITIES) or []
                if entity.get(ENTITY_ATTRIBUTE_TYPE) != ENTITY
            ]
            entities.append(
                {
                    ENTITY_ATTRIBUTE_TYPE: ENTITY,
                    ENTITY_ATTRIBUTE_VALUE: code,
                    ENTITY_ATTRIBUTE_START: 0,
                    ENTITY_ATTRIBUTE_END: 0,
                    EXTRACTOR: self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
