"""Florence's five quartieri and the neighbourhoods citizens name, with centroids.

``resolve_area`` turns what someone types ("q5", "quartiere 5", "rifredi", "le cure",
"centro", "Novolli") into an :class:`Area`; ``find_area_mention`` spots a place in a
free-text request ("un doposcuola a rifredi") and tells where it was, so the search
can take it out of the words it looks for.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz.distance import OSA

from catalog.text import fold, is_word

QUARTIERI: Final[dict[str, str]] = {
    "Q1": "Centro Storico",
    "Q2": "Campo di Marte",
    "Q3": "Gavinana-Galluzzo",
    "Q4": "Isolotto-Legnaia",
    "Q5": "Rifredi",
}

# Florence's municipal territory, rounded outwards: (south, west, north, east).
FLORENCE_BBOX: Final[tuple[float, float, float, float]] = (43.72, 11.14, 43.84, 11.35)

EARTH_RADIUS_KM: Final[float] = 6371.0088


@dataclass(frozen=True, slots=True)
class Area:
    """A named place of Florence: a neighbourhood, or a whole quartiere."""

    name: str
    quartiere: str
    lat: float
    lon: float

    @property
    def is_quartiere(self) -> bool:
        return self in QUARTIERE_AREAS.values()


QUARTIERE_AREAS: Final[dict[str, Area]] = {
    "Q1": Area("Centro Storico", "Q1", 43.7710, 11.2540),
    "Q2": Area("Campo di Marte", "Q2", 43.7800, 11.2900),
    "Q3": Area("Gavinana-Galluzzo", "Q3", 43.7500, 11.2650),
    "Q4": Area("Isolotto-Legnaia", "Q4", 43.7650, 11.2150),
    "Q5": Area("Rifredi", "Q5", 43.7970, 11.2300),
}

AREAS: Final[tuple[Area, ...]] = (
    # Q1 Centro Storico
    Area("Centro Storico", "Q1", 43.7731, 11.2558),
    Area("Santo Spirito", "Q1", 43.7672, 11.2474),
    Area("San Frediano", "Q1", 43.7705, 11.2425),
    Area("Santa Croce", "Q1", 43.7686, 11.2622),
    Area("San Niccolò", "Q1", 43.7629, 11.2614),
    Area("San Lorenzo", "Q1", 43.7752, 11.2536),
    Area("Santa Maria Novella", "Q1", 43.7745, 11.2490),
    Area("San Marco", "Q1", 43.7784, 11.2590),
    Area("Sant'Ambrogio", "Q1", 43.7708, 11.2658),
    Area("Porta Romana", "Q1", 43.7605, 11.2435),
    Area("Oltrarno", "Q1", 43.7660, 11.2500),
    # Q2 Campo di Marte
    Area("Campo di Marte", "Q2", 43.7793, 11.2798),
    Area("Le Cure", "Q2", 43.7878, 11.2683),
    Area("Coverciano", "Q2", 43.7835, 11.3040),
    Area("Varlungo", "Q2", 43.7680, 11.3005),
    Area("Rovezzano", "Q2", 43.7718, 11.3175),
    Area("Settignano", "Q2", 43.7855, 11.3220),
    Area("Bellariva", "Q2", 43.7703, 11.2900),
    Area("San Salvi", "Q2", 43.7765, 11.2890),
    Area("Madonnone", "Q2", 43.7722, 11.2835),
    Area("Piagentina", "Q2", 43.7735, 11.2760),
    Area("Salviatino", "Q2", 43.7905, 11.2850),
    # Q3 Gavinana-Galluzzo
    Area("Gavinana", "Q3", 43.7575, 11.2735),
    Area("Galluzzo", "Q3", 43.7395, 11.2465),
    Area("Sorgane", "Q3", 43.7525, 11.3005),
    Area("Ponte a Ema", "Q3", 43.7440, 11.2880),
    Area("Poggio Imperiale", "Q3", 43.7540, 11.2440),
    Area("Arcetri", "Q3", 43.7515, 11.2520),
    Area("Ricorboli", "Q3", 43.7610, 11.2700),
    Area("Bandino", "Q3", 43.7545, 11.2810),
    Area("Due Strade", "Q3", 43.7475, 11.2335),
    Area("Cascine del Riccio", "Q3", 43.7320, 11.2620),
    # Q4 Isolotto-Legnaia
    Area("Isolotto", "Q4", 43.7690, 11.2175),
    Area("Legnaia", "Q4", 43.7625, 11.2250),
    Area("Monticelli", "Q4", 43.7665, 11.2315),
    Area("Soffiano", "Q4", 43.7575, 11.2210),
    Area("Ugnano", "Q4", 43.7625, 11.1870),
    Area("Mantignano", "Q4", 43.7660, 11.1745),
    Area("Pignone", "Q4", 43.7695, 11.2385),
    Area("Ponte a Greve", "Q4", 43.7600, 11.2015),
    Area("San Bartolo a Cintoia", "Q4", 43.7605, 11.1950),
    Area("Argingrosso", "Q4", 43.7735, 11.2080),
    # Q5 Rifredi
    Area("Rifredi", "Q5", 43.7955, 11.2445),
    Area("Novoli", "Q5", 43.7945, 11.2275),
    Area("Careggi", "Q5", 43.8045, 11.2490),
    Area("Statuto", "Q5", 43.7875, 11.2460),
    Area("Romito", "Q5", 43.7890, 11.2510),
    Area("Castello", "Q5", 43.8170, 11.2300),
    Area("Brozzi", "Q5", 43.7895, 11.1815),
    Area("Peretola", "Q5", 43.7995, 11.2015),
    Area("Le Piagge", "Q5", 43.7925, 11.1890),
    Area("San Jacopino", "Q5", 43.7840, 11.2375),
    Area("Firenze Nova", "Q5", 43.8005, 11.2310),
    Area("Quaracchi", "Q5", 43.7935, 11.1700),
    Area("Montughi", "Q5", 43.7930, 11.2580),
    Area("Il Sodo", "Q5", 43.8180, 11.2420),
    Area("Le Panche", "Q5", 43.8060, 11.2350),
)

# Names that are also ordinary words ("centro diurno", "cure domiciliari", "il castello"):
# in free text they count as places only after a cue such as "a", "in", "zona".
AMBIGUOUS_ALIASES: Final[frozenset[str]] = frozenset(
    {"centro", "cure", "le cure", "castello", "statuto", "sodo", "il sodo", "panche"}
)
# Words that, right after an ambiguous name, show it is not a place ("centro diurno").
_NOT_A_PLACE_AFTER: Final[frozenset[str]] = frozenset(
    {
        "diurno", "diurni", "estivo", "estivi", "sociale", "sociali", "antiviolenza",
        "impiego", "ascolto", "accoglienza", "sportivo", "giovani", "anziani", "famiglie",
        "domiciliari", "mediche", "palliative", "dentistiche", "sanitarie", "termali",
    }
)  # fmt: skip
# Words that introduce a place in a request; removed together with the place.
_CUES: Final[frozenset[str]] = frozenset(
    {
        "a", "ad", "in", "zona", "quartiere", "al", "alla", "alle", "allo", "ai", "agli",
        "nel", "nella", "nelle", "presso", "verso", "vicino", "dalle", "parti", "di", "area",
    }
)  # fmt: skip

_NUMBER_WORDS: Final[dict[str, str]] = {
    "1": "Q1", "uno": "Q1", "primo": "Q1",
    "2": "Q2", "due": "Q2", "secondo": "Q2",
    "3": "Q3", "tre": "Q3", "terzo": "Q3",
    "4": "Q4", "quattro": "Q4", "quarto": "Q4",
    "5": "Q5", "cinque": "Q5", "quinto": "Q5",
}  # fmt: skip

_QUARTIERE_RE = re.compile(
    r"\b(?:(?:quartiere|quart|qu)\s*(?P<n1>[1-5]|uno|due|tre|quattro|cinque)"
    r"|q\s?(?P<n2>[1-5])"
    r"|(?P<n3>primo|secondo|terzo|quarto|quinto)\s+quartiere)\b"
)
_WORD_RE = re.compile(r"[a-z0-9]+")


def _key(text: str) -> str:
    """Lowercase, accent-free, punctuation-free, single-spaced."""
    return " ".join(_WORD_RE.findall(fold(text.lower())))


@lru_cache(maxsize=1)
def _aliases() -> dict[str, Area]:
    """Every accepted spelling of every area and quartiere, as a normalised key."""
    table: dict[str, Area] = {}
    for area in AREAS:
        key = _key(area.name)
        table[key] = area
        first, _, rest = key.partition(" ")
        if first in {"le", "il", "la"} and rest:
            table[rest] = area  # "cure", "piagge"
    for code, area in QUARTIERE_AREAS.items():
        table.setdefault(_key(area.name), area)
        table[code.lower()] = area
        table[f"quartiere {code[1]}"] = area
    # Everyday names for whole quartieri or for their best-known neighbourhoods.
    by_name = {a.name: a for a in AREAS}
    table["centro"] = by_name["Centro Storico"]
    table["gavinana galluzzo"] = QUARTIERE_AREAS["Q3"]
    table["isolotto legnaia"] = QUARTIERE_AREAS["Q4"]
    table["san niccolo"] = by_name["San Niccolò"]
    table["s frediano"] = by_name["San Frediano"]
    table["s croce"] = by_name["Santa Croce"]
    table["smn"] = by_name["Santa Maria Novella"]
    table["stazione"] = by_name["Santa Maria Novella"]
    table["sant ambrogio"] = by_name["Sant'Ambrogio"]
    table["s ambrogio"] = by_name["Sant'Ambrogio"]
    table["campo marte"] = by_name["Campo di Marte"]
    table["piagge"] = by_name["Le Piagge"]
    return table


@lru_cache(maxsize=1)
def _fuzzy_aliases() -> tuple[str, ...]:
    """Aliases a typo may be corrected to: long enough, and not "q5"/"quartiere 5"."""
    return tuple(a for a in _aliases() if len(a) > 4 and not any(c.isdigit() for c in a))


def _max_typos(length: int) -> int:
    if length <= 4:
        return 0
    return 1 if length <= 7 else 2


def _fuzzy(key: str, *, allow_ambiguous: bool) -> Area | None:
    """The area whose alias is closest to ``key`` within a typo budget set by its length."""
    budget = _max_typos(len(key))
    if budget == 0 or any(c.isdigit() for c in key):
        return None  # "quartiere 7" is not a typo of "quartiere 1"
    best: tuple[int, str] | None = None
    for alias in _fuzzy_aliases():
        if not allow_ambiguous and alias in AMBIGUOUS_ALIASES:
            continue
        if abs(len(alias) - len(key)) > budget:
            continue
        dist = OSA.distance(key, alias, score_cutoff=budget)
        if dist <= budget and (best is None or (dist, alias) < best):
            best = (dist, alias)
    return _aliases()[best[1]] if best else None


def quartiere_area(code: str) -> Area:
    """The whole quartiere ``code`` ("Q1".."Q5") as an area with its centroid."""
    return QUARTIERE_AREAS[code.upper()]


def resolve_area(text: str) -> Area | None:
    """The area or quartiere named by ``text``; tolerant of case, accents and small typos.

    "Q5", "quartiere 5", "quinto quartiere" give the whole quartiere; "rifredi",
    "Le Cure", "zona novoli", "centro" give a neighbourhood (with its quartiere).
    """
    key = _key(text)
    if not key:
        return None
    match = _QUARTIERE_RE.fullmatch(key)
    if match:
        word = match.group("n1") or match.group("n2") or match.group("n3")
        return QUARTIERE_AREAS[_NUMBER_WORDS[word]]
    for prefix in ("zona ", "quartiere ", "a ", "in ", "al ", "alle ", "area "):
        if key.startswith(prefix) and key[len(prefix) :] in _aliases():
            key = key[len(prefix) :]
            break
    area = _aliases().get(key)
    if area is not None:
        return area
    return _fuzzy(key, allow_ambiguous=True)


@dataclass(frozen=True, slots=True)
class AreaMention:
    """A place found in free text; ``start``/``end`` cover it and the cue before it."""

    area: Area
    start: int
    end: int


def find_area_mention(text: str) -> AreaMention | None:
    """The first place named in a request such as "doposcuola a rifredi per mio figlio".

    ``text`` must already be lowercase and accent-free (see :func:`catalog.text.fold`),
    so the positions returned refer to it. Names that are also ordinary words ("centro",
    "cure", "castello") count only after a cue ("in centro", "alle cure", "zona castello").
    """
    match = _QUARTIERE_RE.search(text)
    if match:
        word = match.group("n1") or match.group("n2") or match.group("n3")
        start = match.start()
        prev = list(_WORD_RE.finditer(text[:start]))
        if prev and prev[-1].group() in _CUES:
            start = prev[-1].start()
        return AreaMention(QUARTIERE_AREAS[_NUMBER_WORDS[word]], start, match.end())
    words = list(_WORD_RE.finditer(text))
    tokens = [w.group() for w in words]
    aliases = _aliases()
    for size in (4, 3, 2, 1):
        for i in range(len(tokens) - size + 1):
            key = " ".join(tokens[i : i + size])
            prev = tokens[i - 1] if i > 0 else ""
            nxt = tokens[i + size] if i + size < len(tokens) else ""
            area = aliases.get(key)
            cued = prev in _CUES and nxt not in _NOT_A_PLACE_AFTER
            if area is not None and key in AMBIGUOUS_ALIASES and not cued:
                area = None
            fuzzy_ok = size <= 3 and len(key) >= 5 and (prev in _CUES or len(key) >= 7)
            # an Italian word is no typo of a place («piange» is not «Piagge»)
            fuzzy_ok = fuzzy_ok and not key.isdigit() and not all(map(is_word, key.split()))
            if area is None and fuzzy_ok:
                area = _fuzzy(key, allow_ambiguous=False)
            if area is None:
                continue
            start = words[i].start()
            j = i - 1
            while j >= 0 and tokens[j] in _CUES and i - j <= 2:
                start = words[j].start()
                j -= 1
            return AreaMention(area, start, words[i + size - 1].end())
    return None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def in_florence(lat: float, lon: float) -> bool:
    south, west, north, east = FLORENCE_BBOX
    return south <= lat <= north and west <= lon <= east


def nearest_area(lat: float, lon: float) -> Area:
    """The neighbourhood whose centroid is closest to the point."""
    return min(AREAS, key=lambda a: haversine_km(lat, lon, a.lat, a.lon))
