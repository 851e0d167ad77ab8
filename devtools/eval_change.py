"""`make eval`'s "before and after": the held-out figures of the previous evaluation (its
results/summary.json) beside this one's, with how many reviewed examples (data/nlu/review/,
from `python -m console review-export`) each model was trained on.

The loop: `make eval` (before), review in the console, `python -m console review-export`,
`make train`, `make eval` (after: prints both)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from review.export import examples_in

FIGURES = (
    ("macro_f1", "macro-F1"),
    ("weighted_f1", "weighted F1"),
    ("accuracy", "accuracy"),
    ("emergency_recall", "emergency recall"),
    ("entity_micro_f1", "entity F1"),
)
REVIEW_KEY = "review_examples"


def previous(out: Path) -> dict[str, Any] | None:
    """The last held-out evaluation's summary in ``out``, if any."""
    path = out / "summary.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("kind") == "heldout" else None


def review_examples(nlu_data: Path) -> int:
    """How many reviewed examples the training data holds."""
    return len(examples_in([nlu_data / "review"]))


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def lines(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The comparison, one line a figure; empty when there is no earlier evaluation."""
    if before is None:
        return []
    out = ["== held-out set: the previous evaluation, then this one =="]
    for key, label in FIGURES:
        old, new = before.get(key), after.get(key)
        change = (
            f"  ({new - old:+.3f})"
            if isinstance(old, int | float) and isinstance(new, int | float)
            else ""
        )
        out.append(f"{label:<18}{_number(old)} -> {_number(new)}{change}")
    old_n = (before.get("extra") or {}).get(REVIEW_KEY, 0)
    new_n = (after.get("extra") or {}).get(REVIEW_KEY, 0)
    out.append(f"{'reviewed examples':<18}{old_n} -> {new_n}")
    return out
