"""The console's «Monitoraggio» section (data_analyst, admin): aggregates of needs, use,
understanding, care, budget, Welcome Points and announcements, with charts, comparison
with the previous period, a quartiere filter and CSV exports (pages in
console.monitoring.routes, figures in monitoring/). Listed in console.app.SECTIONS."""

from __future__ import annotations

from console.monitoring.routes import AUDIT_LABELS, ROLES, TEMPLATES_DIR, router
from console.navigation import Section

SECTION = Section(
    key="monitoring",
    label="Monitoraggio",
    path="/monitoraggio",
    roles=ROLES,
    description="Bisogni, uso, comprensione, assistenza, budget, Welcome Point e avvisi: "
    "solo dati aggregati, con grafici e tabelle scaricabili.",
    order=60,
    router=router,
    templates_dir=TEMPLATES_DIR,
    audit_labels=AUDIT_LABELS,
)
