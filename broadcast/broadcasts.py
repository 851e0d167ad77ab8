"""Broadcasts: create, start (copy the audience into the delivery queue), cancel, finish.

Functions work inside the caller's session; the caller commits. ``start_due`` and
``finish_done`` are called by the workers; the conditional UPDATEs make them safe when
several workers run them at once (only one wins each transition).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, insert, literal, select, update
from sqlmodel import Session, col

from broadcast.audience import audience_select
from broadcast.formatting import compose, safe_url
from broadcast.models import (
    OPEN_STATUSES,
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
)
from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORY_LABELS
from core.i18n import language_name, languages

TITLE_MAX = 120
LINK_LABEL_MAX = 40
DEFAULT_LINK_LABEL = "Apri il link"  # a msgid: each language's version shows its own


class BroadcastError(ValueError):
    """A broadcast that cannot be saved; ``message`` is Italian, for the staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Draft:
    title: str
    body: str  # as typed; sanitised on save
    quartieri: list[str]
    interests: list[str]
    scheduled_at: datetime
    link_url: str = ""
    link_label: str = ""
    image_path: str | None = None
    image_mime: str | None = None
    # other languages' versions as typed, {code: (title, body)}; both empty: none
    translations: dict[str, tuple[str, str]] = field(default_factory=dict)

    def versions(self) -> dict[str, tuple[str, str]]:
        """The other languages' versions that were written (title or body not empty)."""
        return {
            code: (title, body)
            for code, (title, body) in self.translations.items()
            if title.strip() or body.strip()
        }


def _check_length(title: str, body: str, *, with_image: bool, language: str | None) -> None:
    composed = compose(title, body, with_image=with_image, language=language)
    if composed.length > composed.limit:
        where = "con un'immagine" if with_image else "senza immagine"
        version = f" (versione {language_name(language)})" if language else ""
        raise BroadcastError(
            f"Il testo{version} è troppo lungo: {composed.length} caratteri, al massimo "
            f"{composed.limit} {where} (titolo e nota finale compresi)."
        )


def validate(draft: Draft) -> None:
    if not draft.title.strip():
        raise BroadcastError("Scrivi un titolo.")
    if len(draft.title.strip()) > TITLE_MAX:
        raise BroadcastError(f"Il titolo può avere al massimo {TITLE_MAX} caratteri.")
    if not draft.body.strip():
        raise BroadcastError("Scrivi il testo dell'avviso.")
    unknown = [q for q in draft.quartieri if q not in QUARTIERI]
    unknown += [i for i in draft.interests if i not in CATEGORY_LABELS]
    if unknown:
        raise BroadcastError("Pubblico non valido: " + ", ".join(unknown))
    if draft.link_url.strip():
        if safe_url(draft.link_url) is None:
            raise BroadcastError("Il link deve iniziare con https:// (o http://).")
        if len(draft.link_label.strip()) > LINK_LABEL_MAX:
            raise BroadcastError(f"Il testo del pulsante: al massimo {LINK_LABEL_MAX} caratteri.")
    with_image = draft.image_path is not None
    _check_length(draft.title, draft.body, with_image=with_image, language=None)
    for code, (title, body) in draft.versions().items():
        if code not in languages().codes or code == languages().source:
            raise BroadcastError(f"Lingua non prevista: {code}")
        name = language_name(code)
        if not title.strip() or not body.strip():
            raise BroadcastError(f"Per la versione in {name} scrivi sia il titolo sia il testo.")
        if len(title.strip()) > TITLE_MAX:
            raise BroadcastError(f"Il titolo in {name} può avere al massimo {TITLE_MAX} caratteri.")
        _check_length(title, body, with_image=with_image, language=code)


def create_broadcast(
    session: Session, *, draft: Draft, created_by: int | None, now: datetime
) -> Broadcast:
    """Save a broadcast, scheduled for ``draft.scheduled_at`` (now = send now)."""
    validate(draft)
    composed = compose(draft.title, draft.body, with_image=draft.image_path is not None)
    link = safe_url(draft.link_url) if draft.link_url.strip() else None
    translations = {
        code: {
            "title": title.strip(),
            "body": compose(
                title, body, with_image=draft.image_path is not None, language=code
            ).telegram_html,
        }
        for code, (title, body) in draft.versions().items()
    }
    broadcast = Broadcast(
        title=draft.title.strip(),
        body=composed.telegram_html,
        translations=translations,
        image_path=draft.image_path,
        image_mime=draft.image_mime,
        link_url=link,
        link_label=(draft.link_label.strip() or DEFAULT_LINK_LABEL) if link else None,
        quartieri=sorted(set(draft.quartieri)),
        interests=sorted(set(draft.interests)),
        status=BroadcastStatus.scheduled,
        scheduled_at=max(draft.scheduled_at, now),
        created_by=created_by,
        created_at=now,
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def get_broadcast(session: Session, *, broadcast_id: int) -> Broadcast | None:
    return session.get(Broadcast, broadcast_id)


def list_broadcasts(session: Session, *, limit: int = 50) -> list[Broadcast]:
    query = select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit)
    return list(session.execute(query).scalars())


