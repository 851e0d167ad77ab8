"""Paying a service with the welfare budget: quote, confirm, voucher (code + QR), cancel.

1. ``action_pay_with_budget`` (button "Paga con il budget welfare" of a service's
   details, payload ``/pay_with_budget{"service_code": ...}``): price, what the budget
   covers and what is left to pay (``PaymentPlan.describe()``), and a confirm button whose
   payload carries a fresh nonce.
2. ``action_confirm_payment`` (``/confirm_payment{"service_code", "voucher_nonce"}``):
   ``welfare.vouchers.issue_voucher`` places the hold with a key made of conversation,
   service and nonce, so a double tap or a retry never charges twice; replies with the
   voucher code and its QR image.
3. ``action_cancel_voucher`` ("annulla voucher", or its button with ``voucher_code``):
   asks «Vuoi annullare il voucher...?» (actions/confirmation.py), then releases the hold
   of an unused voucher of this conversation's citizen.
Only the conversation's own citizen is ever read (``citizen_for_conversation``).
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.budget import not_linked
from actions.common import HANDOFF_BUTTON, db_session, entity_values, logger, money, now
from actions.confirmation import ask, confirmed, confirmed_target, done
from welfare.ledger.errors import LedgerError
from welfare.ledger.linking import citizen_for_conversation
from welfare.ledger.money import format_eur
from welfare.models import Voucher
from welfare.qr import qr_url
from welfare.vouchers import (
    VoucherError,
    cancel_voucher,
    find_voucher,
    format_voucher_code,
    issue_voucher,
    new_nonce,
    open_vouchers,
    payable_service,
    quote,
)

DB_ERROR_TEXT = "Scusa, in questo momento non riesco a usare il budget. Riprova tra poco."
WHICH_SERVICE_TEXT = (
    "Quale servizio vuoi pagare con il budget? Cercalo e apri i dettagli: lì trovi il "
    "pulsante «Paga con il budget welfare»."
)
NO_VOUCHER_TEXT = "Non hai voucher da annullare."
WHICH_VOUCHER_TEXT = "Quale voucher vuoi annullare?"
SEARCH_BUTTON = {"title": "Cerca un servizio", "payload": "/search_service"}


def pay_button(service_code: str) -> dict[str, str]:
    payload = json.dumps({"service_code": service_code}, separators=(",", ":"))
    return {"title": "Paga con il budget welfare", "payload": f"/pay_with_budget{payload}"}


def confirm_button(service_code: str, nonce: str) -> dict[str, str]:
    payload = json.dumps(
        {"service_code": service_code, "voucher_nonce": nonce}, separators=(",", ":")
    )
    return {"title": "Conferma e paga", "payload": f"/confirm_payment{payload}"}


def cancel_button(voucher: Voucher, title: str = "Annulla il voucher") -> dict[str, str]:
    payload = json.dumps({"voucher_code": voucher.code}, separators=(",", ":"))
    return {"title": title, "payload": f"/cancel_voucher{payload}"}


def _first(tracker: Tracker, entity: str) -> str | None:
    for value in entity_values(tracker, entity):
        if isinstance(value, str) and value:
            return value
    return None


def voucher_text(voucher: Voucher, title: str) -> str:
    lines = [
        f"Ecco il tuo voucher per «{title}»: {format_voucher_code(voucher.code)}",
        f"Il budget paga {money(voucher.covered_cents)}.",
    ]
    if voucher.uncovered_cents > 0:
        lines.append(f"Restano da pagare all'ente {money(voucher.uncovered_cents)}.")
    lines.append(
        "Mostra il codice o il QR all'ente quando usi il servizio. Finché non lo usi puoi "
        "annullarlo: scrivi «annulla voucher»."
    )
    return "\n".join(lines)


class ActionPayWithBudget(Action):
    def name(self) -> str:
        return "action_pay_with_budget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = _first(tracker, "service_code") or tracker.get_slot("selected_service")
        if not code:
            dispatcher.utter_message(text=WHICH_SERVICE_TEXT, buttons=[SEARCH_BUTTON])
            return []
        try:
            with db_session() as session:
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                if citizen is None:
                    return not_linked(dispatcher, tracker)
                assert citizen.id is not None
                service, _provider, plan = quote(
                    session, citizen_id=citizen.id, service_code=code, now=now()
                )
                title = service.title
        except LedgerError as error:
            dispatcher.utter_message(text=error.message, buttons=[HANDOFF_BUTTON])
            return [SlotSet("selected_service", code)]
        except Exception:
            logger.exception("action_pay_with_budget: database error")
            dispatcher.utter_message(text=DB_ERROR_TEXT, buttons=[HANDOFF_BUTTON])
            return []
        text = f"{title}\nPrezzo: {format_eur(plan.amount_cents)}.\n{plan.describe()}"
        if not plan.parts:
            dispatcher.utter_message(text=text, buttons=[HANDOFF_BUTTON])
        else:
            dispatcher.utter_message(
                text=f"{text}\nVuoi confermare? Ti darò un voucher da mostrare all'ente.",
                buttons=[confirm_button(code, new_nonce()), {"title": "No", "payload": "/deny"}],
            )
        return [SlotSet("selected_service", code), SlotSet("citizen_linked", True)]


class ActionConfirmPayment(Action):
    def name(self) -> str:
        return "action_confirm_payment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = _first(tracker, "service_code")
        nonce = _first(tracker, "voucher_nonce")
        if not code or not nonce:
            dispatcher.utter_message(text=WHICH_SERVICE_TEXT, buttons=[SEARCH_BUTTON])
            return []
        try:
            with db_session() as session:
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                if citizen is None:
                    return not_linked(dispatcher, tracker)
                title = payable_service(session, code)[0].title
                voucher, created = issue_voucher(
                    session,
                    citizen=citizen,
                    conversation_id=tracker.sender_id,
                    service_code=code,
                    nonce=nonce,
                    now=now(),
                )
        except LedgerError as error:
            dispatcher.utter_message(text=error.message, buttons=[HANDOFF_BUTTON])
            return []
        except ValueError:
            dispatcher.utter_message(text=WHICH_SERVICE_TEXT, buttons=[SEARCH_BUTTON])
            return []
        except Exception:
            logger.exception("action_confirm_payment: database error")
            dispatcher.utter_message(text=DB_ERROR_TEXT, buttons=[HANDOFF_BUTTON])
            return []
        logger.info("voucher %s for a service (new: %s)", voucher.id, created)
        text = voucher_text(voucher, title)
        if not created:
            text = "Hai già confermato: il pagamento è stato fatto una volta sola.\n" + text
        dispatcher.utter_message(text=text, buttons=[cancel_button(voucher)])
        dispatcher.utter_message(image=qr_url(voucher.qr_token))
        return [SlotSet("selected_service", code)]


class ActionCancelVoucher(Action):
    def name(self) -> str:
        return "action_cancel_voucher"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        is_confirmed = confirmed(tracker, "cancel_voucher")
        code = _first(tracker, "voucher_code") or (
            confirmed_target(tracker) if is_confirmed else None
        )
        try:
            with db_session() as session:
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                if citizen is None:
                    return not_linked(dispatcher, tracker)
                assert citizen.id is not None
                if code:
                    voucher = find_voucher(session, code)
                    if voucher is None or voucher.citizen_id != citizen.id:
                        dispatcher.utter_message(text=NO_VOUCHER_TEXT)
                        return []
                else:
                    candidates = open_vouchers(session, citizen_id=citizen.id)
                    if not candidates:
                        dispatcher.utter_message(text=NO_VOUCHER_TEXT)
                        return []
                    if len(candidates) > 1:
                        buttons = [
                            cancel_button(
                                v,
                                f"{format_voucher_code(v.code)} · {money(v.covered_cents)}",
                            )
                            for v in candidates[:5]
                        ]
                        dispatcher.utter_message(text=WHICH_VOUCHER_TEXT, buttons=buttons)
                        return []
                    voucher = candidates[0]
                if not (is_confirmed and confirmed_target(tracker) == voucher.code):
                    label = format_voucher_code(voucher.code)
                    return ask(
                        dispatcher,
                        tracker,
                        kind="cancel_voucher",
                        text=f"Vuoi annullare il voucher {label} "
                        f"({money(voucher.covered_cents)})? Non potrai più usarlo: "
                        "l'importo torna disponibile nel tuo budget.",
                        yes_title="Sì, annulla voucher",
                        intent="cancel_voucher",
                        entities={"voucher_code": voucher.code},
                        target=voucher.code,
                    )
                cancel_voucher(
                    session, voucher=voucher, actor=f"citizen:{citizen.public_ref}", now=now()
                )
        except VoucherError as error:
            dispatcher.utter_message(text=error.message)
            return []
        except Exception:
            logger.exception("action_cancel_voucher: database error")
            dispatcher.utter_message(text=DB_ERROR_TEXT, buttons=[HANDOFF_BUTTON])
            return []
        dispatcher.utter_message(
            text=f"Voucher {format_voucher_code(voucher.code)} annullato: "
            f"{money(voucher.covered_cents)} tornano disponibili nel tuo budget."
        )
        return [done()]
