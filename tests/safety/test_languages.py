"""The safety net in several languages: one rules file a language, all of them loaded.

data/safety/emergency_patterns.yml (Italian) and every other emergency_patterns*.yml
(emergency_patterns_en.yml...): each file with its own normalisation and negation, every
file tried on every message, by the gateway (care.safety) and by the Rasa component alike
(tests/safety/test_rasa_side.py). The floors on the development sets are a little below
what was measured on 2026-12-07 (docs/nlu-pipeline.md, "The safety net in two languages").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from care.safety import (
    PATTERNS_FILE,
    SafetyRules,
    SafetyRuleSet,
    default_rules,
    detect,
    pattern_files,
)
from core.settings import PROJECT_ROOT
from devtools import train
from devtools.nlu_metrics import load_examples
from tests.safety.phrases import EN_NEGATED, EN_NEGATIVE, EN_POSITIVE

SAFETY = PROJECT_ROOT / "data" / "safety"
ENGLISH_FILE = SAFETY / "emergency_patterns_en.yml"
FRESH = PROJECT_ROOT / "tests" / "nlu_fresh"
IT_DEV = FRESH / "emergency_it_dev.yml"
EN_DEV = FRESH / "emergency_en_dev.yml"
# Italian sentences a rules author may read (never the 2026_12* test sets)
ITALIAN_SETS = [
    IT_DEV,
    FRESH / "emergency.yml",
    FRESH / "everyday.yml",
    FRESH / "out_of_domain.yml",
    FRESH / "out_of_domain_dev.yml",
    FRESH / "in_domain_dev.yml",
]


def _split(path: Path) -> tuple[list[str], list[str]]:
    examples = load_examples(path)
    return (
        [e.text for e in examples if e.intent == "emergency"],
        [e.text for e in examples if e.intent != "emergency"],
    )


def _rate(rules: SafetyRules | SafetyRuleSet, texts: list[str]) -> float:
    assert texts
    return sum(rules.detect(text) is not None for text in texts) / len(texts)


def test_every_rules_file_of_data_safety_is_loaded_italian_first() -> None:
    files = pattern_files()
    assert files[0] == PATTERNS_FILE
    assert ENGLISH_FILE in files
    assert len(default_rules().parts) == len(files)
    # devtools.train hashes data/safety/: a new language's file retrains the model
    hashed = set(train._files([train.DATA_DIR / "safety"]))
    assert all(path in hashed and path.suffix in train.DATA_SUFFIXES for path in files)


@pytest.mark.parametrize(("text", "kind"), EN_POSITIVE)
def test_english_emergencies_fire(text: str, kind: str) -> None:
    match = detect(text)
    assert match is not None, text
    assert match.kind == kind, (text, match)


@pytest.mark.parametrize("text", EN_NEGATIVE)
def test_ordinary_english_requests_do_not_fire(text: str) -> None:
    assert detect(text) is None, (text, detect(text))


@pytest.mark.parametrize("text", EN_NEGATED)
def test_english_negation_drops_negatable_rules(text: str) -> None:
    assert detect(text) is None, (text, detect(text))
    assert detect(text.replace("doesnt ", "").replace("does not ", "").replace("never ", ""))


def test_the_english_file_brings_its_own_negation_and_a_file_without_keeps_the_italian() -> None:
    english = SafetyRules.from_file(ENGLISH_FILE)
    assert english.negation.search(" my husband never")
    assert not english.negation.search(" mio marito non")
    rule = {"id": "violence.hit_me", "kind": "violence", "negatable": True, "regex": " hits"}
    without_key = SafetyRules({"patterns": [rule]})
    assert without_key.detect("lui non hits") is None  # the Italian «non» negates
    assert without_key.detect("he never hits") is not None
    with_key = SafetyRules({"negation": r"\bnever(?: \w+){0,2}$", "patterns": [rule]})
    assert with_key.detect("he never hits") is None
    assert with_key.detect("lui non hits") is not None


def test_a_new_language_is_a_new_file(tmp_path: Path) -> None:
    """No code: a file named emergency_patterns*.yml is read, after the Italian one."""
    for path in pattern_files():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "emergency_patterns_ro.yml").write_text(
        "version: 1\n"
        "negation: '\\bnu(?: \\w+){0,2}$'\n"
        "patterns:\n"
        "- id: violence.hit_me\n"
        "  kind: violence\n"
        "  negatable: true\n"
        "  regex: ' ma bate'\n",
        encoding="utf-8",
    )
    files = pattern_files(tmp_path)
    assert files[0].name == "emergency_patterns.yml"
    rules = SafetyRuleSet.from_files(files)
    assert rules.detect("sotul meu ma bate") is not None
    assert rules.detect("sotul meu nu ma bate") is None
    assert rules.detect("mio marito mi picchia") is not None


def test_an_exception_in_one_language_holds_for_the_same_rule_in_another() -> None:
    """«stalking» is a word of both: the Italian rule must not page on English talk about it."""
    italian = SafetyRules.from_file(PATTERNS_FILE)
    english = SafetyRules.from_file(ENGLISH_FILE)
    text = "we watched a documentary about stalking at school"
    assert italian.detect(text) is not None  # the Italian file alone knows no "documentary"
    assert detect(text) is None
    text = "la serie che guardo parla di stalking"
    assert english.detect(text) is not None
    assert detect(text) is None
    assert detect("my ex is stalking me") is not None
    assert detect("il mio ex mi fa stalking") is not None


def _added_alarms(alone: SafetyRules, texts: list[str]) -> list[str]:
    """The sentences on which the loaded set fires and the language's own file does not."""
    return [t for t in texts if detect(t) is not None and alone.detect(t) is None]


