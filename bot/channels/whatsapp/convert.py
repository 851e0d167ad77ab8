"""WhatsApp webhook payloads -> Inbound messages and delivery status reports (pure).

Payload shape (Cloud API, field "messages"): ``{"object": "whatsapp_business_account",
"entry": [{"id", "changes": [{"field": "messages", "value": {"messaging_product",
"metadata": {"display_phone_number", "phone_number_id"}, "contacts": [...],
"messages": [...], "statuses": [...], "errors": [...]}}]}]}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.text import sanitize
from conversations.inbound import Inbound
from conversations.models import Channel, Kind, Status

STATUSES = {
    "sent": Status.sent,
    "delivered": Status.delivered,
    "read": Status.read,
    "failed": Status.failed,
}
_VOICE = ("audio", "voice")
_IGNORED = ("reaction",)  # a reaction to one of our messages needs no answer


@dataclass(frozen=True)
class StatusReport:
    external_id: str
    status: Status
    at: datetime
    error_code: int | None = None


def _when(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def _values(payload: dict[str, Any], phone_number_id: str) -> Iterator[dict[str, Any]]:
    if not isinstance(payload, dict):
        return
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata") or {}
            if phone_number_id and str(metadata.get("phone_number_id", "")) != phone_number_id:
                continue  # another number of the same business account
            yield value


def inbound_messages(payload: dict[str, Any], *, phone_number_id: str) -> list[Inbound]:
    found: list[Inbound] = []
    for value in _values(payload, phone_number_id):
        for raw in value.get("messages") or []:
            if isinstance(raw, dict):
                inbound = _message(raw)
                if inbound is not None:
                    found.append(inbound)
    return found


def status_reports(payload: dict[str, Any], *, phone_number_id: str) -> list[StatusReport]:
    reports: list[StatusReport] = []
    for value in _values(payload, phone_number_id):
        for raw in value.get("statuses") or []:
            if not isinstance(raw, dict) or raw.get("status") not in STATUSES or not raw.get("id"):
                continue
            errors = raw.get("errors") or []
            code = None
            if errors and isinstance(errors[0], dict):
                try:
                    code = int(errors[0].get("code"))
                except (TypeError, ValueError):
                    code = None
            reports.append(
                StatusReport(
                    external_id=str(raw["id"])[:160],
                    status=STATUSES[raw["status"]],
                    at=_when(raw.get("timestamp")),
                    error_code=code,
                )
            )
    return reports


def _message(raw: dict[str, Any]) -> Inbound | None:
    sender = str(raw.get("from") or "")
    wamid = str(raw.get("id") or "")
    kind = str(raw.get("type") or "")
    if not sender or not wamid or kind in _IGNORED:
        return None
    common: dict[str, Any] = {
        "channel": Channel.whatsapp,
        "chat_key": sender,
        "dedupe_key": f"wa:{wamid}"[:160],
        "received_at": _when(raw.get("timestamp")),
    }
    data: dict[str, Any] = {"wamid": wamid[:160]}
    if kind == "text":
        text = sanitize((raw.get("text") or {}).get("body"))
        if text.startswith("/"):
            name = text[1:].split(maxsplit=1)[0].lower() if len(text) > 1 else ""
            return Inbound(kind=Kind.command, text=text, payload=name, data=data, **common)
        return Inbound(kind=Kind.text, text=text, data=data, **common)
    if kind == "interactive":
        interactive = raw.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        if interactive.get("type") == "nfm_reply" or not reply:
            return Inbound(kind=Kind.unsupported, data=data, **common)
        return Inbound(
            kind=Kind.button, payload=str(reply.get("id") or "")[:64], data=data, **common
        )
    if kind == "button":  # quick reply of a template: answer as text
        text = sanitize((raw.get("button") or {}).get("text"))
        return Inbound(kind=Kind.text, text=text, data=data, **common)
    if kind == "location":
        location = raw.get("location") or {}
        try:
            point = {"lat": float(location["latitude"]), "lon": float(location["longitude"])}
        except (KeyError, TypeError, ValueError):
            return Inbound(kind=Kind.unsupported, data=data, **common)
        return Inbound(kind=Kind.location, data={**data, "location": point}, **common)
    if kind in ("image", "document"):
        media = raw.get(kind) or {}
        file = {
            "media_id": str(media.get("id") or ""),
            "type": "photo" if kind == "image" else "document",
            "declared_mime": str(media.get("mime_type") or "")[:60],
        }
        text = sanitize(media.get("caption"))
        return Inbound(kind=Kind.attachment, text=text, data={**data, "file": file}, **common)
    if kind in _VOICE:
        return Inbound(kind=Kind.unsupported, data={**data, "voice": True}, **common)
    return Inbound(kind=Kind.unsupported, data={**data, "media": kind[:20]}, **common)
