"""The Italian labels of the monitoring views and the few constants they share."""

from __future__ import annotations

from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORY_LABELS

NOT_GIVEN = "-"
NOT_GIVEN_LABEL = "Non indicato"
EXPIRY_DAYS = 60
OPT_OUT_DAYS = 7
TOP_INTENTS = 12

CHANNEL_LABELS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "webchat": "Chat web"}
SOURCE_LABELS = {"public": "Budget pubblico", "employer": "Welfare aziendale"}
REASON_LABELS = {
    "requested": "Chiesto dal cittadino",
    "emergency": "Possibile emergenza",
    "bot_failure": "L'assistente non ha capito",
    "two_fallbacks": "L'assistente non ha capito",
    "recovered": "Ripreso dopo un riavvio",
}
CSAT_LABELS = {3: "Bene", 2: "Così così", 1: "Male"}
INTENT_LABELS = {
    "greet": "Saluto",
    "goodbye": "Congedo",
    "thank": "Ringraziamento",
    "affirm": "Sì",
    "deny": "No",
    "inform": "Dà un'informazione",
    "help": "Chiede aiuto",
    "bot_challenge": "Chiede se è un bot",
    "search_service": "Cerca un servizio",
    "service_details": "Dettagli di un servizio",
    "book_service": "Prenota un servizio",
    "check_budget": "Saldo del budget",
    "list_transactions": "Movimenti del budget",
    "request_reimbursement": "Chiede un rimborso",
    "request_status": "Stato di una richiesta",
    "book_appointment": "Appuntamento al Welcome Point",
    "find_welcome_point": "Cerca un Welcome Point",
    "human_handoff": "Chiede un operatore",
    "subscribe_news": "Iscrizione agli avvisi",
    "unsubscribe_news": "Stop agli avvisi",
    "privacy_info": "Informazioni sulla privacy",
    "forget_me": "Cancellazione dei dati",
    "emergency": "Emergenza",
    "out_of_scope": "Fuori tema",
    "nlu_fallback": "Non capito",
    "more_results": "Altri risultati",
    "link_account": "Collega il budget",
    "pay_with_budget": "Paga con il budget",
    "confirm_payment": "Conferma il pagamento",
    "cancel_voucher": "Annulla un voucher",
    "choose_slot": "Sceglie un orario",
    "book_slot": "Prenota un orario",
    "cancel_appointment": "Annulla un appuntamento",
    "confirm_reimbursement": "Conferma il rimborso",
}


def category_label(slug: str | None) -> str:
    if not slug or slug == NOT_GIVEN:
        return "Categoria non capita"
    return CATEGORY_LABELS.get(slug, slug)


def quartiere_label(code: str | None) -> str:
    if not code or code == NOT_GIVEN:
        return NOT_GIVEN_LABEL
    return f"{code} {QUARTIERI.get(code, '')}".strip()
