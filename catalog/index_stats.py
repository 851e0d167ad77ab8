"""What the search keeps in memory about the index: vocabulary and term statistics.

Built from the normalised search columns of every service, once per catalogue revision
(see :func:`catalog.repository.bump_revision`) and per database, so both backends see
identical statistics and rank identically. Also corrects query typos against the
vocabulary ("doposcula" -> "doposcuola", "psicolgo" -> "psicologo").
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA
from sqlmodel import Session, select

from catalog.models import Service
from catalog.repository import current_revision
from catalog.synonyms import synonym_table
from catalog.text import is_word


def typo_budget(length: int) -> int:
    """How many edits a term of ``length`` letters may be away from a known one."""
    if length <= 3:
        return 0
    return 1 if length <= 7 else 2


@dataclass(slots=True)
class IndexStats:
    revision: str
    documents: int = 0
    avg_title: float = 0.0
    avg_body: float = 0.0
    df: dict[str, int] = field(default_factory=dict)
    _by_length: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, revision: str, rows: list[tuple[str, str]]) -> IndexStats:
        df: Counter[str] = Counter()
        title_len = body_len = 0
        for title, body in rows:
            title_terms, body_terms = title.split(), body.split()
            title_len += len(title_terms)
            body_len += len(body_terms)
            df.update(set(title_terms) | set(body_terms))
        n = len(rows)
        stats = cls(
            revision=revision,
            documents=n,
            avg_title=title_len / n if n else 0.0,
            avg_body=body_len / n if n else 0.0,
            df=dict(df),
        )
        for term in sorted(set(df) | synonym_table().vocabulary):
            stats._by_length.setdefault(len(term), []).append(term)
        return stats

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency (always positive)."""
        df = self.df.get(term, 0)
        return math.log(1 + (self.documents - df + 0.5) / (df + 0.5))

    def knows(self, term: str) -> bool:
        return term in self.df or term in synonym_table().vocabulary

    def correct(self, term: str, word: str | None = None) -> str | None:
        """The known term closest to ``term`` within its typo budget (None if none).

        Ties go to the term found in more services, then alphabetical order. ``word`` is
        what the citizen typed: when it is a real Italian word («marito», «denti») it is
        no typo, and only a term that differs by its ending may replace it (two stems of
        one word, «guardi» -> "guar" for "guard"), never another word ("mart", "sent").
        """
        if self.knows(term):
            return term
        budget = typo_budget(len(term))
        if budget == 0:
            return None
        real_word = word is not None and is_word(word)
        best: tuple[int, int, str] | None = None
        for length in range(len(term) - budget, len(term) + budget + 1):
            for candidate in self._by_length.get(length, ()):
                if real_word and not (candidate.startswith(term) or term.startswith(candidate)):
                    continue
                dist = OSA.distance(term, candidate, score_cutoff=budget)
                if dist > budget:
                    continue
                key = (dist, -self.df.get(candidate, 0), candidate)
                if best is None or key < best:
                    best = key
        return best[2] if best else None


_cache: dict[str, IndexStats] = {}
_lock = threading.Lock()


def get_index_stats(session: Session) -> IndexStats:
    """The statistics of the catalogue behind ``session``, rebuilt when its revision changed."""
    bind = session.get_bind()
    key = bind.engine.url.render_as_string(hide_password=True)
    revision = current_revision(session)
    stats = _cache.get(key)
    if stats is not None and stats.revision == revision:
        return stats
    with _lock:
        stats = _cache.get(key)
        if stats is not None and stats.revision == revision:
            return stats
        rows = session.exec(select(Service.search_title, Service.search_body)).all()
        stats = IndexStats.build(revision, [(t, b) for t, b in rows])
        _cache[key] = stats
        return stats


def clear_cache() -> None:
    with _lock:
        _cache.clear()
