"""The monitoring views: aggregates of every domain for a period, never a person.

Each ``*_view(ctx)`` returns a ``monitoring.tables.View`` whose cells carry their figure and
the distinct people behind it, already protected by the small-count rule
(``monitoring.tables``). People are conversations (the assistant's side) or citizens (the
budget's side). A quartiere filter keeps what belongs to that quartiere: unmet needs and
searches that named it, Welcome Points in it, citizens living there (budget), conversations
linked to a citizen living there (use, understanding, care), announcements sent to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from monitoring import sql
from monitoring.tables import View
from monitoring.views.announcements import broadcasts_view
from monitoring.views.budget import budget_view
from monitoring.views.care import care_view
from monitoring.views.needs import needs_view
from monitoring.views.points import points_view
from monitoring.views.query import Context
from monitoring.views.understanding import understanding_view
from monitoring.views.use import use_view

# --- all of them ------------------------------------------------------------------------------

VIEWS: dict[str, tuple[str, Callable[[Context], View]]] = {
    "bisogni": ("Bisogni", needs_view),
    "uso": ("Uso", use_view),
    "comprensione": ("Comprensione", understanding_view),
    "assistenza": ("Assistenza", care_view),
    "budget": ("Budget", budget_view),
    "punti": ("Welcome Point", points_view),
    "avvisi": ("Avvisi", broadcasts_view),
}


def build(key: str, ctx: Context) -> View:
    sql.prepare(ctx.session)
    return VIEWS[key][1](ctx)


CACHE_SECONDS = 300.0
_cache: dict[tuple[Any, ...], tuple[float, View]] = {}


def build_cached(key: str, ctx: Context, *, ttl: float = CACHE_SECONDS) -> View:
    """``build``, remembered for ``ttl`` seconds per (view, period, quartiere, databases):
    the pages, their tabs and their CSV exports reuse one reading. Figures are at most
    five minutes old."""
    now = time.monotonic()
    ident = (
        key,
        ctx.period,
        ctx.quartiere,
        ctx.min_count,
        str(ctx.session.get_bind().url),
        str(ctx.tracker.url) if ctx.tracker is not None else "",
    )
    hit = _cache.get(ident)
    if hit is not None and hit[0] > now:
        return hit[1]
    view = build(key, ctx)
    for stale in [k for k, (until, _) in _cache.items() if until <= now]:
        del _cache[stale]
    _cache[ident] = (now + ttl, view)
    return view


def clear_cache() -> None:
    _cache.clear()


def build_all(ctx: Context) -> list[View]:
    return [fn(ctx) for _, fn in VIEWS.values()]


__all__ = ["VIEWS", "Context", "build", "build_all", "build_cached", "clear_cache"]
