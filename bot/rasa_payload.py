"""What the gateway sends Rasa besides the text: the conversation's language.

Every message carries ``metadata["language"]``; Rasa's pipeline turns it into the entity
``language`` (nlu/language_entity.py), which fills the slot the responses and the actions
read. Rasa skips the pipeline for ``/intent{...}`` payloads (buttons, commands), so there the
entity goes into the payload itself: ``/service_details{"service_code": "X"}`` becomes
``/service_details{"service_code": "X", "language": "en"}``. A payload that is not Rasa's
``/intent`` form is left as it is.

The slot is Italian when unset, so Italian payloads are sent as they are unless the citizen
chose Italian (which may follow English): whenever the language may differ from what Rasa
last heard, the payload says it.
"""

from __future__ import annotations

import json
import re

from conversations.language import CHOSEN
from conversations.models import Conversation
from core.i18n import languages

LANGUAGE_ENTITY = "language"

# Rasa's payload: /intent_name, optional @confidence, optional JSON object of entities
_PAYLOAD = re.compile(r"^/(?P<intent>[\w.-]+)(?P<confidence>@[0-9.]+)?(?P<entities>\{.*\})?$", re.S)


def with_language(payload: str, conversation: Conversation) -> str:
    """The payload for Rasa, with the conversation's language when it may matter."""
    code = conversation.language
    if code == languages().source and conversation.language_source != CHOSEN:
        return payload
    return payload_with_language(payload, code)


def payload_with_language(payload: str, code: str) -> str:
    """``payload`` with the entity ``language`` set to ``code`` (unchanged if not /intent)."""
    match = _PAYLOAD.match(payload.strip())
    if match is None:
        return payload
    entities: dict[str, object] = {}
    if match["entities"]:
        try:
            parsed = json.loads(match["entities"])
        except ValueError:
            return payload
        if not isinstance(parsed, dict):
            return payload
        entities = parsed
    entities[LANGUAGE_ENTITY] = code
    confidence = match["confidence"] or ""
    return f"/{match['intent']}{confidence}{json.dumps(entities, ensure_ascii=False)}"
