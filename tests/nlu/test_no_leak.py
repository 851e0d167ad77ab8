"""No example of a test or validation set is in the training data (data/nlu/).

Compared after folding case, accents and punctuation. The first fresh emergency set
(tests/nlu_fresh/emergency.yml, 2026-11-25) predates this check and shares 9 short or common
sentences with the training data («aiuto», «voglio morire»...): it is checked for new ones.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from devtools.nlu_metrics import load_examples

TRAINING = PROJECT_ROOT / "data" / "nlu"
HELD_OUT_SETS = [
    PROJECT_ROOT / "tests" / "nlu_heldout" / "nlu.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "emergency_2026_12.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "out_of_domain.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "out_of_domain_dev.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "in_domain_dev.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "everyday.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "out_of_domain_2026_12_07.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "emergency_2026_12_07.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "everyday_2026_12_07.yml",
]
FIRST_FRESH = PROJECT_ROOT / "tests" / "nlu_fresh" / "emergency.yml"
FIRST_FRESH_KNOWN = 9


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def training_texts() -> set[str]:
    texts: set[str] = set()
    for path in sorted(TRAINING.glob("*.yml")):
        texts.update(fold(e.text) for e in load_examples(path))
    return texts - {""}


@pytest.mark.parametrize("path", HELD_OUT_SETS, ids=lambda p: p.name)
def test_no_held_out_example_is_trained_on(path: Path) -> None:
    train = training_texts()
    leaked = [e.text for e in load_examples(path) if fold(e.text) in train]
    assert leaked == []


def test_the_first_fresh_set_gains_no_new_overlap() -> None:
    train = training_texts()
    leaked = [e.text for e in load_examples(FIRST_FRESH) if fold(e.text) in train]
    assert len(leaked) <= FIRST_FRESH_KNOWN, leaked
