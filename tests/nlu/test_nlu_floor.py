"""The NLU model on the held-out set (never trained on): a regression fails CI.

Parses every held-out example through the running Rasa of the session (``rasa_stack``,
/model/parse: the full pipeline, safety net included) and scores the intents.
Floors: a few points under the measured figures (docs/nlu-pipeline.md).
"""

from __future__ import annotations

import pytest

from devtools.nlu_metrics import load_examples, macro_f1, score_intents
from devtools.rasa_env import HELDOUT_FILE
from tests.fixtures.rasa import RasaStack

# measured 0.941 (2026-12-06, 453 examples), 0.916 (2026-12-07, 100 DIET epochs), then 0.903
# with 50 epochs and the out-of-domain detector (464 examples: it turns 4 requests away),
# then 0.926 (`rasa test nlu`) on the one model for Italian and English (2026-12-07, third
# session); the goal is 0.93 (issue 12), one training moves this by 1-2 points
MACRO_F1_FLOOR = 0.90
EMERGENCY_RECALL_FLOOR = 0.95

pytestmark = [pytest.mark.rasa]


def test_heldout_macro_f1_and_emergency_recall(rasa_stack: RasaStack) -> None:
    if not HELDOUT_FILE.is_file():
        pytest.fail(f"held-out set missing: {HELDOUT_FILE}")
    examples = load_examples(HELDOUT_FILE)
    assert len(examples) >= 100
    gold = [example.intent for example in examples]
    predicted = [rasa_stack.parse(example.text)["intent"]["name"] for example in examples]
    scores = score_intents(gold, predicted)
    weakest = sorted(scores.items(), key=lambda item: item[1].f1)[:5]
    report = ", ".join(f"{name} {score.f1:.2f}" for name, score in weakest)

    assert macro_f1(scores) >= MACRO_F1_FLOOR, f"macro-F1 {macro_f1(scores):.3f}; weakest {report}"
    assert scores["emergency"].recall >= EMERGENCY_RECALL_FLOOR, (
        f"emergency recall {scores['emergency'].recall:.3f}"
    )
