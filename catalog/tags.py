"""Filter tags: the filters of a search expressed as index terms.

Each service's ``search_tags`` column lists tokens such as ``zzpub`` (its provider is
approved), ``zzcafterschool`` (category), ``zzqq5`` (quartiere), ``zzkfree`` (cost mode),
``zzbudget``, ``zztelderly`` (target group), ``zza8`` (each age in its range, or
``zzaall``), ``zzg12x7`` (a ~1 km grid cell) and ``zzh3x1`` (the ~4 km cell around it).
The full-text engine (FTS5 or a GIN index) then intersects the filters with the words
in C, instead of SQL joining every text match with the service table: that is what keeps
a search on 100,000 services in a few milliseconds. Tags are plain ASCII letters and
digits, so both engines see single tokens, and never collide with word stems (no Italian
stem starts with "zz").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from catalog.filters import SearchFilters

PREFIX: Final[str] = "zz"
PUBLISHED: Final[str] = f"{PREFIX}pub"
HIDDEN: Final[str] = f"{PREFIX}hidden"
MAX_AGE: Final[int] = 100
# The grid: ~1 km cells from a corner south-west of Florence.
GRID_LAT0: Final[float] = 43.70
GRID_LON0: Final[float] = 11.10
GRID_LAT_STEP: Final[float] = 0.009
GRID_LON_STEP: Final[float] = 0.0125
KM_PER_DEGREE: Final[float] = 111.195
COARSE: Final[int] = 4  # a coarse cell is 4 x 4 fine cells
FINE_MAX_KM: Final[float] = 1.5


def _slug(value: str) -> str:
    return value.replace("_", "").lower()


def category_tag(category: str) -> str:
    return f"{PREFIX}c{_slug(category)}"


def target_tag(group: str) -> str:
    """Services made for the target group ``group`` (not those open to everyone)."""
    return f"{PREFIX}t{_slug(group)}"


def age_tag(age: int) -> str:
    """Services whose age range holds ``age`` (not those with no age limit, ``zzaall``)."""
    return f"{PREFIX}a{min(max(age, 0), MAX_AGE)}"


def cell(lat: float, lon: float) -> tuple[int, int]:
    return (
        max(0, math.floor((lat - GRID_LAT0) / GRID_LAT_STEP)),
        max(0, math.floor((lon - GRID_LON0) / GRID_LON_STEP)),
    )


def cell_tag(i: int, j: int) -> str:
    return f"{PREFIX}g{i}x{j}"


def coarse_tag(i: int, j: int) -> str:
    """The 4 km cell holding the 1 km cell (i, j)."""
    return f"{PREFIX}h{i // COARSE}x{j // COARSE}"


def cells_within(lat: float, lon: float, km: float) -> list[str]:
    """Tags of grid cells covering every point within ``km`` of (lat, lon).

    1 km cells up to FINE_MAX_KM, 4 km cells beyond: an OR of more than a few dozen
    terms costs the full-text engine more than the cells save.
    """
    dlat = km / KM_PER_DEGREE
    dlon = km / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    i0, j0 = cell(lat - dlat, lon - dlon)
    i1, j1 = cell(lat + dlat, lon + dlon)
    if km <= FINE_MAX_KM:
        return [cell_tag(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]
    return [
        f"{PREFIX}h{i}x{j}"
        for i in range(i0 // COARSE, i1 // COARSE + 1)
        for j in range(j0 // COARSE, j1 // COARSE + 1)
    ]


def service_tags(data: Mapping[str, Any], *, published: bool) -> str:
    """The ``search_tags`` of a service (``data`` has the Service fields).

    A service whose provider is not approved gets only ``zzhidden``: no filter or category
    tag can match it, and text-only searches exclude ``zzhidden``. (Leaving ``zzpub`` out
    of most queries matters: it is on nearly every service, and intersecting with it
    costs more than all the other filters together.)
    """
    if not published:
        return HIDDEN
    tags = [PUBLISHED, category_tag(str(data["category"]))]
    tags.append(f"{PREFIX}q{_slug(str(data['quartiere']))}")
    tags.append(f"{PREFIX}k{_slug(str(data['cost_mode']))}")
    if data.get("budget_payable"):
        tags.append(f"{PREFIX}budget")
    tags.extend(target_tag(str(t)) for t in dict.fromkeys(data.get("target_groups") or []))
    age_min, age_max = data.get("age_min"), data.get("age_max")
    if age_min is None and age_max is None:
        tags.append(f"{PREFIX}aall")
    else:
        low = max(0, age_min or 0)
        high = min(MAX_AGE, MAX_AGE if age_max is None else age_max)
        tags.extend(age_tag(year) for year in range(low, high + 1))
    i, j = cell(float(data["lat"]), float(data["lon"]))
    tags.extend((cell_tag(i, j), coarse_tag(i, j)))
    return " ".join(tags)


def filter_groups(f: SearchFilters) -> list[list[str]]:
    """The filters as a conjunction of alternatives: every group must match one of its tags.

    Empty when no filter is set: the caller then excludes ``HIDDEN`` (or, with nothing else
    to match, asks for ``PUBLISHED``). ``near``/``max_km`` becomes the grid cells around
    the point: a superset of the circle, which the search narrows with the exact distance.
    """
    groups: list[list[str]] = []
    if f.category:
        groups.append([category_tag(f.category)])
    if f.quartiere:
        groups.append([f"{PREFIX}q{_slug(f.quartiere)}"])
    if f.cost_mode:
        groups.append([f"{PREFIX}k{_slug(f.cost_mode)}"])
    if f.budget_payable:
        groups.append([f"{PREFIX}budget"])
    if f.target_group:
        groups.append([target_tag(f.target_group), target_tag("everyone")])
    if f.age is not None:
        groups.append([age_tag(f.age), f"{PREFIX}aall"])
    if f.near is not None and f.max_km is not None:
        groups.append(cells_within(f.near[0], f.near[1], f.max_km))
    return groups
