"""English understanding through the session's Rasa (issue 17): floors for CI.

devtools.english_eval measures the English held-out set (tests/nlu_heldout_en/, never
trained on) and the English fresh emergency set (tests/nlu_fresh_en/, nobody tuned on it).
Floors a little under the figures of docs/nlu-pipeline.md ("English"); the goals are
macro-F1 >= 0.90 and emergency recall >= 0.95.
"""

from __future__ import annotations

import pytest

from devtools.english_eval import FRESH_EMERGENCY_EN, HELDOUT_EN, measure
from devtools.nlu_metrics import load_examples
from tests.fixtures.rasa import RasaStack

# measured on the first joint model (2026-12-07): typed-intent macro-F1 0.915 (`rasa test
# nlu`), emergencies immediate or asked 0.928 (90/97), hard non-emergencies paged at once
# 0.069 (5/72); on the model of the third session (with the English support words and
# emergency examples): 0.906, 0.969 (94/97), 0.069 (5/72). One training moves these by 1-2
# points.
MACRO_F1_FLOOR = 0.88  # over the intents a citizen types (devtools/english_eval.py)
FOUND_FLOOR = 0.93  # emergencies found at once or with «Are you in danger now?»
NEGATIVES_PAGED_CEILING = 0.10  # hard non-emergencies paged at once


def test_the_english_sets_are_large_enough() -> None:
    assert len(load_examples(HELDOUT_EN)) >= 200
    emergencies = [e for e in load_examples(FRESH_EMERGENCY_EN) if e.intent == "emergency"]
    assert len(emergencies) >= 80


@pytest.mark.rasa
def test_english_macro_f1_and_emergencies(rasa_stack: RasaStack) -> None:
    figures = measure(rasa_stack.parse)
    # figures only, never the sentences: nobody may read this set's misses (it stays fresh)
    report = figures.report()
    macro_f1, found, paged = figures.macro_f1, figures.found.value, figures.negatives_paged.value
    assert macro_f1 >= MACRO_F1_FLOOR, report
    assert found >= FOUND_FLOOR, report
    assert paged <= NEGATIVES_PAGED_CEILING, report
