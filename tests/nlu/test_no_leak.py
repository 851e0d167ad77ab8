"""No example of a test or validation set is in the training data (data/nlu/, data/nlu/en/).

Compared after folding case, accents and punctuation. The English sets (issue 17) are
checked against both training directories, exactly and after two normalisations: the fold,
and the fold without spaces («I'm» = «Im», «after-school» = «afterschool»).

The first fresh emergency set (tests/nlu_fresh/emergency.yml, 2026-11-25) predates this check
and shares 9 short or common sentences with the training data («aiuto», «voglio morire»...):
it is checked for new ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from core.settings import PROJECT_ROOT
from devtools.nlu_metrics import load_examples
from devtools.search_eval import load_requests

TRAINING = PROJECT_ROOT / "data" / "nlu"
TRAINING_EN = PROJECT_ROOT / "data" / "nlu" / "en"
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
    PROJECT_ROOT / "tests" / "nlu_fresh" / "out_of_domain_dev2.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "emergency_it_dev.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "negatives_dev.yml",
]
# Search-by-paraphrase sets (their own format: text and category), issue 12
SEARCH_SETS = [
    PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases_dev.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases_dev2.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases_dev_check.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases_2026_12_07b.yml",
]
ENGLISH_SETS = [
    PROJECT_ROOT / "tests" / "nlu_heldout_en" / "nlu.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh_en" / "emergency.yml",
    PROJECT_ROOT / "tests" / "nlu_fresh" / "emergency_en_dev.yml",
]
FIRST_FRESH = PROJECT_ROOT / "tests" / "nlu_fresh" / "emergency.yml"
FIRST_FRESH_KNOWN = 9


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def squash(text: str) -> str:
    return fold(text).replace(" ", "")


def training_texts(
    directories: tuple[Path, ...] = (TRAINING,), normalise: Callable[[str], str] = fold
) -> set[str]:
    texts: set[str] = set()
    for directory in directories:
        for path in sorted(directory.glob("**/*.yml")):
            texts.update(normalise(e.text) for e in load_examples(path))
    return texts - {""}


@pytest.mark.parametrize("path", HELD_OUT_SETS, ids=lambda p: p.name)
def test_no_held_out_example_is_trained_on(path: Path) -> None:
    train = training_texts()
    leaked = [e.text for e in load_examples(path) if fold(e.text) in train]
    assert leaked == []


@pytest.mark.parametrize("path", SEARCH_SETS, ids=lambda p: p.name)
def test_no_search_request_is_trained_on(path: Path) -> None:
    requests = load_requests(path)
    assert len(requests) >= 40  # not an empty or moved file, which would pass vacuously
    train = training_texts((TRAINING, TRAINING_EN))
    assert [r.text for r in requests if fold(r.text) in train] == []


def test_the_first_fresh_set_gains_no_new_overlap() -> None:
    train = training_texts()
    leaked = [e.text for e in load_examples(FIRST_FRESH) if fold(e.text) in train]
    assert len(leaked) <= FIRST_FRESH_KNOWN, leaked


@pytest.mark.parametrize("normalise", [str.strip, fold, squash], ids=lambda f: f.__name__)
@pytest.mark.parametrize("path", ENGLISH_SETS, ids=lambda p: p.parent.name)
def test_no_english_held_out_example_is_trained_on(
    path: Path, normalise: Callable[[str], str]
) -> None:
    train = training_texts((TRAINING, TRAINING_EN), normalise)
    leaked = [e.text for e in load_examples(path) if normalise(e.text) in train]
    assert leaked == []


def test_the_leak_check_sees_the_english_sets() -> None:
    """Guards the check above against an empty or moved file (it would pass vacuously)."""
    assert [len(load_examples(path)) >= 150 for path in ENGLISH_SETS] == [True] * len(ENGLISH_SETS)
    held_out = {e.intent for e in load_examples(ENGLISH_SETS[0])}
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["intents"]) - held_out == set()
    assert squash("I'm looking for an after-school club!") == "imlookingforanafterschoolclub"
