"""The «Monitoraggio» section: who may see it, what its pages and CSV exports show."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from console_helpers import CONSOLE, MakeStaff, mount_console, signed_in
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

import console.monitoring
from core.db import session_scope
from core.settings import Settings
from staff.models import AuditLog
from staff.roles import ALL_ROLES, Role
from tests.monitoring import data

NOVEMBER = "?dal=2026-11-01&al=2026-11-30"


@pytest.fixture
def section_client(engine: Engine, console_settings: Settings, db_url: str) -> Iterator[TestClient]:
    settings = console_settings.model_copy(update={"rasa_tracker_db_url": db_url})
    app = mount_console(engine, settings, sections=[console.monitoring.SECTION])
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def analyst_client(engine: Engine, section_client: TestClient) -> TestClient:
    data.seed(engine)
    return section_client


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_only_analysts_and_admins(
    section_client: TestClient, make_staff: MakeStaff, role: Role
) -> None:
    analyst_client = section_client
    signed_in(analyst_client, make_staff(role))
    home = analyst_client.get(f"{CONSOLE}/")
    page = analyst_client.get(f"{CONSOLE}/monitoraggio{NOVEMBER}")
    csv = analyst_client.get(f"{CONSOLE}/monitoraggio/uso/messaggi_canale.csv{NOVEMBER}")
    if role in (Role.data_analyst, Role.admin):
        assert page.status_code == 200
        assert csv.status_code == 200
        assert 'href="/console/monitoraggio"' in home.text
    else:
        assert page.status_code == 403
        assert csv.status_code == 403
        assert "/console/monitoraggio" not in home.text


def test_pages_show_aggregates_only(analyst_client: TestClient, make_staff: MakeStaff) -> None:
    signed_in(analyst_client, make_staff(Role.data_analyst))
    for view in (
        "",
        "/bisogni",
        "/uso",
        "/comprensione",
        "/assistenza",
        "/budget",
        "/punti",
        "/avvisi",
    ):
        page = analyst_client.get(f"{CONSOLE}/monitoraggio{view}{NOVEMBER}")
        assert page.status_code == 200, view
        assert "<svg" in page.text, view
        for secret in ("testo che non deve", "mario.rossi", "Cognome", data.T[0], "CIT-TEST"):
            assert secret not in page.text
    uso = analyst_client.get(f"{CONSOLE}/monitoraggio/uso{NOVEMBER}").text
    assert "dal 1 novembre 2026 al 30 novembre 2026" in uso
    assert "&lt;5" in uso  # WhatsApp's 3 messages
    assert "style=" not in uso  # nothing the CSP (style-src 'self') would block


def test_csv_export_is_audited_and_neutralised(
    analyst_client: TestClient, make_staff: MakeStaff, engine: Engine
) -> None:
    member = make_staff(Role.data_analyst)
    signed_in(analyst_client, member)
    response = analyst_client.get(f"{CONSOLE}/monitoraggio/avvisi/avvisi.csv{NOVEMBER}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "'=Festa di quartiere (12/11);8;<5;<5" in response.text
    with session_scope(engine) as session:
        actions = session.execute(
            select(AuditLog.action, AuditLog.object_id).where(AuditLog.actor_id == member.view.id)
        ).all()
    assert ("monitoring.export", "avvisi/avvisi") in [tuple(a) for a in actions]
    assert analyst_client.get(f"{CONSOLE}/monitoraggio/avvisi/nessuna.csv").status_code == 404
    bad = analyst_client.get(f"{CONSOLE}/monitoraggio/uso?quartiere=Q9")
    assert bad.status_code == 422
