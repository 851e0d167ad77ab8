"""The fresh emergency test set (tests/nlu_fresh/emergency.yml): nobody has tuned on it.

Written before its author read the training data, the held-out set or the safety rules
(see the labelling rule in the file and docs/nlu-pipeline.md, "Fresh emergency test set").
Do not tune the rules or the training data on it: a future session that acts on its misses
writes a new fresh set and keeps this one as a regression check only.

Floors a little under the measured figures (2026-11-25, two models trained that day):
union of rules and model (what the gateway acts on) recall 0.929 and 0.939 (92 and 93 of
99), rules alone 0.727 (72/99).
"""

from __future__ import annotations

import pytest

from care.safety import detect
from devtools.emergency_eval import EMERGENCY, FRESH_SET, evaluate
from devtools.nlu_metrics import load_examples
from tests.fixtures.rasa import RasaStack

UNION_RECALL_FLOOR = 0.90  # measured 0.929 and 0.939
RULES_RECALL_FLOOR = 0.80  # measured 0.727; 0.828 after the 2026-12-07 rules (not tuned on it)


def test_the_set_is_large_and_balanced() -> None:
    examples = load_examples(FRESH_SET)
    emergencies = [e for e in examples if e.intent == EMERGENCY]
    assert len(emergencies) >= 80
    assert len(examples) - len(emergencies) >= 80
    assert len({e.text for e in examples}) == len(examples)  # no duplicates


def test_the_rules_alone_catch_their_share() -> None:
    """The safety net does not depend on the model: its own floor, no Rasa needed."""
    emergencies = [e for e in load_examples(FRESH_SET) if e.intent == EMERGENCY]
    caught = sum(detect(e.text) is not None for e in emergencies)
    assert caught / len(emergencies) >= RULES_RECALL_FLOOR, f"{caught}/{len(emergencies)}"


@pytest.mark.rasa
def test_the_union_of_rules_and_model_finds_the_emergencies(rasa_stack: RasaStack) -> None:
    result = evaluate(load_examples(FRESH_SET), rasa_stack.parse)
    union = result.union
    assert union.recall >= UNION_RECALL_FLOOR, (
        f"{union.line()}; {result.model.line()}; missed: {union.misses}"
    )
