"""Asking for a reimbursement in chat: receipt, amount, date, provider, for whom, confirm.

1. ``action_start_reimbursement`` (intent ``request_reimbursement``: typed, or a photo /
   PDF sent in chat, which the gateway stores and forwards with ``metadata.attachment``):
   an unlinked conversation is told how to link it (the rules then open the code form);
   a linked one starts ``reimbursement_form`` with a fresh nonce, keeping the file when the
   citizen started with it.
2. ``reimbursement_form`` asks one thing at a time (``validate_reimbursement_form``):
   the receipt (photo or PDF: text is not enough), the amount («35,50 €» -> 3550 cents),
   the day of payment («ieri», «12/11», «12 novembre», «yesterday», «March 3rd»; not in the
   future, not older than REIMBURSEMENT_MAX_AGE_DAYS), who was paid (matched to a catalogue
   provider when the words name one), for whom (buttons, or «per mia madre», «for my
   son»: welfare.intake reads every language of locale/<code>/intake.yml), then the
   summary with «Conferma» / «Annulla» (``action_ask_reimbursement_decision``). While the
   form asks, whatever the citizen writes is read as the answer (except an emergency or
   asking for a person); an answer that cannot be used gets a polite explanation and the
   question again, nothing changes.
   «annulla» (or «basta», «lascia stare») ends it at any point, nothing is sent.
3. ``action_submit_reimbursement`` (the form ended, or a «Conferma» tapped again later):
   ``welfare.reimbursements.submit_reimbursement`` with the key
   ``reimbursement:<conversation>:<nonce>``; the nonce travels in the «Conferma» payload,
   so a double tap or a retry finds the request already made and creates nothing.
Only the conversation's own citizen and own attachments are ever read. Nothing typed is
logged.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlmodel import Session, select

from actions.budget import not_linked
from actions.common import (
    HANDOFF_BUTTON,
    db_session,
    entity_values,
    fold,
    intent_of,
    latest_metadata,
    latest_text,
    local,
    logger,
    money,
    now,
)
from actions.wording import N_, button, buttons, day_month_year, language_of, tr
from conversations.models import Attachment
from core.settings import get_settings
from welfare.intake import (
    BENEFICIARY_CODES,
    SELF,
    IntakeError,
    clean_provider_text,
    match_provider,
    parse_amount,
    parse_beneficiary,
    parse_paid_on,
    recorded_relative,
    relative_name,
)
from welfare.ledger.errors import LedgerError
from welfare.ledger.linking import citizen_for_conversation
from welfare.models import Reimbursement
from welfare.reimbursements import submit_reimbursement
from welfare.vouchers import new_nonce

FORM = "reimbursement_form"
RECEIPT = "reimbursement_receipt"
AMOUNT = "reimbursement_amount"
PAID_ON = "reimbursement_paid_on"
PROVIDER = "reimbursement_provider"
PROVIDER_CODE = "reimbursement_provider_code"
BENEFICIARY = "reimbursement_beneficiary"
DECISION = "reimbursement_decision"
NONCE = "reimbursement_nonce"
FORM_SLOTS = (RECEIPT, AMOUNT, PAID_ON, PROVIDER, BENEFICIARY, DECISION)
ALL_SLOTS = (*FORM_SLOTS, PROVIDER_CODE, NONCE)

CONFIRM = "confirm"
CANCEL = "cancel"
NO_FILE = "none"  # the receipt question answered with words

# Intents the rules answer even while the form asks (the form lets them through).
INTERRUPTING_INTENTS = frozenset({"emergency", "human_handoff"})

_CANCEL_RE = re.compile(
    r"^(annulla\w*|annull\w+ (tutto|la richiesta|il rimborso)|lascia (stare|perdere)|"
    r"basta( cosi)?|stop|esci|ferma(ti)?|non (lo )?voglio piu\w*( il rimborso)?|"
    r"ho cambiato idea|cancella( tutto| la richiesta)?|niente|"
    r"cancel\w*( it| the request| everything)?|never mind|forget (it|about it)|"
    r"i changed my mind|i don't want it)\b"
)
_YES_RE = re.compile(
    r"^(si|conferm\w*|ok|okay|va bene|invia|esatto|giusto|tutto giusto|"
    r"yes|yeah|yep|confirm\w*|send( it)?|correct|that's right|all good)\b"
)

NOT_LINKED_INTRO = N_(
    "Per chiedere un rimborso devo prima collegare questa chat al tuo budget welfare."
)
KEPT_RECEIPT_TEXT = N_(
    "Grazie, ho salvato la ricevuta. Ora ti faccio qualche domanda, una alla volta."
)
NEW_RECEIPT_TEXT = N_("Ho sostituito la ricevuta con il nuovo file che mi hai mandato.")
TEXT_NOT_RECEIPT = N_(
    "Per la richiesta mi serve la ricevuta o la fattura: mandami una foto chiara oppure il "
    "file PDF. Se ora non ce l'hai, scrivi «annulla» e riprova quando ce l'hai."
)
FILE_NOT_FOUND = N_("Non trovo il file che mi hai mandato. Per favore mandalo di nuovo.")
CANCELLED_TEXT = N_("Va bene, ho annullato: non ho inviato nessuna richiesta di rimborso.")
ALREADY_SENT_TEXT = N_("Hai già inviato questa richiesta: il numero è {number}. Non serve rifarla.")
STALE_TEXT = N_(
    "Questa richiesta non è più attiva. Se vuoi chiedere un rimborso, scrivi «rimborso» "
    "e mandami la foto della ricevuta."
)
ANSWER_FIRST_TEXT = N_("Prima rispondi alla domanda qui sopra, per favore.")
PRESS_CONFIRM_TEXT = N_("Premi «Conferma» per inviare la richiesta, oppure «Annulla».")
DB_ERROR_TEXT = N_(
    "Scusa, in questo momento non riesco a registrare la richiesta. Riprova tra poco "
    "oppure chiedi a un operatore."
)
STATUS_BUTTON = {"title": N_("Le mie richieste"), "payload": "/request_status"}


def confirm_button(nonce: str) -> dict[str, str]:
    payload = json.dumps({"reimbursement_nonce": nonce}, separators=(",", ":"))
    return {"title": N_("Conferma"), "payload": f"/confirm_reimbursement{payload}"}


CANCEL_BUTTON = {"title": N_("Annulla"), "payload": "/deny"}


def intake_words(error: IntakeError, tracker: Tracker) -> str:
    """Why an answer cannot be used (welfare.intake), in the citizen's language."""
    lang = language_of(tracker)
    fields = {name: day_month_year(day, lang) for name, day in error.fields.items()}
    return tr(lang, error.msgid, **fields)


