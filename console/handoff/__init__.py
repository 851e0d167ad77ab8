"""The Care Managers' console (issue 5): the hand-off queue, conversations, live chat.

``SECTION`` is the section "Coda conversazioni" at /coda for the care_manager role (listed in
console.app.SECTIONS). The protocol's run-time side is bot.handoff.service, started with the
gateway by server.console.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from console.handoff import live, misunderstood, routes, team
from console.handoff.common import AUDIT_LABELS
from console.navigation import Section
from staff.roles import Role

# One router for the section; its pages live in four modules. (include_router refuses the
# queue's empty path "" without a prefix, so the routes are taken over as they are.)
router = APIRouter()
for part in (routes.router, team.router, live.router, misunderstood.router):
    router.routes.extend(part.routes)

SECTION = Section(
    key="queue",
    label="Coda conversazioni",
    path="/coda",
    # admin: only for the team's settings and canned replies (console/handoff/team.py); every
    # page of the queue and its conversations asks for care_manager itself
    roles=frozenset({Role.care_manager, Role.admin}),
    router=router,
    templates_dir=Path(__file__).parent / "templates",
    description="Le persone che hanno chiesto di parlare con un operatore: prendile in carico "
    "e rispondi in diretta.",
    order=10,
    audit_labels=AUDIT_LABELS,
)
