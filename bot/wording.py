"""Every sentence the gateway itself says to a citizen: Italian, plain, short.

Rasa writes the assistant's answers; these are the gateway's own words (privacy notice,
errors, emergency numbers, unsupported messages). Kept together so they can be reviewed.
"""

from __future__ import annotations

PRIVACY_NOTICE = (
    "Benvenuta, benvenuto! Sono l'assistente di WEL.CO.ME, il welfare di comunità di "
    "Firenze.\n\n"
    "Prima di iniziare, due parole sui tuoi dati:\n"
    "• Chi li tiene: il progetto WEL.CO.ME (Comune di Firenze e partner).\n"
    "• Perché: per aiutarti a trovare i servizi e, se lo chiedi, metterti in contatto "
    "con un operatore.\n"
    "• Per quanto tempo: i messaggi sono cancellati dopo 12 mesi.\n"
    "• I tuoi diritti: puoi chiedere in ogni momento di vedere o cancellare i tuoi dati, "
    "anche scrivendo «cancella i miei dati».\n\n"
    "Per continuare tocca «Accetto»."
)
CONSENT_ACCEPT_TITLE = "Accetto"
CONSENT_DECLINE_TITLE = "Non accetto"
CONSENT_THANKS = (
    "Grazie! Ora dimmi pure di cosa hai bisogno. Per esempio: «cerco un doposcuola a Rifredi» "
    "oppure «voglio parlare con un operatore»."
)
CONSENT_DECLINED = (
    "Va bene, senza il tuo consenso non posso leggere i tuoi messaggi. "
    "Puoi rivolgerti di persona a un Welcome Point del tuo quartiere. "
    "Se cambi idea, scrivimi di nuovo.\n"
    "In caso di pericolo chiama il 112."
)
CONSENT_REMINDER = "Prima di continuare ho bisogno del tuo consenso: tocca «Accetto» qui sotto."

EMERGENCY = (
    "Se sei in pericolo chiama subito il 112 (numero unico di emergenza).\n"
    "Se subisci violenza o stalking chiama il 1522: è gratuito, anonimo e risponde "
    "24 ore su 24.\n"
    "Ho avvisato un operatore, che ti scriverà qui il prima possibile."
)

EMPTY_MESSAGE = "Non ho ricevuto nessun testo. Scrivimi pure la tua domanda."
TOO_LONG = (
    "Il tuo messaggio è molto lungo: l'ho salvato tutto, ma per rispondere ho letto solo "
    "la prima parte."
)
UNAVAILABLE = (
    "Il servizio è momentaneamente non disponibile, riprova tra poco: "
    "il tuo messaggio è stato salvato."
)
UNKNOWN_BUTTON = "Questo pulsante non è più valido. Scrivimi pure cosa ti serve."
UNKNOWN_COMMAND = (
    "Non conosco questo comando. Puoi usare /aiuto per sapere cosa posso fare, "
    "oppure scrivermi la tua domanda."
)
VOICE_NOT_SUPPORTED = (
    "Mi dispiace, non riesco ancora ad ascoltare i messaggi vocali. Puoi scrivermi?"
)
NOT_SUPPORTED = (
    "Mi dispiace, questo tipo di messaggio non lo capisco. Puoi scrivermi con parole tue?"
)
EDITED_MESSAGE = (
    "Ho visto che hai modificato un messaggio, ma non posso leggere le modifiche. "
    "Scrivimi di nuovo il messaggio corretto."
)
GROUP_CHAT = (
    "Per proteggere la tua privacy rispondo solo in una chat privata. "
    "Scrivimi direttamente aprendo il mio profilo."
)
FILE_TOO_BIG = "Il file è troppo grande. Puoi mandarne uno più piccolo (al massimo {mb} MB)?"
FILE_TYPE_NOT_ALLOWED = "Posso ricevere solo foto (JPG o PNG) e documenti PDF."
FILE_EMPTY = "Il file è vuoto. Puoi mandare una foto o un PDF?"
FILE_NEEDS_CONSENT = "Prima di mandare un file tocca «Accetto» nell'informativa sulla privacy."
FILE_RECEIVED = "Ho ricevuto il tuo file, grazie."
FILE_FAILED = "Non sono riuscito a ricevere il file. Puoi riprovare tra poco?"
CAPTION_TOO_LONG = (
    "Il testo scritto insieme al file è troppo lungo (al massimo {limit} caratteri). "
    "Accorcialo, oppure manda prima il file e poi il messaggio."
)
CAPTION_UNREADABLE = "Non riesco a leggere il testo scritto insieme al file. Puoi riscriverlo?"
HUMAN_MODE_RECEIVED = "Ho passato il tuo messaggio a un operatore."

LOCATION_REQUEST = "Tocca il pulsante qui sotto per condividere la tua posizione."
LOCATION_BUTTON = "📍 Condividi posizione"
CHOOSE = "Scegli"
CHOOSE_OPTION = "Scegli un'opzione:"


# --- per-address limits of the web chat (bot/channels/webchat/api.py) ---------------------
TOO_MANY_CHATS = (
    "Da questa rete sono state aperte molte conversazioni nell'ultima ora. Riprova più tardi."
)
TOO_MANY_EMERGENCIES = (
    "Da questa rete sono arrivate molte richieste urgenti e non riesco ad avvisare un "
    "operatore adesso.\n"
    "Se sei in pericolo chiama subito il 112 (numero unico di emergenza).\n"
    "Se subisci violenza o stalking chiama il 1522: è gratuito, anonimo e risponde "
    "24 ore su 24."
)
TOO_MANY_FILES = "Da questa rete sono arrivati molti file nell'ultima ora. Riprova più tardi."
TOO_MANY_STREAMS = "Ci sono troppe chat aperte da questa rete. Chiudi le altre e riprova."
TOO_MANY_MESSAGES = "Troppi messaggi: aspetta qualche secondo."
DOCUMENT_NOT_FOUND = "Non trovo questo documento."
REQUEST_TOO_LARGE = "La richiesta è troppo grande."