def handoff_button(tracker: Tracker) -> dict[str, str]:
    return button(language_of(tracker), HANDOFF_BUTTON)


def is_cancel(text: str) -> bool:
    """True when a message means "stop, forget this request"."""
    folded = fold(text)
    return bool(folded) and len(folded.split()) <= 6 and bool(_CANCEL_RE.match(folded))


def is_yes(text: str) -> bool:
    """True when a typed answer to the summary means "yes, send it" (Italian or English)."""
    return bool(_YES_RE.match(fold(text)))


def idempotency_key(conversation_id: str, nonce: str) -> str:
    return f"reimbursement:{conversation_id}:{nonce}"


def sent_attachment_id(tracker: Tracker) -> int | None:
    """The file the gateway stored for the latest message, if any."""
    attachment = latest_metadata(tracker).get("attachment")
    if isinstance(attachment, dict):
        value = attachment.get("id")
        if isinstance(value, int) and value > 0:
            return value
    return None


def own_attachment(session: Session, attachment_id: Any, conversation_id: str) -> Attachment | None:
    """The attachment, only if this conversation sent it."""
    try:
        wanted = int(attachment_id)
    except (TypeError, ValueError):
        return None
    return session.exec(
        select(Attachment).where(
            Attachment.id == wanted, Attachment.conversation_id == conversation_id
        )
    ).first()


def _first_entity(tracker: Tracker, entity: str) -> str | None:
    for value in entity_values(tracker, entity):
        if isinstance(value, str) and value:
            return value
    return None


def _today() -> date:
    return local(now()).date()


def clear_events() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in ALL_SLOTS]


# --- 1. start -------------------------------------------------------------------------------


