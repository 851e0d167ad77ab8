"""The adhesion process on both databases: application, checklist, decisions (one and two
members), their effects on the catalogue, the vouchers and the YAML import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select

from catalog.importer import import_catalog
from catalog.models import AdhesionStatus, Provider, Service
from catalog.repository import get_provider
from catalog.search import search_services
from conversations.models import Channel, Direction, Message, Status
from conversations.repository import due_for_retry, get_or_create_conversation
from providers.applications import (
    ApplicationError,
    applicant_reply,
    by_tracking_code,
    messages_of,
)
from providers.decisions import Outcome, awaiting, subject, withdraw
from providers.ethics import current_code
from providers.models import (
    AdhesionApplication,
    AdhesionDecision,
    ApplicationStatus,
    DecisionKind,
    DecisionState,
)
from tests.ledger.conftest import make_budget
from tests.providers.adhesion_helpers import NOW, decide_on, submit, tick_all
from welfare.ledger.accounts import balances
from welfare.ledger.models import Citizen
from welfare.models import Voucher, VoucherStatus
from welfare.vouchers import ServiceNotPayable, issue_voucher

CODE = current_code()


def _decide(session: Session, app_id: int, kind: DecisionKind, staff: int, **kw: Any) -> Outcome:
    return decide_on(session, app_id, kind, staff, **kw)


def _approved(session: Session, tmp_path: Path, staff: int) -> AdhesionApplication:
    submitted = submit(session, tmp_path)
    tick_all(session, application_id=submitted.application_id, staff_id=staff)
    _decide(session, submitted.application_id, DecisionKind.approve, staff)
    application = session.get(AdhesionApplication, submitted.application_id)
    assert application is not None
    return application


def test_the_tracking_code_finds_the_application_and_only_it(
    session: Session, tmp_path: Path
) -> None:
    submitted = submit(session, tmp_path)
    assert submitted.tracking_code.startswith("ADE-")
    found = by_tracking_code(session, code=submitted.tracking_code.lower().replace("-", " "))
    assert found is not None and found.id == submitted.application_id
    assert found.code_version == CODE.version
    assert found.accepted_points == list(CODE.point_ids)
    assert by_tracking_code(session, code="ADE-AAAA-BBBB-CCCC") is None
    stored = session.exec(select(AdhesionApplication.tracking_hash)).one()
    assert submitted.tracking_code not in stored  # only a hash is kept


def test_approval_needs_every_checklist_line(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    submitted = submit(session, tmp_path)
    with pytest.raises(ApplicationError, match="Mancano: Codice etico – La persona al centro"):
        _decide(session, submitted.application_id, DecisionKind.approve, members[0])
    session.rollback()
    assert session.exec(select(func.count()).select_from(Provider)).one() == 0


def test_approval_creates_the_provider_and_publishes_its_services(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    application = _approved(session, tmp_path, members[0])
    assert application.status == ApplicationStatus.approved
    provider = get_provider(session, code=application.provider_code or "")
    assert provider is not None
    assert provider.adhesion_status == AdhesionStatus.approved
    assert provider.adhesion_source == "console"
    hits = search_services(session, "laboratorio di ceramica a rifredi").hits
    assert [h.service.provider_id for h in hits][:1] == [provider.id]
    decision = session.exec(select(AdhesionDecision)).one()
    assert decision.code_version == CODE.version and decision.state == DecisionState.applied


def test_changes_requested_then_answered_goes_back_to_the_queue(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    submitted = submit(session, tmp_path)
    with pytest.raises(ApplicationError, match="motivazioni"):
        _decide(session, submitted.application_id, DecisionKind.request_changes, members[0])
    session.rollback()
    _decide(
        session,
        submitted.application_id,
        DecisionKind.request_changes,
        members[0],
        reasons="Manca la pagina con le firme dello statuto.",
    )
    application = session.get(AdhesionApplication, submitted.application_id)
    assert application is not None and application.status == ApplicationStatus.changes_requested
    applicant_reply(
        session, code=submitted.tracking_code, text="Eccola, allegata.", document=None, now=NOW
    )
    session.commit()
    session.refresh(application)
    assert application.status == ApplicationStatus.submitted
    texts = [(m.author, m.text) for m in messages_of(session, application_id=application.id or 0)]
    assert texts == [
        ("commission", "Manca la pagina con le firme dello statuto."),
        ("applicant", "Eccola, allegata."),
    ]


def test_rejected_application_takes_no_more_answers(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    submitted = submit(session, tmp_path)
    _decide(
        session,
        submitted.application_id,
        DecisionKind.reject,
        members[0],
        reasons="L'attività non riguarda il welfare di comunità.",
    )
    with pytest.raises(ApplicationError, match="già stata decisa"):
        applicant_reply(
            session, code=submitted.tracking_code, text="Perché?", document=None, now=NOW
        )


def test_two_members_one_proposes_another_confirms(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    first, second = members
    submitted = submit(session, tmp_path)
    tick_all(session, application_id=submitted.application_id, staff_id=first)
    outcome = _decide(
        session, submitted.application_id, DecisionKind.approve, first, two_members=True
    )
    assert not outcome.applied
    assert session.exec(select(func.count()).select_from(Provider)).one() == 0
    with pytest.raises(ApplicationError, match="un altro membro"):
        _decide(session, submitted.application_id, DecisionKind.approve, first, two_members=True)
    session.rollback()
    with pytest.raises(ApplicationError, match="proposta in attesa"):
        _decide(
            session,
            submitted.application_id,
            DecisionKind.reject,
            second,
            two_members=True,
            reasons="Non rispetta il codice etico.",
        )
    session.rollback()
    outcome = _decide(
        session, submitted.application_id, DecisionKind.approve, second, two_members=True
    )
    assert outcome.applied and outcome.provider is not None
    assert outcome.decision.proposed_by == first and outcome.decision.confirmed_by == second


def test_a_proposal_can_be_withdrawn(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    submitted = submit(session, tmp_path)
    reasons = "Serve la polizza aggiornata al 2026."
    _decide(
        session,
        submitted.application_id,
        DecisionKind.request_changes,
        members[0],
        two_members=True,
        reasons=reasons,
    )
    withdraw(
        session,
        about=subject(session, application_id=submitted.application_id),
        staff_id=members[1],
    )
    session.commit()
    assert (
        awaiting(session, about=subject(session, application_id=submitted.application_id)) is None
    )
    application = session.get(AdhesionApplication, submitted.application_id)
    assert application is not None and application.status == ApplicationStatus.submitted


def test_suspension_hides_refuses_releases_and_tells_the_holders(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    application = _approved(session, tmp_path, members[0])
    service = session.exec(select(Service)).one()
    budget = make_budget(session, public_categories=("sport_leisure",))
    citizen = session.get(Citizen, budget.citizen_id)
    assert citizen is not None
    chat = get_or_create_conversation(session, channel=Channel.telegram, chat_key="4242")
    voucher, _ = issue_voucher(
        session,
        citizen=citizen,
        conversation_id=chat.conversation_id,
        service_code=service.code,
        nonce="nonce-1",
        now=NOW,
    )
    session.commit()
    before = sum(b.available_cents for b in balances(session, citizen_id=citizen.id, now=NOW))

    outcome = _decide(
        session,
        application.id or 0,
        DecisionKind.suspend,
        members[0],
        reasons="Segnalazioni di prezzi più alti a chi paga con il budget.",
    )
    assert outcome.suspension is not None
    assert (outcome.suspension.vouchers_released, outcome.suspension.holders_told) == (1, 1)
    assert search_services(session, "laboratorio di ceramica a rifredi").hits == []
    with pytest.raises(ServiceNotPayable):
        issue_voucher(
            session,
            citizen=citizen,
            conversation_id=chat.conversation_id,
            service_code=service.code,
            nonce="nonce-2",
            now=NOW,
        )
    session.rollback()
    session.refresh(voucher)
    assert voucher.status == VoucherStatus.cancelled
    after = sum(b.available_cents for b in balances(session, citizen_id=citizen.id, now=NOW))
    assert after == before + voucher.covered_cents
    told = session.exec(
        select(Message).where(
            Message.conversation_id == chat.conversation_id,
            Message.direction == Direction.outbound,
        )
    ).one()
    assert told.status == Status.queued and "annullato" in told.text
    due = due_for_retry(session, now=NOW, stale_before=NOW)
    assert told.id in [d.message_id for d in due]  # the outbox sends it on its next pass

    _decide(session, application.id or 0, DecisionKind.reinstate, members[1])
    hits = search_services(session, "laboratorio di ceramica a rifredi").hits
    assert [h.service.code for h in hits][:1] == [service.code]
    assert session.exec(select(func.count()).select_from(Voucher)).one() == 1


def test_the_yaml_import_keeps_a_console_decision_and_says_so(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    application = _approved(session, tmp_path, members[0])
    _decide(
        session,
        application.id or 0,
        DecisionKind.suspend,
        members[0],
        reasons="Documenti assicurativi scaduti da mesi.",
    )
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "providers.yaml").write_text(
        f"- code: {application.provider_code}\n"
        "  name: Cooperativa Il Girasole\n"
        "  kind: cooperative\n"
        "  adhesion_status: approved\n"
        "  adhesion_date: 2025-01-01\n",
        encoding="utf-8",
    )
    report = import_catalog(session, folder)
    session.commit()
    assert report.ok
    assert any("not applied: the commission decided 'suspended'" in str(w) for w in report.warnings)
    provider = get_provider(session, code=application.provider_code or "")
    assert provider is not None and provider.adhesion_status == AdhesionStatus.suspended
    assert search_services(session, "laboratorio di ceramica a rifredi").hits == []


def test_long_names_make_codes_that_fit_their_columns(
    session: Session, tmp_path: Path, members: tuple[int, int]
) -> None:
    long_name = "Cooperativa Sociale " + "Fiorentina " * 16
    submitted = submit(session, tmp_path, org_name=long_name.strip())
    tick_all(session, application_id=submitted.application_id, staff_id=members[0])
    outcome = _decide(session, submitted.application_id, DecisionKind.approve, members[0])
    assert outcome.provider is not None
    assert len(outcome.provider.code) <= 40  # staff_user.provider_code holds 40
    twin = submit(session, tmp_path, org_name=long_name.strip())  # the same name again
    tick_all(session, application_id=twin.application_id, staff_id=members[0])
    second = _decide(session, twin.application_id, DecisionKind.approve, members[0])
    assert second.provider is not None and second.provider.code != outcome.provider.code
    codes = session.exec(select(Service.code)).all()
    assert len(set(codes)) == 2 and all(len(c) <= 64 for c in codes)
