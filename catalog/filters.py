"""Search filters: given by the caller, understood from the text, or both."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORIES, TARGET_GROUPS

COST_MODES = frozenset({"free", "co_payment", "paid"})


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Hard constraints on the services returned (``None`` means "any").

    ``near`` is a (lat, lon) point: results get their distance and closer ones rank
    higher; with ``max_km`` it also excludes farther ones. ``area`` is the neighbourhood
    named in the request ("Novoli"): it only affects ranking and the "nearby" fallback.
    ``budget_payable=True`` keeps only services the welfare budget can pay.
    """

    category: str | None = None
    target_group: str | None = None
    quartiere: str | None = None
    age: int | None = None
    cost_mode: str | None = None
    budget_payable: bool | None = None
    near: tuple[float, float] | None = None
    max_km: float | None = None
    area: str | None = None

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")
        if self.target_group is not None and self.target_group not in TARGET_GROUPS:
            raise ValueError(f"unknown target group {self.target_group!r}")
        if self.quartiere is not None and self.quartiere not in QUARTIERI:
            raise ValueError(f"unknown quartiere {self.quartiere!r} (Q1..Q5)")
        if self.cost_mode is not None and self.cost_mode not in COST_MODES:
            raise ValueError(f"unknown cost mode {self.cost_mode!r}")
        if self.age is not None and not 0 <= self.age <= 120:
            raise ValueError(f"age out of range: {self.age}")
        if self.max_km is not None and self.max_km <= 0:
            raise ValueError("max_km must be positive")

    def merged_over(self, understood: SearchFilters) -> SearchFilters:
        """These filters, with the blanks filled from ``understood`` (given ones win)."""
        values = {
            f.name: getattr(self, f.name)
            if getattr(self, f.name) is not None
            else getattr(understood, f.name)
            for f in fields(self)
        }
        return SearchFilters(**values)

    def without(self, *names: str) -> SearchFilters:
        return replace(self, **dict.fromkeys(names))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly, only the filters that are set."""
        data = {k: v for k, v in asdict(self).items() if v is not None}
        if "near" in data:
            data["near"] = list(data["near"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchFilters:
        values = {f.name: data.get(f.name) for f in fields(cls)}
        if values["near"] is not None:
            values["near"] = (float(values["near"][0]), float(values["near"][1]))
        return cls(**values)