class ActionStartReimbursement(Action):
    def name(self) -> str:
        return "action_start_reimbursement"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        sent = sent_attachment_id(tracker)
        kept = tracker.get_slot(RECEIPT)
        try:
            with db_session() as session:
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                receipt = None
                if sent is not None and own_attachment(session, sent, tracker.sender_id):
                    receipt = str(sent)
                elif kept not in (None, NO_FILE) and own_attachment(
                    session, kept, tracker.sender_id
                ):
                    receipt = str(kept)  # sent before the chat was linked
        except Exception:
            logger.exception("action_start_reimbursement: database error")
            dispatcher.utter_message(
                text=tr(language_of(tracker), DB_ERROR_TEXT),
                buttons=[handoff_button(tracker)],
            )
            return []
        events = [*clear_events(), SlotSet(RECEIPT, receipt)]
        if citizen is None:
            dispatcher.utter_message(text=tr(language_of(tracker), NOT_LINKED_INTRO))
            if receipt is not None:
                kept_for_later = N_(
                    "Ho tenuto la ricevuta che mi hai mandato: quando la chat è collegata "
                    "scrivimi «rimborso» e continuiamo."
                )
                dispatcher.utter_message(text=tr(language_of(tracker), kept_for_later))
            return [*events, *not_linked(dispatcher, tracker)]
        if receipt is not None:
            dispatcher.utter_message(text=tr(language_of(tracker), KEPT_RECEIPT_TEXT))
        logger.info("reimbursement form started (file first: %s)", receipt is not None)
        return [*events, SlotSet(NONCE, new_nonce()), SlotSet("citizen_linked", True)]


# --- 2. the form ----------------------------------------------------------------------------