def test_english_rules_stay_quiet_on_italian_sentences() -> None:
    english, italian = SafetyRules.from_file(ENGLISH_FILE), SafetyRules.from_file(PATTERNS_FILE)
    for path in ITALIAN_SETS:
        emergencies, others = _split(path)
        assert _rate(english, others) <= 0.01, path.name  # measured 0 to 1 in 100
        assert _added_alarms(italian, others) == [], path.name
        if emergencies:
            assert _rate(english, emergencies) <= 0.05, path.name


def test_italian_rules_stay_quiet_on_english_sentences() -> None:
    italian, english = SafetyRules.from_file(PATTERNS_FILE), SafetyRules.from_file(ENGLISH_FILE)
    _, others = _split(EN_DEV)
    assert _rate(italian, others) <= 0.01  # measured 0 of 183
    assert _added_alarms(english, others) == []


def test_loaded_rules_on_the_english_dev_set() -> None:
    emergencies, others = _split(EN_DEV)
    assert len(emergencies) >= 80 and len(others) >= 150
    assert _rate(default_rules(), emergencies) >= ENGLISH_RECALL_FLOOR
    assert _rate(default_rules(), others) <= ENGLISH_ALARM_CEILING


def test_loaded_rules_on_the_italian_dev_set() -> None:
    emergencies, others = _split(IT_DEV)
    assert len(emergencies) >= 120 and len(others) >= 300
    assert _rate(default_rules(), emergencies) >= ITALIAN_RECALL_FLOOR
    assert _rate(default_rules(), others) <= ITALIAN_ALARM_CEILING


# measured 2026-12-07 on the dev sets (tuned on them, so optimistic): English 1.000 (94/94)
# and 0.005 (1/183); Italian 0.974 (148/152) and 0.000 (0/315), from 0.316 and 0.130
# before the rules were widened
ENGLISH_RECALL_FLOOR = 0.95
ENGLISH_ALARM_CEILING = 0.02
ITALIAN_RECALL_FLOOR = 0.93
ITALIAN_ALARM_CEILING = 0.01
