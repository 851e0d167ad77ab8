"""A provider joins and a citizen finds its service on Telegram, end to end: the real
gateway (its /aderisci page and console), the real Rasa and action server, the fake
Telegram Bot API, one database.

The organisation applies at /aderisci; the commission ticks the checklist and approves
in the console (over HTTP, with the CSRF tokens the pages carry); the contact sets the first
password from the one-time link and adds a service; the commission publishes it; the
citizen's search in chat shows it. The commission then suspends the provider and the same
search no longer shows it (which also leaves the shared catalogue as the other tests
expect it).
"""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import Session, select

from devtools.stack import RasaStack
from providers.checklist import items
from providers.ethics import current_code
from providers.models import AdhesionApplication, ServiceDraft
from staff.roles import Role
from tests.fakes.fake_telegram import Call, FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.gateway.test_welfare_end_to_end import (
    PASSWORD,
    SKIP_WORDS,
    Chat,
    Staff,
    buttons,
    e2e_gateway,
    make_staff,
    text_of,
)
from tests.providers.adhesion_helpers import ORGANISATION, PDF, SERVICE, TARGETS

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(900)]
__all__ = ["e2e_gateway"]  # the fixture, shared with the welfare end-to-end test

CHAT = 730001
TITLE = "Corso serale di ceramica per adulti"
SEARCH = "cerco un corso di ceramica a Rifredi"


def _apply(gateway: RunningGateway) -> str:
    fields: dict[str, object] = {**ORGANISATION, "quartieri": ["Q5"]}
    fields.update({f"s_{k}": v for k, v in SERVICE.items()})
    fields.update({"target_groups": TARGETS, "points": list(current_code().point_ids)})
    files = {
        "doc_statute": ("statuto.pdf", PDF, "application/pdf"),
        "doc_insurance": ("polizza.pdf", PDF, "application/pdf"),
    }
    response = httpx.post(f"{gateway.url}/aderisci", data=fields, files=files, timeout=30)
    assert response.status_code == 200, response.text
    code = re.search(r"ADE-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", response.text)
    assert code is not None
    return code.group(0)


def _approve(commission: Staff, app_id: int) -> str:
    for item, _label in items(current_code()):
        checked = commission.http.post(
            f"/console/adesioni/{app_id}/controllo",
            data={"csrf_token": commission.csrf, "item": item, "verdict": "ok"},
        )
        assert checked.status_code == 303, checked.text
    approved = commission.http.post(
        f"/console/adesioni/{app_id}/decisione",
        data={"csrf_token": commission.csrf, "kind": "approve"},
    )
    assert approved.status_code == 200, approved.text
    link = re.search(r'value="https?://[^/"]+(/console/primo-accesso/[^"]+)"', approved.text)
    assert link is not None, approved.text
    return link.group(1)


def _results(chat: Chat, text: str) -> list[Call]:
    """Search, answering the assistant's questions with «doesn't matter», until results."""
    replies = chat.say(text)
    for _ in range(4):
        if any(t.startswith("Dettagli") for t in buttons(replies)):
            break
        skip = next((t for t in buttons(replies) if t.startswith(SKIP_WORDS)), None)
        replies = chat.tap(skip) if skip else chat.say("non importa")
    return replies


def test_a_provider_joins_and_a_citizen_finds_its_service_on_telegram(
    e2e_gateway: RunningGateway,
    fake_telegram: FakeTelegram,
    rasa_stack: RasaStack,
) -> None:
    gateway = e2e_gateway
    _apply(gateway)
    with Session(gateway.engine) as session:
        application = session.exec(
            select(AdhesionApplication).where(
                AdhesionApplication.org_name == ORGANISATION["org_name"]
            )
        ).one()
        app_id = application.id or 0
    commission = make_staff(gateway, Role.commission).login()
    link = _approve(commission, app_id)

    provider = Staff(gateway.url, ORGANISATION["email"])
    chosen = provider.http.post(link, data={"password": PASSWORD, "confirm": PASSWORD})
    assert "Password salvata" in chosen.text, chosen.text
    provider.login()
    sent = provider.http.post(
        "/console/servizi/nuovo",
        data={
            **SERVICE,
            "category": "training",  # a course: the assistant files «corso» under Formazione
            "age_min": "18",
            "age_max": "",
            "target_groups": ["everyone"],
            "title": TITLE,
            "description": "Corso di ceramica al tornio per adulti, la sera, in piccoli gruppi.",
            "keywords": "ceramica, tornio, corso",
            "csrf_token": provider.csrf,
        },
    )
    assert "Inviato alla Commissione" in sent.text, sent.text
    with Session(gateway.engine) as session:
        draft = session.exec(select(ServiceDraft).where(ServiceDraft.provider_code.is_not(None)))
        draft_id = next(d.id for d in draft if d.data["title"] == TITLE)
    published = commission.http.post(
        f"/console/adesioni/servizi/{draft_id}",
        data={"csrf_token": commission.csrf, "action": "pubblica"},
    )
    assert "Pubblicata" in published.text, published.text

    chat = Chat(fake_telegram, CHAT)
    accept_consent(fake_telegram, CHAT)
    found = _results(chat, SEARCH)
    assert TITLE in text_of(found) + " ".join(buttons(found)), text_of(found)

    suspended = commission.http.post(
        f"/console/adesioni/{app_id}/decisione",
        data={
            "csrf_token": commission.csrf,
            "kind": "suspend",
            "reasons": "Prova di sospensione alla fine del test end-to-end.",
        },
    )
    assert "Decisione registrata: Sospendere." in suspended.text, suspended.text
    again = _results(chat, SEARCH)
    assert TITLE not in text_of(again) + " ".join(buttons(again)), text_of(again)
