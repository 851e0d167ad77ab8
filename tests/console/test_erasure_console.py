"""Erasure requests in the console: their own table in the queue page and their own page,
for Care Managers and admins (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from console_helpers import CONSOLE, MakeStaff, mount_console, signed_in
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import console.erasure as erasure_section
import console.handoff as handoff_section
from care import handoff as core
from care.sla import office_hours
from console import audit
from conversations.models import Channel, Conversation
from core.db import session_scope
from core.settings import Settings
from privacy import erasure
from staff.roles import Role

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


# --- «Cancella i dati»: the confirmation step and the erasure ------------------------------


def _conversation_row(engine: Engine, conversation_id: str) -> None:
    with session_scope(engine) as session:
        session.add(
            Conversation(
                conversation_id=conversation_id,
                channel=Channel.telegram,
                chat_key="424242",
                consent_at=NOW,
                consent_version="2026-11",
            )
        )


def test_the_request_page_lists_what_goes_and_what_stays(
    client: TestClient, make_staff: MakeStaff, requests: dict[str, int], engine: Engine
) -> None:
    signed_in(client, make_staff(Role.admin))
    listing = client.get(f"{CONSOLE}/cancellazioni").text
    assert f"{CONSOLE}/cancellazioni/{requests[ALONE]}" in listing
    page = client.get(f"{CONSOLE}/cancellazioni/{requests[ALONE]}")
    assert page.status_code == 200
    html = page.text
    goes = html.split('id="da-cancellare"')[1].split("</table>")[0]
    stays = html.split('id="da-conservare"')[1].split("</table>")[0]
    assert "Messaggi della chat" in goes and "Indirizzo della chat" in goes
    assert "Movimenti del budget welfare" in stays and "art. 17, par. 3, lett. b" in stays
    assert "Consenso all&#39;informativa privacy" in stays
    assert "Cancella i dati</button>" in html and 'name="conferma"' in html
    # with a hand-off open: no button, the reason instead
    during = client.get(f"{CONSOLE}/cancellazioni/{requests[DURING_HANDOFF]}").text
    assert "Cancella i dati</button>" not in during
    assert "va chiusa prima di cancellare i dati" in during


def test_erasing_without_the_confirmation_or_with_a_handoff_open_changes_nothing(
    client: TestClient, make_staff: MakeStaff, requests: dict[str, int], engine: Engine
) -> None:
    _conversation_row(engine, ALONE)
    csrf = signed_in(client, make_staff(Role.care_manager))
    unticked = client.post(
        f"{CONSOLE}/cancellazioni/{requests[ALONE]}/cancella", data={"csrf_token": csrf}
    )
    assert unticked.status_code == 422
    assert "spunta la casella di conferma" in unticked.text
    refused = client.post(
        f"{CONSOLE}/cancellazioni/{requests[DURING_HANDOFF]}/cancella",
        data={"csrf_token": csrf, "conferma": "si"},
    )
    assert refused.status_code == 409
    assert "Chiudila prima di cancellare i dati: nessun dato è stato cancellato." in refused.text
    with Session(engine) as session:
        assert len(erasure.open_requests(session)) == 2
        assert session.exec(select(Conversation.chat_key)).one() == "424242"
        assert audit.recent(session, object_type="erasure_request") == []


def test_an_admin_erases_the_data_and_the_request_is_done_with_who_and_when(
    client: TestClient, make_staff: MakeStaff, requests: dict[str, int], engine: Engine
) -> None:
    _conversation_row(engine, ALONE)
    admin = make_staff(Role.admin)
    csrf = signed_in(client, admin)
    target = requests[ALONE]
    response = client.post(
        f"{CONSOLE}/cancellazioni/{target}/cancella", data={"csrf_token": csrf, "conferma": "si"}
    )
    assert response.status_code == 303
    # no gateway runs beside this console: nobody could tell the citizen, and the page says so
    assert response.headers["location"].endswith("/cancellazioni?msg=erased_silent")
    assert (
        "Il messaggio di conferma non è arrivato" in client.get(response.headers["location"]).text
    )
    with Session(engine) as session:
        assert [r.id for r in erasure.open_requests(session)] == [requests[DURING_HANDOFF]]
        assert session.exec(select(Conversation.chat_key)).one() == f"purged:{ALONE}"
        (entry,) = audit.recent(session, object_type="erasure_request")
        assert (entry.action, entry.object_id, entry.actor_id) == (
            "erasure.erased",
            str(target),
            admin.view.id,
        )
        assert entry.at.tzinfo is not None and "non consegnata" in entry.detail
    again = client.post(
        f"{CONSOLE}/cancellazioni/{target}/cancella", data={"csrf_token": csrf, "conferma": "si"}
    )
    assert again.status_code == 303 and again.headers["location"].endswith("?msg=gone")
    with Session(engine) as session:
        assert len(audit.recent(session, object_type="erasure_request")) == 1


def test_other_roles_may_not_erase(
    client: TestClient, make_staff: MakeStaff, requests: dict[str, int], engine: Engine
) -> None:
    _conversation_row(engine, ALONE)
    csrf = signed_in(client, make_staff(Role.hub_staff, Role.welfare_officer, Role.provider_staff))
    assert client.get(f"{CONSOLE}/cancellazioni/{requests[ALONE]}").status_code == 403
    response = client.post(
        f"{CONSOLE}/cancellazioni/{requests[ALONE]}/cancella",
        data={"csrf_token": csrf, "conferma": "si"},
    )
    assert response.status_code == 403
    with Session(engine) as session:
        assert len(erasure.open_requests(session)) == 2
        assert session.exec(select(Conversation.chat_key)).one() == "424242"
