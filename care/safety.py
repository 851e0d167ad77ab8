"""Rule-based emergency detection that does not depend on the NLU model.

The gateway calls ``detect(text)`` on every incoming message, in any mode and in any
language. The rules live in data/safety/emergency_patterns*.yml (one file a language:
emergency_patterns.yml Italian, emergency_patterns_en.yml English; every file is tried)
and the matching in nlu/safety_rules.py, the one module both runtimes load: it uses only
the standard library and PyYAML, so the Rasa component (nlu/safety_net.py, Python 3.10)
and the gateway (Python 3.11) run the very same code and the very same files
(tests/safety/test_rasa_side.py checks both interpreters answer alike).

    >>> detect("mio marito mi picchia")
    SafetyMatch(kind='violence', rule='violence.hit_me')
    >>> detect("my husband hits me")
    SafetyMatch(kind='violence', rule='violence.hit_me')

A match carries the rule and the kind only: never the text (no personal data in logs).

A match has one of two tiers (docs/nlu-pipeline.md, "Emergency tiers"), ``tier(text)``:
``immediate`` (112/1522 and the top-priority hand-off at once) or, when the message also
has a word of the ``reported`` lists of data/safety/emergency_support*.yml (idioms, jokes,
games, news: «di risate», «ahah», «a carte»), ``ask``: 112/1522 at once and «Sei in
pericolo adesso?», the question of the model's ask tier. The same function
(nlu/gate_rules.py ``rule_tier``) gives the tier inside Rasa (nlu/safety_net.py).

    >>> detect("ieri a carte ho preso delle botte dal nonno")
    SafetyMatch(kind='violence', rule='violence.hit_me')
    >>> tier("ieri a carte ho preso delle botte dal nonno"), tier("mio marito mi picchia")
    ('ask', 'immediate')
"""

from __future__ import annotations

from nlu.gate_rules import ASK, IMMEDIATE, default_support, rule_tier
from nlu.safety_rules import (
    KINDS,
    PATTERNS_FILE,
    Rule,
    SafetyMatch,
    SafetyRules,
    SafetyRuleSet,
    default_rules,
    detect,
    pattern_files,
)


def tier(text: str) -> str:
    """The tier of a rule match on ``text``: ``ask`` or ``immediate`` (never lower)."""
    return rule_tier(text, default_support())


__all__ = [
    "ASK",
    "IMMEDIATE",
    "KINDS",
    "PATTERNS_FILE",
    "Rule",
    "SafetyMatch",
    "SafetyRuleSet",
    "SafetyRules",
    "default_rules",
    "detect",
    "pattern_files",
    "tier",
]
