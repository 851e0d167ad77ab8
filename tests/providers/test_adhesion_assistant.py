"""The assistant's own search action (actions.search.ActionSearchServices, as the action
server runs it) on both databases: a service published through the adhesion process is
found at once, and disappears at once when the commission suspends its provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from actions.search import ActionSearchServices
from core.db import get_engine
from core.settings import get_settings
from providers.models import DecisionKind
from tests.actions.action_helpers import make_tracker, run_action, texts
from tests.providers.adhesion_helpers import commission_member, decide_on, submit, tick_all

SEARCH = {"search_text": "cerco un laboratorio di ceramica per ragazzi a Rifredi"}
TITLE = "Laboratorio di ceramica per ragazzi"


@pytest.fixture
def actions_db(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The database the actions read (DATABASE_URL), freshly migrated."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = get_engine()
    yield engine
    engine.dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


def _search() -> str:
    tracker = make_tracker(intent="search_service", text=SEARCH["search_text"], slots=SEARCH)
    messages, _events = run_action(ActionSearchServices(), tracker)
    return texts(messages)


def test_the_assistant_finds_an_approved_service_and_loses_it_on_suspension(
    actions_db: Engine, tmp_path: Path
) -> None:
    with Session(actions_db, expire_on_commit=False) as session:
        member = commission_member(session)
        submitted = submit(session, tmp_path)
        assert TITLE not in _search()  # proposed, not yet approved
        tick_all(session, application_id=submitted.application_id, staff_id=member)
        decide_on(session, submitted.application_id, DecisionKind.approve, member)
        found = _search()
        assert TITLE in found, found
        decide_on(
            session,
            submitted.application_id,
            DecisionKind.suspend,
            member,
            reasons="Prova: la sospensione nasconde subito i servizi.",
        )
        assert TITLE not in _search()
        decide_on(session, submitted.application_id, DecisionKind.reinstate, member)
        assert TITLE in _search()
