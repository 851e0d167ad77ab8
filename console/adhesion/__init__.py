"""«Adesioni» in the console (commission): applications to join under the ethical code, the
checklist, decisions and their effects, and the providers' service drafts to publish.
Listed in console.app.SECTIONS; the first-password page of a new provider account is one of
the console's own public pages (console/pages/first_password.py)."""

from __future__ import annotations

from pathlib import Path

from console.adhesion.routes import AUDIT_LABELS, ROLES, router
from console.navigation import Section

SECTION = Section(
    key="adhesion",
    label="Adesioni",
    path="/adesioni",
    roles=ROLES,
    router=router,
    templates_dir=Path(__file__).parent / "templates",
    description="Domande di adesione degli enti, lista di controllo del codice etico, "
    "decisioni e modifiche ai servizi da pubblicare.",
    order=60,
    audit_labels=AUDIT_LABELS,
)
