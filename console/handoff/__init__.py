"""The Care Managers' console (issue 5): the hand-off queue, conversations, live chat.

``SECTION`` is the section "Coda conversazioni" at /coda for the care_manager role (listed in
console.app.SECTIONS). The protocol's run-time side is bot.handoff.service, started with the
gateway by server.console.
"""

from __future__ import annotations

from pathlib import Path

from console.handoff.routes import AUDIT_LABELS, router
from console.navigation import Section
from staff.roles import Role

SECTION = Section(
    key="queue",
    label="Coda conversazioni",
    path="/coda",
    roles=frozenset({Role.care_manager}),
    router=router,
    templates_dir=Path(__file__).parent / "templates",
    description="Le persone che hanno chiesto di parlare con un operatore: prendile in carico "
    "e rispondi in diretta.",
    order=10,
    audit_labels=AUDIT_LABELS,
)
