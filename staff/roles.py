"""Staff roles: what each member of staff may see and do in the console."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    care_manager = "care_manager"  # answers citizens handed over by the bot
    hub_staff = "hub_staff"  # announces the Welcome Hubs' events
    welfare_officer = "welfare_officer"  # reviews reimbursement requests
    provider_staff = "provider_staff"  # redeems vouchers for one provider
    data_analyst = "data_analyst"  # reads the aggregated monitoring, never a conversation
    nlu_reviewer = "nlu_reviewer"  # corrects misunderstood messages (masked) for training
    commission = "commission"  # the adhesion commission: reviews providers and their services
    admin = "admin"  # manages staff accounts

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.care_manager: "Care Manager",
    Role.hub_staff: "Personale Welcome Hub",
    Role.welfare_officer: "Ufficio welfare",
    Role.provider_staff: "Personale ente erogatore",
    Role.data_analyst: "Data Analyst",
    Role.nlu_reviewer: "Revisione comprensione",
    Role.commission: "Commissione adesioni",
    Role.admin: "Amministrazione",
}

ALL_ROLES: frozenset[Role] = frozenset(Role)


def parse_roles(values: Iterable[str] | str) -> frozenset[Role]:
    """Roles from names ("care_manager,admin" or a list); unknown names raise ValueError."""
    items = values.split(",") if isinstance(values, str) else list(values)
    roles: set[Role] = set()
    for item in items:
        name = item.strip()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"ruolo sconosciuto: {name!r} (ruoli: {known})") from None
    return frozenset(roles)
