"""catalog.tags: filters as index terms, for services and for searches."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.areas import haversine_km
from catalog.filters import SearchFilters
from catalog.tags import HIDDEN, PUBLISHED, cell, cells_within, filter_groups, service_tags

SERVICE: dict[str, Any] = {
    "category": "after_school", "quartiere": "Q5", "cost_mode": "co_payment",
    "budget_payable": True, "target_groups": ["children", "families"],
    "age_min": 6, "age_max": 8, "lat": 43.7960, "lon": 11.2440,
}  # fmt: skip


def test_service_tags() -> None:
    tags = service_tags(SERVICE, published=True).split()
    assert tags[:2] == [PUBLISHED, "zzcafterschool"]
    assert {"zzqq5", "zzkcopayment", "zzbudget", "zztchildren", "zztfamilies"} <= set(tags)
    assert {"zza6", "zza7", "zza8"} <= set(tags) and "zza9" not in tags and "zzaall" not in tags
    assert (
        sum(t.startswith("zzg") for t in tags) == 1 and sum(t.startswith("zzh") for t in tags) == 1
    )
    assert all(t.isascii() and t.isalnum() for t in tags)


def test_unpublished_services_only_carry_hidden() -> None:
    assert service_tags(SERVICE, published=False) == HIDDEN


@pytest.mark.parametrize(
    ("age_min", "age_max", "has", "lacks"),
    [(None, None, ["zzaall"], ["zza0"]), (65, None, ["zza65", "zza100"], ["zza64", "zzaall"]),
     (None, 3, ["zza0", "zza3"], ["zza4"])],
)  # fmt: skip
def test_age_tags(
    age_min: int | None, age_max: int | None, has: list[str], lacks: list[str]
) -> None:
    tags = service_tags({**SERVICE, "age_min": age_min, "age_max": age_max}, published=True).split()
    assert set(has) <= set(tags) and not set(lacks) & set(tags)


def test_filter_groups() -> None:
    assert filter_groups(SearchFilters()) == []
    groups = filter_groups(
        SearchFilters(category="after_school", quartiere="Q5", cost_mode="free",
                      budget_payable=True, target_group="elderly", age=120)
    )  # fmt: skip
    assert groups == [
        ["zzcafterschool"], ["zzqq5"], ["zzkfree"], ["zzbudget"],
        ["zztelderly", "zzteveryone"], ["zza100", "zzaall"],
    ]  # fmt: skip


@pytest.mark.parametrize("km", [0.5, 1.0, 1.5, 2.5, 5.0])
def test_cells_cover_the_circle(km: float) -> None:
    lat0, lon0 = 43.7731, 11.2558
    cells = set(cells_within(lat0, lon0, km))
    coarse = km > 1.5
    assert len(cells) <= 16  # an OR of a few terms, not of hundreds
    # Every point of a fine lattice within km of the centre lies in a listed cell.
    for di in range(-40, 41):
        for dj in range(-40, 41):
            lat, lon = lat0 + di * km / 40 / 111.195, lon0 + dj * km / 40 / 80.3
            if haversine_km(lat0, lon0, lat, lon) > km:
                continue
            i, j = cell(lat, lon)
            tag = f"zzh{i // 4}x{j // 4}" if coarse else f"zzg{i}x{j}"
            assert tag in cells, (lat, lon)


def test_near_without_radius_is_no_filter() -> None:
    assert filter_groups(SearchFilters(near=(43.77, 11.25))) == []
    assert filter_groups(SearchFilters(near=(43.77, 11.25), max_km=1))[0][0].startswith("zzg")
