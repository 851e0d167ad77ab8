"""Erasure requests in the console (privacy.erasure): their own list, apart from the hand-offs.

``SECTION`` is the section "Cancellazione dati" at /cancellazioni for Care Managers and
admins (listed in console.app.SECTIONS): the open requests, oldest first
with the legal deadline; each request's page with «Cancella i dati» (the confirmation step,
then the erasure: console.erasure.routes, privacy.erasure.erase); «Segna come evasa» when the
data were erased some other way. The Care Managers' queue page (/coda) shows the same open
requests in a table of their own.
"""

from __future__ import annotations

from pathlib import Path

from console.erasure.routes import AUDIT_LABELS, ROLES, router
from console.navigation import Section

SECTION = Section(
    key="erasure",
    label="Cancellazione dati",
    path="/cancellazioni",
    roles=ROLES,
    router=router,
    templates_dir=Path(__file__).parent / "templates",
    description="Le richieste dei cittadini di cancellare i propri dati: da evadere entro un mese.",
    order=15,
    audit_labels=AUDIT_LABELS,
)
