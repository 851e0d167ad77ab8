"""Reading a reimbursement request typed in chat: amount, date of payment, provider, for whom.

Pure functions (no Rasa): ``actions/reimbursement.py`` calls them from the form's
validation, the tests call them directly. Each parser returns a value or raises
``IntakeError`` whose ``message`` is the polite Italian sentence to show the citizen.

- ``parse_amount("35,50 €") -> 3550``: «35 euro», «35,50 €», «€ 12», «12.5», «1.234,56»,
  «ho pagato 35 euro e 50»; integer cents, never a float.
- ``parse_paid_on("ieri", today=...) -> date``: «oggi», «ieri», «l'altro ieri», «lunedì»
  (the last one), «12/11», «12/11/2026», «12-11-26», «12 novembre», «12 nov 2025»; a day
  without a year is the latest one not in the future; refused when in the future or older
  than ``max_age_days``.
- ``match_provider(session, "coop acquerello") -> Provider | None``: the catalogue provider
  the words name (approved ones only), when exactly one fits.
- ``parse_beneficiary("per mia madre") -> "familiare (madre)"``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from difflib import SequenceMatcher

from sqlmodel import Session, select

from catalog.models import AdhesionStatus, Provider, Service

MAX_AMOUNT_CENTS = 1_000_000  # 10.000,00 €: more than any receipt a family pays at once

MONTHS = {
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6,
    "luglio": 7, "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
    "gen": 1, "feb": 2, "mar": 3, "apr": 4, "mag": 5, "giu": 6, "lug": 7, "ago": 8,
    "set": 9, "sett": 9, "ott": 10, "nov": 11, "dic": 12,
}  # fmt: skip
MONTH_NAMES = (
    "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
    "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
)  # fmt: skip
WEEKDAYS = {
    "lunedi": 0, "martedi": 1, "mercoledi": 2, "giovedi": 3, "venerdi": 4, "sabato": 5,
    "domenica": 6,
}  # fmt: skip

SELF = "il richiedente"
CHILD = "figlio o figlia"
FAMILY = "altro familiare"
BENEFICIARY_CODES = {"self": SELF, "child": CHILD, "family": FAMILY}


class IntakeError(ValueError):
    """An answer that cannot be used; ``message`` says why, politely, in Italian.

    ``msgid`` and ``fields`` (dates) let the actions say it in another language."""

    def __init__(self, message: str, **fields: date) -> None:
        self.msgid, self.fields = message, fields
        self.message = message.format(**{k: italian_date(v) for k, v in fields.items()})
        super().__init__(self.message)


def fold(text: str) -> str:
    """Lowercase, accents removed, spaces collapsed (punctuation kept)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.split())


def italian_date(day: date) -> str:
    """``date(2026, 11, 12)`` -> ``"12 novembre 2026"``."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


# --- the amount ---------------------------------------------------------------------------

AMOUNT_NOT_UNDERSTOOD = (
    "Non ho capito l'importo. Scrivi solo la cifra in euro, per esempio 35 oppure 35,50."
)
AMOUNT_ZERO = "L'importo deve essere più di zero euro. Scrivi quanto hai pagato, per esempio 35."
AMOUNT_TOO_BIG = (
    "L'importo mi sembra troppo alto per una sola ricevuta. Controlla e riscrivilo, "
    "per esempio 350 oppure 350,00. Per spese più grandi chiedi a un operatore."
)

_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CURRENCY = r"(?:€|euro|eur)"
_AMOUNT_PATTERNS = (
    # "35 euro e 50", "35 euro e 50 centesimi"
    re.compile(rf"(?<![\d.,])(\d+)\s*{_CURRENCY}\s*e\s*(\d{{1,2}})(\s*cent\w*)?(?![\d.,])"),
    re.compile(rf"(?<![\d.,])({_NUMBER})\s*{_CURRENCY}"),  # "35,50 €", "35 euro"
    re.compile(rf"{_CURRENCY}\s*({_NUMBER})(?![\d.,])"),  # "€ 12", "euro 12,50"
)
_BARE_NUMBER = re.compile(rf"(?<![\d.,/\-])({_NUMBER})(?![\d.,/\-])")


# more digits than any real amount (MAX_AMOUNT_CENTS has 7): refused before int(), which
# raises ValueError past 4,300 digits (CPython's int-conversion limit) and would crash the form
_MAX_DIGITS = 12


def _whole(digits: str) -> int:
    if len(digits) > _MAX_DIGITS:
        raise IntakeError(AMOUNT_TOO_BIG)
    return int(digits)


def _to_cents(number: str) -> int:
    """ "1.234,56" / "12,5" / "12.50" / "35" -> cents (a dot followed by 3 digits groups
    thousands; otherwise dot and comma both separate the cents)."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", number):
        whole, _, decimals = number.replace(".", "").partition(",")
    else:
        whole, _, decimals = number.replace(",", ".").partition(".")
    return _whole(whole) * 100 + int((decimals or "0").ljust(2, "0"))


