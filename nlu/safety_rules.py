"""The emergency rules of data/safety/emergency_patterns.yml, for both runtimes.

The one module shared by the Rasa side (nlu/safety_net.py, Python 3.10) and the gateway
(care/safety.py, Python 3.11): it must import only the standard library and PyYAML
(tests/safety/test_shared_module.py checks it), so either interpreter can load it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PATTERNS_FILE = Path(__file__).resolve().parents[1] / "data" / "safety" / "emergency_patterns.yml"
KINDS = ("violence", "self_harm", "medical", "child_abuse")

_MACRO = re.compile(r"\{([A-Z_]+)\}")
_NOT_WORD = re.compile(r"[\W_]+")
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")
_NEGATION = re.compile(r"\b(?:non|mai|nessuno)(?: \w+){0,2}$")


@dataclass(frozen=True)
class SafetyMatch:
    kind: str  # violence | self_harm | medical | child_abuse
    rule: str  # the rule id in emergency_patterns.yml, e.g. "violence.hit_me"


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    regexes: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    negatable: bool

    def fires(self, norm: str) -> bool:
        if any(pattern.search(norm) for pattern in self.unless):
            return False
        for pattern in self.regexes:
            for match in pattern.finditer(norm):
                if not (self.negatable and _NEGATION.search(norm[: match.start()])):
                    return True
        return False


class SafetyRules:
    """The compiled rules of one patterns file."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.symbols: dict[str, str] = dict(spec.get("symbols") or {})
        self.shorthand: dict[str, str] = {
            str(k): str(v) for k, v in (spec.get("shorthand") or {}).items()
        }
        macros: dict[str, str] = dict(spec.get("macros") or {})

        def expand(regex: str) -> str:
            return _MACRO.sub(lambda m: f"(?:{macros[m.group(1)]})", regex)

        self.rules: list[Rule] = []
        for item in spec["patterns"]:
            regexes = item["regex"] if isinstance(item["regex"], list) else [item["regex"]]
            self.rules.append(
                Rule(
                    id=str(item["id"]),
                    kind=str(item["kind"]),
                    regexes=tuple(re.compile(expand(r)) for r in regexes),
                    unless=tuple(re.compile(expand(r)) for r in item.get("unless") or []),
                    negatable=bool(item.get("negatable", False)),
                )
            )

    @classmethod
    def from_file(cls, path: Path | str) -> SafetyRules:
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    def normalise(self, text: str) -> str:
        """Lowercase, fold accents, symbols to words, punctuation to spaces, expand shorthand."""
        decomposed = unicodedata.normalize("NFD", text.lower())
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        for symbol, word in self.symbols.items():
            folded = folded.replace(symbol, word)
        squeezed = _LONG_RUN.sub(r"\1", _NOT_WORD.sub(" ", folded))
        words = [self.shorthand.get(word, word) for word in squeezed.split()]
        return " " + " ".join(words) + " "

    def detect(self, text: str) -> SafetyMatch | None:
        norm = self.normalise(text)
        for rule in self.rules:
            if rule.fires(norm):
                return SafetyMatch(kind=rule.kind, rule=rule.id)
        return None


@lru_cache(maxsize=1)
def default_rules() -> SafetyRules:
    return SafetyRules.from_file(PATTERNS_FILE)


def detect(text: str) -> SafetyMatch | None:
    """The first emergency rule the message matches, or None."""
    return default_rules().detect(text)
