"""The custom Italian components in nlu/ (kept, measured, not in config.yml for now)."""

from __future__ import annotations

import pytest

from tests.nlu.rasa_side import run_rasa_side


@pytest.mark.rasa
def test_tokenizer_normalises_lemmas_and_keeps_offsets() -> None:
    answer = run_rasa_side("rasa_side_components.py")
    assert answer["normalised"] == (
        "perche non mi dite dove è il asilo per il mio bambino a rifredi"
    )
    assert answer["spans"] == answer["texts"]  # offsets point into the original text
    assert "Rifredi" in answer["texts"]
    lemmas = answer["lemmas"]
    assert lemmas[0] == "perche"
    assert lemmas[answer["texts"].index("bimbo")] == "bambino"
    assert lemmas[answer["texts"].index("dite")] == "dire"
