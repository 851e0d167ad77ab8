"""A suspension reaches the citizen: the real gateway polling the fake Telegram Bot API (the
assistant faked), one database. A citizen on Telegram holds a voucher of a provider; the
commission suspends the provider; the outbox delivers the notice to that chat, and the
voucher is released."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from catalog.models import Service
from conversations.models import Conversation
from core.timeutil import utcnow
from providers.models import DecisionKind
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.ledger.conftest import make_budget
from tests.providers.adhesion_helpers import commission_member, decide_on, submit, tick_all
from welfare.ledger.models import Citizen
from welfare.models import VoucherStatus
from welfare.vouchers import issue_voucher

CHAT = 740001


def test_the_holder_of_a_voucher_is_told_on_telegram(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    accept_consent(fake_telegram, CHAT)
    conversation = next(c for c in telegram_gateway.conversations() if c.chat_key == str(CHAT))
    with Session(telegram_gateway.engine, expire_on_commit=False) as session:
        member = commission_member(session)
        submitted = submit(session, tmp_path)
        tick_all(session, application_id=submitted.application_id, staff_id=member)
        approved = decide_on(session, submitted.application_id, DecisionKind.approve, member)
        assert approved.provider is not None and approved.provider.id is not None
        service = session.exec(
            select(Service).where(Service.provider_id == approved.provider.id)
        ).one()
        budget = make_budget(session, public_categories=("sport_leisure",))
        citizen = session.get(Citizen, budget.citizen_id)
        assert citizen is not None and isinstance(conversation, Conversation)
        voucher, _ = issue_voucher(
            session,
            citizen=citizen,
            conversation_id=conversation.conversation_id,
            service_code=service.code,
            nonce="nonce-suspension",
            now=utcnow(),
        )
        session.commit()
        mark = len(fake_telegram.calls())
        suspended = decide_on(
            session,
            submitted.application_id,
            DecisionKind.suspend,
            member,
            reasons="Prova: i cittadini con un voucher vengono avvisati.",
            now=utcnow(),  # the outbox sends what is due by the clock
        )
        assert suspended.suspension is not None and suspended.suspension.holders_told == 1
        session.refresh(voucher)
        assert voucher.status == VoucherStatus.cancelled
    told = fake_telegram.wait_sent(CHAT, "sospeso dalla rete WEL.CO.ME", after=mark, timeout=20)
    text = str(told.params.get("text"))
    assert "i soldi sono tornati nel tuo budget welfare" in text
    assert "Laboratorio di ceramica per ragazzi" in text
