"""Every text the web chat page shows by itself (index.html and chat.js), in Italian.

The page never writes a sentence of its own: index.html marks each element with
``data-text="KEY"`` (``data-text-placeholder``, ``data-text-aria-label``, ``data-text-alt``
for attributes) and chat.js takes its status lines from the same table. The table of each
language comes from ``GET /api/chat/languages``: these Italian texts are the msgids of the
gateway's catalogue (locale/<code>/LC_MESSAGES/gateway.po), so a new language needs its
catalogue only (docs/languages.md).

``{name}`` fields are filled by chat.js; a field made of digits (``{112}``) is shown as
that number in bold. tests/language/test_webchat_page.py checks that every key the page
uses is here, that index.html's Italian defaults are these texts, and that every language
has them all, not in Italian.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

from core.i18n import gettext, languages

PAGE_TEXTS: dict[str, str] = {
    # index.html
    "title": "WEL.CO.ME – Assistente del welfare di comunità di Firenze",
    "skip": "Vai al campo per scrivere",
    "tagline": "L'assistente che ti aiuta a trovare i servizi di welfare a Firenze.",
    "conversation": "Conversazione",
    "log_label": "Messaggi della conversazione",
    "typing": "L'assistente sta scrivendo…",
    "text_label": "Scrivi un messaggio",
    "placeholder": "Per esempio: cerco un doposcuola a Rifredi",
    "send": "Invia",
    "share_location": "📍 Condividi posizione",
    "attach": "📎 Allega foto o PDF",
    "attach_label": "Allega foto o PDF",
    "attach_hint": (
        "Puoi mandare una foto (JPG o PNG) o un PDF, per esempio la ricevuta da rimborsare. "
        "Quello che hai scritto nel riquadro parte insieme al file."
    ),
    "enter_hint": "Premi Invio per mandare il messaggio, Maiuscolo + Invio per andare a capo.",
    "emergency_numbers": (
        "In caso di pericolo chiama il {112}. Violenza o stalking: {1522} (gratuito, 24 ore su 24)."
    ),
    # chat.js: the messages
    "who_me": "Tu",
    "who_staff": "Operatore",
    "who_bot": "Assistente",
    "location_shared": "📍 Posizione condivisa",
    "file_sent": "📎 File inviato",
    "image_alt": "Immagine inviata dall'assistente",
    "download": "⬇ Scarica {filename} ({kb} KB)",
    "choices_label": "Scelte possibili",
    # chat.js: the status line
    "download_failed": "Non riesco a scaricare il file. Riprova tra poco.",
    "session_failed": "Non riesco ad aprire la chat: riprova più tardi.",
    "offline": "Connessione assente: il messaggio partirà appena possibile.",
    "too_many_requests": "Troppe richieste: riprova più tardi.",
    "too_fast": "Stai scrivendo molto velocemente: aspetta qualche secondo.",
    "not_sent": "Il messaggio non è partito: riprovo tra poco.",
    "file_empty": "Il file è vuoto. Puoi mandare una foto o un PDF?",
    "file_sending": "Invio il file…",
    "file_failed": "Il file non è partito: riprova tra poco.",
    "file_offline": "Il file non è partito: controlla la connessione e riprova.",
    "no_geolocation": (
        "Il tuo browser non permette di condividere la posizione. Scrivi il nome del quartiere."
    ),
    "locating": "Cerco la tua posizione…",
    "location_failed": "Non riesco a leggere la posizione. Puoi scrivere il nome del quartiere.",
    "reconnecting": "Connessione interrotta: provo a ricollegarmi…",
    "empty_message": "Scrivi un messaggio prima di premere Invia.",
    "unavailable": "Il servizio non risponde. Riprova tra poco.",
}


@cache
def page_texts(code: str) -> dict[str, str]:
    """The page's table in the language ``code`` (Italian where a text is untranslated)."""
    return {key: gettext(code, text) for key, text in PAGE_TEXTS.items()}


def direction(code: str) -> str:
    """``rtl`` for a language written right to left (Arabic), else ``ltr`` (Babel's data)."""
    try:
        order = Locale.parse(code).character_order
    except (ValueError, LookupError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def page_languages() -> list[dict[str, object]]:
    """The languages of the page's switch, each with its own table of the page's texts."""
    return [
        {
            "code": language.code,
            "name": language.name,
            "dir": direction(language.code),
            "texts": page_texts(language.code),
        }
        for language in languages().languages
    ]