def parse_amount(text: str) -> int:
    """The amount in euro cents of a short answer. Raises ``IntakeError``."""
    folded = fold(text).replace("€", " € ")
    folded = re.sub(r"\s+", " ", folded).strip()
    cents: int | None = None
    for index, pattern in enumerate(_AMOUNT_PATTERNS):
        match = pattern.search(folded)
        if match:
            if index == 0:  # "e 50" / "e 5 centesimi" (without "centesimi", "e 5" is 50)
                extra = match.group(2) if match.group(3) else match.group(2).ljust(2, "0")
                cents = _whole(match.group(1)) * 100 + int(extra)
            else:
                cents = _to_cents(match.group(1))
            break
    if cents is None:
        numbers = _BARE_NUMBER.findall(folded)
        if len(numbers) != 1 or re.search(r"\d\s*[/\-]\s*\d", folded):
            raise IntakeError(AMOUNT_NOT_UNDERSTOOD)
        cents = _to_cents(numbers[0])
    if cents <= 0:
        raise IntakeError(AMOUNT_ZERO)
    if cents > MAX_AMOUNT_CENTS:
        raise IntakeError(AMOUNT_TOO_BIG)
    return cents


# --- the date of payment ----------------------------------------------------------------------

DATE_NOT_UNDERSTOOD = (
    "Non ho capito la data. Scrivi il giorno in cui hai pagato, per esempio «ieri», "
    "«12/11» oppure «12 novembre»."
)
DATE_IN_FUTURE = (
    "Questa data è nel futuro. Scrivi il giorno in cui hai già pagato, per esempio «ieri»."
)
DATE_INVALID = "Questo giorno non esiste nel calendario. Controlla la data e riscrivila."


DATE_TOO_OLD = (
    "Posso chiedere il rimborso solo di spese pagate dal {day} in poi. "
    "Per spese più vecchie chiedi a un operatore."
)


def _full_year(year: int) -> int:
    return 2000 + year if year < 100 else year


def _day_without_year(day: int, month: int, today: date) -> date:
    """The latest such day not after today (12/11 written in January is last November)."""
    try:
        candidate = date(today.year, month, day)
    except ValueError:
        candidate = None
    if candidate is None or candidate > today:
        return date(today.year - 1, month, day)  # may raise ValueError (29/02)
    return candidate


def _read_date(folded: str, today: date) -> date | None:
    if re.search(r"\b(oggi|stamattina|stamani|stasera|poco fa)\b", folded):
        return today
    if re.search(r"\b(l'altro ieri|l altro ieri|altroieri|avantieri|ieri l'altro)\b", folded):
        return today - timedelta(days=2)
    if re.search(r"\bieri\b", folded):
        return today - timedelta(days=1)
    match = re.search(r"\b(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s*[/\-.]\s*(\d{2,4}))?\b", folded)
    if match:
        day, month = int(match.group(1)), int(match.group(2))
        if match.group(3):
            return date(_full_year(int(match.group(3))), month, day)
        return _day_without_year(day, month, today)
    months = "|".join(sorted(MONTHS, key=len, reverse=True))
    match = re.search(
        rf"\b(\d{{1,2}})\s*(?:°\s*)?({months})(?:\.|\b)(?:\s+(\d{{4}}|\d{{2}})\b)?", folded
    )
    if match:
        day, month = int(match.group(1)), MONTHS[match.group(2)]
        if match.group(3):
            return date(_full_year(int(match.group(3))), month, day)
        return _day_without_year(day, month, today)
    for name, weekday in WEEKDAYS.items():
        if re.search(rf"\b{name}\b", folded):
            back = (today.weekday() - weekday) % 7 or 7  # "lunedì" said on a Monday: last week
            if re.search(r"\b(oggi|questo)\b", folded):
                back = (today.weekday() - weekday) % 7
            return today - timedelta(days=back)
    return None


