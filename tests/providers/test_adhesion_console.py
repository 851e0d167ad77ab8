"""«Adesioni» and «I miei servizi» in the console, on both databases: the role checks of
every route, the checklist and decisions through the pages (one and two members), the
one-time link for the first password, providers' services reviewed or published at once."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog.importer import import_catalog
from catalog.models import Service
from catalog.search import search_services
from console.adhesion import SECTION as ADHESION
from console.app import build_console, iter_routes
from console.auth import CSRF_HEADER
from console.provider_services import SECTION as MY_SERVICES
from console.staff import create_staff
from core.settings import Settings
from providers.checklist import items
from providers.ethics import current_code
from providers.models import AdhesionApplication, DraftStatus, ServiceDraft
from staff.models import AuditLog
from staff.roles import ALL_ROLES, Role
from tests.providers.adhesion_helpers import PASSWORD, SERVICE, TARGETS, submit

CONSOLE = "/console"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _app(engine: Engine, settings: Settings) -> FastAPI:
    gateway = FastAPI()
    gateway.mount(CONSOLE, build_console(settings, engine=engine))
    return gateway


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32)


@pytest.fixture
def gateway(engine: Engine, settings: Settings) -> FastAPI:
    return _app(engine, settings)


@pytest.fixture
def client(gateway: FastAPI) -> Iterator[TestClient]:
    with TestClient(gateway, follow_redirects=False) as test_client:
        yield test_client


def _member(session: Session, *roles: Role, n: int, provider_code: str | None = None) -> str:
    view = create_staff(
        session,
        email=f"persona{n}@welcome.example.it",
        full_name=f"Persona {n}",
        roles=set(roles),
        password=PASSWORD,
        provider_code=provider_code,
    )
    session.commit()
    return view.email


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    page = client.get(f"{CONSOLE}/accesso")
    token = _TOKEN.search(page.text)
    assert token
    response = client.post(
        f"{CONSOLE}/accesso",
        data={"email": email, "password": password, "csrf_token": token.group(1), "next": ""},
    )
    assert response.status_code == 303, response.text
    home = client.get(f"{CONSOLE}/")
    found = _TOKEN.search(home.text)
    assert found
    return found.group(1)


def _section_routes(gateway: FastAPI) -> list[tuple[str, str]]:
    console = next(r.app for r in gateway.routes if getattr(r, "path", "") == CONSOLE)
    found = []
    for route in iter_routes(console):
        if route.path.startswith((ADHESION.path + "", MY_SERVICES.path + "")):
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, CONSOLE + re.sub(r"\{[^}]+\}", "1", route.path)))
    return found


def test_every_route_of_the_sections_refuses_other_roles(
    gateway: FastAPI, session: Session
) -> None:
    routes = _section_routes(gateway)
    assert len(routes) == 18  # 13 of «Adesioni», 5 of «I miei servizi»
    for n, role in enumerate(sorted(ALL_ROLES - {Role.commission, Role.provider_staff})):
        with TestClient(gateway, follow_redirects=False) as client:
            csrf = _sign_in(client, _member(session, role, n=n))
            for method, url in routes:
                response = client.request(method, url, headers={CSRF_HEADER: csrf})
                assert response.status_code == 403, (role, method, url)
    with TestClient(gateway, follow_redirects=False) as client:
        csrf = _sign_in(client, _member(session, Role.commission, n=50))
        for method, url in routes:
            response = client.request(method, url, headers={CSRF_HEADER: csrf})
            assert (response.status_code == 403) == url.startswith(f"{CONSOLE}/servizi"), url
    with TestClient(gateway, follow_redirects=False) as client:
        csrf = _sign_in(client, _member(session, Role.provider_staff, n=51, provider_code="x"))
        for method, url in routes:
            response = client.request(method, url, headers={CSRF_HEADER: csrf})
            assert (response.status_code == 403) == url.startswith(f"{CONSOLE}/adesioni"), url
    with TestClient(gateway, follow_redirects=False) as client:
        for method, url in routes:
            assert client.request(method, url).status_code == 401, url


def _tick_all(client: TestClient, csrf: str, app_id: int) -> None:
    for item, _label in items(current_code()):
        response = client.post(
            f"{CONSOLE}/adesioni/{app_id}/controllo",
            data={"csrf_token": csrf, "item": item, "verdict": "ok", "note": "visto"},
        )
        assert response.status_code == 303


def _decide(client: TestClient, csrf: str, app_id: int, kind: str, reasons: str = "") -> Any:
    return client.post(
        f"{CONSOLE}/adesioni/{app_id}/decisione",
        data={"csrf_token": csrf, "kind": kind, "reasons": reasons},
    )


def _service_form(csrf: str, **changes: str) -> dict[str, Any]:
    return {**SERVICE, "target_groups": TARGETS, "csrf_token": csrf, **changes}


def test_apply_review_approve_first_password_and_own_services(
    gateway: FastAPI, engine: Engine, session: Session, settings: Settings, tmp_path: Path
) -> None:
    submitted = submit(session, settings.var_dir)
    app_id = submitted.application_id
    with TestClient(gateway, follow_redirects=False) as commission:
        csrf = _sign_in(commission, _member(session, Role.commission, n=1))
        queue = commission.get(f"{CONSOLE}/adesioni")
        assert "Cooperativa Il Girasole" in queue.text
        early = _decide(commission, csrf, app_id, "approve")
        assert early.status_code == 409 and "Mancano" in html.unescape(early.text)
        _tick_all(commission, csrf, app_id)
        approved = _decide(commission, csrf, app_id, "approve")
        assert approved.status_code == 200, approved.text
        link = re.search(r'value="(http://testserver/console/primo-accesso/[^"]+)"', approved.text)
        assert link is not None
        actions = [a.action for a in session.exec(select(AuditLog)).all()]
        assert "adhesion.approve" in actions and actions.count("adhesion.check") == len(
            items(current_code())
        )
        detail = next(
            a.detail
            for a in session.exec(select(AuditLog).where(AuditLog.action == "adhesion.approve"))
        )
        assert f"codice etico {current_code().version}" in detail

    url = link.group(1).removeprefix("http://testserver")
    with TestClient(gateway, follow_redirects=False) as provider:
        assert "giulia@girasole.example.it" in provider.get(url).text
        short = provider.post(url, data={"password": "corta", "confirm": "corta"})
        assert short.status_code == 422 and "almeno 12 caratteri" in short.text
        new_password = "girasoli sul ponte di mezzo"
        done = provider.post(url, data={"password": new_password, "confirm": new_password})
        assert done.status_code == 200 and "Password salvata" in done.text
        assert provider.get(url).status_code == 404  # used once
        csrf = _sign_in(provider, "giulia@girasole.example.it", new_password)
        mine = provider.get(f"{CONSOLE}/servizi")
        assert "Laboratorio di ceramica per ragazzi" in mine.text
        bad = provider.post(
            f"{CONSOLE}/servizi/nuovo", data=_service_form(csrf, title="", s="x", price="tanti")
        )
        assert bad.status_code == 422 and "non abbiamo salvato niente" in bad.text
        sent = provider.post(
            f"{CONSOLE}/servizi/nuovo",
            data=_service_form(
                csrf,
                title="Corso di ceramica per adulti",
                description="Corso serale di ceramica per adulti e anziani, in piccoli gruppi.",
                coordinates="",
                opening_hours="mar 18:00-20:00",
            ),
        )
        assert sent.status_code == 200 and "Inviato alla Commissione" in sent.text
        assert "centro del quartiere" in sent.text
    titles = [h.service.title for h in search_services(session, "ceramica per adulti").hits]
    assert "Corso di ceramica per adulti" not in titles

    draft = session.exec(select(ServiceDraft).where(ServiceDraft.submitted_by.is_not(None))).one()
    with TestClient(gateway, follow_redirects=False) as commission:
        csrf = _sign_in(commission, _member(session, Role.commission, n=2))
        page = commission.get(f"{CONSOLE}/adesioni/servizi/{draft.id}")
        assert "Corso di ceramica per adulti" in page.text
        published = commission.post(
            f"{CONSOLE}/adesioni/servizi/{draft.id}",
            data={"csrf_token": csrf, "action": "pubblica", "note": ""},
        )
        assert published.status_code == 200 and "Pubblicata" in published.text
    session.expire_all()
    hits = search_services(session, "ceramica per adulti").hits
    assert hits and hits[0].service.title == "Corso di ceramica per adulti"
    assert "centro del quartiere" in hits[0].service.address
    assert hits[0].service.code.startswith("cooperativa-il-girasole-corso-di-ceramica")


def test_two_members_decide_through_the_pages(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    settings = Settings(var_dir=tmp_path / "var", secret_key="k" * 40, adhesion_two_members=True)
    gateway = _app(engine, settings)
    app_id = submit(session, settings.var_dir).application_id
    reasons = "Lo statuto allegato non è firmato: mandatelo firmato."
    with TestClient(gateway, follow_redirects=False) as first:
        csrf = _sign_in(first, _member(session, Role.commission, n=1))
        proposed = _decide(first, csrf, app_id, "request_changes", reasons)
        assert "diventa effettiva quando la conferma un altro membro" in proposed.text
        again = _decide(first, csrf, app_id, "request_changes")
        assert again.status_code == 409 and "un altro membro" in again.text
    application = session.get(AdhesionApplication, app_id)
    assert application is not None and application.status == "submitted"
    with TestClient(gateway, follow_redirects=False) as second:
        csrf = _sign_in(second, _member(session, Role.commission, n=2))
        confirmed = _decide(second, csrf, app_id, "request_changes")
        assert "Decisione registrata: Chiedere modifiche." in confirmed.text
    session.refresh(application)
    assert application.status == "changes_requested"
    labels = [a.action for a in session.exec(select(AuditLog)).all()]
    assert labels.count("adhesion.propose") == 1 and labels.count("adhesion.request_changes") == 1


def _approved_provider(session: Session, var: Path, staff_n: int) -> str:
    """An approved application (through the domain) and a provider_staff member's email."""
    from providers.models import DecisionKind
    from tests.providers.adhesion_helpers import decide_on, tick_all

    commission_email = _member(session, Role.commission, n=staff_n)
    from console.staff import get_by_email

    member = get_by_email(session, email=commission_email)
    assert member is not None and member.id is not None
    app_id = submit(session, var).application_id
    tick_all(session, application_id=app_id, staff_id=member.id)
    outcome = decide_on(session, app_id, DecisionKind.approve, member.id)
    assert outcome.provider is not None
    return outcome.provider.code


