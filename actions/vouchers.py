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
from actions.common import (
    HANDOFF_BUTTON,
    SEARCH_BUTTON,
    db_session,
    entity_values,
    local,
    logger,
    money,
    now,
)
from actions.confirmation import ask, confirmed, confirmed_target, done
from actions.wording import N_, button, language_of, tr
from welfare.ledger.errors import LedgerError
from welfare.ledger.linking import citizen_for_conversation
from welfare.ledger.plans import PaymentPlan
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

DB_ERROR_TEXT = N_("Scusa, in questo momento non riesco a usare il budget. Riprova tra poco.")
WHICH_SERVICE_TEXT = N_(
    "Quale servizio vuoi pagare con il budget? Cercalo e apri i dettagli: lì trovi il "
    "pulsante «Paga con il budget welfare»."
)
NO_VOUCHER_TEXT = N_("Non hai voucher da annullare.")
WHICH_VOUCHER_TEXT = N_("Quale voucher vuoi annullare?")
PAY_TITLE = N_("Paga con il budget welfare")
CANCEL_TITLE = N_("Annulla il voucher")


def pay_button(service_code: str) -> dict[str, str]:
    """Its title is a msgid: the caller translates it (actions.wording.button)."""
    payload = json.dumps({"service_code": service_code}, separators=(",", ":"))
    return {"title": PAY_TITLE, "payload": f"/pay_with_budget{payload}"}


def confirm_button(service_code: str, nonce: str, language: str | None = "it") -> dict[str, str]:
    payload = json.dumps(
        {"service_code": service_code, "voucher_nonce": nonce}, separators=(",", ":")
    )
    return {"title": tr(language, N_("Conferma e paga")), "payload": f"/confirm_payment{payload}"}


def cancel_button(
    voucher: Voucher, title: str | None = None, language: str | None = "it"
) -> dict[str, str]:
    payload = json.dumps({"voucher_code": voucher.code}, separators=(",", ":"))
    return {"title": title or tr(language, CANCEL_TITLE), "payload": f"/cancel_voucher{payload}"}


def plan_words(plan: PaymentPlan, language: str | None = "it") -> str:
    """What the budget covers (PaymentPlan.describe() in the citizen's language); the
    budgets' names are data, as their funding sources wrote them."""
    lang = language
    pieces = ", ".join(
        tr(
            lang,
            N_("{name} {amount} (scade il {day})"),
            name=p.label,
            amount=money(p.amount_cents, lang),
            day=f"{local(p.expires_at):%d/%m/%Y}",
        )
        for p in plan.parts
    )
    total = money(plan.amount_cents, lang)
    if not plan.parts:
        return tr(
            lang,
            N_(
                "Nessun budget disponibile copre questo servizio: "
                "il costo di {total} è interamente a tuo carico."
            ),
            total=total,
        )
    if plan.uncovered_cents == 0:
        return tr(
            lang,
            N_("Il costo di {total} è coperto interamente dal tuo budget: {pieces}."),
            total=total,
            pieces=pieces,
        )
    return tr(
        lang,
        N_("Il tuo budget copre {covered} su {total}: {pieces}. Restano a tuo carico {left}."),
        covered=money(plan.covered_cents, lang),
        total=total,
        pieces=pieces,
        left=money(plan.uncovered_cents, lang),
    )


def _first(tracker: Tracker, entity: str) -> str | None:
    for value in entity_values(tracker, entity):
        if isinstance(value, str) and value:
            return value
    return None


def voucher_text(voucher: Voucher, title: str, language: str | None = "it") -> str:
    lang = language
    code = format_voucher_code(voucher.code)
    lines = [
        tr(lang, N_("Ecco il tuo voucher per «{title}»: {code}"), title=title, code=code),
        tr(lang, N_("Il budget paga {amount}."), amount=money(voucher.covered_cents, lang)),
    ]
    if voucher.uncovered_cents > 0:
        left = money(voucher.uncovered_cents, lang)
        lines.append(tr(lang, N_("Restano da pagare all'ente {amount}."), amount=left))
    show = N_(
        "Mostra il codice o il QR all'ente quando usi il servizio. Finché non lo usi puoi "
        "annullarlo: scrivi «annulla voucher»."
    )
    lines.append(tr(lang, show))
    return "\n".join(lines)


