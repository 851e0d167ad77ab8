"""What the hand-off tells the citizen: plain, honest about when a person will answer.

Kept together (like bot/wording.py) so they can be reviewed in one place.
"""

from __future__ import annotations

from datetime import datetime

from care.sla import SLA_MINUTES, describe_when
from core.i18n import gettext

EMERGENCY_NUMBERS = (
    "Se sei in pericolo chiama subito il 112. Se subisci violenza o stalking chiama il 1522 "
    "(gratuito, anonimo, 24 ore su 24)."
)

COMING_NOW = (
    "Un Care Manager del Comune è in servizio e ti scriverà qui a breve. "
    "Intanto puoi scrivere la tua domanda: la leggerà una persona, non l'assistente."
)
IN_HOURS_NOBODY_ONLINE = (
    "Ho avvisato i Care Manager del Comune: ti risponderà qui una persona appena possibile, "
    "di solito entro {minutes} minuti. Intanto puoi scrivere la tua domanda."
)
OUT_OF_HOURS = (
    "In questo momento gli uffici dei Welcome Point sono chiusi. Un Care Manager leggerà i tuoi "
    "messaggi e ti risponderà qui {when}. Intanto puoi scrivere la tua domanda."
)
NO_HOURS = (
    "Ho avvisato i Care Manager del Comune: ti risponderà qui una persona appena possibile. "
    "Intanto puoi scrivere la tua domanda."
)

CLOSED = (
    "Il Care Manager ha chiuso questa conversazione. Da ora ti risponde di nuovo l'assistente "
    "automatico: scrivimi pure se ti serve altro, oppure /operatore per parlare ancora con una "
    "persona."
)
CSAT_QUESTION = "Com'è andata con il Care Manager? Tocca una risposta."
CSAT_BUTTONS = ((3, "😊 Bene"), (2, "😐 Così così"), (1, "🙁 Male"))
CSAT_THANKS = "Grazie per la tua risposta! Ci aiuta a migliorare il servizio."


def on_request(
    *,
    priority: str,
    office_open: bool,
    next_opening: datetime | None,
    staff_online: bool,
    now: datetime,
    language: str | None = None,
) -> str:
    """The message a citizen gets when the conversation goes to a person, in their
    language (the catalogues of locale/; Italian by default)."""
    if office_open and staff_online:
        text = gettext(language, COMING_NOW)
    elif office_open:
        minutes = SLA_MINUTES.get(priority, 30)
        text = gettext(language, IN_HOURS_NOBODY_ONLINE).format(minutes=minutes)
    elif next_opening is not None:
        when = describe_when(next_opening, now=now, language=language)
        text = gettext(language, OUT_OF_HOURS).format(when=when)
    else:
        text = gettext(language, NO_HOURS)
    if priority == "top":
        text = f"{gettext(language, EMERGENCY_NUMBERS)}\n{text}"
    return text
