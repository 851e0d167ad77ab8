"""ItalianTokenizer: Rasa's whitespace tokenizer plus Italian normalisation of each token.

The token's text, start and end stay those of the original message, so entity spans and
entity values are unchanged; the normalised form goes into the token's lemma (what
CountVectorsFeaturizer reads with ``use_lemma: true``, its default) and into the token's
data under ``norm`` (accents kept, for a lemmatizer further down the pipeline).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from nlu.italian import fold, normalise_token

NORM_KEY = "norm"


def source_fingerprint(*files: str) -> str:
    """Hash of this package's source files: Rasa's cache must notice a change of the rules."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in files:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ItalianTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose lemma is the normalised Italian form."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**WhitespaceTokenizer.get_default_config(), "normalise": True}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return source_fingerprint("italian.py", "tokenizer.py")

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        if not self._config.get("normalise", True):
            return tokens
        text = message.get(attribute) or ""
        for token in tokens:
            following = text[token.end : token.end + 1]
            norm = normalise_token(token.text, following=following)
            token.set(NORM_KEY, norm)
            token.lemma = fold(norm)
        return tokens
