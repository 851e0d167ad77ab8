"""The synonym table (catalog/synonyms.yaml): everyday words -> categories and search words.

Phrases are stored as term sequences (see :mod:`catalog.text`), so matching is done on the
normalised query and is insensitive to case, accents and inflection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Final

import yaml

from catalog.text import fold, terms
from catalog.vocabulary import CATEGORY_LABELS

SYNONYMS_FILE: Final[Path] = Path(__file__).with_name("synonyms.yaml")


@dataclass(frozen=True, slots=True)
class Synonym:
    phrase: tuple[str, ...]
    category: str | None
    also: tuple[str, ...]
    weak: bool = False  # a general word: its category only when no specific one is named


@dataclass(slots=True)
class SynonymMatch:
    """What the synonym table found in a query's terms."""

    categories: list[str] = field(default_factory=list)
    specific: list[str] = field(default_factory=list)  # named by a word not `weak` anywhere
    also: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SynonymTable:
    by_first: dict[str, tuple[Synonym, ...]]
    vocabulary: frozenset[str]
    general_phrases: frozenset[tuple[str, ...]] = frozenset()  # the phrases of weak entries

    def match(self, query_terms: list[str]) -> SynonymMatch:
        """Categories and extra terms for ``query_terms``; longest phrase first, no overlaps.

        Categories come in the order of the words, those of general words («casa»,
        «lavoro», «mangiare») after those of specific ones: «lavoro fino alle 19 e non so
        a chi lasciare il bambino» is childcare before job search.
        """
        result = SynonymMatch()
        weak: list[str] = []
        i = 0
        while i < len(query_terms):
            for syn in self.by_first.get(query_terms[i], ()):
                if tuple(query_terms[i : i + len(syn.phrase)]) == syn.phrase:
                    found = weak if syn.weak else result.categories
                    if syn.category and syn.category not in found:
                        found.append(syn.category)
                    general = syn.weak or syn.phrase in self.general_phrases
                    if syn.category and not general and syn.category not in result.specific:
                        result.specific.append(syn.category)
                    result.also.extend(t for t in syn.also if t not in result.also)
                    result.spans.append((i, i + len(syn.phrase)))
                    i += len(syn.phrase)
                    break
            else:
                i += 1
        result.categories += [c for c in weak if c not in result.categories]
        return result

    def general(self, phrase: list[str]) -> bool:
        """Whether synonyms.yaml marks ``phrase`` (terms) as a general word (``weak``), such
        as «casa» or «lavoro» (a category's own label may be the same word)."""
        return tuple(phrase) in self.general_phrases


def is_general_word(text: str) -> bool:
    """«casa», «lavoro», «mangiare»: a word that names a kind of service only when nothing
    more specific is said (synonyms.yaml, ``weak``)."""
    return synonym_table().general(terms(text))


def _validate(raw: object) -> list[dict[str, object]]:
    if not isinstance(raw, list):
        raise ValueError(f"{SYNONYMS_FILE}: expected a list of entries")
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("words"), list):
            raise ValueError(f"{SYNONYMS_FILE}: every entry needs a list of words")
        category = entry.get("category")
        if category is not None and category not in CATEGORY_LABELS:
            raise ValueError(f"{SYNONYMS_FILE}: unknown category {category!r}")
        if not isinstance(entry.get("weak", False), bool):
            raise ValueError(f"{SYNONYMS_FILE}: `weak` is true or false")
    return raw


def _phrases(word: str) -> list[tuple[str, ...]]:
    """The terms of ``word`` as written and with its accents folded, as a request reads it
    (catalog.understanding folds first): «necessità» and «necessita» can lemmatise apart."""
    found = dict.fromkeys(tuple(terms(w)) for w in (word, fold(word)))
    return [phrase for phrase in found if phrase]


@lru_cache(maxsize=1)
def synonym_table() -> SynonymTable:
    """The table, loaded and normalised once per process."""
    entries = _validate(yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")))
    synonyms: list[Synonym] = []
    for slug, label in CATEGORY_LABELS.items():
        for phrase in _phrases(label):
            synonyms.append(Synonym(phrase, slug, tuple(terms(label))))
    for entry in entries:
        also = tuple(t for phrase in entry.get("also") or [] for t in terms(str(phrase)))
        category = entry.get("category")
        weak = bool(entry.get("weak", False))
        for word in entry["words"]:  # type: ignore[union-attr]
            for phrase in _phrases(str(word)):
                synonyms.append(Synonym(phrase, category, also, weak))  # type: ignore[arg-type]
    by_first: dict[str, list[Synonym]] = {}
    for syn in synonyms:
        by_first.setdefault(syn.phrase[0], []).append(syn)
    ordered = {
        k: tuple(sorted(v, key=lambda s: -len(s.phrase)))  # longest phrase first
        for k, v in by_first.items()
    }
    vocabulary = frozenset(t for syn in synonyms for t in (*syn.phrase, *syn.also))
    general = frozenset(syn.phrase for syn in synonyms if syn.weak)
    return SynonymTable(by_first=ordered, vocabulary=vocabulary, general_phrases=general)
