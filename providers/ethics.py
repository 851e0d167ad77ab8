"""The ethical code every provider accepts point by point (``data/adhesion/codice_etico.yaml``).

Its ``version`` is stored with each application, each checklist line and each decision, so a
later change of the text never rewrites what someone accepted or checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from core.settings import PROJECT_ROOT

CODE_PATH = PROJECT_ROOT / "data" / "adhesion" / "codice_etico.yaml"


@dataclass(frozen=True)
class Point:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class EthicalCode:
    version: str
    title: str
    introduction: str
    points: tuple[Point, ...]

    @property
    def point_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.points)


def read_code(path: Path) -> EthicalCode:
    """Parse the code; a missing field or a repeated point id raises ValueError."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    points = tuple(
        Point(id=str(p["id"]), title=str(p["title"]), text=" ".join(str(p["text"]).split()))
        for p in raw["points"]
    )
    ids = [p.id for p in points]
    if not points or len(set(ids)) != len(ids):
        raise ValueError(f"{path}: the code needs points with distinct ids")
    return EthicalCode(
        version=str(raw["version"]),
        title=str(raw["title"]),
        introduction=" ".join(str(raw.get("introduction", "")).split()),
        points=points,
    )


@lru_cache(maxsize=1)
def current_code() -> EthicalCode:
    return read_code(CODE_PATH)
