"""The commission's decisions: approve, ask for changes, reject, suspend, reinstate.

With ``two_members`` (ADHESION_TWO_MEMBERS) a decision is first proposed by one member and
applied only when a different member confirms the same decision; otherwise it applies at
once. Every decision keeps the ethical code's version it was taken under. The console adds
the audit record and, after an approval, the provider's staff account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, or_
from sqlmodel import Session, col, select

from catalog.models import AdhesionStatus, Provider
from catalog.repository import get_provider
from providers import effects
from providers.applications import ApplicationError
from providers.checklist import unchecked
from providers.ethics import EthicalCode
from providers.models import (
    AdhesionApplication,
    AdhesionDecision,
    AdhesionMessage,
    ApplicationStatus,
    DecisionKind,
    DecisionState,
)

DECISION_LABELS: dict[DecisionKind, str] = {
    DecisionKind.approve: "Approvare",
    DecisionKind.request_changes: "Chiedere modifiche",
    DecisionKind.reject: "Respingere",
    DecisionKind.suspend: "Sospendere",
    DecisionKind.reinstate: "Riattivare",
}
STATE_LABELS: dict[DecisionState, str] = {
    DecisionState.awaiting_second: "in attesa di un secondo membro",
    DecisionState.applied: "effettiva",
    DecisionState.withdrawn: "ritirata",
}
NEEDS_REASONS = frozenset({DecisionKind.request_changes, DecisionKind.reject, DecisionKind.suspend})
OPEN = (ApplicationStatus.submitted, ApplicationStatus.changes_requested)


@dataclass(frozen=True)
class Outcome:
    decision: AdhesionDecision
    applied: bool
    provider: Provider | None = None
    suspension: effects.Suspension | None = None


PROVIDER_KINDS = frozenset({DecisionKind.suspend, DecisionKind.reinstate})


@dataclass(frozen=True)
class Subject:
    """What a decision is about: an application (and the provider it created), or a
    provider that never applied here (one loaded from the YAML catalogue)."""

    application: AdhesionApplication | None
    provider_code: str | None

    def where(self) -> Any:
        clauses = []
        if self.application is not None:
            clauses.append(AdhesionDecision.application_id == self.application.id)
        if self.provider_code:
            clauses.append(AdhesionDecision.provider_code == self.provider_code)
        return or_(*clauses) if clauses else false()


def subject(
    session: Session, *, application_id: int | None = None, provider_code: str | None = None
) -> Subject:
    """The subject of an application, or of a provider (with its application, if any)."""
    if application_id is not None:
        application = session.get(AdhesionApplication, application_id)
        if application is None:
            raise ApplicationError("Domanda non trovata.")
        return Subject(application, application.provider_code)
    if not provider_code or get_provider(session, code=provider_code) is None:
        raise ApplicationError("Ente non trovato.")
    application = session.exec(
        select(AdhesionApplication).where(AdhesionApplication.provider_code == provider_code)
    ).first()
    return Subject(application, provider_code)


def awaiting(session: Session, *, about: Subject) -> AdhesionDecision | None:
    return session.exec(
        select(AdhesionDecision).where(
            about.where(), AdhesionDecision.state == DecisionState.awaiting_second
        )
    ).first()


def history(session: Session, *, about: Subject) -> list[AdhesionDecision]:
    return list(
        session.exec(
            select(AdhesionDecision)
            .where(about.where())
            .order_by(col(AdhesionDecision.proposed_at), col(AdhesionDecision.id))
        )
    )


def allowed(session: Session, *, about: Subject) -> list[DecisionKind]:
    """The decisions that make sense now."""
    if about.application is not None and about.application.status in OPEN:
        return [DecisionKind.approve, DecisionKind.request_changes, DecisionKind.reject]
    provider = get_provider(session, code=about.provider_code) if about.provider_code else None
    if provider is None:
        return []
    if provider.adhesion_status == AdhesionStatus.approved:
        return [DecisionKind.suspend]
    if provider.adhesion_status == AdhesionStatus.suspended:
        return [DecisionKind.reinstate]
    return []


def _check(
    session: Session,
    *,
    about: Subject,
    kind: DecisionKind,
    reasons: str,
    code: EthicalCode,
) -> None:
    if kind not in allowed(session, about=about):
        raise ApplicationError("Questa decisione non è possibile nello stato attuale.")
    if kind in NEEDS_REASONS and len(reasons.strip()) < 10:
        raise ApplicationError("Scrivi le motivazioni (almeno una frase): le legge l'ente.")
    if kind == DecisionKind.approve:
        assert about.application is not None and about.application.id is not None
        missing = unchecked(session, application_id=about.application.id, code=code)
        if missing:
            raise ApplicationError(
                "Prima di approvare segna «Conforme» ogni voce della lista di controllo. "
                "Mancano: " + "; ".join(missing) + "."
            )


def decide(
    session: Session,
    *,
    about: Subject,
    kind: DecisionKind,
    reasons: str,
    staff_id: int,
    two_members: bool,
    code: EthicalCode,
    now: datetime,
) -> Outcome:
    """Propose, confirm or apply a decision (see the module's docstring)."""
    pending = awaiting(session, about=about)
    if pending is not None:
        if pending.kind != kind:
            raise ApplicationError(
                "C'è già una proposta in attesa di conferma: confermala o ritirala prima."
            )
        if pending.proposed_by == staff_id:
            raise ApplicationError(
                "Hai già proposto questa decisione: deve confermarla un altro membro della "
                "Commissione."
            )
        _check(session, about=about, kind=kind, reasons=pending.reasons, code=code)
        pending.confirmed_by = staff_id
        return _apply(session, about=about, decision=pending, now=now)
    _check(session, about=about, kind=kind, reasons=reasons, code=code)
    decision = AdhesionDecision(
        application_id=about.application.id if about.application else None,
        provider_code=about.provider_code if kind in PROVIDER_KINDS else None,
        kind=kind,
        state=DecisionState.awaiting_second if two_members else DecisionState.applied,
        reasons=reasons.strip()[:4000],
        code_version=code.version,
        proposed_by=staff_id,
        proposed_at=now,
    )
    session.add(decision)
    session.flush()
    if two_members:
        return Outcome(decision, applied=False)
    return _apply(session, about=about, decision=decision, now=now)


def withdraw(session: Session, *, about: Subject, staff_id: int) -> AdhesionDecision:
    """Withdraw the proposal awaiting a second member (any member may)."""
    pending = awaiting(session, about=about)
    if pending is None:
        raise ApplicationError("Non c'è nessuna proposta in attesa.")
    pending.state = DecisionState.withdrawn
    pending.confirmed_by = staff_id
    session.add(pending)
    session.flush()
    return pending


def _apply(
    session: Session,
    *,
    about: Subject,
    decision: AdhesionDecision,
    now: datetime,
) -> Outcome:
    decision.state = DecisionState.applied
    decision.applied_at = now
    session.add(decision)
    reviewer = decision.confirmed_by or decision.proposed_by
    provider: Provider | None = None
    suspension: effects.Suspension | None = None
    kind = decision.kind
    application = about.application
    if kind == DecisionKind.suspend:
        assert about.provider_code is not None
        suspension = effects.suspend(
            session, provider_code=about.provider_code, actor=f"staff:{reviewer}", now=now
        )
    elif kind == DecisionKind.reinstate:
        assert about.provider_code is not None
        provider = effects.reinstate(session, provider_code=about.provider_code, now=now)
    else:
        assert application is not None and application.id is not None
        if kind == DecisionKind.approve:
            provider = effects.approve(
                session, application=application, reviewer_id=reviewer, now=now
            )
            application.status = ApplicationStatus.approved
        else:
            application.status = (
                ApplicationStatus.changes_requested
                if kind == DecisionKind.request_changes
                else ApplicationStatus.rejected
            )
            session.add(
                AdhesionMessage(
                    application_id=application.id,
                    author="commission",
                    text=decision.reasons,
                    staff_user_id=reviewer,
                    created_at=now,
                )
            )
    if application is not None:
        application.updated_at = now
        session.add(application)
    session.flush()
    return Outcome(decision, applied=True, provider=provider, suspension=suspension)
