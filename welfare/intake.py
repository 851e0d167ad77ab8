"""Reading a reimbursement request typed in chat: amount, date of payment, provider, for whom.

Pure functions (no Rasa): ``actions/reimbursement.py`` calls them from the form's
validation, the tests call them directly. Each parser returns a value or raises
``IntakeError`` whose ``message`` is the polite Italian sentence to show the citizen.

- ``parse_amount("35,50 €") -> 3550``: «35 euro», «35,50 €», «€ 12», «12.5», «1.234,56»,
  «ho pagato 35 euro e 50»; integer cents, never a float.
- ``parse_paid_on("ieri", today=...) -> date``: «oggi», «ieri», «l'altro ieri», «3 giorni
  fa», «lunedì» (the last one), «12/11», «12/11/2026», «12-11-26», «12 novembre», «12 nov
  2025»; in English too: «yesterday», «3 days ago», «last Monday», «on 3 March», «March 3rd,
  2026», «the 3rd of March»; a day without a year is the latest one not in the future;
  refused when in the future («domani», «next Monday») or older than ``max_age_days``.
- ``match_provider(session, "coop acquerello") -> Provider | None``: the catalogue provider
  the words name (approved ones only), when exactly one fits.
- ``parse_beneficiary("per mia madre") -> "familiare (madre)"``; «for my mother» too.

The words of the day and of whom are data, one file per language:
``locale/<code>/intake.yml`` (``intake_words``), every language's read for every answer; the
request records the Italian ones («familiare (madre)»: staff read Italian), and
``relative_name`` gives a recorded relative in the citizen's language for the summary.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from catalog.models import AdhesionStatus, Provider, Service
from core.i18n import LOCALE_DIR, languages

MAX_AMOUNT_CENTS = 1_000_000  # 10.000,00 €: more than any receipt a family pays at once

MONTH_NAMES = (
    "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
    "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
)  # fmt: skip

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


# --- the words of each language ---------------------------------------------------------------

INTAKE_FILE = "intake.yml"  # locale/<code>/intake.yml


def intake_path(code: str) -> Path:
    return LOCALE_DIR / code / INTAKE_FILE


def _whole_words(phrase: str) -> re.Pattern[str]:
    """``phrase`` as whole words of a folded text."""
    return re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)")


def _any_of(words: Iterable[str]) -> str:
    """A regex alternative of ``words``, the longest first (``sett`` before ``set``)."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


@dataclass(frozen=True)
class IntakeWords:
    """The words of every language's ``intake.yml``, folded and merged (see load)."""

    days_back: tuple[tuple[re.Pattern[str], int], ...]  # the longest phrase first
    days_ago: tuple[re.Pattern[str], ...]  # group 1: the number of days
    numeric: re.Pattern[str]  # 12/11, 12-11-2026 (day first)
    day_month: re.Pattern[str]  # «12 novembre 2025», «3rd of March»
    month_day: re.Pattern[str]  # «March 3rd, 2026»
    months: dict[str, int]
    weekdays: tuple[tuple[re.Pattern[str], int], ...]
    this_week: re.Pattern[str] | None
    next_week: re.Pattern[str] | None
    child: re.Pattern[str]
    relatives: tuple[tuple[re.Pattern[str], str], ...]  # (word, recorded key), longest first
    family: re.Pattern[str]
    self: re.Pattern[str]
    relative_names: dict[str, dict[str, str]]  # language -> recorded key -> its name


class _Merge:
    """Folded words of several files; a word given two meanings is an error."""

    def __init__(self) -> None:
        self.meaning: dict[str, dict[str, tuple[Any, str]]] = {}

    def add(self, kind: str, word: Any, value: Any, where: str) -> str:
        if not isinstance(word, str) or not fold(word):
            raise ValueError(f"{where}: {kind}: {word!r} is not a word")
        folded = fold(word).replace("’", "'")
        seen = self.meaning.setdefault(kind, {})
        if folded in seen and seen[folded][0] != value:
            raise ValueError(
                f"{where}: {kind}: «{word}» already means {seen[folded][0]!r} in {seen[folded][1]}"
            )
        seen[folded] = (value, where)
        return folded

    def words(self, kind: str) -> dict[str, Any]:
        return {word: value for word, (value, _) in self.meaning.get(kind, {}).items()}


