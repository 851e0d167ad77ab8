"""The console's sections: each is a navigation entry, the roles that see it, its pages and the
Italian wording of the audit actions it records.

A part of the console defines its section as a plain value, and ``console.app.SECTIONS``
lists it; nothing is registered on import::

    router = APIRouter()

    CareManager = Annotated[CurrentStaff, Depends(require_roles(Role.care_manager))]

    @router.get("", name="queue")  # the landing page is the section's path itself
    def queue(request: Request, staff: CareManager) -> Response:
        return render(request, "queue.html", {...}, staff=staff)

    SECTION = Section(
        key="queue", label="Coda conversazioni", path="/coda",
        roles=frozenset({Role.care_manager}), router=router,
        templates_dir=Path(__file__).parent / "templates", order=10,
        audit_labels={"handoff.claim": "conversazione presa in carico"},
    )

``build_console`` includes the router under ``path`` and gives every one of its routes
``require_roles(*roles)`` too, so a forgotten role check still cannot expose a page. It builds
the navigation and the audit labels from the same sections, and refuses two sections with the
same key or path, or two wordings of one audit action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter

from staff.roles import Role


@dataclass(frozen=True)
class Section:
    key: str
    label: str  # Italian, shown in the navigation
    path: str  # under the console's root, e.g. "/coda" ("" only for the home page)
    roles: frozenset[Role]
    description: str = ""  # Italian, one line on the home page
    order: int = 100
    router: APIRouter | None = None
    templates_dir: Path | None = None
    show_in_nav: bool = True
    # Italian wording of the audit actions the section records, for the history tables
    audit_labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.path and (not self.path.startswith("/") or self.path.endswith("/")):
            raise ValueError(f"section path must start and not end with '/': {self.path!r}")
        if self.router is not None and not self.path:
            raise ValueError(f"section {self.key!r} with pages needs a path")
        if not self.roles:
            raise ValueError(f"section {self.key!r} needs at least one role")

    def visible_to(self, roles: Iterable[Role]) -> bool:
        return bool(self.roles.intersection(roles))


def navigation(sections: Iterable[Section]) -> list[Section]:
    """The sections in navigation order; refuses two with the same key or path."""
    found = sorted(sections, key=lambda s: (s.order, s.label))
    for attribute in ("key", "path"):
        values = [getattr(s, attribute) for s in found]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"console sections with the same {attribute}: {repeated}")
    return found


def sections_for(sections: Iterable[Section], roles: Iterable[Role]) -> list[Section]:
    role_set = frozenset(roles)
    return [s for s in sections if s.show_in_nav and s.visible_to(role_set)]
