"""«I miei servizi» in the console (provider_staff): providers keep their own services,
reviewed by the adhesion commission before publication. Listed in console.app.SECTIONS."""

from __future__ import annotations

from pathlib import Path

from console.navigation import Section
from console.provider_services.routes import AUDIT_LABELS, ROLES, router

SECTION = Section(
    key="my_services",
    label="I miei servizi",
    path="/servizi",
    roles=ROLES,
    router=router,
    templates_dir=Path(__file__).parent / "templates",
    description="I servizi del vostro ente nel catalogo: aggiungeteli e aggiornateli.",
    order=41,
    audit_labels=AUDIT_LABELS,
)
