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

# Regression sets (their failures were read on 2026-12-06): measured 2026-12-06, then on
# the model of 2026-12-07 (docs/nlu-pipeline.md); one training moves these by 1-2 points.
OOD_KEPT_OUT_FLOOR = 0.86  # 0.870 (262/301), 0.841 (253/301), then 0.910 with the detector
OOD_PAGED_CEILING = 0.01  # 0.000 (0/301), then 0.000
FRESH_FOUND_FLOOR = 0.88  # immediate or asked: 0.922 (107/116), then 0.957 (111/116)
# The support list of 2026-12-07 keeps ambiguous words («paura», «tagli», «non risponde»)
# for the question tier only: immediate went 0.793 -> 0.698 (81/116) while immediate or
# asked rose and the regression negatives paged at once fell from 14 to 2 of 1,028.
FRESH_IMMEDIATE_FLOOR = 0.66
NEGATIVES_PAGED_CEILING = 0.025  # 0.014 (14/1017), then 0.002 (2/1028)

# Headline sets of 2026-12-07 (tests/nlu_fresh/*_2026_12_07.yml, written by someone who
# saw neither the training data nor the older misses), measured once on the model of
# 2026-12-07 before any failure was read.
# 0.858 (218/254), 0.917 (233/254) with the detector, 0.929 (236/254) on the model for
# Italian and English with the day's out-of-domain data (docs/nlu-pipeline.md)
HEADLINE_OOD_KEPT_OUT_FLOOR = 0.90
HEADLINE_OOD_PAGED_CEILING = 0.01  # 0.004 (1/254)
HEADLINE_FOUND_FLOOR = 0.90  # immediate or asked: 0.932 (109/117)
HEADLINE_NEGATIVES_PAGED_CEILING = 0.025  # 0.017 (11/630), then 0.010 (6/630)

# Development sets (read and tuned on). The safety rules in two tiers (a figure of speech
# only asks) took negatives_dev.yml from 54 to 44 of 315 paged at once on the model of
# 2026-12-07 16:53 UTC, hyperbole, dreams and the radio (sixth session) to 34, and things
# that «kill» (the support file's `figures`, seventh session) to 26; the development
# emergencies stay all found.
DEV_NEGATIVES_PAGED_CEILING = 0.10  # 0.171 (54/315) before the rules' ask tier, 0.083 (26/315)
DEV_FOUND_FLOOR = 0.97  # immediate or asked: 1.000 (152/152 Italian, 94/94 English)


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
    assert result.headline_ood_kept_out.value >= HEADLINE_OOD_KEPT_OUT_FLOOR, report
    assert result.headline_ood_paged.value <= HEADLINE_OOD_PAGED_CEILING, report
    assert result.headline_asked_or_immediate.value >= HEADLINE_FOUND_FLOOR, report
    assert result.headline_negatives_paged.value <= HEADLINE_NEGATIVES_PAGED_CEILING, report
    assert result.dev_negatives_paged.value <= DEV_NEGATIVES_PAGED_CEILING, report
    assert result.dev_it_asked_or_immediate.value >= DEV_FOUND_FLOOR, report
    assert result.dev_en_asked_or_immediate.value >= DEV_FOUND_FLOOR, report
