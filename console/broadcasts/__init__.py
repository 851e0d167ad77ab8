"""The console's "Avvisi" section (hub_staff): the hub announcements of broadcast/, composed,
scheduled and followed at /avvisi (pages in console.broadcasts.routes)."""

from __future__ import annotations

from console.broadcasts.routes import AUDIT_LABELS, TEMPLATES_DIR, router
from console.navigation import Section
from staff.roles import Role

SECTION = Section(
    key="broadcasts",
    label="Avvisi",
    path="/avvisi",
    roles=frozenset({Role.hub_staff}),
    description="Annunci dei Welcome Hub ai cittadini iscritti: scrivi, programma, segui l'invio.",
    order=20,
    router=router,
    templates_dir=TEMPLATES_DIR,
    audit_labels=AUDIT_LABELS,
)
