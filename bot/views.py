"""The public view of a stored message (web chat history, events): no payloads, no chat ids."""

from __future__ import annotations

from typing import Any

from conversations.models import Message
from conversations.repository import button_ref


def message_view(message: Message) -> dict[str, Any]:
    data = message.data or {}
    view: dict[str, Any] = {
        "id": message.id,
        "direction": message.direction,
        "author": message.author,
        "kind": message.kind,
        "text": message.text,
        "status": message.status,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }
    buttons = data.get("buttons") or []
    if buttons and message.id is not None:
        view["buttons"] = [
            {"title": b.get("title", ""), "ref": button_ref(message.id, i)}
            for i, b in enumerate(buttons)
        ]
    if data.get("image"):
        view["image"] = data["image"]
    if data.get("location_request"):
        view["location_request"] = True
    if data.get("location"):
        view["location"] = True
    if data.get("document"):  # a file for the citizen: downloaded with the chat's token
        document = data["document"]
        view["document"] = {
            "filename": document.get("filename"),
            "mime_type": document.get("mime_type"),
            "size_bytes": document.get("size_bytes"),
        }
    if data.get("attachment"):
        view["attachment"] = {
            "id": data["attachment"].get("id"),
            "mime_type": data["attachment"].get("mime_type"),
        }
    return view
