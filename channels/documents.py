"""How big a document each channel takes (a citizen's copy of their data is sent as one).

- Telegram ``sendDocument``: files of any type up to 50 MB (Bot API, "Sending files").
- WhatsApp document message: up to 100 MB (Cloud API, supported media types), and only some
  types: PDF and ``text/plain`` among them (a JSON file goes as ``text/plain`` with its
  ``.json`` name).
- Web chat: our own download (``GET /api/chat/documents/{message id}`` with the chat's
  token), capped at 20 MB so a phone on a slow line still gets it.

A copy bigger than its channel's limit is not sent: the console says so, with the size.
"""

from __future__ import annotations

MB = 1024 * 1024

DOCUMENT_LIMIT_BYTES: dict[str, int] = {
    "telegram": 50 * MB,
    "whatsapp": 100 * MB,
    "webchat": 20 * MB,
}

#: the types WhatsApp accepts for a document, and what we send in their place
WHATSAPP_DOCUMENT_TYPES = {"application/pdf": "application/pdf", "application/json": "text/plain"}


def document_limit(channel: str) -> int | None:
    """The largest document ``channel`` takes, in bytes; None when it takes none."""
    return DOCUMENT_LIMIT_BYTES.get(channel)
