"""Erasure requests in the console: their own table in the queue page and their own page,
for Care Managers and admins (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from console_helpers import CONSOLE, MakeStaff, mount_console, signed_in
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

import console.erasure as erasure_section
import console.handoff as handoff_section
from care import erasure
from care import handoff as core
from care.sla import office_hours
from catalog.db import session_scope
from console import audit
from console.roles import Role
from welcome.settings import Settings

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ALONE, DURING_HANDOFF = "a" * 32, "b" * 32


@pytest.fixture
def client(engine: Engine, console_settings: Settings) -> Iterator[TestClient]:
    app = mount_console(
        engine, console_settings, sections=[handoff_section.SECTION, erasure_section.SECTION]
    )
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def requests(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        core.request_handoff(
            session, conversation_id=DURING_HANDOFF, now=NOW, office=office_hours(session)
        )
        return {
            cid: erasure.request_erasure(session, conversation_id=cid, source="rasa_action").id
            for cid in (ALONE, DURING_HANDOFF)
        }


def test_the_queue_shows_the_requests_apart_from_the_handoffs(
    client: TestClient, make_staff: MakeStaff, requests: dict[str, int]
) -> None:
    signed_in(client, make_staff(Role.care_manager))
    page = client.get(f"{CONSOLE}/coda")
    assert page.status_code == 200
    html = page.text
    assert "Richieste di cancellazione dei dati (" in html
    assert html.count('data-erasure="') == 2
    # the hand-off is one row of the waiting table, the erasure requests are not
    waiting = html.split('id="coda-attesa"')[1].split("</table>")[0]
    assert waiting.count("data-handoff=") == 1
    assert "data-erasure" not in waiting
    assert "in corso, n." in html  # the request whose conversation has a hand-off links to it


def test_marking_done_closes_only_that_request_and_is_audited(
    client: TestClient, make_staff: MakeStaff, requests: dict[str, int], engine: Engine
) -> None:
    csrf = signed_in(client, make_staff(Role.care_manager))
    target = requests[DURING_HANDOFF]
    response = client.post(f"{CONSOLE}/cancellazioni/{target}/evasa", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"].endswith("/cancellazioni?msg=done")
    page = client.get(response.headers["location"])
    assert "Richiesta segnata come evasa." in page.text
    assert page.text.count('data-erasure="') == 1
    again = client.post(f"{CONSOLE}/cancellazioni/{target}/evasa", data={"csrf_token": csrf})
    assert again.headers["location"].endswith("?msg=gone")
    with Session(engine) as session:
        assert [r.id for r in erasure.open_requests(session)] == [requests[ALONE]]
        handoff = core.open_handoff(session, conversation_id=DURING_HANDOFF)
        assert handoff is not None and handoff.status == "waiting"  # the hand-off goes on
        entries = audit.recent(session, object_type="erasure_request")
        assert [(e.action, e.object_id) for e in entries] == [("erasure.done", str(target))]


def test_an_admin_sees_the_requests_page_but_not_the_conversations(
    client: TestClient, make_staff: MakeStaff, requests: dict[str, int]
) -> None:
    signed_in(client, make_staff(Role.admin))
    page = client.get(f"{CONSOLE}/cancellazioni")
    assert page.status_code == 200
    assert page.text.count('data-erasure="') == 2
    assert "in corso, n." not in page.text  # no link into a conversation an admin may not open
    assert client.get(f"{CONSOLE}/coda").status_code == 403


def test_other_roles_do_not_see_the_requests(
    client: TestClient, make_staff: MakeStaff, requests: dict[str, int]
) -> None:
    csrf = signed_in(client, make_staff(Role.hub_staff, Role.welfare_officer))
    assert client.get(f"{CONSOLE}/cancellazioni").status_code == 403
    response = client.post(
        f"{CONSOLE}/cancellazioni/{requests[ALONE]}/evasa", data={"csrf_token": csrf}
    )
    assert response.status_code == 403
