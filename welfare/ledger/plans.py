"""Which budget pays: a plan shown to the citizen before they confirm.

Rules, in order:
1. only accounts of the citizen that have not expired and whose source allows the
   service's category (a source with no categories allows every category);
2. the account expiring first pays first (ties: the older account first);
3. each account pays at most what it has available and at most its source's
   ``max_per_service_cents``; what is left spills over to the next account;
4. whatever no account covers is the ``uncovered_cents`` the citizen pays themselves.

``payments.place_hold(plan=...)`` executes a plan atomically, checking it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.settings import get_settings
from welfare.ledger.accounts import balances
from welfare.ledger.models import SourceKind
from welfare.ledger.money import format_eur


@dataclass(frozen=True)
class PlanPart:
    account_id: int
    label: str
    source_kind: SourceKind
    amount_cents: int
    expires_at: datetime


@dataclass(frozen=True)
class PaymentPlan:
    citizen_id: int
    category: str | None
    amount_cents: int
    parts: tuple[PlanPart, ...]

    @property
    def covered_cents(self) -> int:
        return sum(part.amount_cents for part in self.parts)

    @property
    def uncovered_cents(self) -> int:
        return self.amount_cents - self.covered_cents

    def describe(self) -> str:
        """Italian summary for the confirmation message."""
        tz = get_settings().tz
        pieces = ", ".join(
            f"{p.label} {format_eur(p.amount_cents)} (scade il "
            f"{p.expires_at.astimezone(tz):%d/%m/%Y})"
            for p in self.parts
        )
        total = format_eur(self.amount_cents)
        if not self.parts:
            return (
                f"Nessun budget disponibile copre questo servizio: "
                f"il costo di {total} è interamente a tuo carico."
            )
        if self.uncovered_cents == 0:
            return f"Il costo di {total} è coperto interamente dal tuo budget: {pieces}."
        return (
            f"Il tuo budget copre {format_eur(self.covered_cents)} su {total}: {pieces}. "
            f"Restano a tuo carico {format_eur(self.uncovered_cents)}."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, e.g. to keep the plan in a Rasa slot until the citizen confirms."""
        data = asdict(self)
        data["parts"] = [
            {**p, "expires_at": p["expires_at"].isoformat(), "source_kind": str(p["source_kind"])}
            for p in data["parts"]
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaymentPlan:
        return cls(
            citizen_id=int(data["citizen_id"]),
            category=data.get("category"),
            amount_cents=int(data["amount_cents"]),
            parts=tuple(
                PlanPart(
                    account_id=int(p["account_id"]),
                    label=str(p["label"]),
                    source_kind=SourceKind(p["source_kind"]),
                    amount_cents=int(p["amount_cents"]),
                    expires_at=datetime.fromisoformat(p["expires_at"]),
                )
                for p in data["parts"]
            ),
        )


def choose_sources(
    session: Session, *, citizen_id: int, category: str | None, amount_cents: int, now: datetime
) -> PaymentPlan:
    """The plan for paying ``amount_cents`` of a service in ``category`` (see module rules)."""
    if amount_cents < 0:
        raise ValueError("amount_cents must not be negative")
    remaining = amount_cents
    parts: list[PlanPart] = []
    for account in balances(session, citizen_id=citizen_id, now=now):
        if remaining == 0:
            break
        if account.allowed_categories and category not in account.allowed_categories:
            continue
        cap = account.available_cents
        if account.max_per_service_cents is not None:
            cap = min(cap, account.max_per_service_cents)
        take = min(remaining, cap)
        if take <= 0:
            continue
        parts.append(
            PlanPart(
                account_id=account.account_id,
                label=account.label,
                source_kind=account.source_kind,
                amount_cents=take,
                expires_at=account.expires_at,
            )
        )
        remaining -= take
    return PaymentPlan(
        citizen_id=citizen_id, category=category, amount_cents=amount_cents, parts=tuple(parts)
    )
