"""The conversation page shows the citizen's profile: linked citizen, quartiere, budgets
(welfare.ledger), the slots the assistant collected (Rasa's tracker), past hand-offs."""

from __future__ import annotations

from datetime import timedelta

from core.db import session_scope
from core.timeutil import utcnow
from tests.handoff.conftest import Citizen, Live, StaffClient, make_care_manager
from tests.handoff.fake_rasa_api import FakeRasaApi
from welfare.ledger.accounts import create_citizen, open_account, upsert_source
from welfare.ledger.linking import issue_link_code, redeem_link_code
from welfare.ledger.models import SourceKind
from welfare.ledger.payments import credit


def test_profile_budgets_slots_and_history(
    start_live, fake_rasa: FakeRasaApi, people: list
) -> None:
    live: Live = start_live()
    citizen = Citizen(live.url)
    people.append(citizen)
    citizen.start()
    cid = citizen.conversation_id(live)
    now = utcnow()
    with session_scope(live.engine) as session:
        person = create_citizen(session, first_name="Maria", family_name="Rossi", quartiere="Q5")
        source = upsert_source(
            session, code="comune-2026", kind=SourceKind.public, name="Budget pubblico del Comune"
        )
        account = open_account(
            session, citizen_id=person.id, source_id=source.id, expires_at=now + timedelta(days=90)
        )
        credit(
            session,
            account_id=account.id,
            amount_cents=25_000,
            idempotency_key="bench-credit",
            caused_by="system:test",
            now=now,
        )
        code = issue_link_code(session, citizen_id=person.id, issued_by="staff:test", now=now)
    with session_scope(live.engine) as session:
        assert redeem_link_code(session, conversation_id=cid, code=code, now=now) == "ok"
    fake_rasa.slots[cid] = {"category": "after_school", "area": "Rifredi", "age": None}

    citizen.say("/operatore")
    first = live.wait_until(live.handoffs, what="the hand-off")[0]
    cm = StaffClient(live.url, make_care_manager(live.engine)).login()
    people.append(cm)
    assert cm.claim(first.id).status_code == 303
    assert cm.close(first.id, outcome="appointment", csat=False).status_code == 303
    live.wait_until(lambda: live.conversation(cid).mode == "bot", what="back to the bot")

    citizen.say("/operatore")
    live.wait_until(lambda: len(live.handoffs()) == 2, what="a second hand-off")
    second = live.handoffs()[1]
    page = cm.page(second.id).text
    assert "Maria Rossi" in page and person.public_ref in page and "Q5" in page
    assert "Budget pubblico del Comune" in page and "250,00 €" in page
    assert "after_school" in page and "Rifredi" in page and ">age<" not in page
    assert f"n. {first.id}" in page and "Appuntamento fissato al Welcome Point" in page
