"""The Care Managers' console (issue 5): the hand-off queue, conversations, live chat.

Importing this module registers the section "Coda conversazioni" at /coda for the
care_manager role (listed in console.app.SECTION_MODULES). The protocol's run-time side is
bot.handoff.service, started with the gateway by server.console.
"""

from __future__ import annotations

from pathlib import Path

from console.handoff.routes import router
from console.navigation import register_section
from staff.roles import Role

SECTION = register_section(
    key="queue",
    label="Coda conversazioni",
    path="/coda",
    roles={Role.care_manager},
    router=router,
    templates_dir=Path(__file__).parent / "templates",
    description="Le persone che hanno chiesto di parlare con un operatore: prendile in carico "
    "e rispondi in diretta.",
    order=10,
)
