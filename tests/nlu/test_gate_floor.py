"""Out of domain and the emergency tiers, through the session's Rasa: floors for CI.

Issue 12 points 1, 2 and 7. devtools.gate_eval measures what the gateway and Rasa do:
the OOD test split (tests/nlu_fresh/out_of_domain.yml, never trained or tuned on) kept out
of the welfare intents and paged as emergencies; the fresh emergency set written before
any model ran on it (tests/nlu_fresh/emergency_2026_12.yml) found at once or with the
question «Sei in pericolo adesso?»; the >=1,000 negatives paged at once.
Floors a little under the measured figures (docs/nlu-pipeline.md, "Out of domain").
"""

from __future__ import annotations

import pytest

from devtools.gate_eval import FRESH_EMERGENCY, OOD_TEST, measure, negatives
from devtools.nlu_metrics import load_examples
from tests.fixtures.rasa import RasaStack

# measured 2026-12-06 (docs/nlu-pipeline.md); one training moves these by 1-2 points
OOD_KEPT_OUT_FLOOR = 0.83  # measured 0.870 (262/301)
OOD_PAGED_CEILING = 0.01  # measured 0.000 (0/301)
FRESH_FOUND_FLOOR = 0.88  # immediate or asked: measured 0.922 (107/116)
FRESH_IMMEDIATE_FLOOR = 0.74  # measured 0.793 (92/116)
NEGATIVES_PAGED_CEILING = 0.025  # measured 0.014 (14/1017)


def test_the_sets_are_large_enough_and_apart() -> None:
    assert len(negatives()) >= 1000
    assert len(load_examples(OOD_TEST)) >= 300
    assert len(load_examples(FRESH_EMERGENCY)) >= 100
    fresh = {e.text for e in load_examples(FRESH_EMERGENCY)}
    assert not fresh & {e.text for e in negatives()}


@pytest.mark.rasa
def test_out_of_domain_and_emergency_tiers(rasa_stack: RasaStack) -> None:
    result = measure(rasa_stack.parse)
    report = result.report()
    assert result.ood_kept_out.value >= OOD_KEPT_OUT_FLOOR, report
    assert result.ood_paged.value <= OOD_PAGED_CEILING, report
    assert result.fresh_asked_or_immediate.value >= FRESH_FOUND_FLOOR, report
    assert result.fresh_immediate.value >= FRESH_IMMEDIATE_FLOOR, report
    assert result.negatives_paged.value <= NEGATIVES_PAGED_CEILING, report
