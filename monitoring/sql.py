"""SQL pieces shared by the views, written once for SQLite and PostgreSQL.

Days and hours are those of Europe/Rome. PostgreSQL converts with ``AT TIME ZONE``; SQLite
has no time zones, so each connection gets a small Python function (``welcome_local``) that
does the same from the UTC text SQLite stores.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal_column, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from monitoring.period import ROME

_FORMATS = {"day": "%Y-%m-%d", "hour": "%H", "dayhour": "%Y-%m-%d %H"}
_PG_FORMATS = {"day": "YYYY-MM-DD", "hour": "HH24", "dayhour": "YYYY-MM-DD HH24"}


def _sqlite_local(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(ROME)
    return moment.strftime(_FORMATS[what])


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


WORK_MEM = "64MB"


def prepare(session: Session) -> None:
    """Get the session's connection ready: on SQLite the ``welcome_local`` function; on
    PostgreSQL more sort memory for this transaction only (counting distinct conversations
    among a quarter of a million rows then stays in memory instead of spilling to disk)."""
    if not is_sqlite(session):
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        return
    raw: Any = session.connection().connection.driver_connection
    raw.create_function("welcome_local", 2, _sqlite_local, deterministic=True)


def local(session: Session, column: Any, what: str) -> ColumnElement[str]:
    """The Europe/Rome day (``2026-11-03``), hour (``09``) or both of a UTC timestamp."""
    if is_sqlite(session):
        return func.welcome_local(column, what)
    zoned = column.op("AT TIME ZONE")(literal_column("'Europe/Rome'"))
    return func.to_char(zoned, _PG_FORMATS[what])
