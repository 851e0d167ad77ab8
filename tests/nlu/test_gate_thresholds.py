"""devtools/gate_thresholds.py and the validation split it reads (no Rasa needed)."""

from __future__ import annotations

from collections import Counter

from core.settings import PROJECT_ROOT
from devtools.gate_eval import DEV_SETS, IN_DOMAIN_DEV
from devtools.gate_thresholds import Scored, as_config, choose, choose_one
from devtools.nlu_metrics import load_examples

OOD = "out_of_scope"


def test_the_threshold_gains_out_of_domain_without_losing_requests() -> None:
    scored = [
        Scored("service_details", "service_details", 0.97),
        Scored("service_details", "service_details", 0.91),
        Scored(OOD, "service_details", 0.88),  # weather taken for service details
        Scored(OOD, "service_details", 0.62),
        Scored(OOD, OOD, 0.99),
    ]
    row = choose_one(scored, "service_details")
    assert (row.threshold, row.gained, row.lost) == (0.9, 2, 0)
    assert (row.in_domain, row.ood_taken) == (2, 2)


def test_the_lowest_step_with_the_most_gains_is_chosen() -> None:
    scored = [Scored("greet", "greet", 0.99), Scored(OOD, "greet", 0.55)]
    assert choose_one(scored, "greet").threshold == 0.6


def test_a_lost_request_stops_the_threshold_unless_allowed() -> None:
    scored = [
        Scored("more_results", "more_results", 0.75),
        Scored("more_results", "more_results", 0.99),
        Scored(OOD, "more_results", 0.6),
        Scored(OOD, "more_results", 0.85),
    ]
    strict = choose_one(scored, "more_results")
    assert (strict.threshold, strict.gained, strict.lost) == (0.7, 1, 0)
    loose = choose_one(scored, "more_results", max_lost=1)
    assert (loose.threshold, loose.gained, loose.lost) == (0.9, 2, 1)


def test_a_near_miss_of_another_intent_counts_as_lost() -> None:
    scored = [Scored("search_service", "service_details", 0.7), Scored(OOD, "service_details", 0.8)]
    assert choose_one(scored, "service_details").threshold == 0.0


def test_intents_without_gain_keep_no_threshold() -> None:
    scored = [
        Scored("thank", "thank", 0.99),
        Scored(OOD, "inform", 0.7),
        Scored("emergency", "emergency", 0.6),
        Scored(OOD, OOD, 0.4),
    ]
    rows = choose(scored)
    assert [r.intent for r in rows] == ["inform", "thank"]
    assert as_config(rows) == {"inform": 0.8}


def test_the_in_domain_split_covers_every_trained_intent() -> None:
    trained = {
        e.intent
        for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml")
        for e in load_examples(path)
    } - {OOD}
    counts = Counter(e.intent for e in load_examples(IN_DOMAIN_DEV))
    assert OOD not in counts
    assert {i for i in trained if counts[i] < 12} == set()
    assert IN_DOMAIN_DEV in DEV_SETS
