"""What a decision does outside the application: the provider created on approval, its
services hidden on suspension (and the issued vouchers released, their holders told through
the outbox), shown again on reinstatement. Each decision also marks the provider as decided
in the console, so the YAML import keeps it (catalog.importer)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from catalog.hours import ROME
from catalog.models import AdhesionStatus, Provider, ProviderKind
from catalog.repository import get_service, set_provider_status
from conversations.models import Author, Conversation, Kind
from conversations.repository import store_outbound
from providers.models import AdhesionApplication, DraftStatus, ServiceDraft
from providers.publishing import new_provider_code, publish_draft
from welfare.ledger.errors import LedgerError
from welfare.models import Voucher, VoucherStatus
from welfare.vouchers import cancel_voucher, format_voucher_code

log = logging.getLogger(__name__)

SUSPENDED_VOUCHER_TEXT = (
    "Un avviso sul tuo voucher {code} per «{service}»: l'ente che offre questo servizio è "
    "sospeso dalla rete WEL.CO.ME. Il voucher è annullato e i soldi sono tornati nel tuo "
    "budget welfare: non hai perso niente. Puoi cercare un servizio simile scrivendomi cosa "
    "ti serve, oppure chiedere aiuto a un Welcome Point."
)


def approve(
    session: Session, *, application: AdhesionApplication, reviewer_id: int, now: datetime
) -> Provider:
    """Create the provider as active and publish the services the application proposed."""
    provider = Provider(
        code=new_provider_code(session, application.org_name),
        name=application.org_name,
        kind=ProviderKind(application.legal_form),
        adhesion_status=AdhesionStatus.approved,
        adhesion_date=now.astimezone(ROME).date(),
        adhesion_source="console",
        description=application.description,
        email=application.email,
        phone=application.phone,
        website=application.website,
        created_at=now,
        updated_at=now,
    )
    session.add(provider)
    session.flush()
    drafts = session.exec(
        select(ServiceDraft).where(
            ServiceDraft.application_id == application.id,
            ServiceDraft.status == DraftStatus.pending,
        )
    ).all()
    for draft in drafts:
        publish_draft(
            session,
            draft=draft,
            provider=provider,
            status=DraftStatus.published,
            reviewer_id=reviewer_id,
            now=now,
        )
    application.provider_code = provider.code
    return provider


def _decided(session: Session, code: str, status: AdhesionStatus, now: datetime) -> Provider:
    provider = set_provider_status(session, code=code, status=status)
    provider.adhesion_source = "console"
    provider.adhesion_date = now.astimezone(ROME).date()
    session.add(provider)
    session.flush()
    return provider


@dataclass(frozen=True)
class Suspension:
    provider_code: str
    vouchers_released: int
    holders_told: int


def suspend(session: Session, *, provider_code: str, actor: str, now: datetime) -> Suspension:
    """Hide the provider's services, release its issued vouchers and tell their holders."""
    _decided(session, provider_code, AdhesionStatus.suspended, now)
    issued = session.exec(
        select(Voucher).where(
            Voucher.provider_code == provider_code, Voucher.status == VoucherStatus.issued
        )
    ).all()
    released = told = 0
    for voucher in issued:
        try:
            with session.begin_nested():
                cancel_voucher(session, voucher=voucher, actor=actor, now=now)
        except LedgerError:
            continue  # redeemed meanwhile: the provider was paid, nothing to tell
        released += 1
        told += _tell_holder(session, voucher=voucher, now=now)
    return Suspension(provider_code, released, told)


def _tell_holder(session: Session, *, voucher: Voucher, now: datetime) -> int:
    conversation = session.exec(
        select(Conversation).where(Conversation.conversation_id == voucher.conversation_id)
    ).first()
    if conversation is None:
        return 0  # erased meanwhile: the budget is back anyway

    service = get_service(session, code=voucher.service_code)
    message = store_outbound(
        session,
        conversation_id=conversation.conversation_id,
        channel=conversation.channel,
        author=Author.gateway,
        kind=Kind.text,
        text=SUSPENDED_VOUCHER_TEXT.format(
            code=format_voucher_code(voucher.code),
            service=service.title if service else voucher.service_code,
        ),
        now=now,
    )
    message.next_attempt_at = now  # due for the outbox at once
    session.add(message)
    session.flush()
    return 1


def reinstate(session: Session, *, provider_code: str, now: datetime) -> Provider:
    return _decided(session, provider_code, AdhesionStatus.approved, now)
