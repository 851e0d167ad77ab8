"""Emergency detection measured three ways on a labelled set (emergency vs not emergency).

(a) the rule-based safety net alone (care.safety.detect, the rules both runtimes run),
(b) the model alone (the intent DIET gave, read from /model/parse: when the Rasa-side
    safety net overrode it, its ``safety_net.model_intent``),
(c) the union the gateway acts on (rules on every message, plus Rasa's final intent).

    python -m devtools.emergency_eval [--model models/welcome.tar.gz] [--data FILE]

starts a Rasa on the model (loopback, temporary tracker store) and prints the figures and
every miss and false alarm. tests/nlu/test_fresh_emergency.py uses ``evaluate`` with the
session's Rasa. Only the test set's own sentences are printed (never citizens' messages).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from care.safety import detect
from core.settings import PROJECT_ROOT
from devtools.nlu_metrics import Example, load_examples

EMERGENCY = "emergency"
FRESH_SET = PROJECT_ROOT / "tests" / "nlu_fresh" / "emergency.yml"


@dataclass
class Detector:
    name: str
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    true_neg: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def add(self, text: str, *, gold: bool, predicted: bool) -> None:
        if gold and predicted:
            self.true_pos += 1
        elif gold:
            self.false_neg += 1
            self.misses.append(text)
        elif predicted:
            self.false_pos += 1
            self.false_alarms.append(text)
        else:
            self.true_neg += 1

    @property
    def recall(self) -> float:
        total = self.true_pos + self.false_neg
        return self.true_pos / total if total else 0.0

    @property
    def precision(self) -> float:
        total = self.true_pos + self.false_pos
        return self.true_pos / total if total else 0.0

    def line(self) -> str:
        return (
            f"{self.name}: recall {self.recall:.3f} ({self.true_pos}/"
            f"{self.true_pos + self.false_neg}), precision {self.precision:.3f} "
            f"({self.true_pos}/{self.true_pos + self.false_pos}), "
            f"false alarms {self.false_pos}/{self.false_pos + self.true_neg}"
        )


@dataclass
class Evaluation:
    rules: Detector
    model: Detector
    union: Detector

    def report(self) -> str:
        lines = [self.rules.line(), self.model.line(), self.union.line()]
        for detector in (self.rules, self.model, self.union):
            lines.append(f"\n{detector.name}: missed emergencies ({len(detector.misses)})")
            lines += [f"  - {text}" for text in detector.misses]
            lines.append(f"{detector.name}: false alarms ({len(detector.false_alarms)})")
            lines += [f"  - {text}" for text in detector.false_alarms]
        return "\n".join(lines)


def model_intent(parse: dict[str, Any]) -> str:
    """The model's own intent, before the Rasa-side safety net's override."""
    overridden = parse.get("safety_net")
    intent = overridden.get("model_intent") if overridden else parse.get("intent")
    if isinstance(intent, dict):  # {"name", "confidence"} as Rasa keeps it
        return str(intent.get("name") or "")
    return str(intent or "")


def evaluate(examples: list[Example], parse: Callable[[str], dict[str, Any]]) -> Evaluation:
    result = Evaluation(Detector("rules alone"), Detector("model alone"), Detector("union"))
    for example in examples:
        gold = example.intent == EMERGENCY
        rules = detect(example.text) is not None
        parsed = parse(example.text)
        model = model_intent(parsed) == EMERGENCY
        final = str((parsed.get("intent") or {}).get("name")) == EMERGENCY
        result.rules.add(example.text, gold=gold, predicted=rules)
        result.model.add(example.text, gold=gold, predicted=model)
        result.union.add(example.text, gold=gold, predicted=rules or final)
    return result


def main(argv: list[str] | None = None) -> int:
    from devtools.stack import start_local_stack

    parser = argparse.ArgumentParser(prog="python -m devtools.emergency_eval")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "welcome.tar.gz")
    parser.add_argument("--data", type=Path, default=FRESH_SET)
    args = parser.parse_args(argv)
    examples = load_examples(args.data)
    with tempfile.TemporaryDirectory(prefix="emergency-eval-") as tmp:
        workdir = Path(tmp)
        stack = start_local_stack(
            model=args.model,
            database_url=f"sqlite:///{workdir / 'welcome.db'}",
            workdir=workdir,
        )
        try:
            result = evaluate(examples, stack.parse)
        finally:
            stack.close()
    print(f"{args.data}: {len(examples)} examples, model {args.model}")
    print(result.report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
