"""A reply in the gateway's own, channel-neutral form (each channel renders it natively)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Document:
    """A file sent to the citizen as a document (the copy of their data), kept as an
    ``Attachment`` of the outbound message (VAR_DIR/uploads): retention and erasure delete
    it with the conversation's other files."""

    attachment_id: int
    filename: str
    mime_type: str
    size_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "attachment_id": self.attachment_id,
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": self.size_bytes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            attachment_id=int(data["attachment_id"]),
            filename=str(data["filename"]),
            mime_type=str(data["mime_type"]),
            size_bytes=int(data["size_bytes"]),
        )


@dataclass
class Outgoing:
    """One message to a citizen: text and/or buttons, or a picture, or a location request,
    or a document (its text is the caption).

    ``gateway`` marks the gateway's own words (consent, errors) as opposed to Rasa's;
    ``page_key`` marks a page of results (Telegram edits the previous page in place).
    """

    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    image: str | None = None
    location_request: bool = False
    page_key: str | None = None
    gateway: bool = False
    menu: dict[str, Any] | None = None  # a placeholder for a menu the gateway builds
    document: Document | None = None
    # the document's bytes, read by the sender just before the channel gets it (not stored)
    document_content: bytes | None = None

    def data(self) -> dict[str, Any]:
        """What is stored in the message row (and what the channels render from)."""
        stored: dict[str, Any] = {}
        if self.buttons:
            stored["buttons"] = [b.as_dict() for b in self.buttons]
        if self.image:
            stored["image"] = self.image
        if self.location_request:
            stored["location_request"] = True
        if self.page_key:
            stored["page_key"] = self.page_key
        if self.document:
            stored["document"] = self.document.as_dict()
        return stored


def from_row(text: str, data: dict[str, Any]) -> Outgoing:
    """Rebuild an Outgoing from a stored message row (for the outbox's retries)."""
    return Outgoing(
        text=text,
        buttons=[Button(str(b["title"]), str(b["payload"])) for b in data.get("buttons", [])],
        image=data.get("image"),
        location_request=bool(data.get("location_request")),
        page_key=data.get("page_key"),
        document=Document.from_dict(data["document"]) if data.get("document") else None,
    )