def start(session: Session, *, broadcast_id: int, now: datetime) -> int | None:
    """scheduled -> running, copying the audience into broadcast_delivery in the same
    transaction. Returns the number of recipients, or None if another worker won."""
    won = session.execute(
        update(Broadcast)
        .where(
            col(Broadcast.id) == broadcast_id,
            col(Broadcast.status) == BroadcastStatus.scheduled,
            col(Broadcast.scheduled_at) <= now,
        )
        .values(status=BroadcastStatus.running, started_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if won != 1:
        return None
    broadcast = session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    session.refresh(broadcast)
    audience = audience_select(broadcast.quartieri, broadcast.interests).subquery()
    rows = select(
        literal(broadcast_id),
        audience.c.conversation_id,
        audience.c.channel,
        literal(DeliveryStatus.pending.value),
        literal(0),
        literal(now, type_=Delivery.__table__.c.next_attempt_at.type),  # type: ignore[attr-defined]
        literal(False),
        literal(""),
        literal(now, type_=Delivery.__table__.c.updated_at.type),  # type: ignore[attr-defined]
    )
    table: Any = Delivery.__table__  # type: ignore[attr-defined]
    session.execute(
        insert(table).from_select(
            [
                "broadcast_id",
                "conversation_id",
                "channel",
                "status",
                "attempts",
                "next_attempt_at",
                "uncertain",
                "last_error",
                "updated_at",
            ],
            rows,
        )
    )
    count = session.execute(
        select(func.count()).where(col(Delivery.broadcast_id) == broadcast_id)
    ).scalar_one()
    broadcast.recipients = count
    session.add(broadcast)
    session.flush()
    return count


def due_broadcasts(session: Session, *, now: datetime, limit: int = 10) -> list[int]:
    return [
        int(i)
        for i in session.execute(
            select(Broadcast.id)
            .where(
                col(Broadcast.status) == BroadcastStatus.scheduled,
                col(Broadcast.scheduled_at) <= now,
            )
            .order_by(col(Broadcast.scheduled_at), col(Broadcast.id))
            .limit(limit)
        ).scalars()
    ]


def finish_done(session: Session, *, now: datetime) -> list[int]:
    """running -> done for every broadcast without open deliveries; returns their ids."""
    open_rows = exists().where(
        col(Delivery.broadcast_id) == Broadcast.id,
        col(Delivery.status).in_([s.value for s in OPEN_STATUSES]),
    )
    ids = [
        int(i)
        for i in session.execute(
            select(Broadcast.id).where(col(Broadcast.status) == BroadcastStatus.running, ~open_rows)
        ).scalars()
    ]
    finished: list[int] = []
    for broadcast_id in ids:
        done = session.execute(
            update(Broadcast)
            .where(
                col(Broadcast.id) == broadcast_id,
                col(Broadcast.status) == BroadcastStatus.running,
                ~open_rows,
            )
            .values(status=BroadcastStatus.done, finished_at=now)
        ).rowcount  # type: ignore[attr-defined]
        if done:
            finished.append(broadcast_id)
    return finished


def cancel(session: Session, *, broadcast_id: int, by: int | None, now: datetime) -> bool:
    """Cancel a scheduled or running broadcast: nothing more is sent. Deliveries waiting, or
    claimed but not yet in flight, become cancelled; a request already in flight finishes
    and is recorded by its worker. False if it was already finished or cancelled."""
    changed = session.execute(
        update(Broadcast)
        .where(
            col(Broadcast.id) == broadcast_id,
            col(Broadcast.status).in_([BroadcastStatus.scheduled, BroadcastStatus.running]),
        )
        .values(status=BroadcastStatus.cancelled, cancelled_at=now, cancelled_by=by)
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        return False
    session.execute(
        update(Delivery)
        .where(
            col(Delivery.broadcast_id) == broadcast_id,
            (col(Delivery.status) == DeliveryStatus.pending)
            | (
                (col(Delivery.status) == DeliveryStatus.sending)
                & col(Delivery.in_flight_at).is_(None)
            ),
        )
        .values(
            status=DeliveryStatus.cancelled,
            claim_token=None,
            lease_until=None,
            next_attempt_at=None,
            updated_at=now,
        )
    )
    return True
