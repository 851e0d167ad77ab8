"""Query understanding: filters and search terms from a citizen's free-text request.

"doposcuola a rifredi per un bimbo di 8 anni" gives the quartiere Q5 (area Rifredi), age 8
and the terms ["doposcuol"]; the synonym table then adds the category after_school.
Typo correction needs the index vocabulary and is done by :mod:`catalog.search`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from catalog.areas import find_area_mention
from catalog.filters import SearchFilters
from catalog.synonyms import synonym_table
from catalog.text import fold, term

_NUMBERS: Final[dict[str, int]] = {
    "uno": 1, "un": 1, "una": 1, "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6,
    "sette": 7, "otto": 8, "nove": 9, "dieci": 10, "undici": 11, "dodici": 12,
    "tredici": 13, "quattordici": 14, "quindici": 15, "sedici": 16, "diciassette": 17,
    "diciotto": 18, "diciannove": 19, "venti": 20, "trenta": 30, "quaranta": 40,
    "cinquanta": 50, "sessanta": 60, "settanta": 70, "ottanta": 80, "novanta": 90,
}  # fmt: skip
_NUM = r"(?P<num>\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_CHILD_NOUN = (
    r"(?:bimb[oaie]|bambin[oaie]|figli[oae]?|ragazz[oaie]|nipot[ei]|nipotin[oaie]|"
    r"gemell[ie]|neonat[oa])"
)
_OWNER = r"(?:(?:per|a|con|di)\s+)?(?:(?:il|la|i|le|un|una|mio|mia|miei|mie|nostro|nostra)\s+)*"

_AGE_RES: Final[tuple[tuple[re.Pattern[str], int], ...]] = (
    # "(per) (mio) figlio di 8 anni", "ha 8 anni", "8 anni", "8enne"
    (
        re.compile(rf"(?:{_OWNER}{_CHILD_NOUN}\s+)?(?:di|da|che\s+ha|ha|con)?\s*\b{_NUM}\s*anni\b"),
        1,
    ),
    (re.compile(rf"(?:{_OWNER}{_CHILD_NOUN}\s+)?\b(?P<num>\d{{1,3}})\s*enne\b"), 1),
    # "bimba di 18 mesi" -> age in whole years
    (re.compile(rf"(?:{_OWNER}{_CHILD_NOUN}\s+)?(?:di|da|che\s+ha|ha)?\s*\b{_NUM}\s*mesi\b"), 12),
    # "ha compiuto un anno", "bimbo di 1 anno": the singular only after these words («da un
    # anno», «un anno fa» say how long, not how old)
    (
        re.compile(
            rf"(?:{_OWNER}{_CHILD_NOUN}\s+)?(?:di|che\s+ha|ha(?:\s+compiuto)?|compie|compiuto)"
            rf"\s+(?P<num>un|1)\s*anno\b"
        ),
        1,
    ),
    (re.compile(r"\bover\s*(?P<num>\d{2})\b"), 1),
)
# How long, not how old: «da 6 mesi non paga», «da 3 anni», «due anni fa», «per 2 anni».
_DURATION_BEFORE_RE = re.compile(r"\b(?:da|per|tra|fra|ultimi|ultime|sono)\s*$")
_DURATION_AFTER_RE = re.compile(r"^\s*fa\b")
_CHILD_NOUN_RE = re.compile(rf"\b{_CHILD_NOUN}\b")
# From this age a person with no other group named is taken to be elderly («over 70»).
ELDERLY_AGE: Final[int] = 65

_FREE_RE = re.compile(
    r"\b(?:gratis|gratuit[oaie]|gratuitamente|senza\s+pagare|(?:a\s+)?costo\s+zero|"
    r"senza\s+costi|non\s+a\s+pagamento)\b"
)
# A wish to spend little, without excluding what costs something: the results are ranked
# from the cheapest («non posso pagare tanto», «economico», «costa poco»).
_LOW_COST_RE = re.compile(
    r"\b(?:non\s+(?:posso|possiamo|riesco\s+a|riusciamo\s+a)\s+(?:pagare|spendere)\s+"
    r"(?:tanto|molto|troppo|cifre)|economic[oaih]{1,2}|a\s+(?:basso|poco)\s+(?:costo|prezzo)|"
    r"cost[ai]\s+poco|costano\s+poco|poco\s+costos[oaie]|low\s+cost|prezz[oi]\s+bass[oi]|"
    r"prezz[oi]\s+modic[oi]|(?:tariff[ae]|prezz[oi])\s+(?:calmierat|agevolat|ridott)[oaie]|"
    r"spendere\s+poco|senza\s+spendere\s+(?:tanto|molto|troppo)|pochi\s+soldi|"
    r"non\s+ho\s+(?:tanti|molti)\s+soldi|risparmiare|(?:piu|meno)\s+(?:economic|car)[oaie]|"
    r"non\s+(?:troppo|tanto|molto)\s+car[oaie])\b"
)


def wants_low_cost(text: str) -> bool:
    """True when the request asks to spend little («non posso pagare tanto», «economico»)."""
    work = fold(text.lower())
    return _LOW_COST_RE.search(work) is not None and _FREE_RE.search(work) is None


_BUDGET_RE = re.compile(
    r"\b(?:(?:pagabil[ei]\s+)?con\s+(?:il\s+)?(?:mio\s+)?budget(?:\s+welfare)?|"
    r"budget\s+welfare|buon[oi]\s+welfare|voucher|welfare\s+aziendale)\b"
)

# (pattern, target group, remove the words from the search terms)
_TARGET_RES: Final[tuple[tuple[re.Pattern[str], str, bool], ...]] = (
    (re.compile(r"\b(?:(?:per|a|con)\s+)?(?:(?:la|il|i|le)\s+)?(?:mia|mio|miei|mie|nostra|nostro|mi')"
                r"\s*(?:madre|padre|mamma|papa|babbo|nonna|nonno|nonni|genitori|suocera|suocero|"
                r"zia|zio)"
                r"(?:\s+anzian[oaie])?\b"), "elderly", True),
    (re.compile(r"\b(?:anzian[oaie]|terza\s+eta|over\s*65|pensionat[oaie])\b"), "elderly", False),
    (re.compile(r"\b(?:neonat[oaie]|lattant[ei]|appena\s+nat[oaie])\b"), "infants", False),
    (re.compile(rf"\b(?:(?:per|a|con)\s+)?(?:(?:il|la|i|le|un|una)\s+)?(?:mio|mia|miei|mie|nostro|nostra)\s+"
                rf"{_CHILD_NOUN}\b"), "children", True),
    (re.compile(r"\b(?:bimb[oaie]|bambin[oaie])\b"), "children", False),
    (re.compile(r"\b(?:adolescent[ei]|ragazzin[oaie]|teenager)\b"), "teenagers", False),
    (re.compile(r"\b(?:disabil[ei]|handicap|invalid[oaie]|non\s+autosufficient[ei])\b"),
     "people_with_disabilities", False),
    (re.compile(r"\b(?:richiedent[ei]\s+asilo|rifugiat[oaie]|migrant[ei]|stranier[oaie]|"
                r"immigrat[oaie])\b"), "migrants", False),
    (re.compile(r"\b(?:disoccupat[oaie]|inoccupat[oaie]|senza\s+lavoro|perso\s+il\s+lavoro)\b"),
     "unemployed", False),
    (re.compile(r"\b(?:donn[ae]|mamma\s+sola|madre\s+sola|ragazza\s+madre)\b"), "women", False),
    (re.compile(r"\b(?:giovani|under\s*30)\b"), "young_people", False),
    (re.compile(r"\bcaregiver\b"), "caregivers", False),
)  # fmt: skip
# Targets that an understood age makes redundant ("bimbo di 8 anni": the age says it).
_AGE_COVERS: Final[frozenset[str]] = frozenset({"children", "infants", "teenagers"})
# "richiedenti asilo": the word "asilo" must not reach the synonym table (childcare).
_ALWAYS_REMOVE_RE = re.compile(r"\brichiedent[ei]\s+asilo\b")
# Phrases whose meaning is in a stopword or a number, which the terms would lose: «dopo
# scuola» would be just "scuola", «senza casa» just "casa", «la 104» nothing.
_REWRITES: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\bdopo\s*-?\s*(?:la\s+|il\s+)?scuola\b"), "doposcuola"),
    (re.compile(r"\bsenza\s+(?:una\s+)?(?:casa|tetto)\b"), "senzatetto"),
    (re.compile(r"\bnon\s+(?:ho|abbiamo|hanno|ha)\s+(?:piu\s+)?(?:una\s+)?casa\b"), "nonhocasa"),
    # «la pensione non basta», «i soldi non bastano»: «basta» is a stopword
    (re.compile(r"\b(?:pensione|stipendio|soldi|reddito|entrate)\s+non\s+(?:mi\s+|ci\s+)?"
                r"(?:basta|bastano|bastava|bastavano)\b"), "nonbasta"),
    (re.compile(r"\b(?:legge|la|della)\s+104\b"), "invalidita"),
    # «mi sento solo», «sono rimasta sola»: «solo» is a stopword («solo il sabato»)
    (re.compile(r"\b(?:mi\s+sento\s+|sono\s+(?:rimast[oaie]\s+)?|siamo\s+(?:rimast[ie]\s+)?)"
                r"(?:molto\s+|tanto\s+|cosi\s+|troppo\s+|sempre\s+)?sol[oaie]\b"), "isolamento"),
    # «senza lavoro», «non ho (più) un lavoro»: the need, not «lavoro» as the citizen's day
    (re.compile(r"\b(?:senza\s+|non\s+ho\s+(?:piu\s+)?|non\s+abbiamo\s+(?:piu\s+)?)(?:un\s+)?"
                r"(?:lavoro|impiego)\b"), "disoccupato"),
    # «(mio padre) non ce la fa più da solo», «non è più autonoma»: someone to care for
    (re.compile(r"\bnon\s+(?:ce\s+la\s+fa|e\s+piu\s+autonom[oa]|riesce\s+piu\s+a\s+"
                r"(?:fare|badare\s+a\s+se))(?:\s+piu)?(?:\s+da\s+sol[oa])?\b"), "nonautonomo"),
    # «non ce la faccio più»: tiredness (a weak word), never a danger by itself
    (re.compile(r"\bnon\s+ce\s+la\s+(?:faccio|facciamo)(?:\s+piu)?\b"), "esausto"),
    # «non vedente»: «vedente» shares its stem with «vedere»
    (re.compile(r"\bnon\s*-?\s*vedent[ei]\b"), "ciechi"),
    # the citizen's own job says who is writing, not what they want: «faccio la badante,
    # vorrei studiare la grammatica», «faccio l'infermiera con i turni» (a token no entry
    # of synonyms.yaml and no service holds)
    (re.compile(r"\b(?:faccio|facevo|sono)\s+(?:la|il|lo|l'|una|un|un')\s*(?:badante|colf|"
                r"infermier[ae]|baby\s*-?sitter|tata|oss|domestica|cameriera|cameriere|"
                r"cuoc[oa]|educatrice|maestra|insegnante|commessa|commesso|operaio|operaia)\b|"
                r"\bfaccio\s+(?:le\s+)?pulizie\b"), "mioimpiego"),
    # «diventare OSS», «diventare pizzaiolo»: a course to become it
    (re.compile(r"\bdiventare\s+(?:un[a']?\s*)?"), "corso "),
    # «a casa nostra», «a casa degli anziani», «da lui»: where, not a home to find
    (re.compile(r"\b(?:a|in)\s+casa\s+(?:mia|nostra|sua|loro|tua|vostra|"
                r"d(?:i|el|ella|ei|egli|elle|ell')\s*\w+)\b|\bda\s+(?:lui|lei|loro)\b"),
     "adomicilio"),
    # «presto» (early) shares its stem with «prestito» (a loan)
    (re.compile(r"\bpresto\b"), "dibuonora"),
    # «CPIA» (the public adult school, Italian for foreigners) stems like «CPI» (job centre)
    (re.compile(r"\bc\.?p\.?i\.?a\b"), "centroadulti"),
    # «prima di scuola»: «prima» is a stopword
    (re.compile(r"\bprima\s+(?:di|della|dell')\s*scuola\b"), "prescuola"),
    # «la scuola finisce alle 16:30»: the day's timetable, not the summer
    (re.compile(r"\b(?:scuola|scuole|asilo|materna|nido)\s+(?:finisce|finiscono|esce|escono|"
                r"chiude|chiudono|termina|terminano)\s+alle\b"), "orarioscuola alle"),
    # «lavoriamo tutti e due»: two working parents («tutti», «due» are stopwords)
    (re.compile(r"\blavoriamo\s+(?:tutti\s+e\s+due|entrambi|in\s+due)|"
                r"\b(?:tutti\s+e\s+due|entrambi)\s+lavoriamo\b"), "lavoriamoentrambi"),
)  # fmt: skip

# Chat abbreviations, read as the words they stand for before anything else («nn esce più»,
# «sn sola», «x mio figlio»).
_ABBREVIATIONS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\bnn\b"), "non"),
    (re.compile(r"\bsn\b"), "sono"),
    (re.compile(r"\b(?:xke|xche|xk)\b"), "perche"),
    (re.compile(r"(?<![\d.,])\bx\b(?!\s*\d)"), "per"),
    (re.compile(r"\bcmq\b"), "comunque"),
    (re.compile(r"\b(?:qlcn|qualkuno)\b"), "qualcuno"),
    (re.compile(r"\b(?:qlcs|qualkosa)\b"), "qualcosa"),
)

# Conversational words that say nothing about the service wanted (after synonym matching).
QUERY_FILLERS: Final[frozenset[str]] = frozenset(
    t
    for t in (
        term(w)
        for w in [
            "cerco",
            "cercare",
            "cercando",
            "vorrei",
            "volere",
            "serve",
            "servono",
            "servire",
            "bisogno",
            "avrei",
            "trovare",
            "trovo",
            "qualcuno",
            "qualcosa",
            "servizio",
            "servizi",
            "informazioni",
            "informazione",
            "sapere",
            "dove",
            "posso",
            "potrei",
            "ciao",
            "buongiorno",
            "buonasera",
            "salve",
            "aiutare",
            "aiutami",
            "firenze",
            "zona",
            "vicino",
            "aiuto",
            "mano",  # «mi serve una mano»: help, not hands
        ]
    )
    if t
)


@dataclass(slots=True)
class Understanding:
    """What a request says, before it meets the index."""

    filters: SearchFilters
    terms: list[str]
    surface: dict[str, str] = field(default_factory=dict)  # term -> a word the user typed
    rest: str = ""  # the text left once filters were taken out (folded, lowercase)


def _cut(text: str, start: int, end: int) -> str:
    return text[:start] + " " + text[end:]


def _num(value: str) -> int:
    return int(value) if value.isdigit() else _NUMBERS[value]


def _is_duration(work: str, match: re.Match[str]) -> bool:
    """«da 6 mesi», «tre anni fa», «per 2 anni»: how long, unless a child is named in the
    mention or a word before the number makes it an age («di 8 anni», «ha 8 anni»)."""
    if _CHILD_NOUN_RE.search(match.group(0)):
        return False
    lead = work[match.start() : match.start("num")].strip()
    if lead and lead != "da":
        return False
    return bool(
        _DURATION_BEFORE_RE.search(work[: match.start("num")])
        or _DURATION_AFTER_RE.search(work[match.end() :])
    )


def _age_mention(work: str) -> tuple[re.Match[str], int] | None:
    """The first mention of an age in ``work`` and its divisor (12 for months)."""
    for pattern, divisor in _AGE_RES:
        for match in pattern.finditer(work):
            if not _is_duration(work, match):
                return match, divisor
    return None


def understand(text: str) -> Understanding:
    """Filters and search terms in ``text`` (lowercase, accents folded on the way)."""
    work = fold(text.lower())
    work = re.sub(r"[’`´]", "'", work)
    for pattern, replacement in _ABBREVIATIONS:
        work = pattern.sub(replacement, work)
    found: dict[str, object] = {}

    mention = find_area_mention(work)
    if mention is not None:
        found["quartiere"] = mention.area.quartiere
        if not mention.area.is_quartiere:
            found["area"] = mention.area.name
        work = _cut(work, mention.start, mention.end)

    age_match = _age_mention(work)
    if age_match is not None:
        match, divisor = age_match
        age = _num(match.group("num")) // divisor
        if 0 <= age <= 120:
            found["age"] = age
            work = _cut(work, match.start(), match.end())

    match = _FREE_RE.search(work)
    if match:
        found["cost_mode"] = "free"
        work = _cut(work, match.start(), match.end())
    match = _LOW_COST_RE.search(work)
    if match:  # ranked by cost by the caller (wants_low_cost); not words to search
        work = _cut(work, match.start(), match.end())
    match = _BUDGET_RE.search(work)
    if match:
        found["budget_payable"] = True
        work = _cut(work, match.start(), match.end())

    for pattern, group, remove in _TARGET_RES:
        match = pattern.search(work)
        if not match:
            continue
        if not ("age" in found and group in _AGE_COVERS):
            found["target_group"] = group
        if remove:
            work = _cut(work, match.start(), match.end())
        break
    age_found = found.get("age")
    if "target_group" not in found and isinstance(age_found, int) and age_found >= ELDERLY_AGE:
        found["target_group"] = "elderly"
    work = _ALWAYS_REMOVE_RE.sub(" ", work)
    for pattern, replacement in _REWRITES:
        work = pattern.sub(replacement, work)

    surface: dict[str, str] = {}
    terms: list[str] = []
    for word in re.findall(r"[a-z0-9']+", work):
        for piece in word.split("'"):
            t = term(piece)
            if t:
                terms.append(t)
                surface.setdefault(t, piece)
    return Understanding(
        filters=SearchFilters(**found),  # type: ignore[arg-type]
        terms=terms,
        surface=surface,
        rest=" ".join(work.split()),
    )


def named_kind(text: str) -> str | None:
    """The kind of service the citizen's own words name with a specific word («badante»,
    «sfratto», «psicologo»; a category's label), or None.

    General words («casa», «lavoro»: ``weak`` in synonyms.yaml) do not count, and there is
    no typo correction: a message the assistant did not otherwise understand is searched
    only on words the citizen actually typed.
    """
    match = synonym_table().match(understand(text).terms)
    return match.specific[0] if match.specific else None
