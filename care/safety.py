"""Rule-based emergency detection that does not depend on the NLU model.

The gateway calls ``detect(text)`` on every incoming message, in any mode. The rules live in
data/safety/emergency_patterns.yml and the matching in nlu/safety_rules.py, the one module
both runtimes load: it uses only the standard library and PyYAML, so the Rasa component
(nlu/safety_net.py, Python 3.10) and the gateway (Python 3.11) run the very same code
(tests/safety/test_rasa_side.py checks both interpreters answer alike).

    >>> detect("mio marito mi picchia")
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
    default_rules,
    detect,
)

__all__ = [
    "KINDS",
    "PATTERNS_FILE",
    "Rule",
    "SafetyMatch",
    "SafetyRules",
    "default_rules",
    "detect",
]