def parse_paid_on(text: str, *, today: date, max_age_days: int) -> date:
    """The day of the payment (Europe/Rome calendar day ``today``). Raises ``IntakeError``."""
    folded = fold(text).replace("’", "'")
    try:
        found = _read_date(folded, today)
    except ValueError:
        raise IntakeError(DATE_INVALID) from None
    if found is None:
        raise IntakeError(DATE_NOT_UNDERSTOOD)
    if found > today:
        raise IntakeError(DATE_IN_FUTURE)
    if found < today - timedelta(days=max_age_days):
        raise IntakeError(DATE_TOO_OLD, day=today - timedelta(days=max_age_days))
    return found


# --- the provider -----------------------------------------------------------------------------

PROVIDER_TOO_SHORT = (
    "Scrivi il nome di chi hai pagato, come è scritto sulla ricevuta: per esempio "
    "«Cooperativa Il Girasole» o «Farmacia Comunale 5»."
)
_GENERIC = frozenset(
    {
        "cooperativa", "coop", "sociale", "onlus", "aps", "odv", "srl", "s.r.l.", "spa",
        "associazione", "ass", "comune", "di", "firenze", "il", "la", "lo", "le", "i", "gli",
        "del", "della", "dei", "delle", "e", "ed", "per", "a", "da", "in", "con", "centro",
        "servizi", "societa", "impresa", "ente", "asd", "ssd", "studio",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ProviderMatch:
    code: str
    name: str
    category: str | None  # the one category of its services, if they have only one


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", fold(text)) if w not in _GENERIC and len(w) > 1}


def clean_provider_text(text: str) -> str:
    """The citizen's words for the provider, tidied; raises ``IntakeError`` when empty."""
    cleaned = " ".join(text.split()).strip(" .,;:!?\"'«»")
    cleaned = re.sub(r"^(l'ho pagat[oa] |ho pagato |pagato |a |al |alla |allo |da )", "", cleaned)
    if len(re.sub(r"[^A-Za-zÀ-ÿ0-9]", "", cleaned)) < 2:
        raise IntakeError(PROVIDER_TOO_SHORT)
    return cleaned[:120]


def match_provider(session: Session, text: str) -> ProviderMatch | None:
    """The approved catalogue provider ``text`` names, if exactly one fits well."""
    wanted = _words(text)
    if not wanted:
        return None
    folded = fold(text)
    scored: list[tuple[float, Provider]] = []
    providers = session.exec(
        select(Provider).where(Provider.adhesion_status == AdhesionStatus.approved)
    ).all()
    for provider in providers:
        words = _words(provider.name)
        if not words:
            continue
        common = wanted & words
        # every distinctive word typed is in the name ("acquerello" -> Coop. L'Acquerello)
        score = len(common) / len(wanted) if common else 0.0
        ratio = SequenceMatcher(None, folded, fold(provider.name)).ratio()
        score = max(score, ratio if ratio >= 0.85 else 0.0)
        if score >= 0.99 or (score >= 0.66 and len(common) >= 2):
            scored.append((score, provider))
    if not scored:
        return None
    scored.sort(key=lambda pair: pair[0], reverse=True)
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None  # two providers fit equally: keep the citizen's words
    best = scored[0][1]
    categories = set(
        session.exec(select(Service.category).where(Service.provider_id == best.id)).all()
    )
    category = next(iter(categories)) if len(categories) == 1 else None
    return ProviderMatch(code=best.code, name=best.name, category=category)


# --- for whom -------------------------------------------------------------------------------

BENEFICIARY_NOT_UNDERSTOOD = (
    "Per chi era la spesa? Premi un pulsante qui sotto oppure scrivi, per esempio, "
    "«per me» o «per mio figlio»."
)
_RELATIVES = (
    "madre", "mamma", "padre", "papa", "moglie", "marito", "compagna", "compagno",
    "nonna", "nonno", "sorella", "fratello", "suocera", "suocero", "zia", "zio",
    "nipote", "partner",
)  # fmt: skip


def parse_beneficiary(text: str) -> str:
    """ "per me" -> ``SELF``; "mio figlio" -> ``CHILD``; "mia madre" -> "familiare (madre)"."""
    folded = fold(text)
    if folded in BENEFICIARY_CODES:
        return BENEFICIARY_CODES[folded]
    if re.search(r"\b(figli[oae]?|bimb[oaie]|bambin[oaie]|ragazz[oaie])\b", folded):
        return CHILD
    for relative in _RELATIVES:
        if re.search(rf"\b{relative}\b", folded):
            return f"familiare ({'papà' if relative == 'papa' else relative})"
    if re.search(r"\b(familiar[ei]|parente)\b", folded):
        return FAMILY
    if re.search(r"\b(me|io|me stess[oa]|personale)\b", folded):
        return SELF
    raise IntakeError(BENEFICIARY_NOT_UNDERSTOOD)
