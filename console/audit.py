"""The audit log: who did what, when, to which object. Other parts of the console use it too.

Record references (ids, codes), never what a citizen wrote and never a password or token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from core.timeutil import utcnow
from staff.models import AuditLog


def record(
    session: Session,
    *,
    action: str,
    actor_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> AuditLog:
    entry = AuditLog(
        at=now or utcnow(),
        actor_id=actor_id,
        action=action[:60],
        object_type=object_type[:40],
        object_id=str(object_id)[:64],
        detail=detail[:200],
        ip=ip[:45],
    )
    session.add(entry)
    return entry


def recent(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: int = 50,
) -> list[AuditLog]:
    query = select(AuditLog)
    if object_type is not None:
        query = query.where(AuditLog.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditLog.object_id == object_id)
    query = query.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc()).limit(limit)
    return list(session.exec(query))


# Italian wording of the actions of the console's own pages (login, account, staff); each
# section brings the wording of its own actions (console.navigation.Section.audit_labels).
CONSOLE_LABELS: dict[str, str] = {
    "login": "accesso",
    "login.failed": "accesso non riuscito",
    "login.rate_limited": "accesso sospeso per troppi tentativi",
    "logout": "uscita",
    "password.change": "password cambiata",
    "password.first": "prima password scelta dal link",
    "staff.create": "account creato",
    "staff.update": "dati o ruoli modificati",
    "staff.deactivate": "account disattivato",
    "staff.reactivate": "account riattivato",
    "staff.password_reset": "password reimpostata",
}


def action_labels(tables: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """CONSOLE_LABELS and ``tables`` in one table (built once, by ``build_console``); an
    action worded two different ways is refused."""
    merged = dict(CONSOLE_LABELS)
    for table in tables:
        for action, label in table.items():
            if merged.setdefault(action, label) != label:
                raise ValueError(
                    f"audit action {action!r} worded twice: {merged[action]!r}, {label!r}"
                )
    return merged
