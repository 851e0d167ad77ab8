"""The commission's decisions: approve, ask for changes, reject, suspend, reinstate.

With ``two_members`` (ADHESION_TWO_MEMBERS) a decision is first proposed by one member and
applied only when a different member confirms the same decision; otherwise it applies at
once. Every decision keeps the ethical code's version it was taken under. The console adds
the audit record and, after an approval, the provider's staff account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from catalog.models import AdhesionStatus, Provider
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


def awaiting(session: Session, *, application_id: int) -> AdhesionDecision | None:
    return session.exec(
        select(AdhesionDecision).where(
            AdhesionDecision.application_id == application_id,
            AdhesionDecision.state == DecisionState.awaiting_second,
        )
    ).first()


def history(session: Session, *, application_id: int) -> list[AdhesionDecision]:
    return list(
        session.exec(
            select(AdhesionDecision)
            .where(AdhesionDecision.application_id == application_id)
            .order_by(col(AdhesionDecision.proposed_at), col(AdhesionDecision.id))
        )
    )


def allowed(session: Session, *, application: AdhesionApplication) -> list[DecisionKind]:
    """The decisions that make sense now."""
    if application.status in OPEN:
        return [DecisionKind.approve, DecisionKind.request_changes, DecisionKind.reject]
    provider = effects.provider_of(session, application=application)
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
    application: AdhesionApplication,
    kind: DecisionKind,
    reasons: str,
    code: EthicalCode,
) -> None:
    if kind not in allowed(session, application=application):
        raise ApplicationError("Questa decisione non è possibile nello stato attuale.")
    if kind in NEEDS_REASONS and len(reasons.strip()) < 10:
        raise ApplicationError("Scrivi le motivazioni (almeno una frase): le legge il richiedente.")
    if kind == DecisionKind.approve:
        assert application.id is not None
        missing = unchecked(session, application_id=application.id, code=code)
        if missing:
            raise ApplicationError(
                "Prima di approvare segna «Conforme» ogni voce della lista di controllo. "
                "Mancano: " + "; ".join(missing) + "."
            )


def decide(
    session: Session,
    *,
    application_id: int,
    kind: DecisionKind,
    reasons: str,
    staff_id: int,
    two_members: bool,
    code: EthicalCode,
    now: datetime,
) -> Outcome:
    """Propose, confirm or apply a decision (see the module's docstring)."""
    application = session.get(AdhesionApplication, application_id)
    if application is None:
        raise ApplicationError("Domanda non trovata.")
    pending = awaiting(session, application_id=application_id)
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
        _check(session, application=application, kind=kind, reasons=pending.reasons, code=code)
        pending.confirmed_by = staff_id
        return _apply(session, application=application, decision=pending, now=now)
    _check(session, application=application, kind=kind, reasons=reasons, code=code)
    decision = AdhesionDecision(
        application_id=application_id,
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
    return _apply(session, application=application, decision=decision, now=now)


def withdraw(session: Session, *, application_id: int, staff_id: int) -> AdhesionDecision:
    """Withdraw the proposal awaiting a second member (any member may)."""
    pending = awaiting(session, application_id=application_id)
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
    application: AdhesionApplication,
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
    if kind == DecisionKind.approve:
        provider = effects.approve(session, application=application, reviewer_id=reviewer, now=now)
        application.status = ApplicationStatus.approved
    elif kind in (DecisionKind.request_changes, DecisionKind.reject):
        application.status = (
            ApplicationStatus.changes_requested
            if kind == DecisionKind.request_changes
            else ApplicationStatus.rejected
        )
        assert application.id is not None
        session.add(
            AdhesionMessage(
                application_id=application.id,
                author="commission",
                text=decision.reasons,
                staff_user_id=reviewer,
                created_at=now,
            )
        )
    elif kind == DecisionKind.suspend:
        assert application.provider_code is not None
        suspension = effects.suspend(
            session,
            provider_code=application.provider_code,
            actor=f"staff:{reviewer}",
            now=now,
        )
    else:
        assert application.provider_code is not None
        provider = effects.reinstate(session, provider_code=application.provider_code, now=now)
    application.updated_at = now
    session.add(application)
    session.flush()
    return Outcome(decision, applied=True, provider=provider, suspension=suspension)
