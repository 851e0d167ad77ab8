"""Outgoing -> WhatsApp Cloud API message objects, within WhatsApp's limits.

Up to 3 buttons: reply buttons (title <= 20 chars). 4 to 10: a list (row title <= 24,
description <= 72). More than 10: the first 10. Interactive bodies are at most 1024
characters: a longer text goes first as plain text. Text messages are split at 4096.
Button ids are references (``b:<message id>:<index>``), never Rasa payloads.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import wording
from bot.text import WHATSAPP_TEXT_LIMIT, split_message
from conversations.outgoing import Outgoing
from conversations.repository import button_ref
from core.i18n import gettext

log = logging.getLogger(__name__)

BODY_LIMIT = 1024
BUTTON_TITLE_LIMIT = 20
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
MAX_BUTTONS = 3
MAX_ROWS = 10
CAPTION_LIMIT = 1024


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def render(
    outgoing: Outgoing, *, message_id: int, to: str, language: str | None = None
) -> list[dict[str, Any]]:
    """The Graph API messages for one stored reply, in sending order (the last carries ids)."""
    parts: list[dict[str, Any]] = []
    if outgoing.image:
        image: dict[str, Any] = {"link": outgoing.image}
        if outgoing.text:
            image["caption"] = _cut(outgoing.text, CAPTION_LIMIT)
        parts.append({"type": "image", "image": image})
        return [{"to": to, **p} for p in parts]

    text = outgoing.text
    interactive_body = text
    needs_interactive = bool(outgoing.buttons)
    if needs_interactive and (not text or len(text) > BODY_LIMIT):
        if text:
            parts.extend(
                _text(chunk) for chunk in split_message(text, WHATSAPP_TEXT_LIMIT, by_utf16=False)
            )
        interactive_body = gettext(language, wording.CHOOSE_OPTION)
    if needs_interactive:
        parts.append(_buttons(outgoing, message_id, interactive_body, language))
    if outgoing.location_request:
        body = (
            text
            if (not needs_interactive and text and len(text) <= BODY_LIMIT)
            else gettext(language, wording.LOCATION_REQUEST)
        )
        if not needs_interactive and text and len(text) > BODY_LIMIT:
            parts.extend(
                _text(chunk) for chunk in split_message(text, WHATSAPP_TEXT_LIMIT, by_utf16=False)
            )
        parts.append(
            {
                "type": "interactive",
                "interactive": {
                    "type": "location_request_message",
                    "body": {"text": body},
                    "action": {"name": "send_location"},
                },
            }
        )
    if not parts and text:
        parts.extend(
            _text(chunk) for chunk in split_message(text, WHATSAPP_TEXT_LIMIT, by_utf16=False)
        )
    return [{"to": to, **p} for p in parts]


def _buttons(
    outgoing: Outgoing, message_id: int, body: str, language: str | None = None
) -> dict[str, Any]:
    buttons = outgoing.buttons
    if len(buttons) <= MAX_BUTTONS:
        return {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": body},
                "action": {
                    "buttons": [
                        {
                            "type": "reply",
                            "reply": {
                                "id": button_ref(message_id, i),
                                "title": _cut(b.title, BUTTON_TITLE_LIMIT),
                            },
                        }
                        for i, b in enumerate(buttons)
                    ]
                },
            },
        }
    if len(buttons) > MAX_ROWS:
        log.warning("whatsapp list: %d buttons, only the first %d shown", len(buttons), MAX_ROWS)
    rows = []
    for i, b in enumerate(buttons[:MAX_ROWS]):
        row: dict[str, Any] = {
            "id": button_ref(message_id, i),
            "title": _cut(b.title, ROW_TITLE_LIMIT),
        }
        if len(b.title) > ROW_TITLE_LIMIT:
            row["description"] = _cut(b.title, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": gettext(language, wording.CHOOSE),
                "sections": [{"title": _cut(gettext(language, wording.CHOOSE), 24), "rows": rows}],
            },
        },
    }


def template(name: str, language: str, *, to: str) -> dict[str, Any]:
    return {
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}},
    }
