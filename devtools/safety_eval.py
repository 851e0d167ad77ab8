"""The rule-based safety net alone, measured on the labelled sets a rules author may read.

    python -m devtools.safety_eval [--misses] [--file data/safety/emergency_patterns_en.yml]

For each set: recall on its emergencies and the false-alarm rate on its other sentences,
for the loaded rule set (every data/safety/emergency_patterns*.yml, what both runtimes run)
and for each rules file alone (the cross-language precision: English rules on Italian
sentences and the other way round). No Rasa, no model. Each count is split by the tier the
match gets (care.safety.tier): «now» pages at once, «ask» gets 112/1522 and «Sei in
pericolo adesso?» (a word of the reported lists of data/safety/emergency_support*.yml).

The independent test sets (tests/nlu_fresh/*2026_12*, tests/nlu_fresh_en/, tests/nlu_heldout*/)
are NOT in DEV_SETS on purpose: whoever tunes the rules must not read their misses.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from care.safety import ASK, SafetyMatch, SafetyRules, default_rules, pattern_files, tier
from core.settings import PROJECT_ROOT
from devtools.nlu_metrics import load_examples

EMERGENCY = "emergency"
FRESH = PROJECT_ROOT / "tests" / "nlu_fresh"
# (set, language): the sets a rules author may read
DEV_SETS: tuple[tuple[Path, str], ...] = (
    (FRESH / "emergency_it_dev.yml", "it"),
    (FRESH / "emergency.yml", "it"),
    (FRESH / "everyday.yml", "it"),
    (FRESH / "out_of_domain.yml", "it"),
    (FRESH / "out_of_domain_dev.yml", "it"),
    (FRESH / "in_domain_dev.yml", "it"),
    (FRESH / "negatives_dev.yml", "it"),
    (FRESH / "emergency_en_dev.yml", "en"),
)


@dataclass
class SetScore:
    name: str
    emergencies: int = 0
    caught: int = 0
    others: int = 0
    alarms: int = 0
    caught_asked: int = 0  # of ``caught``: the ask tier
    alarms_asked: int = 0  # of ``alarms``: the ask tier
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.caught / self.emergencies if self.emergencies else None

    @property
    def alarm_rate(self) -> float | None:
        return self.alarms / self.others if self.others else None

    def line(self) -> str:
        recall, rate = self.recall, self.alarm_rate
        left = (
            ""
            if recall is None
            else f"recall {recall:.3f} ({self.caught}/{self.emergencies}, ask {self.caught_asked})"
        )
        right = (
            ""
            if rate is None
            else f"false alarms {rate:.3f} ({self.alarms}/{self.others}, "
            f"now {self.alarms - self.alarms_asked}, ask {self.alarms_asked})"
        )
        return f"{self.name:26} {left:36} {right}"


def score(path: Path, detect: Callable[[str], SafetyMatch | None]) -> SetScore:
    result = SetScore(path.name)
    for example in load_examples(path):
        fired = detect(example.text)
        asked = fired is not None and tier(example.text) == ASK
        if example.intent == EMERGENCY:
            result.emergencies += 1
            if fired is not None:
                result.caught += 1
                result.caught_asked += int(asked)
            else:
                result.misses.append(example.text)
        else:
            result.others += 1
            if fired is not None:
                result.alarms += 1
                result.alarms_asked += int(asked)
                label = f"{fired.rule}, ask" if asked else fired.rule
                result.false_alarms.append(f"{example.text}  [{label}]")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print misses and false alarms")
    parser.add_argument("--file", type=Path, action="append", help="one rules file alone")
    args = parser.parse_args(argv)

    detectors: list[tuple[str, Callable[[str], SafetyMatch | None]]] = []
    if args.file:
        for path in args.file:
            detectors.append((path.name, SafetyRules.from_file(path).detect))
    else:
        detectors.append(("loaded set", default_rules().detect))
        for path in pattern_files():
            detectors.append((f"{path.name} alone", SafetyRules.from_file(path).detect))
    for label, detect in detectors:
        print(f"== {label}")
        for path, _language in DEV_SETS:
            if not path.is_file():
                continue
            result = score(path, detect)
            print("  " + result.line())
            if args.misses:
                for text in result.misses:
                    print(f"      MISS  {text}")
                for text in result.false_alarms:
                    print(f"      ALARM {text}")


if __name__ == "__main__":
    main()