class ActionPayWithBudget(Action):
    def name(self) -> str:
        return "action_pay_with_budget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = _first(tracker, "service_code") or tracker.get_slot("selected_service")
        lang = language_of(tracker)
        handoff = button(lang, HANDOFF_BUTTON)
        if not code:
            dispatcher.utter_message(
                text=tr(lang, WHICH_SERVICE_TEXT), buttons=[button(lang, SEARCH_BUTTON)]
            )
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
            # the ledger's refusals are in the actions' catalogue (welfare.ledger.errors)
            dispatcher.utter_message(text=tr(lang, error.message), buttons=[handoff])
            return [SlotSet("selected_service", code)]
        except Exception:
            logger.exception("action_pay_with_budget: database error")
            dispatcher.utter_message(text=tr(lang, DB_ERROR_TEXT), buttons=[handoff])
            return []
        price = tr(lang, N_("Prezzo: {amount}."), amount=money(plan.amount_cents, lang))
        text = f"{title}\n{price}\n{plan_words(plan, lang)}"
        if not plan.parts:
            dispatcher.utter_message(text=text, buttons=[handoff])
        else:
            question = tr(lang, N_("Vuoi confermare? Ti darò un voucher da mostrare all'ente."))
            dispatcher.utter_message(
                text=f"{text}\n{question}",
                buttons=[
                    confirm_button(code, new_nonce(), lang),
                    {"title": tr(lang, N_("No")), "payload": "/deny"},
                ],
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
        lang = language_of(tracker)
        handoff = button(lang, HANDOFF_BUTTON)
        which = {"text": tr(lang, WHICH_SERVICE_TEXT), "buttons": [button(lang, SEARCH_BUTTON)]}
        if not code or not nonce:
            dispatcher.utter_message(**which)
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
            dispatcher.utter_message(text=tr(lang, error.message), buttons=[handoff])
            return []
        except ValueError:
            dispatcher.utter_message(**which)
            return []
        except Exception:
            logger.exception("action_confirm_payment: database error")
            dispatcher.utter_message(text=tr(lang, DB_ERROR_TEXT), buttons=[handoff])
            return []
        logger.info("voucher %s for a service (new: %s)", voucher.id, created)
        text = voucher_text(voucher, title, lang)
        if not created:
            once = N_("Hai già confermato: il pagamento è stato fatto una volta sola.")
            text = f"{tr(lang, once)}\n{text}"
        dispatcher.utter_message(text=text, buttons=[cancel_button(voucher, language=lang)])
        dispatcher.utter_message(image=qr_url(voucher.qr_token))
        return [SlotSet("selected_service", code)]


class ActionCancelVoucher(Action):
    def name(self) -> str:
        return "action_cancel_voucher"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        is_confirmed = confirmed(tracker, "cancel_voucher")
        lang = language_of(tracker)
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
                        dispatcher.utter_message(text=tr(lang, NO_VOUCHER_TEXT))
                        return []
                else:
                    candidates = open_vouchers(session, citizen_id=citizen.id)
                    if not candidates:
                        dispatcher.utter_message(text=tr(lang, NO_VOUCHER_TEXT))
                        return []
                    if len(candidates) > 1:
                        choices = [
                            cancel_button(
                                v,
                                f"{format_voucher_code(v.code)} · {money(v.covered_cents, lang)}",
                            )
                            for v in candidates[:5]
                        ]
                        dispatcher.utter_message(text=tr(lang, WHICH_VOUCHER_TEXT), buttons=choices)
                        return []
                    voucher = candidates[0]
                if not (is_confirmed and confirmed_target(tracker) == voucher.code):
                    question = N_(
                        "Vuoi annullare il voucher {code} ({amount})? Non potrai più usarlo: "
                        "l'importo torna disponibile nel tuo budget."
                    )
                    return ask(
                        dispatcher,
                        tracker,
                        kind="cancel_voucher",
                        text=tr(
                            lang,
                            question,
                            code=format_voucher_code(voucher.code),
                            amount=money(voucher.covered_cents, lang),
                        ),
                        yes_title=N_("Sì, annulla voucher"),
                        intent="cancel_voucher",
                        entities={"voucher_code": voucher.code},
                        target=voucher.code,
                    )
                cancel_voucher(
                    session, voucher=voucher, actor=f"citizen:{citizen.public_ref}", now=now()
                )
        except VoucherError as error:
            dispatcher.utter_message(text=tr(lang, error.message))
            return []
        except Exception:
            logger.exception("action_cancel_voucher: database error")
            dispatcher.utter_message(
                text=tr(lang, DB_ERROR_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []
        cancelled = N_("Voucher {code} annullato: {amount} tornano disponibili nel tuo budget.")
        dispatcher.utter_message(
            text=tr(
                lang,
                cancelled,
                code=format_voucher_code(voucher.code),
                amount=money(voucher.covered_cents, lang),
            )
        )
        return [done()]
