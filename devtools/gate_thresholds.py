"""Per-intent out-of-domain thresholds chosen on validation data (issue 12).

nlu.intent_gate turns a first intent whose confidence is under ``thresholds[intent]`` into
out_of_scope. One global threshold cost held-out macro-F1 (docs/nlu-pipeline.md): short
chit-chat and paging are often less sure than a weather question taken for
service_details. So each intent gets its own, chosen on the validation splits only
(tests/nlu_fresh/in_domain_dev.yml and out_of_domain_dev.yml), never on a test set.

For one intent X, with the model's first intent and confidence of every validation
sentence: a threshold t *loses* the in-domain sentences (of any intent: a near miss is
still better than «non ho capito») that the model gave to X with confidence under t, and
*gains* the out-of-domain sentences the model gave to X with confidence under t. The
chosen t is the lowest step with the most gains among the steps that lose at most
``max_lost``; an intent with no gain keeps no threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

OUT_OF_SCOPE = "out_of_scope"
STEPS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995)
NEVER = frozenset({OUT_OF_SCOPE, "emergency", "nlu_fallback"})


@dataclass(frozen=True)
class Scored:
    """One validation sentence: its label and the model's first intent with confidence."""

    label: str
    predicted: str
    confidence: float


@dataclass(frozen=True)
class IntentThreshold:
    intent: str
    threshold: float
    in_domain: int  # in-domain validation sentences the model gave to this intent
    lost: int
    ood_taken: int  # out-of-domain sentences the model gave to this intent
    gained: int


def _lost(scored: Sequence[Scored], intent: str, t: float) -> int:
    return sum(
        1 for s in scored if s.label != OUT_OF_SCOPE and s.predicted == intent and s.confidence < t
    )


def _gained(scored: Sequence[Scored], intent: str, t: float) -> int:
    return sum(
        1 for s in scored if s.label == OUT_OF_SCOPE and s.predicted == intent and s.confidence < t
    )


def choose_one(
    scored: Sequence[Scored], intent: str, *, max_lost: int = 0, steps: Iterable[float] = STEPS
) -> IntentThreshold:
    """The lowest step with the most out-of-domain gains that loses at most ``max_lost``."""
    best = 0.0
    best_gain = 0
    for t in sorted(steps):
        if _lost(scored, intent, t) > max_lost:
            break
        gain = _gained(scored, intent, t)
        if gain > best_gain:
            best, best_gain = t, gain
    return IntentThreshold(
        intent=intent,
        threshold=best,
        in_domain=sum(1 for s in scored if s.label != OUT_OF_SCOPE and s.predicted == intent),
        lost=_lost(scored, intent, best) if best else 0,
        ood_taken=sum(1 for s in scored if s.label == OUT_OF_SCOPE and s.predicted == intent),
        gained=best_gain,
    )


def choose(
    scored: Sequence[Scored], *, max_lost: int = 0, steps: Iterable[float] = STEPS
) -> list[IntentThreshold]:
    """One row per intent the model predicted (out_of_scope and emergency excluded)."""
    steps = tuple(steps)
    intents = sorted({s.predicted for s in scored} - NEVER)
    return [choose_one(scored, i, max_lost=max_lost, steps=steps) for i in intents]


def as_config(rows: Iterable[IntentThreshold]) -> dict[str, float]:
    """The ``thresholds`` mapping for config.yml's IntentGate (only intents that gain)."""
    return {r.intent: r.threshold for r in rows if r.threshold > 0.0}
