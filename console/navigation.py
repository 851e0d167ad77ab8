"""The console's sections: each is a navigation entry, the roles that see it, and its pages.

A later part of the console adds itself by registering a section *before* the console app
is built (``console.app.build_console``)::

    router = APIRouter()

    CareManager = Annotated[CurrentStaff, Depends(require_roles(Role.care_manager))]

    @router.get("", name="queue")  # the landing page is the section's path itself
    def queue(request: Request, staff: CareManager) -> Response:
        return render(request, "queue.html", {...}, staff=staff)

    register_section(
        key="queue", label="Coda conversazioni", path="/coda", roles={Role.care_manager},
        router=router, templates_dir=Path(__file__).parent / "templates", order=10,
    )

The router is included under ``path`` and every one of its routes also gets
``require_roles(*roles)``, so a forgotten role check still cannot expose a page. Keys
planned by the issues: queue (/coda, care_manager), broadcasts (/avvisi, hub_staff),
reimbursements (/rimborsi, welfare_officer), vouchers (/voucher, provider_staff).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter

from staff.roles import Role


@dataclass(frozen=True)
class Section:
    key: str
    label: str  # Italian, shown in the navigation
    path: str  # under the console's root, e.g. "/coda"
    roles: frozenset[Role]
    description: str = ""  # Italian, one line on the home page
    order: int = 100
    router: APIRouter | None = None
    templates_dir: Path | None = None
    show_in_nav: bool = True

    def visible_to(self, roles: Iterable[Role]) -> bool:
        return bool(self.roles.intersection(roles))


_registry: dict[str, Section] = {}


def register_section(
    *,
    key: str,
    label: str,
    path: str,
    roles: Iterable[Role],
    description: str = "",
    order: int = 100,
    router: APIRouter | None = None,
    templates_dir: Path | None = None,
    show_in_nav: bool = True,
) -> Section:
    """Add (or replace, by key) a section of the console."""
    if not path.startswith("/") or path.endswith("/"):
        raise ValueError(f"section path must start and not end with '/': {path!r}")
    role_set = frozenset(roles)
    if not role_set:
        raise ValueError(f"section {key!r} needs at least one role")
    section = Section(
        key=key,
        label=label,
        path=path,
        roles=role_set,
        description=description,
        order=order,
        router=router,
        templates_dir=templates_dir,
        show_in_nav=show_in_nav,
    )
    _registry[key] = section
    return section


def unregister_section(key: str) -> None:
    _registry.pop(key, None)


def registered_sections() -> list[Section]:
    return sorted(_registry.values(), key=lambda s: (s.order, s.label))


def sections_for(sections: Iterable[Section], roles: Iterable[Role]) -> list[Section]:
    role_set = frozenset(roles)
    return [s for s in sections if s.show_in_nav and s.visible_to(role_set)]
