"""The 2026-12-07 fresh sets (issue 12): as large as their brief asks, apart from each other.

devtools.gate_eval reports them as the headline figures; nothing may be tuned on them.
These checks need no model: sizes, groups and that no sentence is in two sets (an
emergency counted as a negative, or a sentence weighed twice).
"""

from __future__ import annotations

from collections import Counter

import yaml

from core.settings import PROJECT_ROOT
from devtools.gate_eval import (
    HEADLINE_EMERGENCY,
    HEADLINE_EVERYDAY,
    HEADLINE_OOD,
    headline_emergencies,
    headline_negatives,
)
from devtools.nlu_metrics import load_examples
from devtools.search_eval import HEADLINE_PARAPHRASES, load_requests
from tests.nlu.test_no_leak import fold


def domain_intents() -> set[str]:
    """The intents the assistant knows (domain.yml holds every intent of the NLU contract)."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}


def test_the_sets_are_as_large_as_asked() -> None:
    assert len(load_examples(HEADLINE_OOD)) >= 220
    assert len(headline_emergencies()) >= 110
    hard = [e for e in load_examples(HEADLINE_EMERGENCY) if e.intent != "emergency"]
    assert len(hard) >= 60
    assert len(load_examples(HEADLINE_EVERYDAY)) >= 300
    requests = load_requests(HEADLINE_PARAPHRASES)
    assert len(requests) >= 72
    assert min(Counter(r.category for r in requests).values()) >= 4


def test_the_labels_are_intents_of_the_assistant() -> None:
    known = domain_intents()
    assert {e.intent for e in load_examples(HEADLINE_OOD)} == {"out_of_scope"}
    everyday = {e.intent for e in load_examples(HEADLINE_EVERYDAY)}
    assert everyday <= known - {"emergency"}
    assert {e.intent for e in load_examples(HEADLINE_EMERGENCY)} <= known


def test_no_sentence_is_in_two_places() -> None:
    emergencies = [fold(e.text) for e in headline_emergencies()]
    negatives = [fold(e.text) for e in headline_negatives()]
    everything = (
        emergencies + negatives + [fold(r.text) for r in load_requests(HEADLINE_PARAPHRASES)]
    )
    repeated = [t for t, n in Counter(everything).items() if n > 1 and t]
    assert repeated == []


def test_no_sentence_repeats_an_older_set() -> None:
    """The older sets had their failures read and acted on: a repeat would not be fresh."""
    fresh = PROJECT_ROOT / "tests" / "nlu_fresh"
    older_files = [
        fresh / "emergency.yml",
        fresh / "emergency_2026_12.yml",
        fresh / "everyday.yml",
        fresh / "out_of_domain.yml",
        fresh / "out_of_domain_dev.yml",
        PROJECT_ROOT / "tests" / "nlu_heldout" / "nlu.yml",
    ]
    older = {fold(e.text) for path in older_files for e in load_examples(path)}
    older |= {fold(r.text) for r in load_requests(fresh / "search_paraphrases.yml")}
    new = [e.text for e in [*headline_emergencies(), *headline_negatives()]]
    new += [r.text for r in load_requests(HEADLINE_PARAPHRASES)]
    assert [t for t in new if fold(t) and fold(t) in older] == []


def test_their_failures_are_never_listed() -> None:
    from dataclasses import fields

    from devtools.gate_eval import GateFigures, Share

    figures = GateFigures(*(Share(f.name) for f in fields(GateFigures)))
    for share in figures.shares():
        share.add(f"sentence of {share.name}", False, failure_when=False)
    listed = figures.report(misses=True)
    unread = {share.name for share in figures.unread()}
    assert unread and all(f"sentence of {name}" not in listed for name in unread)
    assert "sentence of ood_kept_out" in listed  # a regression set's failures are listed
