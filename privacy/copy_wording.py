"""The words of a citizen's copy of their data: the PDF's texts, its field and section names,
the message and captions that come with the two files. Italian, as the code writes them;
they are msgids of the gateway's catalogue (locale/<code>/LC_MESSAGES/gateway.po), so the
copy is in the conversation's language (docs/languages.md). The JSON's keys and values stay
as docs/contracts.md fixes them."""

from __future__ import annotations

from conversations.models import Author

# --- the readable copy (privacy/templates/data_copy.html) ---------------------------------
DOCUMENT_TITLE = "La copia dei tuoi dati - WEL.CO.ME"
TITLE = "La copia dei tuoi dati"
INTRO = (
    "Questa è la copia di tutti i dati che il servizio WEL.CO.ME del Comune di Firenze "
    "conserva su di te, come ci hai chiesto nella chat ({channel}). L'abbiamo preparata il "
    "{created}."
)
FILES_NOTE = (
    "Insieme a questo documento ricevi un file con gli stessi dati in formato JSON: serve se "
    "vuoi portarli a un altro servizio. Le foto e i documenti che ci hai mandato non sono "
    "nella copia: trovi solo il tipo e la grandezza di ogni file."
)
NO_DATA = "Nessun dato."
QUESTIONS = (
    "Per domande sui tuoi dati scrivi nella chat «voglio parlare con un operatore» o vai a un "
    "Welcome Point."
)
CREATED_AT = "{day} alle {time}"
YES = "sì"
NO = "no"
FILE_NOT_IN_COPY = "{type}, {bytes} byte (il file non è nella copia)"
FILENAME = "welcome-copia-dati-{day}"

#: the sections, in the PDF and in the console's preview
SECTION_LABELS = {
    "messages": "Messaggi della chat",
    "consent": "Consenso all'informativa privacy",
    "subscriptions": "Iscrizione agli avvisi",
    "appointments": "Appuntamenti ai Welcome Point",
    "citizen": "Dati anagrafici del budget welfare",
    "ledger_entries": "Movimenti del budget welfare",
    "vouchers": "Voucher",
    "reimbursements": "Richieste di rimborso",
    "handoffs": "Conversazioni con un operatore",
}

#: who wrote each message (the JSON keeps these Italian words, the PDF translates them)
AUTHORS = {
    Author.citizen: "cittadino",
    Author.bot: "assistente",
    Author.gateway: "assistente",
    Author.staff: "operatore",
}

#: the name of each field, for the readable copy (the JSON keeps the English keys)
FIELD_LABELS = {
    "at": "Quando",
    "from": "Da chi",
    "kind": "Tipo",
    "text": "Testo",
    "file": "File",
    "channel": "Canale",
    "chat_started_at": "Chat iniziata il",
    "consent_version": "Versione dell'informativa",
    "consent_given_at": "Consenso dato il",
    "consent_declined_at": "Consenso rifiutato il",
    "active": "Attiva",
    "since": "Dal",
    "stopped_at": "Fermata il",
    "topics": "Quartieri e interessi",
    "number": "Numero",
    "place": "Dove",
    "starts_at": "Inizio",
    "ends_at": "Fine",
    "booked_at": "Prenotato il",
    "cancelled_at": "Annullato il",
    "reference": "Codice cittadino",
    "first_name": "Nome",
    "family_name": "Cognome",
    "tax_code": "Codice fiscale",
    "quartiere": "Quartiere",
    "employer": "Datore di lavoro",
    "budget": "Budget",
    "amount_cents": "Importo",
    "held_cents": "Importo bloccato",
    "service_code": "Servizio",
    "memo": "Nota",
    "code": "Codice",
    "provider_code": "Ente",
    "price_cents": "Prezzo",
    "covered_cents": "Pagato dal budget",
    "status": "Stato",
    "created_at": "Creato il",
    "closed_at": "Chiuso il",
    "paid_on": "Pagato il",
    "provider_name": "Pagato a",
    "beneficiary": "Per chi",
    "category": "Categoria",
    "approved_cents": "Importo approvato",
    "reason": "Motivo",
    "submitted_at": "Mandata il",
    "reviewed_at": "Decisa il",
    "requested_at": "Chiesta il",
    "taken_at": "Presa in carico il",
    "outcome": "Esito",
    "notes": "Note dell'operatore",
}

# --- the messages that bring the two files (privacy/copy_delivery.py) --------------------
INTRO_TEXT = (
    "Ecco la copia dei tuoi dati che ci hai chiesto. Ti mandiamo due file: un documento PDF "
    "da leggere e un file JSON con gli stessi dati, che serve solo se vuoi portarli a un "
    "altro servizio. Conservali con cura: contengono i tuoi dati personali."
)
CAPTIONS = {
    "application/pdf": "La copia dei tuoi dati da leggere (PDF).",
    "application/json": "Gli stessi dati in un file per il computer (JSON).",
}
