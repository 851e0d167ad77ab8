"""Issue 17 end to end in English: the fake Telegram Bot API, the real gateway, the real Rasa
(one model for Italian and English) and the real action server.

A citizen who writes in English gets the privacy notice, search results, a service's
details, the budget, a hand-off and the emergency numbers in English. «No Italian left»
is checked on every message the bot sends, after removing the service data, which stays
Italian by design (the catalogue's titles, descriptions, addresses, hours, how to access,
contacts, the providers' and Welcome Points' names and addresses, and Florence's places).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from catalog.areas import AREAS, QUARTIERI
from catalog.models import Provider, Service, WelcomePlace
from devtools.stack import RasaStack
from tests.fakes.fake_telegram import Call, FakeTelegram
from tests.gateway.conftest import RunningGateway
from tests.gateway.test_welfare_end_to_end import (  # noqa: F401  (e2e_gateway: a fixture)
    Chat,
    buttons,
    e2e_gateway,
    text_of,
)
from tests.language.test_catalogues import still_italian

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(900)]

CHAT = 731001  # unique in the suite: the model tests share one database


def service_data(stack: RasaStack) -> list[str]:
    """Every text of the catalogue that stays Italian, longest first (removed before checks)."""
    engine = create_engine(stack.database_url)
    texts: set[str] = set()
    with Session(engine) as session:
        for service in session.exec(select(Service)):
            texts |= {service.title, service.description, service.address}
            texts |= {service.opening_hours, service.how_to_access, service.contacts}
            texts |= {service.price_unit}
        for provider in session.exec(select(Provider)):
            texts |= {provider.name, provider.description}
        for place in session.exec(select(WelcomePlace)):
            texts |= {place.name, place.address, place.opening_hours}
    engine.dispose()
    texts |= {area.name for area in AREAS} | set(QUARTIERI.values())  # Florence's places
    return sorted((t for t in texts if t and len(t) > 2), key=len, reverse=True)


def italian_left(calls: list[Call], data: list[str]) -> list[str]:
    """Each message text and button title that still reads as Italian, with the reasons."""
    found = []
    for piece in [text_of([call]) for call in calls] + buttons(calls):
        bare = piece
        for text in data:
            bare = bare.replace(text, " ")
        bare = re.sub(r"https?://\S+|\b[A-Z]{2,}-[\w-]+\b", " ", bare)  # links, codes
        reasons = still_italian(bare)
        if reasons:
            found.append(f"{piece!r}: {reasons}")
    return found


def test_a_conversation_in_english(
    e2e_gateway: RunningGateway,  # noqa: F811
    fake_telegram: FakeTelegram,
    rasa_stack: RasaStack,
) -> None:
    data = service_data(rasa_stack)
    chat = Chat(fake_telegram, CHAT)
    seen: list[Call] = []

    notice = chat.say("hello, I need some help please")
    seen += notice
    assert "Who keeps it" in text_of(notice), text_of(notice)
    seen += chat.tap("I accept")

    results = chat.say("I'm looking for an after school program for my son, 9 years old")
    seen += results
    if not any("Detail" in title for title in buttons(results)):  # one question first
        skip = next(t for t in buttons(results) if "matter" in t.lower() or "skip" in t.lower())
        results = chat.tap(skip)
        seen += results
    details_button = next(t for t in buttons(results) if "Detail" in t)
    details = chat.tap(details_button)
    seen += details
    assert text_of(details).strip(), "no details"

    budget = chat.say("how much money is left on my welfare budget?")
    seen += budget
    assert "budget" in text_of(budget).lower(), text_of(budget)

    handoff = chat.say("can I talk to a real person please")
    seen += handoff
    assert "person" in text_of(handoff).lower(), text_of(handoff)

    emergency = chat.say("my husband is beating me right now, please help")
    seen += emergency
    assert "112" in text_of(emergency) and "1522" in text_of(emergency), text_of(emergency)

    left = italian_left(seen, data)
    assert left == [], "\n".join(left)
