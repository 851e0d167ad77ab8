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
"""

from __future__ import annotations

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

__all__ = [
    "KINDS",
    "PATTERNS_FILE",
    "Rule",
    "SafetyMatch",
    "SafetyRuleSet",
    "SafetyRules",
    "default_rules",
    "detect",
    "pattern_files",
]