def _listed(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{where}: {key} must be a list")
    return value


def load_intake_words(files: Iterable[tuple[str, Path]]) -> IntakeWords:
    """Read ``(language, path)`` files into one ``IntakeWords``; ``ValueError`` names the
    file and what is wrong (12 months, 7 days of the week, a word with two meanings...)."""
    merge = _Merge()
    days_ago: list[re.Pattern[str]] = []
    names: dict[str, dict[str, str]] = {}
    for code, path in files:
        where = str(path)
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        paid_on, whom = raw.get("paid_on") or {}, raw.get("beneficiary") or {}
        for back, phrases in (paid_on.get("days_back") or {}).items():
            if not isinstance(back, int) or not isinstance(phrases, list):
                raise ValueError(f"{where}: days_back: a number of days, then a list of phrases")
            for phrase in phrases:
                merge.add("days_back", phrase, back, where)
        for pattern in _listed(paid_on, "days_ago", where):
            if not isinstance(pattern, str) or pattern.count("{n}") != 1:
                raise ValueError(f"{where}: days_ago: {pattern!r} must hold «{{n}}» once")
            before, after = (re.escape(part) for part in fold(pattern).split("{n}"))
            days_ago.append(re.compile(rf"(?<!\w){before}(\d{{1,3}}){after}(?!\w)"))
        for kind, count in (("months", 12), ("weekdays", 7)):
            rows = _listed(paid_on, kind, where)
            if len(rows) != count or not all(isinstance(r, list) and r for r in rows):
                raise ValueError(f"{where}: {kind}: {count} lists of words, the first one first")
            for number, row in enumerate(rows, start=1 if kind == "months" else 0):
                for word in row:
                    merge.add(kind, word, number, where)
        for kind in ("this_week", "next_week", "ordinals", "day_of", "articles"):
            for word in _listed(paid_on, kind, where):
                merge.add(kind, word, kind, where)
        for kind in ("self", "child", "family"):
            for word in _listed(whom, kind, where):
                merge.add("beneficiary", word, kind, where)
        for key, words in (whom.get("relatives") or {}).items():
            if not isinstance(words, list):
                raise ValueError(f"{where}: relatives: {key}: a list of words")
            for word in words:
                merge.add("beneficiary", word, f"relative:{key}", where)
        names[code] = {str(k): str(v) for k, v in (whom.get("relative_names") or {}).items()}
    months = merge.words("months")
    if not months:
        raise ValueError("no intake.yml with the months was found")
    month_names = _any_of(months)
    ordinals = _any_of(merge.words("ordinals")) or "(?!)"
    day_of = _any_of(merge.words("day_of")) or "(?!)"
    articles = _any_of(merge.words("articles")) or "(?!)"
    whom = merge.words("beneficiary")

    def group(kind: str) -> re.Pattern[str]:
        found = [word for word, value in whom.items() if value == kind]
        return re.compile(rf"(?<!\w)(?:{_any_of(found) or '(?!)'})(?!\w)")

    def optional(kind: str) -> re.Pattern[str] | None:
        found = merge.words(kind)
        return re.compile(rf"(?<!\w)(?:{_any_of(found)})(?!\w)") if found else None

    by_length = sorted(merge.words("days_back").items(), key=lambda item: -len(item[0]))
    relatives = sorted(
        ((w, v.split(":", 1)[1]) for w, v in whom.items() if v.startswith("relative:")),
        key=lambda item: -len(item[0]),
    )
    return IntakeWords(
        days_back=tuple((_whole_words(phrase), back) for phrase, back in by_length),
        days_ago=tuple(days_ago),
        numeric=re.compile(r"\b(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s*[/\-.]\s*(\d{2,4}))?\b"),
        day_month=re.compile(
            rf"\b(\d{{1,2}})(?:\s*(?:{ordinals}))?\s*(?:(?:{day_of})\s+)?({month_names})"
            rf"(?:\.|\b)(?:,?\s+(\d{{4}}|\d{{2}})\b)?"
        ),
        month_day=re.compile(
            rf"(?<!\w)({month_names})\.?\s+(?:(?:{articles})\s+)?(\d{{1,2}})"
            rf"(?:\s*(?:{ordinals}))?\b(?:,?\s+(\d{{4}})\b)?"
        ),
        months=months,
        weekdays=tuple((_whole_words(w), d) for w, d in merge.words("weekdays").items()),
        this_week=optional("this_week"),
        next_week=optional("next_week"),
        child=group("child"),
        relatives=tuple((_whole_words(word), key) for word, key in relatives),
        family=group("family"),
        self=group("self"),
        relative_names=names,
    )


@cache
def intake_words() -> IntakeWords:
    """The words of every language of locale/languages.yml that has its ``intake.yml``."""
    config = languages()
    if not intake_path(config.source).exists():
        raise ValueError(f"{intake_path(config.source)} is missing")
    codes = [code for code in config.codes if intake_path(code).exists()]
    return load_intake_words((code, intake_path(code)) for code in codes)


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
    words = intake_words()
    for phrase, back in words.days_back:  # «oggi», «ieri», «the day before yesterday»
        if phrase.search(folded):
            return today - timedelta(days=back)
    for pattern in words.days_ago:  # «3 giorni fa», «3 days ago»
        found = pattern.search(folded)
        if found:
            return today - timedelta(days=int(found.group(1)))
    match = words.numeric.search(folded)
    if match:
        day, month = int(match.group(1)), int(match.group(2))
        if match.group(3):
            return date(_full_year(int(match.group(3))), month, day)
        return _day_without_year(day, month, today)
    for pattern, day_group, month_group in (
        (words.day_month, 1, 2),  # «12 novembre 2025», «the 3rd of March»
        (words.month_day, 2, 1),  # «March 3rd, 2026»
    ):
        match = pattern.search(folded)
        if match:
            day, month = int(match.group(day_group)), words.months[match.group(month_group)]
            if match.group(3):
                return date(_full_year(int(match.group(3))), month, day)
            return _day_without_year(day, month, today)
    for name, weekday in words.weekdays:
        if name.search(folded):
            if words.next_week and words.next_week.search(folded):
                return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
            back = (today.weekday() - weekday) % 7 or 7  # "lunedì" said on a Monday: last week
            if words.this_week and words.this_week.search(folded):
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


def parse_beneficiary(text: str) -> str:
    """ "per me" -> ``SELF``; "mio figlio" -> ``CHILD``; "mia madre" -> "familiare (madre)";
    in any language of ``intake_words`` («for my mother» -> "familiare (madre)")."""
    folded = fold(text)
    if folded in BENEFICIARY_CODES:
        return BENEFICIARY_CODES[folded]
    words = intake_words()
    if words.child.search(folded):
        return CHILD
    for word, key in words.relatives:
        if word.search(folded):
            return f"{RELATIVE_PREFIX} ({key})"
    if words.family.search(folded):
        return FAMILY
    if words.self.search(folded):
        return SELF
    raise IntakeError(BENEFICIARY_NOT_UNDERSTOOD)


RELATIVE_PREFIX = "familiare"
_RECORDED_RELATIVE = re.compile(rf"^{RELATIVE_PREFIX} \((.+)\)$")


def recorded_relative(beneficiary: str) -> str | None:
    """ "familiare (madre)" -> "madre"; None for another value."""
    match = _RECORDED_RELATIVE.match(beneficiary)
    return match.group(1) if match else None


def relative_name(key: str, language: str | None) -> str:
    """A recorded relative («madre») as the summary says it in ``language`` («mother»); the
    Italian word itself when the language's intake.yml does not name it."""
    return intake_words().relative_names.get(language or "", {}).get(key, key)
