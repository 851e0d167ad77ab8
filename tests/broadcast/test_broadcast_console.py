"""The composer in the console: hub_staff only, CSRF on every POST, live preview and count,
send now or schedule (Rome time), pictures checked, progress JSON, cancel, CSV export."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from broadcast.models import Broadcast
from console import broadcasts, security
from console.app import build_console
from console.broadcasts import routes as web
from console.staff import create_staff
from core.db import session_scope
from core.settings import Settings
from staff.models import AuditLog
from staff.roles import Role
from tests.broadcast.helpers import subscribers

PASSWORD = "lampredotto e ribollita"
CONSOLE = "/console"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    previous = security._hasher
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    security.use_hasher(previous)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    value = Settings(var_dir=tmp_path, secret_key="test-secret-key-" + "x" * 32)
    web.configure(value)
    yield value
    web._settings = None


@pytest.fixture
def client(sqlite_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    app = FastAPI()
    app.mount(CONSOLE, build_console(settings, engine=sqlite_engine, sections=[broadcasts.SECTION]))
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def _staff(engine: Engine, *roles: Role, email: str = "hub@comune.example.it") -> str:
    with session_scope(engine) as session:
        create_staff(session, email=email, full_name="Hub Staff", roles=roles, password=PASSWORD)
    return email


def _login(client: TestClient, email: str) -> str:
    page = client.get(f"{CONSOLE}/accesso")
    token = _TOKEN.search(page.text)
    assert token
    response = client.post(
        f"{CONSOLE}/accesso",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1), "next": ""},
    )
    assert response.status_code == 303, response.text
    home = client.get(f"{CONSOLE}/")
    found = _TOKEN.search(home.text)
    assert found
    return found.group(1)


@pytest.fixture
def hub(client: TestClient, sqlite_engine: Engine) -> str:
    return _login(client, _staff(sqlite_engine, Role.hub_staff))


def _form(csrf: str, **fields: object) -> dict[str, object]:
    return {
        "csrf_token": csrf,
        "title": "Laboratorio",
        "body": "Martedì <b>alle 17</b>",
        "when": "now",
        **fields,
    }


def test_only_hub_staff(client: TestClient, sqlite_engine: Engine) -> None:
    assert (
        client.get(f"{CONSOLE}/avvisi", headers={"Accept": "application/json"}).status_code == 401
    )
    _login(client, _staff(sqlite_engine, Role.care_manager, email="cm@comune.example.it"))
    for path in ("/avvisi", "/avvisi/nuovo", "/avvisi/destinatari", "/avvisi/static/composer.js"):
        assert client.get(f"{CONSOLE}{path}").status_code == 403, path
    assert "Avvisi" not in client.get(f"{CONSOLE}/").text


def test_navigation_and_pages(client: TestClient, hub: str) -> None:
    home = client.get(f"{CONSOLE}/")
    assert 'data-section="broadcasts"' in home.text
    page = client.get(f"{CONSOLE}/avvisi/nuovo")
    assert page.status_code == 200
    assert "Q5 Rifredi" in page.text and "Doposcuola" in page.text
    assert "/console/avvisi/static/composer.js" in page.text
    assert "<script>" not in page.text.replace("<script src", "")  # no inline scripts (CSP)
    assert client.get(f"{CONSOLE}/avvisi/static/composer.js").status_code == 200


def test_every_post_needs_the_csrf_token(
    client: TestClient, hub: str, sqlite_engine: Engine
) -> None:
    refused = client.post(f"{CONSOLE}/avvisi/nuovo", data=_form("wrong"))
    assert refused.status_code == 403
    assert client.post(f"{CONSOLE}/avvisi/anteprima", json={"body": "x"}).status_code == 403
    with Session(sqlite_engine) as session:
        assert session.exec(select(Broadcast)).all() == []


def test_preview_and_live_count(client: TestClient, hub: str, sqlite_engine: Engine) -> None:
    subscribers(sqlite_engine, 3, quartieri=["Q5"])
    subscribers(sqlite_engine, 2, quartieri=["Q1"], interests=["housing"])
    preview = client.post(
        f"{CONSOLE}/avvisi/anteprima",
        json={"title": "Festa", "body": "<b>ok</b> <script>x</script>"},
        headers={"X-CSRF-Token": hub},
    ).json()
    assert preview["html"].startswith("<b>Festa</b>\n\n<b>ok</b> &lt;script&gt;x&lt;/script&gt;")
    assert preview["limit"] == 4096 and not preview["too_long"]
    long = client.post(
        f"{CONSOLE}/avvisi/anteprima",
        json={"title": "t", "body": "x" * 1100, "with_image": "1"},
        headers={"X-CSRF-Token": hub},
    ).json()
    assert long["too_long"] and long["limit"] == 1024
    count = client.get(f"{CONSOLE}/avvisi/destinatari").json()
    assert count == {"telegram": 5, "total": 5}
    q5 = client.get(f"{CONSOLE}/avvisi/destinatari?quartieri=Q5&quartieri=Q9").json()
    assert q5["total"] == 3
    only = client.get(f"{CONSOLE}/avvisi/destinatari?interests=housing&quartieri=Q1").json()
    assert only["total"] == 2  # the Q5 subscribers want every topic, but not Q1


def test_send_now_then_follow_cancel_and_export(
    client: TestClient, hub: str, sqlite_engine: Engine
) -> None:
    subscribers(sqlite_engine, 2)
    created = client.post(
        f"{CONSOLE}/avvisi/nuovo",
        data=_form(
            hub,
            quartieri=["Q5"],
            interests=["after_school"],
            link_url="https://www.comune.fi.it",
            link_label="Dettagli",
        ),
    )
    assert created.status_code == 303
    detail_path = created.headers["location"]
    assert re.fullmatch(r"/console/avvisi/\d+", detail_path)
    with Session(sqlite_engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
        assert broadcast.body.startswith("<b>Laboratorio</b>\n\nMartedì <b>alle 17</b>")
        assert (broadcast.quartieri, broadcast.interests) == (["Q5"], ["after_school"])
        assert broadcast.status == "scheduled" and broadcast.link_label == "Dettagli"
        assert session.exec(select(AuditLog).where(AuditLog.action == "broadcast.create")).one()
    page = client.get(detail_path)
    assert page.status_code == 200 and "<progress" in page.text and "Annulla l" in page.text
    progress = client.get(f"{detail_path}/stato").json()
    assert progress["status"] == "scheduled" and progress["done_percent"] == 0

    assert client.post(f"{detail_path}/annulla", data={"csrf_token": "no"}).status_code == 403
    cancelled = client.post(f"{detail_path}/annulla", data={"csrf_token": hub})
    assert cancelled.status_code == 303
    assert client.get(f"{detail_path}/stato").json()["status"] == "cancelled"
    again = client.post(
        f"{detail_path}/annulla", data={"csrf_token": hub}, headers={"Accept": "application/json"}
    )
    assert again.status_code == 409
    csv = client.get(f"{detail_path}/report.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.lstrip("\ufeff").startswith("conversazione;canale;esito;tentativi")
    assert client.get(f"{CONSOLE}/avvisi").text.count("Laboratorio") == 1


def test_schedule_in_rome_time(client: TestClient, hub: str, sqlite_engine: Engine) -> None:
    future = datetime(2031, 7, 14, 18, 30)
    response = client.post(
        f"{CONSOLE}/avvisi/nuovo",
        data=_form(hub, when="later", scheduled_at=future.strftime("%Y-%m-%dT%H:%M")),
    )
    assert response.status_code == 303
    with Session(sqlite_engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
    assert broadcast.scheduled_at == datetime(2031, 7, 14, 16, 30, tzinfo=UTC)  # CEST = UTC+2
    for bad in ("2020-01-01T10:00", "domani", "2031-03-30T02:30"):  # past, garbage, DST gap
        refused = client.post(
            f"{CONSOLE}/avvisi/nuovo", data=_form(hub, when="later", scheduled_at=bad)
        )
        assert refused.status_code == 400, bad
    assert web.parse_local_time("2031-10-26T02:30", ZoneInfo("Europe/Rome")).hour == 0


def _png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_picture_checks(
    client: TestClient, hub: str, sqlite_engine: Engine, settings: Settings
) -> None:
    def post(content: bytes, name: str = "a.png") -> int:
        files = {"image": (name, content, "image/png")}
        return client.post(f"{CONSOLE}/avvisi/nuovo", data=_form(hub), files=files).status_code

    assert post(b"GIF89a" + b"\0" * 50, "a.gif") == 400
    assert post(b"\x89PNG\r\n\x1a\n" + b"broken") == 400
    settings.broadcast_image_max_bytes = 100
    assert post(_png() + b"\0" * 200) == 400
    settings.broadcast_image_max_bytes = 5 * 1024 * 1024
    too_long = client.post(
        f"{CONSOLE}/avvisi/nuovo",
        data=_form(hub, body="x" * 1100),
        files={"image": ("a.png", _png(), "image/png")},
    )
    assert too_long.status_code == 400 and "troppo lungo" in too_long.text
    assert post(_png()) == 303
    with Session(sqlite_engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
    assert broadcast.image_mime == "image/png" and broadcast.image_path
    assert (settings.var_dir / broadcast.image_path).read_bytes().startswith(b"\x89PNG")
    image = client.get(f"{CONSOLE}/avvisi/{broadcast.id}/immagine")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_invalid_drafts_are_explained(client: TestClient, hub: str) -> None:
    for fields, message in (
        ({"title": ""}, "Scrivi un titolo."),
        ({"body": "  "}, "Scrivi il testo"),
        ({"link_url": "javascript:alert(1)"}, "Il link deve iniziare con https://"),
    ):
        response = client.post(f"{CONSOLE}/avvisi/nuovo", data=_form(hub, **fields))
        assert response.status_code == 400 and message in response.text