def test_trusted_small_edits_publish_at_once_others_wait(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    settings = Settings(var_dir=tmp_path / "var", secret_key="k" * 40, provider_trusted_edits=True)
    gateway = _app(engine, settings)
    code = _approved_provider(session, settings.var_dir, 1)
    service = session.exec(select(Service)).one()
    other = _approved_provider(session, settings.var_dir, 2)
    with TestClient(gateway, follow_redirects=False) as provider:
        csrf = _sign_in(provider, _member(session, Role.provider_staff, n=3, provider_code=code))
        hours = provider.post(
            f"{CONSOLE}/servizi/{service.code}",
            data=_service_form(csrf, opening_hours="lun-sab 15:00-19:00"),
        )
        assert "Modifica pubblicata subito" in hours.text
        session.expire_all()
        assert session.get(Service, service.id).opening_hours == "lun-sab 15:00-19:00"
        bigger = provider.post(
            f"{CONSOLE}/servizi/{service.code}",
            data=_service_form(csrf, opening_hours="lun-sab 15:00-19:00", price="45,00"),
        )
        assert "Inviato alla Commissione" in bigger.text
        session.expire_all()
        assert session.get(Service, service.id).price_cents == 3000
    drafts = session.exec(
        select(ServiceDraft).where(
            ServiceDraft.service_code == service.code, ServiceDraft.submitted_by.is_not(None)
        )
    )
    assert sorted(d.status for d in drafts) == [DraftStatus.pending, DraftStatus.published_trusted]
    with TestClient(gateway, follow_redirects=False) as stranger:
        csrf = _sign_in(stranger, _member(session, Role.provider_staff, n=4, provider_code=other))
        assert stranger.get(f"{CONSOLE}/servizi/{service.code}").status_code == 404
        refused = stranger.post(
            f"{CONSOLE}/servizi/{service.code}", data=_service_form(csrf, title="Rubato")
        )
        assert refused.status_code == 404
    with TestClient(gateway, follow_redirects=False) as commission:
        _sign_in(commission, _member(session, Role.commission, n=5))
        queue = commission.get(f"{CONSOLE}/adesioni")
        assert "Piccole modifiche già pubblicate" in queue.text


def test_a_provider_from_the_yaml_catalogue_is_suspended_in_the_console(
    gateway: FastAPI, session: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "providers.yaml").write_text(
        "- code: coop-arno\n"
        "  name: Cooperativa Arno\n"
        "  kind: cooperative\n"
        "  adhesion_status: approved\n"
        "  adhesion_date: 2025-01-10\n",
        encoding="utf-8",
    )
    (folder / "services.yaml").write_text(
        "- code: arno-ceramica\n"
        "  provider: coop-arno\n"
        "  title: Ceramica sull'Arno\n"
        "  description: Laboratorio di ceramica per tutti.\n"
        "  category: sport_leisure\n"
        "  target_groups: [everyone]\n"
        "  quartiere: Q1\n"
        "  lat: 43.7687\n"
        "  lon: 11.2530\n"
        "  cost_mode: free\n",
        encoding="utf-8",
    )
    assert import_catalog(session, folder).ok
    session.commit()
    assert [h.service.code for h in search_services(session, "ceramica sull'arno").hits][:1] == [
        "arno-ceramica"
    ]
    with TestClient(gateway, follow_redirects=False) as commission:
        csrf = _sign_in(commission, _member(session, Role.commission, n=1))
        listed = commission.get(f"{CONSOLE}/adesioni/enti")
        assert "Cooperativa Arno" in listed.text
        url = f"{CONSOLE}/adesioni/enti/coop-arno/decisione"
        short = commission.post(url, data={"csrf_token": csrf, "kind": "suspend"})
        assert short.status_code == 409 and "motivazioni" in short.text
        done = commission.post(
            url,
            data={
                "csrf_token": csrf,
                "kind": "suspend",
                "reasons": "Il Tavolo ha segnalato prezzi diversi per chi usa il budget.",
            },
        )
        assert "Decisione registrata: Sospendere." in done.text, done.text
        assert "Sospeso" in done.text
    session.expire_all()
    assert search_services(session, "ceramica sull'arno").hits == []
    report = import_catalog(session, folder)  # the file still says approved
    session.commit()
    assert any("not applied" in str(w) for w in report.warnings)
    assert search_services(session, "ceramica sull'arno").hits == []
    entry = session.exec(select(AuditLog).where(AuditLog.action == "adhesion.suspend")).one()
    assert (entry.object_type, entry.object_id) == ("provider", "coop-arno")
