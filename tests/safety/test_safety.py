"""care.safety.detect: every kind fires, typos included; ordinary requests do not."""

from __future__ import annotations

import pytest

from care.safety import PATTERNS_FILE, SafetyRules, detect
from tests.safety.phrases import NEGATIVE, POSITIVE


@pytest.mark.parametrize(("text", "kind"), POSITIVE)
def test_emergency_phrases_fire(text: str, kind: str) -> None:
    match = detect(text)
    assert match is not None, text
    assert match.kind == kind, (text, match)


@pytest.mark.parametrize("text", NEGATIVE)
def test_ordinary_requests_do_not_fire(text: str) -> None:
    assert detect(text) is None, (text, detect(text))


def test_every_kind_has_positive_phrases() -> None:
    rules = SafetyRules.from_file(PATTERNS_FILE)
    kinds = {rule.kind for rule in rules.rules}
    assert {"violence", "self_harm", "medical", "child_abuse"} <= kinds
    assert kinds <= {kind for _, kind in POSITIVE} | {"child_abuse"}


def test_normalisation_folds_accents_symbols_and_shorthand() -> None:
    rules = SafetyRules.from_file(PATTERNS_FILE)
    assert rules.normalise("Nn voglio + VIVERE!!! Perchè?") == " non voglio piu vivere perche "
    assert rules.normalise("aiutooo") == " aiuto "


def test_negation_drops_negatable_rules_only() -> None:
    assert detect("mio marito non mi picchia") is None
    assert detect("non so cosa fare, mi picchia") is not None
    assert detect("non voglio più vivere") is not None  # the negation is the message


def test_a_match_carries_no_text() -> None:
    match = detect("mio marito mi picchia")
    assert match is not None
    assert set(vars(match)) == {"kind", "rule"}


def test_every_rule_compiles_and_has_an_id_prefix_of_its_kind() -> None:
    rules = SafetyRules.from_file(PATTERNS_FILE)
    ids = [rule.id for rule in rules.rules]
    assert len(ids) == len(set(ids))
    for rule in rules.rules:
        assert rule.id.split(".")[0] == rule.kind
        assert rule.regexes


@pytest.mark.parametrize(
    "text",
    [
        "quella salita prova a ucciderci dalla fatica",
        "la palestra vuole ammazzarci con gli addominali",
        "il prof vuole ammazzarci di compiti",
    ],
)
def test_the_attempt_rule_leaves_figures_of_speech(text: str) -> None:
    """violence.attempt («ha provato a strangolarmi») skips «… di compiti», «… dalla
    fatica»; whether another rule pages such a sentence is that rule's business."""
    match = detect(text)
    assert match is None or match.rule != "violence.attempt"
