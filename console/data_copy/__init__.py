"""Requests for a copy of one's data in the console (privacy.data_copy), beside the erasures.

``SECTION`` is the section "Copie dei dati" at /copie-dati for Care Managers and admins
(listed in console.app.SECTIONS): the open requests, oldest first with the legal deadline;
each request's page shows the sections of the copy and how many items each holds, then
«Manda la copia» sends the PDF and the JSON into the conversation that asked
(console.data_copy.routes, privacy.copy_delivery); «Segna come evasa» when the copy was
handed over some other way (at a Welcome Point).
"""

from __future__ import annotations

from pathlib import Path

from console.data_copy.routes import AUDIT_LABELS, ROLES, router
from console.navigation import Section

SECTION = Section(
    key="data_copy",
    label="Copie dei dati",
    path="/copie-dati",
    roles=ROLES,
    router=router,
    templates_dir=Path(__file__).parent / "templates",
    description="Le richieste dei cittadini di avere una copia dei propri dati: "
    "da evadere entro un mese.",
    order=16,
    audit_labels=AUDIT_LABELS,
)
