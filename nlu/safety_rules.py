"""The emergency rules of data/safety/emergency_patterns*.yml, for both runtimes.

The one module shared by the Rasa side (nlu/safety_net.py, Python 3.10) and the gateway
(care/safety.py, Python 3.11): it must import only the standard library and PyYAML
(tests/safety/test_shared_module.py checks it), so either interpreter can load it.

One rules file a language: emergency_patterns.yml (Italian, first) and every other
emergency_patterns*.yml of data/safety/ (emergency_patterns_en.yml...), in name order. Each
file has its own normalisation (`symbols`, `shorthand`) and its own `negation` (the Italian
one when the key is absent); a message is tried against every file, and the first rule
that fires, in file order, names the match. A new language is a new file, no code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SAFETY_DIR = Path(__file__).resolve().parents[1] / "data" / "safety"
PATTERNS_FILE = SAFETY_DIR / "emergency_patterns.yml"  # Italian: always the first file
PATTERNS_GLOB = "emergency_patterns*.yml"
KINDS = ("violence", "self_harm", "medical", "child_abuse")

_MACRO = re.compile(r"\{([A-Z_]+)\}")
_NOT_WORD = re.compile(r"[\W_]+")
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")
# the negation of `negatable: true` rules for a file without a `negation` key (Italian)
DEFAULT_NEGATION = r"\b(?:non|mai|nessuno)(?: \w+){0,2}$"
_NEGATION = re.compile(DEFAULT_NEGATION)


@dataclass(frozen=True)
class SafetyMatch:
    kind: str  # violence | self_harm | medical | child_abuse
    rule: str  # the rule id in its emergency_patterns*.yml, e.g. "violence.hit_me"


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    regexes: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    negatable: bool
    negation: re.Pattern[str] = _NEGATION  # searched in the text before a match

    def fires(self, norm: str) -> bool:
        if any(pattern.search(norm) for pattern in self.unless):
            return False
        for pattern in self.regexes:
            for match in pattern.finditer(norm):
                if not (self.negatable and self.negation.search(norm[: match.start()])):
                    return True
        return False


class SafetyRules:
    """The compiled rules of one patterns file (one language)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.negation: re.Pattern[str] = re.compile(str(spec.get("negation") or DEFAULT_NEGATION))
        self.symbols: dict[str, str] = dict(spec.get("symbols") or {})
        self.shorthand: dict[str, str] = {
            str(k): str(v) for k, v in (spec.get("shorthand") or {}).items()
        }
        macros: dict[str, str] = dict(spec.get("macros") or {})

        def expand(regex: str, depth: int = 0) -> str:
            """{NAME} -> the macro, whose own {NAME}s are expanded too (a few levels)."""
            if depth > 3:
                raise ValueError(f"safety rules: macros nested too deep in {regex!r}")
            expanded = _MACRO.sub(lambda m: f"(?:{macros[m.group(1)]})", regex)
            return expand(expanded, depth + 1) if _MACRO.search(expanded) else expanded

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
                    negation=self.negation,
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


class SafetyRuleSet:
    """Several rules files (one a language), tried in order: the first rule that fires wins.

    A rule's exceptions hold in every language: a rule does not fire when another file's
    rule of the same id has an `unless` that matches the text (normalised as that file
    says). Words such as «suicidio» / "suicide" or "stalking" are alike in several
    languages, so "a thesis on suicide prevention" must not page through the Italian rule
    because only the English file knows that a thesis is talk about the subject.
    """

    def __init__(self, parts: Sequence[SafetyRules]) -> None:
        self.parts: tuple[SafetyRules, ...] = tuple(parts)
        self._unless: dict[str, list[tuple[int, tuple[re.Pattern[str], ...]]]] = {}
        for index, part in enumerate(self.parts):
            for rule in part.rules:
                if rule.unless:
                    self._unless.setdefault(rule.id, []).append((index, rule.unless))

    @classmethod
    def from_specs(cls, specs: Iterable[dict[str, Any]]) -> SafetyRuleSet:
        return cls([SafetyRules(spec) for spec in specs])

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> SafetyRuleSet:
        return cls([SafetyRules.from_file(path) for path in paths])

    @property
    def rules(self) -> list[Rule]:
        return [rule for part in self.parts for rule in part.rules]

    def detect(self, text: str) -> SafetyMatch | None:
        norms = [part.normalise(text) for part in self.parts]
        for index, part in enumerate(self.parts):
            for rule in part.rules:
                if rule.fires(norms[index]) and not self._excepted(rule.id, index, norms):
                    return SafetyMatch(kind=rule.kind, rule=rule.id)
        return None

    def _excepted(self, rule_id: str, index: int, norms: list[str]) -> bool:
        return any(
            pattern.search(norms[other])
            for other, unless in self._unless.get(rule_id, ())
            if other != index
            for pattern in unless
        )


def pattern_files(directory: Path = SAFETY_DIR, glob: str = PATTERNS_GLOB) -> list[Path]:
    """The rules files of `directory`: emergency_patterns.yml first, then the others by name."""
    return sorted(
        directory.glob(glob), key=lambda path: (path.name != PATTERNS_FILE.name, path.name)
    )


@lru_cache(maxsize=1)
def default_rules() -> SafetyRuleSet:
    """Every rules file of data/safety/: what the gateway and the Rasa model run."""
    return SafetyRuleSet.from_files(pattern_files())


def detect(text: str) -> SafetyMatch | None:
    """The first emergency rule the message matches, or None."""
    return default_rules().detect(text)