class ValidateReimbursementForm(FormValidationAction):
    def name(self) -> str:
        return "validate_reimbursement_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        requested = tracker.get_slot("requested_slot")
        intent = intent_of(tracker)
        if requested and (
            intent in INTERRUPTING_INTENTS or tracker.latest_message.get("safety_net")
        ):
            return []  # rejected: the rules answer (emergency numbers, a person)
        if requested and (
            is_cancel(latest_text(tracker))
            or (requested == DECISION and intent == "deny" and not sent_attachment_id(tracker))
        ):
            return [SlotSet(DECISION, CANCEL), SlotSet("requested_slot", None)]
        if requested and intent == "confirm_reimbursement" and requested != DECISION:
            # a «Conferma» of an earlier summary while this request is not complete yet
            dispatcher.utter_message(text=tr(language_of(tracker), ANSWER_FIRST_TEXT))
            return [SlotSet(requested, None)]
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    def _asked(tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    # --- extraction: the answer to the question asked -----------------------------------------

    async def extract_reimbursement_receipt(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        sent = sent_attachment_id(tracker)
        if sent is not None and tracker.get_slot("requested_slot") is not None:
            return {RECEIPT: str(sent)}  # a new file at any question replaces the receipt
        if self._asked(tracker, RECEIPT) and latest_text(tracker):
            return {RECEIPT: NO_FILE}
        return {}

    def _text_answer(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        if not self._asked(tracker, slot) or sent_attachment_id(tracker) is not None:
            return {}
        text = latest_text(tracker)
        return {slot: text} if text else {}

    async def extract_reimbursement_amount(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_answer(tracker, AMOUNT)

    async def extract_reimbursement_paid_on(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_answer(tracker, PAID_ON)

    async def extract_reimbursement_provider(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_answer(tracker, PROVIDER)

    async def extract_reimbursement_beneficiary(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._asked(tracker, BENEFICIARY):
            return {}
        code = _first_entity(tracker, "beneficiary")
        if code in BENEFICIARY_CODES:
            return {BENEFICIARY: code}
        return self._text_answer(tracker, BENEFICIARY)

    async def extract_reimbursement_decision(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._asked(tracker, DECISION) or sent_attachment_id(tracker) is not None:
            return {}
        intent = intent_of(tracker)
        if intent == "confirm_reimbursement":
            tapped = _first_entity(tracker, NONCE)
            ok = tapped is not None and tapped == tracker.get_slot(NONCE)
            return {DECISION: CONFIRM if ok else "stale"}
        if intent == "affirm" or is_yes(latest_text(tracker)):
            return {DECISION: CONFIRM}
        if latest_text(tracker) or intent:
            return {DECISION: "unclear"}
        return {}

    # --- validation ------------------------------------------------------------------------------

    def validate_reimbursement_receipt(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {RECEIPT: None}
        if slot_value == NO_FILE:
            dispatcher.utter_message(text=tr(language_of(tracker), TEXT_NOT_RECEIPT))
            return {RECEIPT: None}
        with db_session() as session:
            found = own_attachment(session, slot_value, tracker.sender_id)
        if found is None:
            dispatcher.utter_message(text=tr(language_of(tracker), FILE_NOT_FOUND))
            return {RECEIPT: None}
        previous = tracker.get_slot(RECEIPT)
        if tracker.get_slot("requested_slot") not in (None, RECEIPT) and previous:
            dispatcher.utter_message(text=tr(language_of(tracker), NEW_RECEIPT_TEXT))
        return {RECEIPT: str(found.id)}

    def validate_reimbursement_amount(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {AMOUNT: None}
        try:
            cents = parse_amount(str(slot_value))
        except IntakeError as error:
            dispatcher.utter_message(text=intake_words(error, tracker))
            return {AMOUNT: None}
        return {AMOUNT: str(cents)}

    def validate_reimbursement_paid_on(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {PAID_ON: None}
        try:
            day = parse_paid_on(
                str(slot_value),
                today=_today(),
                max_age_days=get_settings().reimbursement_max_age_days,
            )
        except IntakeError as error:
            dispatcher.utter_message(text=intake_words(error, tracker))
            return {PAID_ON: None}
        return {PAID_ON: day.isoformat()}

    def validate_reimbursement_provider(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {PROVIDER: None}
        try:
            text = clean_provider_text(str(slot_value))
        except IntakeError as error:
            dispatcher.utter_message(text=intake_words(error, tracker))
            return {PROVIDER: None}
        with db_session() as session:
            match = match_provider(session, text)
        if match is None:
            return {PROVIDER: text, PROVIDER_CODE: None}
        return {PROVIDER: match.name, PROVIDER_CODE: match.code}

    def validate_reimbursement_beneficiary(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {BENEFICIARY: None}
        value = str(slot_value)
        if value in BENEFICIARY_CODES:
            return {BENEFICIARY: BENEFICIARY_CODES[value]}
        try:
            return {BENEFICIARY: parse_beneficiary(value)}
        except IntakeError as error:
            dispatcher.utter_message(text=intake_words(error, tracker))
            return {BENEFICIARY: None}

    def validate_reimbursement_decision(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value in (CONFIRM, CANCEL):
            return {DECISION: slot_value}
        if slot_value == "stale":
            stale = N_("Quel pulsante è di una richiesta precedente.")
            dispatcher.utter_message(text=tr(language_of(tracker), stale))
        elif slot_value is not None:
            dispatcher.utter_message(text=tr(language_of(tracker), PRESS_CONFIRM_TEXT))
        return {DECISION: None}


# --- the summary ------------------------------------------------------------------------------


def summary_text(tracker: Tracker, receipt: Attachment | None) -> str:
    lang = language_of(tracker)
    is_pdf = receipt and receipt.mime_type == "application/pdf"
    kind = tr(lang, N_("file PDF ricevuta")) if is_pdf else tr(lang, N_("foto ricevuta"))
    amount = tracker.get_slot(AMOUNT)
    paid_on = tracker.get_slot(PAID_ON)
    beneficiary = tracker.get_slot(BENEFICIARY)
    day = date.fromisoformat(paid_on) if paid_on else None
    when = day_month_year(day, lang) if day else "-"
    relative = recorded_relative(beneficiary) if beneficiary else None
    if beneficiary == SELF:
        who = tr(lang, N_("te"))
    elif relative is not None:  # «familiare (madre)»: the relative in the citizen's words
        who = tr(lang, N_("familiare ({relative})"), relative=relative_name(relative, lang))
    else:  # «figlio o figlia», «altro familiare» (welfare.intake)
        who = tr(lang, beneficiary) if beneficiary else "-"
    paid = money(int(amount), lang) if amount else "-"
    lines = [
        tr(lang, N_("Controlla i dati della richiesta di rimborso:")),
        tr(lang, N_("- Ricevuta: {kind}"), kind=kind),
        tr(lang, N_("- Importo pagato: {amount}"), amount=paid),
        tr(lang, N_("- Data del pagamento: {day}"), day=when),
        tr(lang, N_("- Pagato a: {provider}"), provider=tracker.get_slot(PROVIDER) or "-"),
        tr(lang, N_("- Per chi: {who}"), who=who),
        tr(
            lang,
            N_(
                "Se è tutto giusto, premi «Conferma». "
                "Se qualcosa non va, premi «Annulla» e ricomincia."
            ),
        ),
    ]
    return "\n".join(lines)


class ActionAskReimbursementDecision(Action):
    """The form's last question: the summary, «Conferma» (with the nonce) and «Annulla»."""

    def name(self) -> str:
        return "action_ask_reimbursement_decision"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        nonce = tracker.get_slot(NONCE)
        events: list[dict[str, Any]] = []
        if not nonce:
            nonce = new_nonce()
            events.append(SlotSet(NONCE, nonce))
        try:
            with db_session() as session:
                receipt = own_attachment(session, tracker.get_slot(RECEIPT), tracker.sender_id)
        except Exception:
            logger.exception("action_ask_reimbursement_decision: database error")
            receipt = None
        dispatcher.utter_message(
            text=summary_text(tracker, receipt),
            buttons=buttons(language_of(tracker), [confirm_button(nonce), CANCEL_BUTTON]),
        )
        return events


# --- 3. submit -------------------------------------------------------------------------------


class ActionSubmitReimbursement(Action):
    def name(self) -> str:
        return "action_submit_reimbursement"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        decision = tracker.get_slot(DECISION)
        tapped = (
            _first_entity(tracker, NONCE) if intent_of(tracker) == "confirm_reimbursement" else None
        )
        nonce = tapped or tracker.get_slot(NONCE)
        if decision == CANCEL and not tapped:
            dispatcher.utter_message(text=tr(language_of(tracker), CANCELLED_TEXT))
            return clear_events()
        if not nonce:
            dispatcher.utter_message(text=tr(language_of(tracker), STALE_TEXT))
            return clear_events()
        key = idempotency_key(tracker.sender_id, nonce)
        try:
            with db_session() as session:
                existing = session.exec(
                    select(Reimbursement).where(Reimbursement.idempotency_key == key)
                ).first()
                if existing is not None:
                    dispatcher.utter_message(
                        text=tr(language_of(tracker), ALREADY_SENT_TEXT, number=existing.number),
                        buttons=[button(language_of(tracker), STATUS_BUTTON)],
                    )
                    return clear_events() if tapped == tracker.get_slot(NONCE) else []
                complete = decision == CONFIRM and all(
                    tracker.get_slot(s) for s in (RECEIPT, AMOUNT, PAID_ON, PROVIDER, BENEFICIARY)
                )
                if not complete or (tapped and tapped != tracker.get_slot(NONCE)):
                    dispatcher.utter_message(text=tr(language_of(tracker), STALE_TEXT))
                    return []  # an old button: nothing changes
                citizen = citizen_for_conversation(session, conversation_id=tracker.sender_id)
                if citizen is None:
                    return [*clear_events(), *not_linked(dispatcher, tracker)]
                receipt = own_attachment(session, tracker.get_slot(RECEIPT), tracker.sender_id)
                if receipt is None:
                    dispatcher.utter_message(text=tr(language_of(tracker), FILE_NOT_FOUND))
                    return clear_events()
                match = None
                if tracker.get_slot(PROVIDER_CODE):
                    match = match_provider(session, str(tracker.get_slot(PROVIDER)))
                request, created = submit_reimbursement(
                    session,
                    citizen=citizen,
                    conversation_id=tracker.sender_id,
                    amount_cents=int(tracker.get_slot(AMOUNT)),
                    paid_on=date.fromisoformat(str(tracker.get_slot(PAID_ON))),
                    provider_name=str(tracker.get_slot(PROVIDER)),
                    beneficiary=str(tracker.get_slot(BENEFICIARY)),
                    idempotency_key=key,
                    now=now(),
                    attachment_id=receipt.id,
                    category=match.category if match else None,
                )
                number = request.number
        except LedgerError as error:
            dispatcher.utter_message(
                text=tr(language_of(tracker), error.message),
                buttons=[handoff_button(tracker)],
            )
            return clear_events()
        except Exception:
            logger.exception("action_submit_reimbursement: database error")
            dispatcher.utter_message(
                text=tr(language_of(tracker), DB_ERROR_TEXT),
                buttons=[handoff_button(tracker)],
            )
            return []  # the slots stay: «Conferma» again retries with the same key
        logger.info("reimbursement request %s (new: %s)", request.id, created)
        sent = N_(
            "Fatto! Ho inviato la tua richiesta di rimborso. Il numero è {number}.\n"
            "Un operatore del welfare controlla la ricevuta e ti scrivo qui quando ha deciso. "
            "Per sapere a che punto è, scrivi «a che punto è la mia richiesta?»."
        )
        lang = language_of(tracker)
        dispatcher.utter_message(
            text=tr(lang, sent, number=number), buttons=[button(lang, STATUS_BUTTON)]
        )
        return clear_events()
