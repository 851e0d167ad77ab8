"""Italian token normalisation: pure functions, standard library only.

Citizens write "xke", "nn", "cmq", "dov'e'", "i' mi' babbo", "aiutooo", "perchè" for "perché".
The normalised form of a token is what the featurizers see (the token's lemma); the token's
text and its offsets stay those of the original message, so entity spans are untouched.

normalise_token("Xke", following="") == "perché"
fold("perché") == "perche"
"""

from __future__ import annotations

import re
import unicodedata

APOSTROPHES = "'’`´‘"

# SMS and chat shorthand, lowercased, as whole tokens.
SHORTHAND: dict[str, str] = {
    "xke": "perché",
    "xké": "perché",
    "xkè": "perché",
    "xk": "perché",
    "xche": "perché",
    "xché": "perché",
    "perke": "perché",
    "perkè": "perché",
    "perké": "perché",
    "pke": "perché",
    "pk": "perché",
    "nn": "non",
    "cmq": "comunque",
    "cmnq": "comunque",
    "x": "per",
    "ke": "che",
    "ki": "chi",
    "kosa": "cosa",
    "anke": "anche",
    "qnd": "quando",
    "qndo": "quando",
    "qdo": "quando",
    "qlc": "qualche",
    "qlcs": "qualcosa",
    "qcs": "qualcosa",
    "qlcn": "qualcuno",
    "qlk": "qualche",
    "qualke": "qualche",
    "tt": "tutto",
    "sn": "sono",
    "dv": "dove",
    "cm": "come",
    "mlt": "molto",
    "bn": "bene",
    "sl": "solo",
    "msg": "messaggio",
    "grz": "grazie",
    "grazie1000": "grazie",
    "tnx": "grazie",
    "thx": "grazie",
    "nnt": "niente",
    "nte": "niente",
    "dmn": "domani",
    "risp": "rispondi",
    "vabbe": "vabbè",
    "sisi": "sì",
    "nono": "no",
}

# Tuscan and colloquial Florentine forms.
TUSCAN: dict[str, str] = {
    "babbo": "padre",
    "babbino": "padre",
    "mamma": "madre",
    "mammà": "madre",
    "figliolo": "figlio",
    "figliola": "figlia",
    "figlioli": "figli",
    "figliole": "figlie",
    "bimbo": "bambino",
    "bimba": "bambina",
    "bimbi": "bambini",
    "bimbe": "bambine",
    "bambin": "bambino",
    "icché": "cosa",
    "icche": "cosa",
    "gnamo": "andiamo",
    "garba": "piace",
    "garbano": "piacciono",
    "codesto": "questo",
    "costì": "lì",
    "sortire": "uscire",
    "chiappare": "prendere",
    "nini": "bambino",
}

# Elided words, recognised only when an apostrophe follows the token in the original text
# ("l'asilo", "dov'è", Tuscan "i' mi' babbo", "pe' i' bimbo", "un po'").
ELIDED: dict[str, str] = {
    "l": "il",
    "dov": "dove",
    "do": "dove",
    "c": "ci",
    "d": "di",
    "n": "ne",
    "m": "mi",
    "t": "ti",
    "v": "vi",
    "s": "si",
    "un": "una",
    "all": "alla",
    "dell": "della",
    "nell": "nella",
    "sull": "sulla",
    "dall": "dalla",
    "coll": "colla",
    "quest": "questo",
    "quell": "quello",
    "quant": "quanto",
    "com": "come",
    "cos": "cosa",
    "po": "poco",
    "i": "il",
    "mi": "mio",
    "tu": "tuo",
    "su": "suo",
    "pe": "per",
    "de": "dei",
    "co": "con",
    "a": "ai",
    "e": "è",
    "é": "è",
    "ne": "nei",
    "vo": "voglio",
    "anch": "anche",
    "senz": "senza",
    "tutt": "tutto",
    "qual": "quale",
}

_LONG_RUN = re.compile(r"(\w)\1{2,}")
_KEEP_ACCENT = {"è"}


def fold(word: str) -> str:
    """Lowercase, strip accents (but keep "è", the verb, apart from "e", the conjunction)."""
    if word in _KEEP_ACCENT:
        return word
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def squeeze(word: str) -> str:
    """Collapse runs of three or more equal letters: "aiutooo" -> "aiuto"."""
    return _LONG_RUN.sub(r"\1", word)


def normalise_token(text: str, *, following: str = "") -> str:
    """The normalised form of one token (lowercase, expanded; accents kept, see ``fold``).

    ``following`` is the character right after the token in the original message: an
    apostrophe there marks an elided word ("l'", "dov'", Tuscan "mi'").
    """
    word = squeeze(text.lower())
    if following and following in APOSTROPHES and word in ELIDED:
        return ELIDED[word]
    if word in SHORTHAND:
        return SHORTHAND[word]
    if word in TUSCAN:
        return TUSCAN[word]
    return word


def normalise_text(text: str) -> str:
    """A whole message normalised word by word (for logs, tests and debugging only)."""
    out: list[str] = []
    for match in re.finditer(r"\w+", text):
        following = text[match.end() : match.end() + 1]
        out.append(fold(normalise_token(match.group(), following=following)))
    return " ".join(out)
