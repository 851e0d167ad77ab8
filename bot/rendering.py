"""Rasa's REST-channel replies -> the gateway's channel-neutral replies and directives.

Rasa returns a list of ``{"recipient_id", "text"?, "buttons"?, "image"?, "custom"?}``; one
utterance with text, buttons and a custom payload arrives as two items (text+buttons, then
custom). Custom payloads the gateway understands (docs/contracts.md):
``{"type": "location_request"}`` (asks the citizen's position; optional "text"),
``{"type": "handoff", "priority": "top|high|normal", "reason": "..."}``,
``{"type": "page", "page_key": "..."}`` (marks the preceding message as a page of results),
``{"type": "subscriptions"[, "action": "stop"]}`` (the announcements menu, see bot.menus).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bot import wording
from bot.text import sanitize
from conversations.outgoing import Button, Outgoing

log = logging.getLogger(__name__)

PRIORITIES = ("top", "high", "normal")
MENU_CUSTOM = "subscriptions"  # the announcements menu (broadcast/), built by the gateway


@dataclass(frozen=True)
class Handoff:
    priority: str = "normal"
    reason: str = ""


@dataclass
class Turn:
    replies: list[Outgoing] = field(default_factory=list)
    handoff: Handoff | None = None


def _buttons(raw: Any) -> list[Button]:
    buttons: list[Button] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        title = sanitize(str(item.get("title") or ""))
        payload = str(item.get("payload") or "")
        if title and payload:
            buttons.append(Button(title, payload))
    return buttons


def render_rasa(messages: list[dict[str, Any]]) -> Turn:
    turn = Turn()
    for item in messages:
        if not isinstance(item, dict):
            continue
        text = str(item.get("text") or "")
        buttons = _buttons(item.get("buttons"))
        if text or buttons:
            turn.replies.append(Outgoing(text=text, buttons=buttons))
        if item.get("image"):
            turn.replies.append(Outgoing(image=str(item["image"])))
        custom = item.get("custom")
        if isinstance(custom, dict):
            _apply_custom(turn, custom)
    return turn


def _apply_custom(turn: Turn, custom: dict[str, Any]) -> None:
    kind = custom.get("type")
    if kind == "location_request":
        text = str(custom.get("text") or "")
        last = turn.replies[-1] if turn.replies else None
        if last is not None and not text and not last.image and not last.buttons:
            last.location_request = True
        else:
            turn.replies.append(
                Outgoing(text=text or wording.LOCATION_REQUEST, location_request=True)
            )
    elif kind == "handoff":
        priority = str(custom.get("priority") or "normal")
        turn.handoff = Handoff(
            priority=priority if priority in PRIORITIES else "normal",
            reason=str(custom.get("reason") or "")[:200],
        )
    elif kind == MENU_CUSTOM:
        # the gateway builds this menu itself (bot.menus): a placeholder keeps its place
        turn.replies.append(Outgoing(menu=dict(custom)))
    elif kind == "page":
        if turn.replies and custom.get("page_key"):
            turn.replies[-1].page_key = str(custom["page_key"])[:100]
    else:
        log.warning("unknown custom payload type %r ignored", str(kind)[:40])
