"""The reminder pass: tomorrow's bookings reminded once on the citizen's conversation, also
with two gateways running the pass at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.models import PlaceKind, WelcomePlace
from server.welfare import send_reminders
from welfare.appointments import book, publish_slots

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
TOMORROW_10 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Florence


def test_reminders_sent_once(engine: Engine, session: Session) -> None:
    session.add(
        WelcomePlace(
            code="WP-ISO",
            kind=PlaceKind.point,
            name="Welcome Point Isolotto",
            quartiere="Q4",
            address="Via dell'Argingrosso 3",
            lat=43.765,
            lon=11.215,
            opening_hours="mar gio 15:00-18:00",
            staff_roles=["care_manager"],
        )
    )
    slots = publish_slots(
        session,
        place_code="WP-ISO",
        first_start=TOMORROW_10,
        minutes=30,
        count=3,
        created_by="staff:1",
        now=NOW,
    )
    book(session, slot_id=slots[0].id or 0, conversation_id="a" * 32, now=NOW)
    book(session, slot_id=slots[2].id or 0, conversation_id="b" * 32, now=NOW)
    session.commit()
    sent: list[tuple[str, str]] = []

    async def send(conversation_id: str, text: str) -> None:
        sent.append((conversation_id, text))

    async def two_gateways() -> list[int]:
        return list(
            await asyncio.gather(
                send_reminders(engine, send, now=NOW), send_reminders(engine, send, now=NOW)
            )
        )

    counts = asyncio.run(two_gateways())
    assert sum(counts) == 2 and sorted(c for c, _ in sent) == ["a" * 32, "b" * 32]
    assert "domani alle 10:00" in sent[0][1] or "domani alle 11:00" in sent[0][1]
    assert "Welcome Point Isolotto" in sent[0][1]
    assert asyncio.run(send_reminders(engine, send, now=NOW)) == 0
