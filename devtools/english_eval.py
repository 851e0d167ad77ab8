"""English understanding (issue 17): the figures CI keeps floors on.

    python -m devtools.english_eval [--model models/welcome.tar.gz]

starts Rasa on the model (the one model trained on Italian and English) and measures, on
sets nobody trained or tuned on:

- the English held-out set (tests/nlu_heldout_en/nlu.yml): intent macro-F1 over the intents
  a citizen types (the headline), and over every intent of the set. The set also holds typed
  sentences for intents that by design arrive only as button payloads and have no training
  example in either language (pay_with_budget, confirm_payment, choose_slot, book_slot,
  confirm_reimbursement: typed, «confirm the refund» is `affirm` and «pay it with my budget»
  is `book_service`, as in Italian); the Italian held-out set has none of them;
- the English fresh emergency set (tests/nlu_fresh_en/emergency.yml): emergencies found at
  once or with the question «Are you in danger now?», and its hard non-emergencies paged
  at once (the same decision as devtools.gate_eval: rules, then Rasa's gate).

tests/nlu/test_english_floor.py asserts floors a little under these figures with the
session's Rasa; the figures are in docs/nlu-pipeline.md ("English").
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.settings import PROJECT_ROOT
from devtools.gate_eval import Parse, Share, outcome
from devtools.nlu_metrics import LabelScore, load_examples, macro_f1, score_intents
from nlu.gate_rules import ASK, EMERGENCY, IMMEDIATE

HELDOUT_EN = PROJECT_ROOT / "tests" / "nlu_heldout_en" / "nlu.yml"
TRAINING = PROJECT_ROOT / "data" / "nlu"
FRESH_EMERGENCY_EN = PROJECT_ROOT / "tests" / "nlu_fresh_en" / "emergency.yml"


def trained_intents(training: Path = TRAINING) -> frozenset[str]:
    """The intents with at least one training example, in any language."""
    return frozenset(
        example.intent for path in training.glob("**/*.yml") for example in load_examples(path)
    )


@dataclass
class EnglishFigures:
    scores: dict[str, LabelScore]
    typed: frozenset[str]  # the intents a citizen types (trained on), the headline's
    found: Share  # emergencies: immediate or asked
    immediate: Share
    negatives_paged: Share  # hard non-emergencies paged at once

    @property
    def macro_f1(self) -> float:
        """Over the intents a citizen types: the headline figure."""
        return macro_f1({k: v for k, v in self.scores.items() if k in self.typed})

    @property
    def macro_f1_all(self) -> float:
        return macro_f1(self.scores)

    def report(self) -> str:
        typed = {k: v for k, v in self.scores.items() if k in self.typed}
        weakest = sorted(typed.items(), key=lambda item: item[1].f1)[:5]
        lines = [
            f"{'English held-out: intent macro-F1, typed intents':<55} {self.macro_f1:.3f}",
            f"{'English held-out: intent macro-F1, every intent':<55} {self.macro_f1_all:.3f}",
            "  weakest: " + ", ".join(f"{name} {score.f1:.2f}" for name, score in weakest),
            self.found.line(),
            self.immediate.line(),
            self.negatives_paged.line(),
        ]
        return "\n".join(lines)


def measure(parse: Parse) -> EnglishFigures:
    held_out = load_examples(HELDOUT_EN)
    gold = [example.intent for example in held_out]
    predicted = [str(parse(example.text)["intent"]["name"]) for example in held_out]
    figures = EnglishFigures(
        score_intents(gold, predicted),
        trained_intents(),
        Share("English emergencies: immediate or asked"),
        Share("English emergencies: immediate"),
        Share("English hard non-emergencies: paged at once"),
    )
    for example in load_examples(FRESH_EMERGENCY_EN):
        got = outcome(example.text, parse(example.text))
        if example.intent == EMERGENCY:
            figures.found.add(example.text, got.action in (IMMEDIATE, ASK), failure_when=False)
            figures.immediate.add(example.text, got.action == IMMEDIATE, failure_when=None)
        else:
            figures.negatives_paged.add(example.text, got.action == IMMEDIATE, failure_when=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    from devtools.stack import start_local_stack

    parser = argparse.ArgumentParser(prog="python -m devtools.english_eval")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "welcome.tar.gz")
    parser.add_argument("--misses", action="store_true", help="print the emergencies missed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="english-eval-") as tmp:
        workdir = Path(tmp)
        stack = start_local_stack(
            model=args.model, database_url=f"sqlite:///{workdir / 'welcome.db'}", workdir=workdir
        )
        try:
            figures = measure(stack.parse)
        finally:
            stack.close()
    print(figures.report())
    if args.misses:
        for text in [*figures.found.failures, *figures.negatives_paged.failures]:
            print("  miss:", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
