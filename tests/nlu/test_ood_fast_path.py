"""The out-of-domain detector's one-text fast path (nlu/ood_model.py, ``_FastScorer``)
gives scikit-learn's P(out) to 1e-9 on every sentence of data/nlu/ and of
tests/nlu_fresh/out_of_domain_dev.yml and on odd inputs (empty, emoji, other scripts, very
long), in both modes of the model; it is rebuilt after loading and never stored
(tests/nlu/rasa_side_ood_fast.py runs it in Rasa's environment)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.nlu.rasa_side import run_rasa_side


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return run_rasa_side("rasa_side_ood_fast.py", timeout=600)


@pytest.mark.parametrize("mode", ["intents", "binary"])
def test_the_fast_path_gives_scikit_learns_probability(report: dict[str, Any], mode: str) -> None:
    assert report["corpus"] > 4000
    found = report[mode]
    assert found["over_1e-9"] == [] and found["max_difference"] <= 1e-9
    assert found["batch_max_difference"] <= 1e-9
    assert found["rounded_equal"] == report["texts"]  # the component rounds to 4 places
    assert 0.05 < found["out_share"] < 0.95  # both sides of the threshold are exercised


@pytest.mark.parametrize("mode", ["intents", "binary"])
def test_the_fast_path_is_rebuilt_after_loading_not_stored(
    report: dict[str, Any], mode: str
) -> None:
    found = report[mode]
    assert found["scorer_built"] and found["scorer_rebuilt_after_loading"]
    assert not found["scorer_stored"]
