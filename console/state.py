"""What the console app keeps for its requests: settings, database, templates, sections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi.requests import HTTPConnection

from console.config import ConsoleConfig
from core.database import Database
from core.settings import Settings

if TYPE_CHECKING:
    from console.navigation import Section
    from console.web import Templates


@dataclass
class ConsoleState:
    config: ConsoleConfig
    db: Database  # every console route reaches the database through it (console.auth.Db)
    templates: Templates
    sections: list[Section]  # the navigation: the console's own and the plugged-in sections
    action_labels: dict[str, str]  # Italian wording of the audit actions (console.audit)
    settings: Settings  # the settings the console was built with (VAR_DIR, tracker store...)


def console_state(conn: HTTPConnection) -> ConsoleState:
    """The state of the console app serving ``conn`` (the console is its own sub-application)."""
    state: ConsoleState = conn.app.state.console
    return state
