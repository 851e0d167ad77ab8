"""Progress and final report of a broadcast, and its CSV export (one row per recipient).

The CSV names recipients only by the opaque conversation id: no chat id, no phone number.
Semicolon-separated, Italian headers, Europe/Rome times (like the ledger's statement).
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from broadcast.models import Broadcast, Delivery, DeliveryStatus
from core.csv_safe import safe_writer

STATUS_LABELS = {
    DeliveryStatus.pending: "in attesa",
    DeliveryStatus.sending: "in invio",
    DeliveryStatus.sent: "inviato",
    DeliveryStatus.failed: "non riuscito",
    DeliveryStatus.blocked: "bot bloccato",
    DeliveryStatus.skipped: "saltato",
    DeliveryStatus.cancelled: "annullato",
}
BROADCAST_STATUS_LABELS = {
    "scheduled": "programmato",
    "running": "in invio",
    "done": "completato",
    "cancelled": "annullato",
}
REASON_LABELS = {
    "whatsapp:window-closed": "WhatsApp: finestra di 24 ore chiusa e nessun modello approvato",
    "unsubscribed": "si è disiscritto",
    "no-consent": "consenso ritirato",
    "blocked": "aveva già bloccato il bot",
    "unknown-conversation": "conversazione non più presente",
    "uncertain-after-crash": "esito incerto dopo un riavvio",
}


@dataclass
class Progress:
    broadcast_id: int
    status: str
    status_label: str
    recipients: int
    pending: int = 0  # pending + sending
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0
    cancelled: int = 0
    uncertain: int = 0  # in flight when a worker died (possibly received twice / never)
    done_percent: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # failed/skipped/blocked by code

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def progress(session: Session, *, broadcast_id: int) -> Progress | None:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    rows = session.execute(
        select(Delivery.status, Delivery.last_error, func.count())
        .where(col(Delivery.broadcast_id) == broadcast_id)
        .group_by(Delivery.status, Delivery.last_error)
    ).all()
    uncertain = session.execute(
        select(func.count()).where(
            col(Delivery.broadcast_id) == broadcast_id, col(Delivery.uncertain).is_(True)
        )
    ).scalar_one()
    report = Progress(
        broadcast_id=broadcast_id,
        status=str(broadcast.status),
        status_label=BROADCAST_STATUS_LABELS.get(str(broadcast.status), str(broadcast.status)),
        recipients=broadcast.recipients,
        uncertain=int(uncertain),
    )
    for status, error, count in rows:
        key = "pending" if status in (DeliveryStatus.pending, DeliveryStatus.sending) else status
        setattr(report, key, getattr(report, key) + int(count))
        if status in (DeliveryStatus.failed, DeliveryStatus.skipped, DeliveryStatus.blocked):
            code = error or str(status)
            report.reasons[code] = report.reasons.get(code, 0) + int(count)
    total = report.recipients or 0
    report.done_percent = 100 if total == 0 else int(100 * (total - report.pending) / total)
    if str(broadcast.status) == "scheduled":
        report.done_percent = 0
    return report


HEADERS = [
    "conversazione",
    "canale",
    "esito",
    "tentativi",
    "motivo",
    "id messaggio",
    "inviato il",
    "esito incerto",
]


def deliveries_csv(session: Session, *, broadcast_id: int, tz: ZoneInfo, bom: bool = False) -> str:
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = safe_writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    rows = session.execute(
        select(Delivery)
        .where(col(Delivery.broadcast_id) == broadcast_id)
        .order_by(col(Delivery.id))
    ).scalars()
    for delivery in rows:
        sent_at = (
            delivery.sent_at.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S")
            if (delivery.sent_at)
            else ""
        )
        writer.writerow(
            [
                delivery.conversation_id,
                delivery.channel,
                STATUS_LABELS.get(DeliveryStatus(delivery.status), delivery.status),
                delivery.attempts,
                REASON_LABELS.get(delivery.last_error, delivery.last_error),
                delivery.provider_message_id or "",
                sent_at,
                "sì" if delivery.uncertain else "",
            ]
        )
    return buffer.getvalue()
