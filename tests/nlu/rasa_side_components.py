"""Run by .venv-rasa's Python (not by pytest): checks of the custom tokenizer and lemmatizer.

Prints one JSON object; tests/nlu/test_components.py reads it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.shared.nlu.training_data.message import Message

    from nlu.italian import normalise_text
    from nlu.lemmatizer import LookupLemmatizer
    from nlu.tokenizer import ItalianTokenizer

    text = "Xke nn mi dite dov'è l'asilo x il mi' bimbo a Rifredi?"
    tokenizer = ItalianTokenizer(ItalianTokenizer.get_default_config())
    message = Message({"text": text})
    tokenizer.process([message])
    tokens = message.get(TOKENS_NAMES["text"])
    lemmatizer = LookupLemmatizer.create({}, None, None, None)  # type: ignore[arg-type]
    lemmatizer.process([message])
    print(
        json.dumps(
            {
                "normalised": normalise_text(text),
                "spans": [text[t.start : t.end] for t in tokens],
                "texts": [t.text for t in tokens],
                "lemmas": [t.lemma for t in tokens],
            }
        )
    )


if __name__ == "__main__":
    main()
