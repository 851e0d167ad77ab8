"""Ask before an action that cannot be undone or costs something, and «annulla» keeps all.

An erasure request, stopping the announcements, cancelling a voucher or an appointment:
the acting action first asks «Sei sicuro?» with two buttons and remembers what it asked
in the slot ``pending_confirmation`` (kind, a one-time nonce, the user turn it was asked
at, the object concerned). It acts only when

- the «Sì» button of that very question is tapped: its payload carries the nonce
  (entity ``confirm_nonce``), which must equal the one remembered; or
- the citizen's very next message is a typed yes (intent ``affirm``, or the same request
  again) right after the question.

Anything else (a «No» / «annulla», another request, an old or forged button) acts on
nothing. Paying with the budget has its own confirmation, the quote with «Conferma e
paga» (actions/vouchers.py), which uses the same slot.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity_values, intent_of, latest_text
from actions.wording import N_, button, language_of, tr

SLOT = "pending_confirmation"
NONCE_ENTITY = "confirm_nonce"
NO_BUTTON = {"title": N_("No, lascia stare"), "payload": "/deny"}
KEPT_TEXT = N_("Va bene: non ho cambiato nulla.")
NOTHING_PENDING_TEXT = N_("Va bene. Se ti serve qualcos'altro, scrivimi pure.")


def user_turns(tracker: Tracker) -> int:
    """How many messages the citizen has sent in this conversation (this one included)."""
    return sum(1 for event in tracker.events if event.get("event") == "user")


def pending(tracker: Tracker) -> dict[str, Any] | None:
    value = tracker.get_slot(SLOT)
    return value if isinstance(value, dict) and value.get("kind") else None


def _nonce_in_message(tracker: Tracker) -> str | None:
    for value in entity_values(tracker, NONCE_ENTITY):
        if isinstance(value, str) and value:
            return value
    return None


def confirmed(tracker: Tracker, kind: str, *, also_intents: frozenset[str] = frozenset()) -> bool:
    """True when this message confirms the question of ``kind`` asked just before."""
    asked = pending(tracker)
    if asked is None or asked.get("kind") != kind:
        return False
    nonce = _nonce_in_message(tracker)
    if nonce is not None:
        return secrets.compare_digest(nonce, str(asked.get("nonce") or ""))
    typed = bool(latest_text(tracker))
    right_after = user_turns(tracker) == int(asked.get("turn") or 0) + 1
    return typed and right_after and intent_of(tracker) in {"affirm", *also_intents}


def confirmed_target(tracker: Tracker) -> str | None:
    """The object the confirmed question was about (a voucher code, an appointment number)."""
    asked = pending(tracker)
    target = asked.get("target") if asked else None
    return str(target) if target else None


def ask(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    kind: str,
    text: str,
    yes_title: str,
    intent: str,
    entities: dict[str, str] | None = None,
    target: str | None = None,
) -> list[dict[str, Any]]:
    """Ask «Sei sicuro?»: the yes button repeats ``intent`` with the entities and a nonce.

    ``text`` is already in the citizen's language; ``yes_title`` is a msgid."""
    nonce = secrets.token_hex(6)
    payload = json.dumps({**(entities or {}), NONCE_ENTITY: nonce}, separators=(",", ":"))
    lang = language_of(tracker)
    dispatcher.utter_message(
        text=text,
        buttons=[
            {"title": tr(lang, yes_title), "payload": f"/{intent}{payload}"},
            button(lang, NO_BUTTON),
        ],
    )
    remembered = {"kind": kind, "nonce": nonce, "turn": user_turns(tracker), "target": target}
    return [SlotSet(SLOT, remembered)]


def done() -> dict[str, Any]:
    """The question is answered (or no longer valid): forget it."""
    return SlotSet(SLOT, None)
