"""The public /aderisci page on both databases: a valid application, each kind of bad input
(Italian messages, nothing saved), the honeypot, the per-address limit, the tracking page."""

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
from sqlmodel import Session, func, select

from core.settings import Settings
from providers.ethics import current_code
from providers.models import AdhesionApplication, AdhesionDocument, AdhesionMessage, ServiceDraft
from server.adhesion import attach_adhesion
from tests.providers.adhesion_helpers import ORGANISATION, PDF, SERVICE, TARGETS

TABLES = (AdhesionApplication, AdhesionDocument, ServiceDraft, AdhesionMessage)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", adhesion_applications_per_address_per_hour=3)


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    app = FastAPI()
    attach_adhesion(app, settings, engine=engine)
    with TestClient(app) as test_client:
        yield test_client


def _fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {**ORGANISATION, "quartieri": ["Q5", "Q1"]}
    fields.update({f"s_{k}": v for k, v in SERVICE.items()})
    fields["target_groups"] = TARGETS
    fields["points"] = list(current_code().point_ids)
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def _files(statute: bytes = PDF, insurance: bytes = PDF) -> dict[str, Any]:
    return {
        "doc_statute": ("statuto.pdf", statute, "application/pdf"),
        "doc_insurance": ("polizza.pdf", insurance, "application/pdf"),
    }


def _counts(engine: Engine) -> list[int]:
    with Session(engine) as s:
        return [s.exec(select(func.count()).select_from(t)).one() for t in TABLES]


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.var_dir / "adhesions"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_form_shows_every_point_of_the_code(client: TestClient) -> None:
    page = client.get("/aderisci")
    assert page.status_code == 200
    for point in current_code().points:
        assert f'value="{point.id}"' in page.text and point.title in page.text
    assert "versione " + current_code().version in page.text


def test_a_valid_application_gets_a_tracking_code(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    response = client.post("/aderisci", data=_fields(), files=_files())
    assert response.status_code == 200, response.text
    code = re.search(r"ADE-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", response.text)
    assert code is not None
    assert _counts(engine) == [1, 2, 1, 0]
    assert len(_stored_files(settings)) == 2
    with Session(engine) as s:
        application = s.exec(select(AdhesionApplication)).one()
        assert application.quartieri == ["Q1", "Q5"]
        assert application.website == "https://girasole.example.it"
        draft = s.exec(select(ServiceDraft)).one()
        assert draft.data["price_cents"] == 3000 and draft.data["lat"] == 43.789

    status = client.post("/aderisci/stato", data={"tracking_code": code.group(0)})
    assert status.status_code == 200
    assert "In esame dalla Commissione" in status.text


@pytest.mark.parametrize(
    ("changes", "files", "message"),
    [
        ({"points": ["persona", "chiarezza"]}, {}, "bisogna accettare ogni punto del codice etico"),
        ({"tax_code": "1234"}, {}, "Il codice fiscale o la partita IVA non è valido"),
        ({"email": "giulia-at-girasole"}, {}, "L'indirizzo email non è valido."),
        ({"quartieri": None}, {}, "Indica almeno un quartiere"),
        ({"s_coordinates": "vicino al ponte"}, {}, "Le coordinate non si leggono"),
        ({"s_coordinates": "45.4642, 9.1900"}, {}, "fuori da Firenze"),
        ({"s_opening_hours": "sempre"}, {}, "Gli orari non si leggono"),
        ({"s_price": "trenta"}, {}, "Il prezzo si scrive in euro"),
        ({"s_category": "astrologia"}, {}, "Scegli il tipo di servizio"),
        ({"s_age_min": "18", "s_age_max": "10"}, {}, "L'età massima non può essere minore"),
        (
            {},
            {"statute": b"\x89PNG\r\n\x1a\nnot a pdf"},
            "Statuto o atto costitutivo: il file deve",
        ),
        ({}, {"insurance": b""}, "Polizza assicurativa: allega il file in formato PDF."),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    changes: dict[str, Any],
    files: dict[str, bytes],
    message: str,
) -> None:
    response = client.post("/aderisci", data=_fields(**changes), files=_files(**files))
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert "Non abbiamo salvato niente" in response.text
    assert ORGANISATION["org_name"] in response.text  # what was typed is kept in the form
    assert _counts(engine) == [0, 0, 0, 0]
    assert _stored_files(settings) == []


def test_a_too_big_document_is_refused(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    big = PDF + b"0" * settings.upload_max_bytes
    response = client.post("/aderisci", data=_fields(), files=_files(statute=big))
    assert response.status_code == 422 and "il file è troppo grande" in response.text
    assert _counts(engine) == [0, 0, 0, 0]


def test_the_honeypot_saves_nothing(client: TestClient, engine: Engine, settings: Settings) -> None:
    response = client.post(
        "/aderisci", data=_fields(sito_secondario="http://spam.example"), files=_files()
    )
    assert response.status_code == 200 and "Domanda ricevuta" in response.text
    assert "ADE-" not in response.text
    assert _counts(engine) == [0, 0, 0, 0] and _stored_files(settings) == []


def test_the_per_address_limit_refuses_politely(client: TestClient, engine: Engine) -> None:
    for _ in range(3):
        assert client.post("/aderisci/stato", data={"tracking_code": "ADE-X"}).status_code == 404
    response = client.post("/aderisci", data=_fields(), files=_files())
    assert response.status_code == 429 and "troppe richieste" in response.text
    assert _counts(engine) == [0, 0, 0, 0]


def test_the_applicant_answers_with_a_document(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    response = client.post("/aderisci", data=_fields(), files=_files())
    code = re.search(r"ADE-[A-Z0-9-]{14}", response.text)
    assert code is not None
    refused = client.post(
        "/aderisci/rispondi",
        data={"tracking_code": code.group(0), "text": "Ecco"},
        files={"document": ("x.pdf", b"GIF89a", "application/pdf")},
    )
    assert refused.status_code == 422 and "Documento: il file deve essere un PDF." in refused.text
    assert _counts(engine) == [1, 2, 1, 0]
    sent = client.post(
        "/aderisci/rispondi",
        data={"tracking_code": code.group(0), "text": "Ecco la polizza del 2026."},
        files={"document": ("polizza.pdf", PDF, "application/pdf")},
    )
    assert sent.status_code == 200 and "Risposta inviata alla Commissione." in sent.text
    assert "Ecco la polizza del 2026." in sent.text
    assert _counts(engine) == [1, 3, 1, 1]
    assert len(_stored_files(settings)) == 3
